"""Values as exports write them: numbers with a decimal comma or thousands separators,
money with a currency symbol or code and a negative style (`-$383`, `(12.50)`, `1.234,56 €`,
`383-`), percentages, dates and date-times in a declared format and zone.

Every parser takes the text of one cell and returns a typed value, or raises `BadValue`
whose message says what was expected; the reader adds file, line and column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

# symbols and codes a money cell may carry; the code is checked against the currency the
# mapping declares (a `€` in a USD file is a bad value, not a silent conversion)
SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "CHF": "CHF"}
_CODE = re.compile(r"\b([A-Z]{3})\b")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")  # also no-break and narrow no-break spaces


class BadValue(ValueError):
    """A cell that does not parse as its column's type; the message says what was expected."""


@dataclass(frozen=True)
class NumberStyle:
    """How numbers are written: `decimal` is "." or ","; `thousands` is "", ",", ".", " " or
    "'" (Swiss). A thousands separator equal to the decimal one is refused by the config."""

    decimal: str = "."
    thousands: str = ""

    def parse(self, text: str) -> Decimal:
        """A plain or grouped number with a leading or trailing sign."""
        raw = _SPACES.sub("", text) if self.thousands == " " else text.strip()
        negative = False
        if raw.startswith(("-", "+")):
            negative, raw = raw[0] == "-", raw[1:]
        elif raw.endswith(("-", "+")):  # `383-`: some ERPs put the sign last
            negative, raw = raw[-1] == "-", raw[:-1]
        if self.thousands and self.thousands != " ":
            raw = self._ungroup(raw, text)
        if self.decimal == ",":
            if "." in raw:
                raise BadValue(f"{text!r}: a '.' in a number whose decimal separator is ','")
            raw = raw.replace(",", ".")
        elif "," in raw:
            raise BadValue(f"{text!r}: a ',' in a number (decimal '.', no thousands separator)")
        if not re.fullmatch(r"\d+(\.\d+)?|\.\d+", raw):
            raise BadValue(f"{text!r}: not a number")
        try:
            value = Decimal(raw)
        except InvalidOperation as exc:  # pragma: no cover - the pattern guards it
            raise BadValue(f"{text!r}: not a number") from exc
        return -value if negative else value

    def _ungroup(self, raw: str, text: str) -> str:
        """Drop thousands separators, checking they group by three."""
        whole, _, fraction = raw.partition(self.decimal)
        if self.thousands in whole:
            groups = whole.split(self.thousands)
            if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
                raise BadValue(f"{text!r}: thousands separators not in groups of three")
            whole = "".join(groups)
        return whole + (self.decimal + fraction if fraction or raw.endswith(self.decimal) else "")


def parse_integer(text: str, style: NumberStyle) -> int:
    value = style.parse(text)
    if value != value.to_integral_value():
        raise BadValue(f"{text!r}: not a whole number")
    return int(value)


def parse_money(text: str, style: NumberStyle, currency: str | None = None) -> Decimal:
    """An amount with an optional currency symbol or ISO code before or after it, and a
    negative style: `-`, a trailing `-`, or parentheses `(12.50)`. A symbol or code that
    names another currency than `currency` is a bad value."""
    raw = text.strip()
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1].strip()
    if raw.startswith("-") and not raw[1:2].isdigit():  # `-$383`: the sign before the symbol
        negative, raw = True, raw[1:].strip()
    found = None
    for symbol, code in SYMBOLS.items():
        if raw.startswith(symbol) or raw.endswith(symbol):
            found, raw = code, raw.removeprefix(symbol).removesuffix(symbol).strip()
            break
    else:
        match = _CODE.search(raw)
        if match and (raw.startswith(match[1]) or raw.endswith(match[1])):
            found = match[1]
            raw = raw.removeprefix(match[1]).removesuffix(match[1]).strip()
    if found and currency and found != currency:
        raise BadValue(f"{text!r}: an amount in {found}, the file's currency is {currency}")
    value = style.parse(raw) if raw else _empty(text)
    return -value if negative else value


def _empty(text: str) -> Decimal:
    raise BadValue(f"{text!r}: no amount")


def parse_percent(text: str, style: NumberStyle) -> Decimal:
    """`20%`, `20 %` or `0.2` → 0.2 (a share, as the streams store rates)."""
    raw = text.strip()
    if raw.endswith("%"):
        return style.parse(raw[:-1]) / 100
    return style.parse(raw)


def parse_date(text: str, fmt: str) -> date:
    """A date in a strftime format (`%d/%m/%Y`, `%m/%d/%Y`; `iso` for YYYY-MM-DD). Single-
    digit days and months (`3/7/2026`) parse with `%d`/`%m`, as strptime allows."""
    raw = text.strip()
    try:
        if fmt == "iso":
            return date.fromisoformat(raw)
        return datetime.strptime(raw, fmt).date()
    except ValueError as exc:
        raise BadValue(f"{text!r}: not a date in the format {fmt!r}") from exc


def parse_datetime(text: str, fmt: str, zone: str) -> datetime:
    """A date-time in a strftime format (`iso` for ISO 8601), in `zone` unless the text
    carries its own offset; returned aware. A wall time that does not exist in `zone` (the
    hour clocks skip) is a bad value; one that occurs twice is taken as its first time."""
    raw = text.strip()
    try:
        value = datetime.fromisoformat(raw) if fmt == "iso" else datetime.strptime(raw, fmt)
    except ValueError as exc:
        raise BadValue(f"{text!r}: not a date-time in the format {fmt!r}") from exc
    if value.tzinfo is not None:
        return value
    tz = ZoneInfo(zone)
    local = value.replace(tzinfo=tz)
    # a skipped wall time does not survive the round trip through UTC
    if local.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != value:
        raise BadValue(f"{text!r}: does not exist in {zone} (clocks went forward)")
    return local
