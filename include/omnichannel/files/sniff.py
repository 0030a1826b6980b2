"""`omni files sniff FILE`: a starting feed for a file nobody has mapped yet. It reads the
first rows and proposes the format (type, encoding, delimiter, header, number and date
styles) and a mapping of the stream's columns to the file's headers by their usual names;
the analyst corrects what it could not know and pastes it into channels.yml."""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from omnichannel.files.formats import Format
from omnichannel.files.reader import normalise, rows

SAMPLE_BYTES = 256 * 1024
SAMPLE_ROWS = 200
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d")
TIME_SUFFIXES = (" %H:%M:%S", " %H:%M", "T%H:%M:%S")
# usual header names of each stream column (normalised), in several languages
SYNONYMS = {
    "receipt_no": ("receipt", "receipt no", "ticket", "document no", "invoice", "order",
                   "order id", "order no", "transaction", "bon", "n° ticket"),
    "store_id": ("store", "store id", "shop", "location", "magasin", "site"),
    "business_date": ("date", "business date", "posting date", "order date", "sale date",
                      "invoice date", "jour"),
    "sold_at": ("sold at", "datetime", "timestamp", "time", "created at", "heure"),
    "line_no": ("line", "line no", "line number", "ligne", "position", "pos"),
    "pos_code": ("ean", "barcode", "gtin", "upc", "item no", "sku", "code", "ean13"),
    "description": ("description", "item", "item name", "product", "libellé", "designation"),
    "quantity": ("quantity", "qty", "units", "qté", "quantité", "menge"),
    "unit_price": ("unit price", "price", "pu", "pu ttc", "prix", "unit cost"),
    "discount": ("discount", "remise", "rabatt", "markdown"),
    "line_total": ("amount", "total", "line total", "net amount", "montant", "value"),
    "vat_rate": ("vat", "vat rate", "tva", "tax rate", "mwst"),
    "vat_amount": ("vat amount", "tax", "tax amount", "montant tva"),
    "currency": ("currency", "devise", "währung"),
    "loyalty_email": ("email", "e-mail", "customer email", "loyalty email"),
    "return_of": ("return of", "applies-to doc", "original receipt", "original document"),
    "count_date": ("date", "count date", "stock date"),
    "on_hand": ("on hand", "stock", "qty on hand", "quantity", "inventory"),
    "hour": ("hour", "heure"),
    "visitors": ("visitors", "footfall", "entries", "count"),
}  # fmt: skip


@dataclass
class Guess:
    format: dict
    columns: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def yaml(self, stream: str, pattern: str) -> str:
        feed = {"stream": stream, "pattern": pattern, "format": self.format,
                "columns": self.columns}  # fmt: skip
        text = yaml.safe_dump({"feeds": [feed]}, sort_keys=False, allow_unicode=True)
        notes = "".join(f"# {note}\n" for note in self.notes)
        return notes + text


def sniff(path: Path, stream_columns: list[str]) -> Guess:
    """The proposed format and mapping of `path` for a stream with `stream_columns`."""
    notes: list[str] = []
    fmt = _format(path, notes)
    header, samples = _samples(path, Format.model_validate(fmt))
    fmt.update(_styles(samples, notes))
    columns = _mapping(header, stream_columns, samples, fmt, notes)
    return Guess(format=fmt, columns=columns, notes=notes)


def _format(path: Path, notes: list[str]) -> dict:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return {"type": "xlsx"}
    head = path.read_bytes()[:SAMPLE_BYTES] if path.stat().st_size else b""
    encoding = _encoding(head, notes)
    if suffix in (".jsonl", ".ndjson"):
        return {"type": "jsonl", "encoding": encoding}
    text = head.decode(encoding, "replace")
    sample = "\n".join(text.splitlines()[:50])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = max(",;\t|", key=lambda d: text.splitlines()[0].count(d) if text else 0)
        notes.append(f"delimiter guessed from the first line: {delimiter!r}")
    fmt = {"type": "tsv" if delimiter == "\t" else "csv", "encoding": encoding}
    if delimiter not in ("\t", ","):
        fmt["delimiter"] = delimiter
    if "\r\n" in text:
        notes.append("line ends are CRLF (read as they are)")
    if head.startswith(codecs.BOM_UTF8):
        notes.append("the file starts with a UTF-8 byte-order mark (read as they are)")
    return fmt


def _encoding(head: bytes, notes: list[str]) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # the sample cut a character in two
            return "utf-8"
        notes.append("not UTF-8: cp1252 (Windows Western) assumed; check accented letters")
        return "cp1252"


def _samples(path: Path, fmt: Format) -> tuple[list[str], dict[str, list[str]]]:
    header: list[str] = []
    samples: dict[str, list[str]] = {}
    with path.open("rb") as handle:
        for n, row in enumerate(rows(handle, fmt, path.name)):
            if n >= SAMPLE_ROWS:
                break
            if not header:
                header = list(row.cells)
            for name, value in row.cells.items():
                if value is not None:
                    samples.setdefault(name, []).append(str(value))
    return header, samples


def _styles(samples: dict[str, list[str]], notes: list[str]) -> dict:
    """Decimal and thousands separators and date formats seen in the sampled cells."""
    votes: Counter = Counter()
    for values in samples.values():
        for value in values:
            text = re.sub(r"[^\d.,\s'-]", "", value).strip()
            if re.fullmatch(r"-?\d{1,3}(\.\d{3})+,\d+", text):
                votes[(",", ".")] += 1
            elif re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text):
                votes[(".", ",")] += 1
            elif re.fullmatch(r"-?\d{1,3}( \d{3})+(,\d+)?", text):
                votes[(",", " ")] += 1
            elif re.fullmatch(r"-?\d+,\d{1,2}", text):
                votes[(",", "")] += 1
            elif re.fullmatch(r"-?\d+\.\d+", text):
                votes[(".", "")] += 1
    out: dict = {}
    if votes:
        decimals = Counter()
        for (decimal, _), n in votes.items():
            decimals[decimal] += n
        decimal = decimals.most_common(1)[0][0]
        # a grouped number decides the thousands separator, however few there are
        grouped = [t for (d, t), _ in votes.most_common() if d == decimal and t]
        if decimal != ".":
            out["decimal"] = decimal
        if grouped:
            out["thousands"] = grouped[0]
    # cells of the columns that look like dates (every sampled cell starts as one)
    datelike = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
    dates = [
        v
        for values in samples.values()
        if values and all(datelike.match(v.strip()) for v in values)
        for v in values
    ]
    for fmt in DATE_FORMATS:
        if dates and _all_parse([d.split()[0].split("T")[0] for d in dates], fmt):
            if fmt != "%Y-%m-%d":
                out["date_format"] = fmt
            if fmt in ("%d/%m/%Y", "%m/%d/%Y"):
                notes.append(f"dates read as {fmt}: check, day and month can both be ≤ 12")
            with_time = [d for d in dates if re.search(r"\d:\d", d)]
            for suffix in TIME_SUFFIXES:
                if with_time and _all_parse(with_time, fmt + suffix, strict=False):
                    out["datetime_format"] = fmt + suffix
                    break
            break
    return out


def _refine(columns: dict, samples: dict, fmt: dict) -> None:
    """A time-only column for a date-time: joined with the date column; percentages."""
    for target, source in list(columns.items()):
        cells = samples.get(source, [])
        if cells and all(re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", c.strip()) for c in cells):
            date_column = columns.get("business_date") or columns.get("count_date")
            if date_column:
                columns[target] = {"source": [date_column, source]}
                seconds = ":%S" if cells[0].count(":") == 2 else ""
                fmt["datetime_format"] = fmt.get("date_format", "%Y-%m-%d") + " %H:%M" + seconds
        elif cells and all(c.strip().endswith("%") for c in cells):
            columns[target] = {"source": source, "parse": "percent"}


def _all_parse(values: list[str], fmt: str, strict: bool = True) -> bool:
    parsed = 0
    for value in values:
        try:
            datetime.strptime(value.strip(), fmt)
            parsed += 1
        except ValueError:
            if strict:
                return False
    return parsed > 0


def _mapping(
    header: list[str], stream_columns: list[str], samples: dict, fmt: dict, notes: list[str]
) -> dict:
    columns: dict = {}
    used: set[str] = set()
    for target in stream_columns:
        names = (normalise(target.replace("_", " ")), *SYNONYMS.get(target, ()))
        for name in names:
            if name in header and name not in used:
                columns[target] = name
                used.add(name)
                break
    _refine(columns, samples, fmt)
    left = [h for h in header if h not in used]
    if left:
        notes.append(f"not mapped: {', '.join(left)}")
    missing = [c for c in stream_columns if c not in columns]
    if missing:
        notes.append(f"stream columns without a source yet: {', '.join(missing)}")
    return columns
