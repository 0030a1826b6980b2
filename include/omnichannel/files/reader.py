"""Rows of a CSV/TSV, JSON-lines or XLSX file, streamed: a file of any size is read row by
row from its handle, never whole (XLSX through openpyxl's read-only mode).

A row carries its line (CSV, JSON lines) or row number (XLSX) and its cells by header name,
normalised (case and spacing do not matter). What makes the whole file unreadable raises
`FileProblem` naming file and line: another encoding, no header, a column named twice, a
file over its size limit, a line over its length limit, a text file cut off (no final line
end: an upload that stopped). What spoils one row (a line of the wrong width, a JSON line
that does not parse) marks that row only."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from omnichannel.files.formats import Format
from omnichannel.streams import excerpt

csv.field_size_limit(2**24)


class FileProblem(ValueError):
    """The whole file cannot be read; the message names file and line."""


@dataclass(frozen=True)
class Limits:
    """What a file may hold before it is refused whole: a runaway export must not fill
    memory or a line buffer (the channel's options set them)."""

    max_file_bytes: int = 256 * 2**20
    max_line_bytes: int = 2**20


@dataclass
class Row:
    line: int
    cells: dict[str, object]  # normalised header → text (CSV, JSON) or typed cell (XLSX)
    problem: str | None = None  # why this row cannot be used, if it cannot


def normalise(name: object) -> str:
    """` Unit  Price ` → `unit price`: headers match whatever their case and spacing."""
    return " ".join(str(name).replace("\ufeff", "").split()).lower()


def rows(
    handle: IO[bytes],
    fmt: Format,
    name: str,
    limits: Limits = Limits(),
    on_header: Callable[[list[str]], None] | None = None,
) -> Iterator[Row]:
    """The file's rows; `on_header` sees the (normalised) header before the first row, so
    a missing column fails the file before any row is judged."""
    size = _size(handle)
    if size is not None and size > limits.max_file_bytes:
        raise FileProblem(
            f"file {name}: {size} bytes, over the limit of {limits.max_file_bytes}"
            " (options.max_file_bytes); not read"
        )
    on_header = on_header or (lambda header: None)
    if fmt.type in ("csv", "tsv"):
        yield from _csv_rows(handle, fmt, name, limits, on_header)
    elif fmt.type == "jsonl":
        yield from _jsonl_rows(handle, fmt, name, limits, on_header)
    else:
        yield from _xlsx_rows(handle, fmt, name, on_header)


def _size(handle: IO[bytes]) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        return len(handle.getbuffer()) if isinstance(handle, io.BytesIO) else None


def _lines(handle: IO[bytes], fmt: Format, name: str, limits: Limits) -> Iterator[str]:
    """The file's lines as text, read one at a time (never more than the length limit at
    once) and decoded one at a time, so that an encoding error names its line. A last line
    without its line end means the file was cut off. (UTF-16 and UTF-32 files, whose line
    ends are not single bytes, are decoded by a text stream instead.)"""
    codec = codecs.lookup(fmt.encoding).name
    if codec.startswith(("utf-16", "utf-32")):
        yield from _wide_lines(handle, fmt, name, limits)
        return
    number, last = 0, b"\n"
    while True:
        raw = handle.readline(limits.max_line_bytes + 2)
        if not raw:
            break
        number, last = number + 1, raw
        body = raw.rstrip(b"\r\n")
        if len(body) > limits.max_line_bytes:
            raise FileProblem(
                f"file {name}, line {number}: longer than {limits.max_line_bytes} bytes"
                " (options.max_line_bytes)"
            )
        try:
            # a UTF-8 byte-order mark (what Excel writes) is read, not kept in the header
            yield raw.decode("utf-8-sig" if codec == "utf-8" and number == 1 else fmt.encoding)
        except UnicodeDecodeError as exc:
            raise FileProblem(
                f"file {name}, line {number}: not {fmt.encoding} (byte {raw[exc.start]:#04x} at"
                f" column {exc.start + 1}); name the file's encoding in the feed's format.encoding"
            ) from exc
    if number and not last.endswith((b"\n", b"\r")):
        raise FileProblem(f"file {name}, line {number}: cut off (no final line end)")


def _wide_lines(handle: IO[bytes], fmt: Format, name: str, limits: Limits) -> Iterator[str]:
    text = io.TextIOWrapper(handle, encoding=fmt.encoding, newline="")
    number, line = 0, "\n"
    try:
        for number, line in enumerate(text, start=1):  # noqa: B007 (the last is checked)
            if len(line) * 2 > limits.max_line_bytes:
                raise FileProblem(
                    f"file {name}, line {number}: longer than {limits.max_line_bytes} bytes"
                    " (options.max_line_bytes)"
                )
            yield line
    except UnicodeDecodeError as exc:
        raise FileProblem(f"file {name}, after line {number}: not {fmt.encoding}") from exc
    if number and not line.endswith(("\n", "\r")):
        raise FileProblem(f"file {name}, line {number}: cut off (no final line end)")


def _csv_rows(handle: IO[bytes], fmt: Format, name: str, limits: Limits, on_header
              ) -> Iterator[Row]:  # fmt: skip
    reader = csv.reader(
        _lines(handle, fmt, name, limits),
        delimiter=fmt.field_delimiter,
        quotechar=fmt.quote,
        strict=True,
    )
    for _ in range(fmt.skip_rows):
        next(reader, None)
    first = next(reader, None)
    if first is None:
        raise FileProblem(f"file {name}: empty")
    if fmt.header:
        header = [normalise(h) for h in first]
        _check_header(header, name, reader.line_num)
        on_header(header)
    else:
        header = [str(i) for i in range(1, len(first) + 1)]
        on_header(header)
        yield _csv_row(header, first, reader.line_num)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a stray quote: this row, not the file
            yield Row(reader.line_num, {}, f"not readable as {fmt.type.upper()}: {exc}")
            continue
        if any(v.strip() for v in values):  # blank lines: nothing to load, nothing lost
            yield _csv_row(header, values, reader.line_num)


def _csv_row(header: list[str], values: list[str], line: int) -> Row:
    if len(values) != len(header):
        # trailing empty cells (a spreadsheet's ragged export) are no harm
        if len(values) > len(header) and not any(v.strip() for v in values[len(header) :]):
            values = values[: len(header)]
        else:
            return Row(line, {}, f"{len(values)} fields, the header has {len(header)}")
    return Row(line, dict(zip(header, (v if v != "" else None for v in values), strict=True)))


def _check_header(header: list[str], name: str, line: int) -> None:
    seen = set()
    for column in header:
        if column in seen:
            raise FileProblem(f"file {name}, line {line}: column {excerpt(column, 20)} twice")
        seen.add(column)


def _jsonl_rows(handle: IO[bytes], fmt: Format, name: str, limits: Limits, on_header
                ) -> Iterator[Row]:  # fmt: skip
    """(A JSON line names its own fields: `on_header` sees the first object's.)"""
    first = True
    for line, raw in enumerate(_lines(handle, fmt, name, limits), start=1):
        if line <= fmt.skip_rows or not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield Row(line, {}, f"not JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(value, dict):
            yield Row(line, {}, f"a JSON {type(value).__name__}, not an object")
            continue
        cells = {normalise(k): _json_cell(v) for k, v in value.items()}
        if first:
            on_header(list(cells))
            first = False
        yield Row(line, cells)


def _json_cell(value: object) -> object:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return Decimal(str(value))
    return json.dumps(value)  # nested objects land as their JSON text


def _xlsx_rows(handle: IO[bytes], fmt: Format, name: str, on_header) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # a zip that is not a workbook, a cut-off file
        raise FileProblem(f"file {name}: not an XLSX workbook ({exc})") from exc
    try:
        if fmt.sheet is not None and fmt.sheet not in book.sheetnames:
            raise FileProblem(
                f"file {name}: no sheet {fmt.sheet!r} (sheets: {', '.join(book.sheetnames)})"
            )
        sheet = book[fmt.sheet] if fmt.sheet else book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        for _ in range(fmt.skip_rows):
            next(cells, None)
        first = next(cells, None)
        if first is None:
            raise FileProblem(f"file {name}: sheet {sheet.title!r} is empty")
        start = fmt.skip_rows + 1
        if fmt.header:
            header = [normalise(h) if h is not None else "" for h in first]
            _check_header([h for h in header if h], name, start)
            body, number = cells, start + 1
        else:
            header = [str(i) for i in range(1, len(first) + 1)]
            body, number = itertools.chain([first], cells), start
        on_header([h for h in header if h])
        for values in body:
            if any(v is not None and str(v).strip() for v in values):
                # a row may be shorter or longer than the header (openpyxl trims them)
                pairs = zip(header, values, strict=False)
                yield Row(number, {h: _xlsx_cell(v) for h, v in pairs if h})
            number += 1
    finally:
        book.close()


def _xlsx_cell(value: object) -> object:
    if value is None or isinstance(value, datetime | date):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = str(value)
    return text if text.strip() else None
