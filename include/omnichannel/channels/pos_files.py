"""Store POS exports: daily CSV files per store in the channel's landing folder.

Layout (see the simulator's `pos_files` module for the columns): one folder per store,
`<kind>_<store_id>_<YYYYMMDD>[_resent].csv`, `;`-separated with a header line, UTF-8 with or
without a byte-order mark (options.encoding names another). A batch reads the files whose
business date falls in the window (the lookback re-reads late files); one file is one page.

One file is the unit of failure: a file that cannot be read (another encoding, cut off,
wrong columns, a line or file over its size limit, a symlink or anything but a regular
file under the landing root) is kept whole in quarantine with a reason naming the file
and line, and the other files of the batch publish. A file read later in a batch restates
the rows of an earlier one (a re-sent file collapses onto them, a corrected one replaces
them with history): the payload is the row as read, not where it was read.

Streams: sales (receipt lines; returns are negative lines with `return_of`), stock (counted
units per item after closing), footfall (visitors per hour; on the day clocks go back, the
repeated local hour has fold 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

from omnichannel import paths
from omnichannel.channels.base import Credentials
from omnichannel.streams import (
    ExtractError,
    Page,
    StreamSpec,
    Unreadable,
    excerpt,
    load_streams,
)

# columns, key and cursor of each stream: channels/streams/pos_files.yml
STREAMS = load_streams("pos_files")
SALES, STOCK, FOOTFALL = (STREAMS[s] for s in ("sales", "stock", "footfall"))
# per-file and per-line limits are options (omnichannel.kinds.FileDropOptions: a day's
# export of a busy store is a few MB; a runaway file must not fill memory)
KEEP_BYTES = 5 * 2**20  # an unreadable file up to this size is kept whole in quarantine
csv.field_size_limit(2**20 * 4)  # the per-line check (max_line_bytes) comes first
FILE = re.compile(
    r"^(?P<kind>sales|stock|footfall)_(?P<store>[A-Za-z0-9]+)_(?P<day>\d{8})"
    r"(?P<resent>_resent)?\.csv$"
)
DERIVED = ("source_file", "source_line", "fold")  # set by the reader, not columns of the file


class FileUnreadable(ValueError):
    """A file that cannot be read as a whole; the message names file and line."""


class PosFilesClient:
    def __init__(self, channel, root: Path):
        self.channel = channel
        self.channel_id = channel.channel_id
        self.root = root
        self.max_file_bytes = int(channel.options["max_file_bytes"])

    def close(self) -> None:
        pass

    def files(self, stream: str, first: date, last: date) -> list[Path]:
        """The files of `stream` dated first..last, by name: a re-sent file after its first."""
        found = []
        for path in sorted(self.root.glob(f"*/{stream}_*.csv")):
            match = FILE.match(path.name)
            if not match:
                continue
            day = datetime.strptime(match["day"], "%Y%m%d").date()
            if first <= day <= last:
                found.append(path)
        return found

    def iter_pages(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        spec = STREAMS.get(stream)
        if spec is None:
            raise ExtractError(self.channel_id, stream, None, "stream not supported by pos_files")
        if not self.root.is_dir():
            raise ExtractError(self.channel_id, stream, None, f"landing folder {self.root} missing")
        tz = self.channel.tz
        first = since.astimezone(tz).date()
        last = (until - timedelta(seconds=1)).astimezone(tz).date()
        for number, path in enumerate(self.files(stream, first, last), start=1):
            name = f"{path.parent.name}/{path.name}"
            try:
                content = self.read_bytes(path)
            except FileUnreadable as exc:
                yield Page(number, [], path.name, Unreadable(name, str(exc), None))
                continue
            try:
                records = parse(self.channel, spec, path.name, content)
            except FileUnreadable as exc:
                kept = content if len(content) <= KEEP_BYTES else None
                yield Page(number, [], path.name, Unreadable(name, str(exc), kept, len(content)))
                continue
            # the file states its store's whole day: a line missing from it was deleted
            match = FILE.match(path.name)
            covers = (
                (match["store"], f"{match['day'][:4]}-{match['day'][4:6]}-{match['day'][6:]}"),
            )
            yield Page(number, records, path.name, covers=covers)

    def read_bytes(self, path: Path) -> bytes:
        """A regular file under the landing root, read without following links (a link
        could point at any file this process may read: a password file, /etc/passwd)."""
        where = f"file {path.parent.name}/{path.name}"
        if path.parent.is_symlink():
            raise FileUnreadable(f"{where}: the store folder is a symbolic link; not read")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise FileUnreadable(f"{where}: not opened ({exc.strerror}); not read") from exc
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FileUnreadable(f"{where}: not a regular file; not read")
            real = Path(os.path.realpath(path))
            if not real.is_relative_to(os.path.realpath(self.root)):
                raise FileUnreadable(f"{where}: outside the landing folder; not read")
            if info.st_size > self.max_file_bytes:
                raise FileUnreadable(
                    f"{where}: {info.st_size} bytes, over the limit of {self.max_file_bytes}"
                    " (options.max_file_bytes); not read"
                )
            return handle.read(self.max_file_bytes + 1)


def parse(channel, spec: StreamSpec, name: str, content: bytes) -> list[dict]:
    """The records of one export file, or FileUnreadable naming the file and line."""
    where = f"file {name}"
    encoding = channel.options["encoding"]
    max_line = int(channel.options["max_line_bytes"])
    if content.startswith(codecs.BOM_UTF8) and codecs.lookup(encoding).name == "utf-8":
        content = content[len(codecs.BOM_UTF8) :]  # what Excel writes
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise FileUnreadable(
            f"{where}, line {line}: not {encoding} (byte {content[exc.start]:#04x} at offset "
            f"{exc.start}); if the store exports another encoding, name it in the channel's "
            "options.encoding"
        ) from exc
    if not text.endswith("\n"):
        raise FileUnreadable(f"{where}: cut off (no final newline)")
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line.encode(encoding, "replace")) > max_line:
            raise FileUnreadable(
                f"{where}, line {number}: longer than {max_line} bytes (options.max_line_bytes)"
            )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    try:
        return _records(channel, spec, name, reader)
    except csv.Error as exc:
        raise FileUnreadable(f"{where}, line {reader.line_num}: {exc}") from exc


def _records(channel, spec: StreamSpec, name: str, reader) -> list[dict]:
    where = f"file {name}"
    header = next(reader, None) or []
    expected = [c.name for c in spec.columns if c.name not in DERIVED]
    if header != expected:
        missing = [c for c in expected if c not in header]
        unexpected = [excerpt(c, 20) for c in header if c not in expected][:5]
        raise FileUnreadable(
            f"{where}, line 1: the header is not the {spec.stream} export's"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(unexpected)}" if unexpected else "")
            + ("; same names in another order" if not (missing or unexpected) else "")
        )
    records = []
    seen_hours: set[tuple[str, str]] = set()
    for row in reader:
        line_no = reader.line_num
        if len(row) != len(header):
            raise FileUnreadable(
                f"{where}, line {line_no}: {len(row)} fields, expected {len(header)}"
            )
        values = dict(zip(header, row, strict=True))
        record = {k: (v if v != "" else None) for k, v in values.items()}
        record["source_file"] = name
        record["source_line"] = str(line_no)
        if spec is FOOTFALL:
            record["fold"] = _fold(channel, values, seen_hours)
        record["payload"] = values
        records.append(record)
    return records


def _fold(channel, values: dict, seen: set) -> str:
    """0, or 1 for the second row of a local hour that occurs twice (clocks going back):
    the key stays unambiguous. A repeated hour on any other day stays 0 (a duplicate the
    gate sees)."""
    hour = (values.get("business_date"), values.get("hour"))
    if hour not in seen:
        seen.add(hour)
        return "0"
    try:
        first = datetime.combine(date.fromisoformat(hour[0]), datetime.min.time())
        first = first.replace(hour=int(hour[1]), tzinfo=channel.tz)
    except (TypeError, ValueError):
        return "0"
    repeated = first.utcoffset() != first.replace(fold=1).utcoffset()
    return "1" if repeated else "0"


def make_client(channel, credentials: Credentials | None = None) -> PosFilesClient:
    root = Path(channel.landing_path)
    if credentials is not None and credentials.extra.get("landing_path"):
        root = Path(credentials.extra["landing_path"])
    if not root.is_absolute():
        root = paths.project_root() / root
    return PosFilesClient(channel, root)
