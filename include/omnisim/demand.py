"""Demand drivers: trend, weekly and yearly seasonality, peak days and promotions.

Expected purchase events per SKU × sales point × local day are

    base × popularity share × trend × weekday × season × peak day × promotion uplift

where a promotion's uplift is (1 - discount) ** -elasticity (price elasticity of the SKU).
Counts are Poisson around that, so long-tail SKUs sell intermittently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

TREND_PER_YEAR = 0.15
WEEKDAY = {  # Monday .. Sunday
    "shopify": (1.0, 0.95, 0.95, 0.97, 1.02, 1.05, 1.1),
    "woocommerce": (1.0, 0.95, 0.95, 0.97, 1.02, 1.05, 1.1),
    "amazon_sp": (1.02, 1.0, 0.98, 0.98, 1.0, 1.0, 1.05),
    "files": (0.75, 0.8, 0.85, 0.9, 1.1, 1.55, 0.6),
}
PROMO_RATES = (0.10, 0.15, 0.20, 0.25, 0.30)
PROMO_WEEK_SHARE = 0.04  # share of SKU-weeks on promotion per sales point


@dataclass(frozen=True)
class PeakDay:
    name: str
    traffic: float  # demand multiplier beyond the price effect
    discount: float  # sitewide discount rate on that day (0: none)
    kinds: tuple[str, ...]


def black_friday(year: int) -> date:
    november = date(year, 11, 1)
    first_friday = november + timedelta(days=(4 - november.weekday()) % 7)
    return first_friday + timedelta(weeks=3)


def prime_day(year: int) -> date:
    july = date(year, 7, 1)
    first_tuesday = july + timedelta(days=(1 - july.weekday()) % 7)
    return first_tuesday + timedelta(weeks=1)


WEB = ("shopify", "woocommerce")
ONLINE = ("shopify", "woocommerce", "amazon_sp")
ALL = ("shopify", "woocommerce", "amazon_sp", "files")


def peak_day(day: date, kind: str) -> PeakDay | None:
    bf = black_friday(day.year)
    pd = prime_day(day.year)
    table = {
        bf: PeakDay("Black Friday", 2.6, 0.20, ALL),
        bf + timedelta(days=1): PeakDay("Black Friday weekend", 1.6, 0.15, ALL),
        bf + timedelta(days=3): PeakDay("Cyber Monday", 2.2, 0.20, ONLINE),
        date(day.year, 11, 11): PeakDay("Singles' Day 11.11", 1.7, 0.11, ONLINE),
        date(day.year, 6, 18): PeakDay("618", 1.5, 0.10, ONLINE),
        pd: PeakDay("Prime Day", 2.8, 0.20, ("amazon_sp",)),
        pd + timedelta(days=1): PeakDay("Prime Day", 2.3, 0.20, ("amazon_sp",)),
    }
    peak = table.get(day)
    if peak and kind in peak.kinds:
        return peak
    if kind == "files" and (day.month, day.day) >= (1, 2) and (day.month, day.day) <= (1, 14):
        return PeakDay("January sale", 1.2, 0.15, ("files",))
    return None


def season(day: date) -> float:
    """Yearly seasonality: a December high, a February low, a small summer bump."""
    doy = day.timetuple().tm_yday
    winter = 0.22 * math.cos(2 * math.pi * (doy - 355) / 365.25)
    summer = 0.06 * math.cos(2 * math.pi * (doy - 200) / 365.25)
    christmas = 0.35 if day.month == 12 and 1 <= day.day <= 20 else 0.0
    after = -0.25 if day.month == 12 and day.day >= 26 else 0.0
    return max(0.3, 1.0 + winter + summer + christmas + after)


def trend(day: date, origin: date) -> float:
    return (1 + TREND_PER_YEAR) ** ((day - origin).days / 365.25)


def weekly_promotions(seed: int, point_no: int, day: date, skus: int) -> np.ndarray:
    """Discount rate per SKU for this sales point's promotions in the ISO week of `day`."""
    year, week, _ = day.isocalendar()
    rng = np.random.default_rng([seed, 3, point_no, year, week])
    on = rng.random(skus) < PROMO_WEEK_SHARE
    rates = rng.choice(PROMO_RATES, skus)
    return np.where(on, rates, 0.0)
