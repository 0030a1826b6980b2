"""Headless Chromium (Debian's `chromium` package, not a browser a test tool downloads) for
the tests that look at a UI, and where their screenshots go."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omnichannel import paths

CHROMIUM = os.environ.get("OMNI_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium keeps calling Google's hosts, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def artefacts_dir() -> Path:
    path = Path(os.environ.get("OMNI_TEST_ARTEFACTS", paths.local_dir() / "test-artefacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser's path; without it the test is skipped, unless OMNI_REQUIRE_BROWSER=1
    (set by CI), where it fails."""
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium"
        if os.environ.get("OMNI_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM
