"""Files of any layout in the channel's landing folder (kind `files`): each instance
declares its feeds in channels.yml (`options.feeds`, see omnichannel.files.formats): which
files, how they are written, which stream their rows feed and how their columns map onto
it. One reader and one mapper serve every layout (omnichannel.files); this module finds
the files of an interval and turns each into a page.

A batch reads the files whose date (the `{date}` of the file name) falls in the window
(the lookback re-reads late files); one file is one page, read as a stream.

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
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from omnichannel import paths
from omnichannel.channels.base import Credentials
from omnichannel.files.formats import PLACEHOLDER, Feed
from omnichannel.files.mapping import DERIVED, Mapper, check_feed
from omnichannel.files.reader import FileProblem, Limits, rows
from omnichannel.streams import ExtractError, Page, StreamSpec, Unreadable, load_streams

# columns, key and cursor of each stream: channels/streams/files.yml
STREAMS = load_streams("files")
FOOTFALL = STREAMS["footfall"]
KEEP_BYTES = 5 * 2**20  # an unreadable file up to this size is kept whole in quarantine

__all__ = ["DERIVED", "STREAMS", "check_channel", "make_client", "parse", "preview"]


class FileUnreadable(ValueError):
    """A file that cannot be read as a whole; the message names file and line."""


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
    def __init__(self, channel, root: Path):
        self.channel = channel
        self.channel_id = channel.channel_id
        self.root = root
        self.feeds = feeds(channel)
        self.limits = _limits(channel)

    def close(self) -> None:
        pass

    def files(self, feed: Feed, first: date, last: date) -> list[tuple[Path, dict]]:
        """The files of `feed` dated first..last (every one, when its name has no date),
        in name order: a re-sent file after its first."""
        pattern = feed.name_pattern()
        found = []
        for path in sorted(self.root.rglob("*")):
            match = pattern.match(path.relative_to(self.root).as_posix())
            if not match:
                continue
            values = _name_values(feed, match)
            if "date" in values and not first <= date.fromisoformat(values["date"]) <= last:
                continue
            found.append((path, values))
        return found

    def iter_pages(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        spec = STREAMS.get(stream)
        if spec is None:
            raise ExtractError(self.channel_id, stream, None, "stream not supported by files")
        if not self.root.is_dir():
            raise ExtractError(self.channel_id, stream, None, f"landing folder {self.root} missing")
        tz = self.channel.tz
        first = since.astimezone(tz).date()
        last = (until - timedelta(seconds=1)).astimezone(tz).date()
        number = 0
        for feed in (f for f in self.feeds if f.stream == stream):
            for path, values in self.files(feed, first, last):
                number += 1
                yield self._page(number, feed, spec, path, values)

    def _page(self, number: int, feed: Feed, spec: StreamSpec, path: Path, values: dict) -> Page:
        name = path.relative_to(self.root).as_posix()
        try:
            with self.open(path) as handle:
                records = read(self.channel, feed, spec, name, handle, values, self.limits)
        except (FileUnreadable, FileProblem) as exc:
            kept, size = _keep(path)
            return Page(number, [], path.name, Unreadable(name, str(exc), kept, size))
        return Page(number, records, path.name, covers=_covers(spec, feed, records, values))

    def open(self, path: Path):
        """A regular file under the landing root, opened without following links (a link
        could point at any file this process may read: a password file, /etc/passwd)."""
        where = f"file {path.relative_to(self.root).as_posix()}"
        if path.parent.is_symlink():
            raise FileUnreadable(f"{where}: its folder is a symbolic link; not read")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise FileUnreadable(f"{where}: not opened ({exc.strerror}); not read") from exc
        handle = os.fdopen(fd, "rb")
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            handle.close()
            raise FileUnreadable(f"{where}: not a regular file; not read")
        if not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(self.root)):
            handle.close()
            raise FileUnreadable(f"{where}: outside the landing folder; not read")
        return handle


def read(channel, feed: Feed, spec: StreamSpec, name: str, handle, values: dict,
         limits: Limits) -> list[dict]:  # fmt: skip
    """The records of one file: each row mapped onto the stream, with where it was read."""
    mapper = Mapper(feed, spec, timezone=channel.timezone, currency=channel.currency,
                    name=name, name_values=values)  # fmt: skip
    records: list[dict] = []
    seen_hours: set = set()
    broken = None  # a line the reader could not split: the file fails, once read to its end
    header = lambda names: mapper.check_header(set(names))  # noqa: E731
    for row in rows(handle, feed.format, name, limits, on_header=header):
        if row.problem or broken:
            # read on: a file cut off says so at its end, a better reason than the line
            broken = broken or f"file {name}, line {row.line}: {row.problem}"
            continue
        mapped = mapper.map(row)
        record = dict(mapped.record)
        record["source_file"] = name
        record["source_line"] = str(row.line)
        if spec is FOOTFALL:
            record["fold"] = _fold(channel, record, seen_hours)
        record["payload"] = {k: _text(v) for k, v in row.cells.items()}
        records.append(record)
    if broken:
        raise FileUnreadable(broken)
    return records


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
    root = make_client(channel).root
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
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


def _covers(spec: StreamSpec, feed: Feed, records: list[dict], values: dict) -> tuple:
    """The groups (store and day) the file states in full: a line missing from it was
    deleted. Those of its rows, and the one its name gives when the file is empty."""
    if not spec.complete_for:
        return ()
    found = {tuple(r.get(c) for c in spec.complete_for) for r in records}
    from_name = []
    for column in spec.complete_for:
        mapped = feed.columns.get(column)
        placeholder = mapped.from_name if mapped else None
        from_name.append(values.get(placeholder) if placeholder else None)
    if None not in from_name:
        found.add(tuple(from_name))
    return tuple(sorted(g for g in found if None not in g))


def _keep(path: Path) -> tuple[bytes | None, int | None]:
    """What quarantine keeps of an unreadable file: all of it up to KEEP_BYTES, read
    without following links."""
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except OSError:
        return None, None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > KEEP_BYTES:
            return None, info.st_size
        return handle.read(KEEP_BYTES + 1), info.st_size


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
    root = Path(channel.landing_path)
    if credentials is not None and credentials.extra.get("landing_path"):
        root = Path(credentials.extra["landing_path"])
    if not root.is_absolute():
        root = paths.project_root() / root
    return FilesClient(channel, root)
