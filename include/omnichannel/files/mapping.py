"""A feed's rows mapped onto its stream: each target column from its source cell (or a
constant, a placeholder of the file name, a number within a group), parsed by the column's
type, with the declared rules (the sign rule, a stripped prefix) and the arithmetic a
stream needs when a file gives only part of it (a line total from price × quantity, or a
unit price from the total).

A value that does not parse does not stop the file: the row comes out with a problem per
column (file, line, column, value, what was expected), for quarantine; a mapped column
missing from the file's header fails that file (`FileProblem` naming the column)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from omnichannel.files import values
from omnichannel.files.formats import BY_TYPE, Column, Feed
from omnichannel.files.reader import FileProblem, Row, normalise
from omnichannel.streams import StreamSpec, excerpt

# columns the reader sets itself (where a row came from), never mapped
DERIVED = ("source_file", "source_line", "fold")
CENT = Decimal("0.01")


class Unparsed(str):
    """A cell that did not parse, as `'<cell>': <what was expected>`."""


@dataclass
class Mapped:
    line: int
    record: dict[str, str | None]  # target column → its value as canonical text
    problems: list[dict] = field(default_factory=list)  # one per column that did not parse

    @property
    def ok(self) -> bool:
        return not self.problems


class FeedError(ValueError):
    """A feed that cannot feed its stream (config load); the message names feed and key."""


def check_feed(feed: Feed, spec: StreamSpec, where: str) -> None:
    """Config-time checks against the stream: known target columns, every required one
    mapped (or derivable), placeholders that exist, groups of mapped columns."""
    targets = {c.name: c for c in spec.columns if c.name not in DERIVED}
    for name, column in feed.columns.items():
        key = f"{where}.columns.{name}"
        if name not in targets:
            raise FeedError(
                f"{key}: not a column of stream {spec.stream} (its columns: {', '.join(targets)})"
            )
        if column.from_name and column.from_name not in feed.placeholders:
            raise FeedError(
                f"{key}: from_name {column.from_name!r} is not a placeholder of the pattern "
                f"{feed.pattern!r}"
            )
        for group in column.number_within or ():
            if group not in feed.columns:
                raise FeedError(f"{key}: number_within names {group!r}, which is not mapped")
    if feed.period == "many_days":
        for name in spec.complete_for:
            column = feed.columns.get(name)
            if column is not None and column.from_name == "date":
                raise FeedError(
                    f"{where}.columns.{name}: a file of period many_days holds many days: "
                    "its rows give the day, not the date in its name"
                )
    derivable = _derivable(feed, spec)
    missing = [
        n
        for n, c in targets.items()
        if not c.nullable and n not in feed.columns and n not in derivable
    ]
    if missing:
        raise FeedError(f"{where}: stream {spec.stream} needs {', '.join(missing)} mapped")
    if spec.one_of and not set(spec.one_of) & set(feed.columns):
        raise FeedError(
            f"{where}: stream {spec.stream} needs one of {', '.join(spec.one_of)} mapped"
        )


def _derivable(feed: Feed, spec: StreamSpec) -> set[str]:
    """Columns the mapper computes when the file lacks them."""
    names = {c.name for c in spec.columns}
    got = set(feed.columns)
    found = set()
    if {"quantity", "unit_price", "line_total"} <= names:
        if {"quantity", "unit_price"} <= got:
            found.add("line_total")
        if {"quantity", "line_total"} <= got:
            found.add("unit_price")
    if "discount" in names:
        found.add("discount")  # none given: 0
    if "currency" in names:
        found.add("currency")  # the format's or the channel's
    return found


class Mapper:
    """Maps the rows of one file of `feed` onto `spec`'s columns."""

    def __init__(self, feed: Feed, spec: StreamSpec, *, timezone: str, currency: str,
                 name: str, name_values: dict[str, str]):  # fmt: skip
        self.feed, self.spec, self.name = feed, spec, name
        self.zone = feed.format.timezone or timezone
        self.currency = feed.format.currency or currency
        self.name_values = name_values
        self.types = {c.name: c.sql_type for c in spec.columns}
        self.counters: dict[tuple, int] = defaultdict(int)
        self.style = feed.format.style
        # worked out once per file, not per row: each column's cells (normalised header
        # names) and parser; dates and times repeat down a file, so their parses are kept
        self.keys = {t: [normalise(s) for s in c.sources] for t, c in feed.columns.items()}
        self.parsers = {
            t: c.parse or _default_parser(self.types[t]) for t, c in feed.columns.items()
        }
        self.parse_date = lru_cache(maxsize=4096)(values.parse_date)
        self.parse_datetime = lru_cache(maxsize=4096)(values.parse_datetime)

    def check_header(self, header: set[str]) -> None:
        """A mapped source column the file lacks fails the file, naming the column."""
        for target, column in self.feed.columns.items():
            sources = column.sources + ([column.negate_when.source] if column.negate_when else [])
            for source in sources:
                if normalise(source) not in header:
                    # the file's own names, cut and escaped: they are received content
                    found = [excerpt(h, 20) for h in sorted(header)][:30]
                    raise FileProblem(
                        f"file {self.name}, header: no column {source!r} (mapped to {target});"
                        f" its columns: {', '.join(found)}"
                    )

    def map(self, row: Row) -> Mapped:
        out = Mapped(row.line, {})
        if row.problem:
            out.problems.append(self._problem(None, None, None, row.problem))
            out.problems[-1]["line"] = row.line
            return out
        typed: dict[str, object] = {}
        for target, column in self.feed.columns.items():
            if column.number_within is not None:
                continue  # after the columns it groups by
            try:
                typed[target] = self._value(target, column, row)
            except values.BadValue as exc:
                source = ", ".join(column.sources) or None
                cell = _joined(column, row, self.keys[target]) if column.sources else None
                out.problems.append(self._problem(target, source, cell, str(exc)))
                # the record keeps the cell and why it failed: a text no type casts from
                # (it starts with a quote), so the gate quarantines the row with it
                typed[target] = Unparsed(str(exc))
        for target, column in self.feed.columns.items():
            if column.number_within is not None:
                group = tuple(typed.get(name) for name in column.number_within)
                self.counters[group] += 1
                typed[target] = self.counters[group]
        if not out.problems:
            self._derive(typed, out)
        if self.spec.one_of and all(typed.get(c) is None for c in self.spec.one_of):
            # the row names no item: the gate quarantines it (the suite's rule on one_of)
            reason = f"empty: a row needs one of {', '.join(self.spec.one_of)}"
            out.problems.append(self._problem(self.spec.one_of[0], None, None, reason))
        elif "currency" in self.types and typed.get("currency") is None:
            typed["currency"] = self.currency
        for problem in out.problems:
            problem["line"] = row.line
        out.record = {name: self._canonical(name, value) for name, value in typed.items()}
        return out

    def _canonical(self, target: str, value: object) -> str | None:
        """What landing stores: text the raw column's type casts from. A `timestamp`
        column holds the channel's local wall time (a text with another offset is moved
        into the zone first)."""
        if isinstance(value, datetime) and value.tzinfo and self.types.get(target) == "timestamp":
            value = value.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)
        return _canonical(value)

    def _value(self, target: str, column: Column, row: Row) -> object:
        if column.constant is not None:
            text: object = column.constant
        elif column.from_name is not None:
            text = self.name_values[column.from_name]
        else:
            text = _joined(column, row, self.keys[target])
        if text is None or (isinstance(text, str) and not text.strip()):
            if column.default is None:
                return None  # empty: the gate's not-null rule decides
            text = column.default
        if column.strip_prefix and isinstance(text, str):
            text = text.strip().removeprefix(column.strip_prefix)
        value = self._parse(target, column, text)
        if column.negate_when and column.negate_when.holds(_cell(row, column.negate_when.source)):
            if not isinstance(value, int | Decimal):
                raise values.BadValue(f"{text!r}: negate_when applies to numbers only")
            value = -value
        return value

    def _parse(self, target: str, column: Column, text: object) -> object:
        parser = self.parsers[target]
        if parser == "text":
            return str(text).strip() if not isinstance(text, datetime | date) else text.isoformat()
        if parser in ("date", "datetime") and isinstance(text, datetime | date):
            return _typed_date(text, parser, self.zone)  # an XLSX date cell
        if isinstance(text, Decimal) and parser in ("integer", "number", "money", "percent"):
            if parser == "integer" and text != text.to_integral_value():
                raise values.BadValue(f"{text}: not a whole number")
            return int(text) if parser == "integer" else text
        raw = str(text)
        if parser == "integer":
            return values.parse_integer(raw, self.style)
        if parser == "number":
            return self.style.parse(raw)
        if parser == "money":
            return values.parse_money(raw, self.style, self.currency)
        if parser == "percent":
            return values.parse_percent(raw, self.style)
        if parser == "date":
            fmt = column.format or self.feed.format.date_format
            if fmt == "iso" and len(raw.strip()) > 10:  # an ISO date-time: its local day
                return (
                    self.parse_datetime(raw, "iso", self.zone)
                    .astimezone(ZoneInfo(self.zone))
                    .date()
                )
            return self.parse_date(raw, fmt)
        return self.parse_datetime(
            raw, column.format or self.feed.format.datetime_format, self.zone
        )

    def _derive(self, typed: dict, out: Mapped) -> None:
        names = self.types
        if "currency" in names and typed.get("currency") is None:
            typed["currency"] = self.currency
        if "discount" in names and typed.get("discount") is None:
            typed["discount"] = Decimal("0.00")
        quantity, price, total = (typed.get(n) for n in ("quantity", "unit_price", "line_total"))
        if "line_total" in names and total is None and None not in (quantity, price):
            typed["line_total"] = (quantity * price - typed.get("discount", 0)).quantize(CENT)
        elif "unit_price" in names and price is None and None not in (quantity, total):
            if quantity == 0:
                out.problems.append(
                    self._problem("unit_price", None, None, "no quantity to divide the total by")
                )
                return
            typed["unit_price"] = ((total + typed.get("discount", 0)) / quantity).quantize(
                CENT, ROUND_HALF_UP
            )

    def _problem(self, column, source, value, reason) -> dict:
        return {
            "file": self.name,
            "line": None,  # the row's, set by map()
            "column": column,
            "source": source,
            "value": None if value is None else str(value),
            "reason": reason,
        }


def _default_parser(raw_type: str) -> str:
    if raw_type.startswith("numeric"):
        return "money" if raw_type == "numeric(18,2)" else "number"
    return BY_TYPE.get(raw_type, "text")


def _cell(row: Row, source: str) -> object:
    return row.cells.get(normalise(source))


def _joined(column: Column, row: Row, keys: list[str] | None = None) -> object:
    if keys is None:
        keys = [normalise(s) for s in column.sources]
    cells = [row.cells.get(k) for k in keys]
    if len(cells) == 1:
        return cells[0]
    present = [c.isoformat() if isinstance(c, datetime | date) else str(c) for c in cells if c]
    return column.separator.join(present) if present else None


def _typed_date(value: date | datetime, parser: str, zone: str) -> object:
    if parser == "date":
        return value.date() if isinstance(value, datetime) else value
    if not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


def _canonical(value: object) -> str | None:
    """What landing stores: text the raw column's type casts from."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
