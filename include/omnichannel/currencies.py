"""ISO 4217: the currency codes config and the quality gate accept."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def iso_currencies() -> frozenset[str]:
    lines = Path(__file__).with_name("iso4217.txt").read_text().splitlines()
    return frozenset(code for line in lines if not line.startswith("#") for code in line.split())
