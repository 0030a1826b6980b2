"""How a channel's files are written and how their columns map to a stream: the typed
config of a `files` channel instance (its `options.feeds` in channels.yml).

    feeds:
      - stream: sales                       # the stream its rows feed
        pattern: "tills/{store}_{date:%Y%m%d}.csv"
        format: {type: csv, delimiter: ";", decimal: ",", date_format: "%d/%m/%Y"}
        columns:
          receipt_no: Ticket                # a header, case- and space-insensitive
          store_id: {from_name: store}      # a placeholder of the file name
          line_no: {number_within: [receipt_no]}
          currency: {constant: EUR}
          quantity: {source: Qty, negate_when: {source: Type, equals: Return}}

Errors name the feed and key (`feeds[0].columns.quantity: ...`), at config load."""

from __future__ import annotations

import codecs
import re
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from omnichannel.files.values import NumberStyle

PARSERS = ("text", "integer", "number", "money", "percent", "date", "datetime")
# the parser a target column gets from its raw type unless the mapping names one
BY_TYPE = {"date": "date", "timestamp": "datetime", "integer": "integer", "text": "text"}
PLACEHOLDER = re.compile(r"\{(?P<name>[a-z_]+)(?::(?P<fmt>[^}]+))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_strftime(fmt: str) -> str:
    """A date format must round-trip a date (catches `%Y-%m-%` and friends)."""
    if fmt == "iso":
        return fmt
    sample = datetime(2026, 12, 31, 23, 59, 58)
    try:
        if datetime.strptime(sample.strftime(fmt), fmt).date() != sample.date():
            raise ValueError
    except ValueError as exc:
        raise ValueError(f"{fmt!r} is not a date format that round-trips (strftime codes)") from exc
    return fmt


class Format(_Strict):
    """The file's layout and how its cells write numbers and dates."""

    type: Literal["csv", "tsv", "xlsx", "jsonl"]
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    quote: str = Field('"', min_length=1, max_length=1)
    header: bool = True  # False: columns are named 1, 2, 3 … in the mapping
    skip_rows: int = Field(0, ge=0, description="lines or rows before the header")
    # utf-8 reads a UTF-8 byte-order mark too (what Excel writes); line ends are any
    encoding: str = "utf-8"
    sheet: str | None = None  # xlsx: the sheet's name (default: the first)
    decimal: Literal[".", ","] = "."
    thousands: Literal["", ",", ".", " ", "'"] = ""
    date_format: str = "iso"
    datetime_format: str = "iso"
    timezone: str | None = None  # of naive date-times; default: the channel's
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")  # default: the channel's

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value

    @field_validator("date_format", "datetime_format")
    @classmethod
    def _round_trips(cls, value: str) -> str:
        return _check_strftime(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Format:
        if self.thousands == self.decimal:
            raise ValueError(f"thousands and decimal separators are both {self.decimal!r}")
        if self.sheet is not None and self.type != "xlsx":
            raise ValueError("sheet applies to xlsx files only")
        return self

    @property
    def style(self) -> NumberStyle:
        return NumberStyle(decimal=self.decimal, thousands=self.thousands)

    @property
    def field_delimiter(self) -> str:
        return self.delimiter or ("\t" if self.type == "tsv" else ",")


class Condition(_Strict):
    """A test on a source column: equal to a value, or starting with a prefix."""

    source: str
    equals: str | None = None
    prefix: str | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if (self.equals is None) == (self.prefix is None):
            raise ValueError("give exactly one of equals, prefix")
        return self

    def holds(self, text: str | None) -> bool:
        text = (text or "").strip()
        return text == self.equals if self.equals is not None else text.startswith(self.prefix)


class Column(_Strict):
    """Where one target column's value comes from, and how it is parsed."""

    source: str | list[str] | None = None  # a header, or several joined by `separator`
    separator: str = " "
    constant: str | None = None
    from_name: str | None = None  # a placeholder of the file name pattern
    number_within: list[str] | None = None  # 1, 2, 3 … per group of target columns
    default: str | None = None  # when the cell is empty
    parse: Literal[PARSERS] | None = None  # type: ignore[valid-type]
    format: str | None = None  # date or date-time format of this column
    negate_when: Condition | None = None  # the sign rule: a return, a credit note
    strip_prefix: str | None = None  # `C123` → `123` (a document number naming another)

    @model_validator(mode="after")
    def _one_origin(self) -> Column:
        origins = [
            name
            for name in ("source", "constant", "from_name", "number_within")
            if getattr(self, name) is not None
        ]
        if len(origins) != 1:
            raise ValueError(
                "give exactly one of source, constant, from_name, number_within"
                + (f" (got {', '.join(origins)})" if origins else "")
            )
        if self.format is not None:
            _check_strftime(self.format)
        return self

    @property
    def sources(self) -> list[str]:
        if self.source is None:
            return []
        return [self.source] if isinstance(self.source, str) else list(self.source)


class Feed(_Strict):
    """One kind of file of the channel: where it lands, its format, its mapping."""

    stream: str
    pattern: str = Field(min_length=1)
    format: Format
    columns: dict[str, Column]
    # many_days: one file holds many days (rows split by their business date); a re-sent
    # file replaces the rows of the days it holds
    period: Literal["day", "many_days"] = "day"

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value):
        """`receipt_no: Ticket` is `receipt_no: {source: Ticket}`."""
        if isinstance(value, dict):
            return {k: {"source": v} if isinstance(v, str | list) else v for k, v in value.items()}
        return value

    @field_validator("pattern")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        for match in PLACEHOLDER.finditer(value):
            if match["name"] == "date":
                _check_strftime(match["fmt"] or "%Y%m%d")
        return value

    @property
    def placeholders(self) -> set[str]:
        return {m["name"] for m in PLACEHOLDER.finditer(self.pattern)}

    def name_pattern(self) -> re.Pattern:
        """The file name pattern as a regular expression with one group per placeholder
        (`*` matches any name part, a date its format's digits)."""
        parts, last = [], 0
        for match in PLACEHOLDER.finditer(self.pattern):
            parts.append(_glob(self.pattern[last : match.start()]))
            if match["name"] == "date":
                fmt = match["fmt"] or "%Y%m%d"
                parts.append(f"(?P<date>{_date_regex(fmt)})")
            else:
                parts.append(f"(?P<{match['name']}>[^/]+?)")
            last = match.end()
        parts.append(_glob(self.pattern[last:]))
        return re.compile("^" + "".join(parts) + "$")


def _glob(text: str) -> str:
    return "".join("[^/]*" if ch == "*" else re.escape(ch) for ch in text)


def _date_regex(fmt: str) -> str:
    # without separators (`%Y%m%d`) months and days have two digits; with them, one or two
    separated = bool(re.sub(r"%[a-zA-Z]", "", fmt))
    day = r"\d{1,2}" if separated else r"\d{2}"
    codes = {"%Y": r"\d{4}", "%m": day, "%d": day, "%y": r"\d{2}"}
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%" and fmt[i : i + 2] in codes:
            out.append(codes[fmt[i : i + 2]])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "".join(out)
