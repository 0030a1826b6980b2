"""File drops: what a channel that delivers files (store exports, reference files) writes."""

from __future__ import annotations

import os
from pathlib import Path


def write_file(path: Path, content: bytes) -> list[Path]:
    """Write a dropped file whole (a reader never sees half of it, unless a fault says so);
    an unchanged file is left alone. Returns the paths written."""
    if path.exists() and path.read_bytes() == content:
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return [path]
