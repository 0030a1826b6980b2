"""Keyset paging over world arrays, and opaque tokens, shared by the API simulators."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import numpy as np


class TokenError(ValueError):
    pass


def encode_token(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> dict:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise TokenError(f"invalid token {token[:40]!r}") from exc
    if not isinstance(value, dict):
        raise TokenError(f"invalid token {token[:40]!r}")
    return value


@dataclass(frozen=True)
class Page:
    items: np.ndarray  # the page, in order
    keys: list[tuple[int, ...]]  # sort key of each item (for cursors)
    has_next: bool
    rest: np.ndarray  # items after the page (not yet read)


def keyset_page(
    items: np.ndarray,
    keys: tuple[np.ndarray, ...],
    after: tuple[int, ...] | None,
    size: int,
    overlap: int = 0,
) -> Page:
    """Items sorted by `keys` (most significant first) strictly after `after`.

    `overlap` starts the page that many items early (the duplicates fault)."""
    order = np.lexsort(tuple(reversed(keys)))
    items = items[order]
    keys = tuple(k[order] for k in keys)
    start = 0
    if after is not None:
        later = np.zeros(len(items), dtype=bool)
        equal = np.ones(len(items), dtype=bool)
        for key, value in zip(keys, after, strict=True):
            later |= equal & (key > value)
            equal &= key == value
        hits = np.flatnonzero(later)
        start = int(hits[0]) if len(hits) else len(items)
        start = max(0, start - overlap)
    page = slice(start, start + size)
    page_keys = [tuple(int(k[i]) for k in keys) for i in range(*page.indices(len(items)))]
    return Page(items[page], page_keys, start + size < len(items), items[start + size :])
