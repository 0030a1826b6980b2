"""Store POS exports: daily CSV files per store in the channel's landing folder.

Layout (see the simulator's `pos_files` module for the columns): one folder per store,
`<kind>_<store_id>_<YYYYMMDD>[_resent].csv`, `;`-separated with a header line. A batch
reads the files whose business date falls in the window (the lookback re-reads late
files); one file is one page. A re-sent file has the same rows and keys as the first, so
its records collapse onto them. A file that does not parse (cut off, wrong columns) fails
the batch naming the file and line.

Streams: sales (receipt lines; returns are negative lines with `return_of`), stock (counted
units per item after closing), footfall (visitors per hour).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

from omnichannel import paths
from omnichannel.channels.base import Credentials
from omnichannel.streams import Column, ExtractError, Page, StreamSpec

MONEY = "numeric(18,2)"
FILE = re.compile(
    r"^(?P<kind>sales|stock|footfall)_(?P<store>[A-Za-z0-9]+)_(?P<day>\d{8})"
    r"(?P<resent>_resent)?\.csv$"
)
SOURCE = Column("source_file", "text", "The export file the row came from")
SALES = StreamSpec(
    channel_kind="pos_files",
    stream="sales",
    key=("store_id", "receipt_no", "line_no"),
    cursor="business_date",
    columns=(
        Column("receipt_no", "text", "Receipt number, unique per store (R… for returns)", False),
        Column("store_id", "text", "The store", False),
        Column("business_date", "date", "The store's local business day", False),
        Column("sold_at", "timestamp", "Local time of the sale (store's zone)", False),
        Column("line_no", "integer", "Line on the receipt", False),
        Column("pos_code", "text", "EAN-13 barcode of the item", False),
        Column("description", "text", "Item name on the till"),
        Column("quantity", "integer", "Units; negative on a return", False),
        Column("unit_price", MONEY, "Price per unit, VAT included", False),
        Column("discount", MONEY, "Discount on the line, VAT included", False),
        Column("line_total", MONEY, "quantity × unit_price − discount, VAT included", False),
        Column("vat_rate", "numeric(6,4)", "VAT rate, e.g. 0.20"),
        Column("vat_amount", MONEY, "VAT inside line_total"),
        Column("currency", "text", "ISO 4217", False),
        Column("loyalty_email", "text", "Member's e-mail as typed at the till"),
        Column("return_of", "text", "For a return: receipt number of the sale"),
        SOURCE,
    ),
)
STOCK = StreamSpec(
    channel_kind="pos_files",
    stream="stock",
    key=("store_id", "pos_code", "count_date"),
    cursor="count_date",
    columns=(
        Column("store_id", "text", "The store", False),
        Column("count_date", "date", "Business day the count closes", False),
        Column("pos_code", "text", "EAN-13 barcode of the item", False),
        Column("on_hand", "integer", "Units counted after closing", False),
        SOURCE,
    ),
)
FOOTFALL = StreamSpec(
    channel_kind="pos_files",
    stream="footfall",
    key=("store_id", "business_date", "hour"),
    cursor="business_date",
    columns=(
        Column("store_id", "text", "The store", False),
        Column("business_date", "date", "The store's local business day", False),
        Column("hour", "integer", "Local hour 0-23", False),
        Column("visitors", "integer", "Door counter visitors in that hour", False),
        SOURCE,
    ),
)
STREAMS = {s.stream: s for s in (SALES, STOCK, FOOTFALL)}


class PosFilesClient:
    def __init__(self, channel, root: Path):
        self.channel = channel
        self.channel_id = channel.channel_id
        self.root = root

    def close(self) -> None:
        pass

    def files(self, stream: str, first: date, last: date) -> list[Path]:
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
            yield Page(number, read_file(self.channel_id, stream, number, path, spec), path.name)


def read_file(channel_id: str, stream: str, number: int, path: Path, spec: StreamSpec) -> list:
    where = f"file {path.name}"
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExtractError(channel_id, stream, number, f"{where}: unreadable: {exc}") from exc
    if not content.endswith("\n"):
        raise ExtractError(
            channel_id, stream, number, f"{where}: cut off (no final newline)", content
        )
    reader = csv.reader(io.StringIO(content), delimiter=";")
    header = next(reader, None)
    expected = [c.name for c in spec.columns if c is not SOURCE]
    if header != expected:
        raise ExtractError(
            channel_id, stream, number, f"{where}: columns {header} are not {expected}", content
        )
    records = []
    for line_no, row in enumerate(reader, start=2):
        if len(row) != len(header):
            raise ExtractError(
                channel_id,
                stream,
                number,
                f"{where}, line {line_no}: {len(row)} fields, expected {len(header)}",
                content,
            )
        record = {
            name: (value if value != "" else None) for name, value in zip(header, row, strict=True)
        }
        record["source_file"] = path.name
        record["payload"] = {
            "file": path.name,
            "line": line_no,
            "row": dict(zip(header, row, strict=True)),
        }
        records.append(record)
    return records


def make_client(channel, credentials: Credentials | None = None) -> PosFilesClient:
    root = Path(channel.landing_path)
    if credentials is not None and credentials.extra.get("landing_path"):
        root = Path(credentials.extra["landing_path"])
    if not root.is_absolute():
        root = paths.project_root() / root
    return PosFilesClient(channel, root)
