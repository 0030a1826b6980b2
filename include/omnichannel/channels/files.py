"""Files of any layout where the channel's files land (kind `files`: a folder, or object
storage through Airflow's ObjectStoragePath, see omnichannel.files.location): each instance
declares its feeds in channels.yml (`options.feeds`, see omnichannel.files.formats): which
files, how they are written, which stream their rows feed and how their columns map onto
it. One reader and one mapper serve every layout (omnichannel.files); this module finds
the files of an interval and turns each into a page.

A batch reads the files whose date (the `{date}` of the file name) falls in the window
(the lookback re-reads late files; a file of many days is dated by when it was sent, or
read on every run when its name has no date); one file is one page, read as a stream while
it lands (never held whole in memory).

One file is the unit of failure: a file that cannot be read (another encoding, cut off, a
mapped column missing, a line or file over its size limit, a symlink or anything but a
regular file under the landing root) is kept whole in quarantine with a reason naming the
file and line, and the other files of the batch publish. A cell that does not parse keeps
its row: the row lands with the cell and what was expected, and the gate quarantines it
(`<column>__unparsed`) with its file and line. A file read later in a batch restates the
rows of an earlier one (a re-sent file collapses onto them, a corrected one replaces them
with history): the payload is the row as read, not where it was read.

Streams: sales (receipt lines; returns are negative lines with `return_of`), stock (counted
units per item after closing), footfall (visitors per hour; on the day clocks go back, the
repeated local hour has fold 1).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from omnichannel import paths
from omnichannel.channels.base import Credentials
from omnichannel.files.formats import PLACEHOLDER, Feed
from omnichannel.files.location import FileUnreadable, LocalFolder, ObjectStore, location
from omnichannel.files.mapping import DERIVED, Mapper, check_feed
from omnichannel.files.reader import FileProblem, Limits, rows
from omnichannel.streams import (
    ExtractError,
    Page,
    PageUnreadable,
    StreamSpec,
    Unreadable,
    load_streams,
)

# columns, key and cursor of each stream: channels/streams/files.yml
STREAMS = load_streams("files")
FOOTFALL = STREAMS["footfall"]

__all__ = ["DERIVED", "STREAMS", "FileUnreadable", "check_channel", "make_client", "parse",
           "preview"]  # fmt: skip


def feeds(channel) -> list[Feed]:
    return [Feed.model_validate(f) for f in channel.options["feeds"]]


def check_channel(channel) -> None:
    """Config-time: every feed fits its stream (errors name the feed and key)."""
    for n, feed in enumerate(feeds(channel)):
        if feed.stream not in STREAMS:
            raise ValueError(
                f"options.feeds[{n}].stream: {feed.stream!r} is not a stream of kind files "
                f"(streams: {', '.join(STREAMS)})"
            )
        check_feed(feed, STREAMS[feed.stream], f"options.feeds[{n}]")


class FilesClient:
    def __init__(self, channel, where: LocalFolder | ObjectStore):
        self.channel = channel
        self.channel_id = channel.channel_id
        self.where = where
        self.feeds = feeds(channel)
        self.limits = _limits(channel)

    def close(self) -> None:
        pass

    def files(
        self, feed: Feed, first: date, last: date, names: list[str]
    ) -> list[tuple[str, dict]]:
        """The files of `feed` dated first..last (every one, when its name has no date)
        among `names` (relative to the landing root, in name order: a re-sent file after
        its first)."""
        pattern = feed.name_pattern()
        found = []
        for name in names:
            match = pattern.match(name)
            if not match:
                continue
            values = _name_values(feed, match)
            if "date" in values and not first <= date.fromisoformat(values["date"]) <= last:
                continue
            found.append((name, values))
        return found

    def iter_pages(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        spec = STREAMS.get(stream)
        if spec is None:
            raise ExtractError(self.channel_id, stream, None, "stream not supported by files")
        if not self.where.exists():
            raise ExtractError(self.channel_id, stream, None, f"landing place {self.where} missing")
        tz = self.channel.tz
        first = since.astimezone(tz).date()
        last = (until - timedelta(seconds=1)).astimezone(tz).date()
        number = 0
        names = list(self.where.names())  # one listing of the landing place for every feed
        for feed in (f for f in self.feeds if f.stream == stream):
            for name, values in self.files(feed, first, last, names):
                number += 1
                yield self._page(number, feed, spec, name, values)

    def _page(self, number: int, feed: Feed, spec: StreamSpec, name: str, values: dict) -> Page:
        records = FileRecords(self, feed, spec, name, values)
        return Page(number, records, name.rsplit("/", 1)[-1])


class FileRecords:
    """One file's records, read while they land: one pass, so a file of any size is never
    held in memory. Once read, `covers` holds the groups it states in full and `fields`
    its payload's columns. A file found unreadable (at its start or part-way) raises
    PageUnreadable: what it landed is rolled back and the file is kept whole instead."""

    def __init__(self, client: FilesClient, feed: Feed, spec: StreamSpec, name: str,
                 values: dict):  # fmt: skip
        self.client, self.feed, self.spec, self.name, self.values = client, feed, spec, name, values
        self.covers: tuple = ()
        self.fields: dict = {}

    def __iter__(self) -> Iterator[dict]:
        spec, groups, fields = self.spec, set(), self.fields
        where = self.client.where
        try:
            with where.open(self.name) as handle:
                for record in records(self.client.channel, self.feed, spec, self.name, handle,
                                      self.values, self.client.limits):  # fmt: skip
                    if spec.complete_for:
                        groups.add(tuple(record.get(c) for c in spec.complete_for))
                    for key, value in record["payload"].items():
                        if key not in fields:
                            fields[key] = value
                    yield record
        except (FileUnreadable, FileProblem) as exc:
            kept, size = where.keep(self.name)
            raise PageUnreadable(Unreadable(self.name, str(exc), kept, size)) from exc
        self.covers = _covers(spec, self.feed, groups, self.values)


def records(channel, feed: Feed, spec: StreamSpec, name: str, handle, values: dict,
            limits: Limits) -> Iterator[dict]:  # fmt: skip
    """The records of one file as they are read: each row mapped onto the stream, with
    where it was read. A file that cannot be read raises FileUnreadable (a line the reader
    cannot split: once read to its end, since a file cut off says so there)."""
    mapper = Mapper(feed, spec, timezone=channel.timezone, currency=channel.currency,
                    name=name, name_values=values)  # fmt: skip
    seen_hours: set = set()
    broken = None
    header = lambda names: mapper.check_header(set(names))  # noqa: E731
    for row in rows(handle, feed.format, name, limits, on_header=header):
        if row.problem or broken:
            broken = broken or f"file {name}, line {row.line}: {row.problem}"
            continue
        record = dict(mapper.map(row).record)
        record["source_file"] = name
        record["source_line"] = str(row.line)
        if spec is FOOTFALL:
            record["fold"] = _fold(channel, record, seen_hours)
        record["payload"] = {k: _text(v) for k, v in row.cells.items()}
        yield record
    if broken:
        raise FileUnreadable(broken)


def read(channel, feed: Feed, spec: StreamSpec, name: str, handle, values: dict,
         limits: Limits) -> list[dict]:  # fmt: skip
    """The records of one small file at once (a quarantine replay of a kept file)."""
    return list(records(channel, feed, spec, name, handle, values, limits))


def parse(channel, spec: StreamSpec, name: str, content: bytes) -> list[dict]:
    """The records of a kept file read again (a quarantine replay), or FileUnreadable. The
    replay knows the file's name, not its folder: a pattern's folder part matches any."""
    for feed in feeds(channel):
        match = _match(feed, name)
        if feed.stream != spec.stream or match is None:
            continue
        values = _name_values(feed, match)
        try:
            return read(channel, feed, spec, name, io.BytesIO(content), values, _limits(channel))
        except FileProblem as exc:
            raise FileUnreadable(str(exc)) from exc
    raise FileUnreadable(f"file {name}: no feed of stream {spec.stream} reads this name")


@dataclass
class Preview:
    feed: int  # its index in options.feeds
    stream: str
    rows: list[tuple[int, dict]]  # (line, record) of the first rows
    problems: list[dict]  # every row of the file that the gate would quarantine, and why
    read: int  # rows in the file


def preview(channel, path: Path, limit: int = 5, feed_index: int | None = None) -> Preview:
    """How `path` maps for `channel`: the first rows as they would land, and every cell
    that would send its row to quarantine (`omni files preview`). The feed is the one whose
    pattern matches the file's name (relative to the landing folder when it is in it), or
    `feed_index`. A file that cannot be read raises FileUnreadable, as a run would."""
    all_feeds = feeds(channel)
    where = make_client(channel).where
    inside = isinstance(where, LocalFolder) and path.resolve().is_relative_to(where.root.resolve())
    name = path.resolve().relative_to(where.root.resolve()).as_posix() if inside else path.name
    index, match = feed_index, None
    for n, feed in enumerate(all_feeds):
        if feed_index is not None and n != feed_index:
            continue
        match = _match(feed, name)
        if match or feed_index is not None:
            index = n
            break
    if index is None:
        patterns = ", ".join(f.pattern for f in all_feeds)
        raise FileUnreadable(f"file {name}: matches no feed's pattern ({patterns}); use --feed")
    feed = all_feeds[index]
    values = _name_values(feed, match) if match else {}
    mapper = Mapper(feed, STREAMS[feed.stream], timezone=channel.timezone,
                    currency=channel.currency, name=name, name_values=values)  # fmt: skip
    shown, problems, count = [], [], 0
    header = lambda names: mapper.check_header(set(names))  # noqa: E731
    try:
        with path.open("rb") as handle:
            for row in rows(handle, feed.format, name, _limits(channel), on_header=header):
                count += 1
                mapped = mapper.map(row)
                problems += mapped.problems
                if len(shown) < limit:
                    shown.append((row.line, mapped.record))
    except FileProblem as exc:
        raise FileUnreadable(str(exc)) from exc
    return Preview(index, feed.stream, shown, problems, count)


def _limits(channel) -> Limits:
    return Limits(int(channel.options["max_file_bytes"]), int(channel.options["max_line_bytes"]))


def _match(feed: Feed, name: str) -> re.Match | None:
    """The feed's pattern on a name; a name without its folder (a quarantine replay, a
    file outside the landing folder) matches a pattern's folder part as any folder."""
    pattern = feed.name_pattern()
    return pattern.match(name) or pattern.match(f"_/{name}")


def _name_values(feed: Feed, match: re.Match) -> dict[str, str]:
    """The placeholders a file name gives, its `{date}` as an ISO date (however the name
    writes it), the same for a run, a replay and a preview."""
    values = {k: v for k, v in match.groupdict().items() if v is not None}
    if "date" in values:
        values["date"] = datetime.strptime(values["date"], _date_format(feed)).date().isoformat()
    return values


def _date_format(feed: Feed) -> str:
    for match in PLACEHOLDER.finditer(feed.pattern):
        if match["name"] == "date":
            return match["fmt"] or "%Y%m%d"
    return "%Y%m%d"


def _covers(spec: StreamSpec, feed: Feed, found: set[tuple], values: dict) -> tuple:
    """The groups (store and day) the file states in full: a line missing from it was
    deleted. Those of its rows (a file of many days covers each day it holds: a corrected
    re-send replaces those days), and for a file of one day the one its name gives when
    the file is empty."""
    if not spec.complete_for:
        return ()
    if feed.period == "many_days":
        return tuple(sorted(g for g in found if None not in g))
    from_name = []
    for column in spec.complete_for:
        mapped = feed.columns.get(column)
        placeholder = mapped.from_name if mapped else None
        from_name.append(values.get(placeholder) if placeholder else None)
    if None not in from_name:
        found.add(tuple(from_name))
    return tuple(sorted(g for g in found if None not in g))


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _fold(channel, record: dict, seen: set) -> str:
    """0, or 1 for the second row of a local hour that occurs twice (clocks going back):
    the key stays unambiguous. A repeated hour on any other day stays 0 (a duplicate the
    gate sees)."""
    hour = (record.get("store_id"), record.get("business_date"), record.get("hour"))
    if hour not in seen:
        seen.add(hour)
        return "0"
    try:
        first = datetime.combine(date.fromisoformat(hour[1]), datetime.min.time())
        first = first.replace(hour=int(hour[2]), tzinfo=channel.tz)
    except (TypeError, ValueError):
        return "0"
    repeated = first.utcoffset() != first.replace(fold=1).utcoffset()
    return "1" if repeated else "0"


def make_client(channel, credentials: Credentials | None = None) -> FilesClient:
    """The channel's landing place: its landing_path (a connection's `landing_path` extra
    overrides it), a folder or an object store read with the channel's connection."""
    landing = channel.landing_path
    if credentials is not None and credentials.extra.get("landing_path"):
        landing = str(credentials.extra["landing_path"])
    return FilesClient(channel, location(landing, channel.connection_id, paths.project_root()))
