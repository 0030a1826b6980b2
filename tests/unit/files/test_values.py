"""Cells as exports write them, parsed to numbers, money, rates, dates and times."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from omnichannel.files.values import (
    BadValue,
    NumberStyle,
    parse_date,
    parse_datetime,
    parse_integer,
    parse_money,
    parse_percent,
)

US = NumberStyle(decimal=".", thousands=",")
EU = NumberStyle(decimal=",", thousands=".")
FR = NumberStyle(decimal=",", thousands=" ")
PLAIN = NumberStyle()


@pytest.mark.parametrize(
    ("text", "style", "currency", "want"),
    [
        ("-$383", US, "USD", "-383"),
        ("$1,706", US, "USD", "1706"),
        ("$1,706.25", US, None, "1706.25"),
        ("(12.50)", US, "USD", "-12.50"),
        ("($12.50)", US, "USD", "-12.50"),
        ("1.234,56 €", EU, "EUR", "1234.56"),
        ("-1.234,56 €", EU, "EUR", "-1234.56"),
        ("€ 12,5", EU, "EUR", "12.5"),
        ("1 234,56 EUR", FR, "EUR", "1234.56"),
        ("1\u202f234,56", FR, "EUR", "1234.56"),  # narrow no-break space, as locales write
        ("383-", PLAIN, None, "-383"),
        ("12.5", PLAIN, "GBP", "12.5"),
        ("GBP 7.99", PLAIN, "GBP", "7.99"),
        ("0", PLAIN, None, "0"),
    ],
)
def test_money_in_every_style(text, style, currency, want):
    assert parse_money(text, style, currency) == Decimal(want)


@pytest.mark.parametrize(
    ("text", "style", "currency", "says"),
    [
        ("12,50", PLAIN, None, "a ',' in a number"),
        ("1,2345.00", US, None, "groups of three"),
        ("12.50", EU, None, "thousands separators not in groups of three"),
        ("12.50", NumberStyle(decimal=","), None, "a '.' in a number whose decimal separator"),
        ("€12.50", US, "USD", "an amount in EUR, the file's currency is USD"),
        ("twelve", PLAIN, None, "not a number"),
        ("$", US, "USD", "no amount"),
        ("1 234", PLAIN, None, "not a number"),
    ],
)
def test_bad_money_says_why(text, style, currency, says):
    with pytest.raises(BadValue, match=says):
        parse_money(text, style, currency)


def test_integers_percentages():
    assert parse_integer("1,200", US) == 1200
    assert parse_integer("-3", PLAIN) == -3
    with pytest.raises(BadValue, match="not a whole number"):
        parse_integer("2.5", PLAIN)
    assert parse_percent("20%", PLAIN) == Decimal("0.2")
    assert parse_percent("5,5 %", EU) == Decimal("0.055")
    assert parse_percent("0.07", PLAIN) == Decimal("0.07")


def test_dates_in_declared_formats():
    assert parse_date("3/7/2026", "%m/%d/%Y") == date(2026, 3, 7)
    assert parse_date("03/07/2026", "%d/%m/%Y") == date(2026, 7, 3)
    assert parse_date("2026-10-01", "iso") == date(2026, 10, 1)
    with pytest.raises(BadValue, match="not a date in the format '%m/%d/%Y'"):
        parse_date("31/12/2026", "%m/%d/%Y")


def test_datetimes_in_their_zone():
    paris = ZoneInfo("Europe/Paris")
    got = parse_datetime("25/10/2026 14:05", "%d/%m/%Y %H:%M", "Europe/Paris")
    assert got == datetime(2026, 10, 25, 14, 5, tzinfo=paris)
    # an offset in the text wins over the declared zone
    got = parse_datetime("2026-10-25T14:05:00+00:00", "iso", "Europe/Paris")
    assert got.utcoffset().total_seconds() == 0
    with pytest.raises(BadValue, match="does not exist in Europe/Paris"):
        parse_datetime("29/03/2026 02:30", "%d/%m/%Y %H:%M", "Europe/Paris")
