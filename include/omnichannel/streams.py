"""What a stream looks like to the loader: columns, natural key, cursor.

A channel kind declares one StreamSpec per stream it extracts. Landing keeps every value as
received (text), so that a bad value reaches the quality gate instead of failing COPY; raw
holds typed columns, cast at publish time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import yaml

STREAMS_DIR = Path(__file__).parent / "channels" / "streams"


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # the type in raw; landing stores text
    description: str
    nullable: bool = True
    # SQL literal that fills a not-null column added to a table that already has rows
    default: str | None = None


@dataclass(frozen=True)
class StreamSpec:
    channel_kind: str
    stream: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    cursor: str  # column that orders versions of a record (e.g. updated_at)
    # catalogue-like streams: records made long before the pipeline starts (products) are
    # read in full by the first batch of a channel, then incrementally
    full_first_sync: bool = False
    # file streams: a later page (file) of a batch restates the records of an earlier one (a
    # re-sent or corrected export), so the same version with another content is not a
    # conflict across pages, only inside one
    later_page_replaces: bool = False
    # read as the source is now (stock levels): a past interval cannot be read again, so a
    # re-run keeps what was read then, and a read long after its interval is not published
    snapshot: bool = False
    # the columns of a group whose every record a page lists (a store's day in its file,
    # an order's refunds): a record of a group a page covers that is missing from the
    # batch was deleted at the source, and is marked so in raw (deleted_at)
    complete_for: tuple[str, ...] = ()
    # columns of which each record needs at least one (an item named by its barcode or by
    # the brand's SKU): a mapping must give one, a row with none is quarantined
    one_of: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        """Table name shared by landing, raw and quarantine: <channel>__<stream>."""
        return f"{self.channel_kind}__{self.stream}"

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def version_key(self) -> tuple[str, ...]:
        """Columns that tell versions of a record apart: the key and the cursor (report
        streams are keyed by their cursor, the day, already)."""
        return self.key if self.cursor in self.key else (*self.key, self.cursor)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@cache
def load_streams(kind: str) -> dict[str, StreamSpec]:
    """The streams a connector extracts, as declared in channels/streams/<kind>.yml: the
    key and cursor once per stream, the columns with their raw types and descriptions."""
    path = STREAMS_DIR / f"{kind}.yml"
    specs = {}
    for stream, entry in (yaml.safe_load(path.read_text()) or {}).items():
        where = f"{path}: {stream}"
        try:
            columns = tuple(
                Column(**{"sql_type" if k == "type" else k: v for k, v in column.items()})
                for column in entry.pop("columns")
            )
            spec = StreamSpec(
                channel_kind=kind,
                stream=stream,
                columns=columns,
                key=tuple(entry.pop("key")),
                cursor=entry.pop("cursor"),
                complete_for=tuple(entry.pop("complete_for", ())),
                one_of=tuple(entry.pop("one_of", ())),
                **entry,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        unknown = [
            c
            for c in (*spec.key, spec.cursor, *spec.complete_for, *spec.one_of)
            if c not in spec.column_names
        ]
        if unknown:
            raise ValueError(
                f"{where}: key, cursor, complete_for or one_of name no column: {unknown}"
            )
        specs[stream] = spec
    return specs


@dataclass(frozen=True)
class Unreadable:
    """A file that cannot be read (encoding, cut off, wrong columns, too large, not a
    regular file): it is kept whole in quarantine with the reason, and the rest of the
    batch goes on. The reason names file and line, never more than a short, escaped
    excerpt of the content."""

    name: str
    reason: str
    content: bytes | None  # as received; None when not kept (too large, not a regular file)
    size: int | None = None


class PageUnreadable(Exception):
    """Raised while a streamed page is read (a file found cut off or undecodable part-way):
    what the page landed so far is rolled back and the file is kept whole instead."""

    def __init__(self, unreadable: Unreadable):
        super().__init__(unreadable.reason)
        self.unreadable = unreadable


@dataclass(frozen=True)
class Page:
    """One page of records as the API returned it, flattened to the stream's columns."""

    number: int
    # column name -> str | None, plus "payload" (the raw JSON node); a file's records are a
    # one-pass stream instead (read while they land), with `covers` and `fields` after it
    records: list[dict]
    cursor: str | None
    unreadable: Unreadable | None = None  # set (and no records) for a file kept whole
    # values of the stream's complete_for columns of each group this page lists in full
    covers: tuple[tuple[str, ...], ...] = ()


def excerpt(value: str | bytes, limit: int = 40) -> str:
    """A short, escaped excerpt of received content for an error message: control
    characters and non-ASCII shown as escapes, cut at `limit` characters."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    return repr(value[:limit]) + ("…" if len(value) > limit else "")


class ExtractError(RuntimeError):
    """A failure while reading a channel. The message names channel, stream and page."""

    def __init__(
        self,
        channel_id: str,
        stream: str,
        page: int | None,
        reason: str,
        received: bytes | str | None = None,
    ):
        self.channel_id, self.stream, self.page, self.reason = channel_id, stream, page, reason
        self.received = received  # the body of a page that could not be read, kept in quarantine
        where = f"channel {channel_id!r}, stream {stream!r}"
        if page is not None:
            where += f", page {page}"
        super().__init__(f"{where}: {reason}")
