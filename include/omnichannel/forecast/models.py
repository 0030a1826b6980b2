"""Demand models, vectorised over many series at once.

Every model takes `history`, an array of daily units (series × days) in which NaN marks a
day whose demand is unknown (a stock-out day: sales were censored by stock, so the units
sold say nothing about demand), and returns the mean forecast of the next `horizon` days
(series × horizon). Censored days are skipped, never read as zero demand.

Why our own models rather than statsforecast: statsforecast 2.1 pins pandas below 3 for
the whole environment that Airflow, GX and cosmos share, and its numba kernels compile on
first use of every fresh worker. These models are the classic ones (seasonal naive,
simple exponential smoothing with a weekday profile, Croston-SBA, TSB, ADIDA), written as
array operations over all series, which fits thousands of series in well under a second.
Except seasonal naive, each runs on the series divided by its channel's weekday profile.
"""

from __future__ import annotations

import numpy as np

SEASON = 7
ALPHAS = (0.05, 0.1, 0.2, 0.35)


def seasonal_naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """The same weekday of the latest observed week (a censored day: the week before)."""
    n, t = history.shape
    last = np.full((n, SEASON), np.nan)
    for weeks_back in range(1, 9):
        first = t - weeks_back * SEASON
        if first < 0:
            break
        block = history[:, first : first + SEASON]
        last = np.where(np.isnan(last), block, last)
    last = np.where(np.isnan(last), _observed_mean(history)[:, None], last)
    reps = -(-horizon // SEASON)
    return np.tile(np.nan_to_num(last), reps)[:, :horizon]


def window_average(history: np.ndarray, horizon: int, window: int = 28) -> np.ndarray:
    """Mean of the observed days of the last `window` days (new SKUs, short histories)."""
    mean = _observed_mean(history[:, -window:])
    return np.repeat(np.nan_to_num(mean)[:, None], horizon, axis=1)


def weekday_profile(history: np.ndarray, weeks: int = 8) -> np.ndarray:
    """Multiplicative weekday factors (series × 7, mean 1) over the last `weeks` weeks,
    shrunk towards flat where the series is thin (under about 100 units). Column j is the
    factor of the weekday of day index ≡ j (mod 7), counted back from the history's end."""
    n, t = history.shape
    span = min(t, weeks * SEASON)
    recent = history[:, t - span :]
    phase = (np.arange(t - span, t) - t) % SEASON
    sums = np.zeros((n, SEASON))
    counts = np.zeros((n, SEASON))
    for j in range(SEASON):
        cols = recent[:, phase == j]
        sums[:, j] = np.nansum(cols, axis=1)
        counts[:, j] = np.sum(~np.isnan(cols), axis=1)
    per_day = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    overall = per_day.mean(axis=1, keepdims=True)
    raw = np.divide(per_day, overall, out=np.ones_like(per_day), where=overall > 0)
    weight = np.clip(sums.sum(axis=1, keepdims=True) / 100.0, 0.0, 1.0)  # ~100 units: trust it
    profile = weight * raw + (1 - weight) * 1.0
    return profile / profile.mean(axis=1, keepdims=True)


def ses(history: np.ndarray, horizon: int) -> np.ndarray:
    """Simple exponential smoothing of the level, the smoothing constant chosen per series
    by its in-sample one-step error."""
    n, t = history.shape
    start = np.nan_to_num(_observed_mean(history[:, : min(t, 4 * SEASON)]))
    best_level, best_error = np.zeros(n), np.full(n, np.inf)
    for alpha in ALPHAS:
        level, error = start.copy(), np.zeros(n)
        for k in range(t):
            y = history[:, k]
            residual = np.where(np.isnan(y), 0.0, y - level)
            error += residual**2 * (k >= SEASON)
            level = level + alpha * residual
        better = error < best_error
        best_level = np.where(better, level, best_level)
        best_error = np.where(better, error, best_error)
    return np.repeat(np.maximum(best_level, 0.0)[:, None], horizon, axis=1)


def group_profile(history: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The weekday profile of each series' group (its channel), from the group's pooled
    units: one SKU sells too little to show its weekdays, a channel does."""
    profile = np.ones((len(history), SEASON))
    for group in np.unique(groups):
        rows = groups == group
        pooled = np.nansum(history[rows], axis=0, keepdims=True)
        profile[rows] = weekday_profile(pooled)[0]
    return profile


def predict(
    name: str, history: np.ndarray, horizon: int, profile: np.ndarray | None = None
) -> np.ndarray:
    """Forecast with model `name`. The level models run on the series divided by its
    weekday profile, and their forecast is multiplied back; seasonal naive needs none."""
    if name == BASELINE:
        return seasonal_naive(history, horizon)
    if profile is None:
        return MODELS[name](history, horizon)
    t = history.shape[1]
    past = profile[:, (np.arange(t) - t) % SEASON]
    flat = MODELS[name](history / past, horizon)
    return flat * profile[:, np.arange(horizon) % SEASON]


def croston_sba(history: np.ndarray, horizon: int, alpha: float = 0.1) -> np.ndarray:
    """Croston's method with the Syntetos-Boylan bias correction: smoothed demand size over
    smoothed interval between demands, both updated only on days with a demand."""
    n, t = history.shape
    size, interval = np.full(n, np.nan), np.full(n, np.nan)
    since = np.ones(n)
    for k in range(t):
        y = history[:, k]
        demand = np.nan_to_num(y) > 0
        first = demand & np.isnan(size)
        size = np.where(first, y, np.where(demand, size + alpha * (y - size), size))
        interval = np.where(
            first, since, np.where(demand, interval + alpha * (since - interval), interval)
        )
        since = np.where(demand, 1.0, since + (~np.isnan(y)))  # a censored day is no gap
    rate = (1 - alpha / 2) * np.nan_to_num(size) / np.where(np.isnan(interval), 1.0, interval)
    return np.repeat(rate[:, None], horizon, axis=1)


def tsb(history: np.ndarray, horizon: int, alpha: float = 0.1, beta: float = 0.1) -> np.ndarray:
    """Teunter-Syntetos-Babai: the probability of a demand is updated every observed day
    (so it decays after a product stops selling), the size on days with a demand."""
    n, t = history.shape
    probability, size = np.zeros(n), np.full(n, np.nan)
    for k in range(t):
        y = history[:, k]
        seen = ~np.isnan(y)
        demand = seen & (np.nan_to_num(y) > 0)
        probability = np.where(seen, probability + beta * (demand - probability), probability)
        first = demand & np.isnan(size)
        size = np.where(first, y, np.where(demand, size + alpha * (y - size), size))
    rate = probability * np.nan_to_num(size)
    return np.repeat(rate[:, None], horizon, axis=1)


def adida(history: np.ndarray, horizon: int, alpha: float = 0.2) -> np.ndarray:
    """Aggregate-disaggregate: weekly totals (censored days filled with the week's observed
    mean) smoothed exponentially, then spread evenly over the days."""
    n, t = history.shape
    weeks = t // SEASON
    if weeks == 0:
        return window_average(history, horizon)
    days = history[:, t - weeks * SEASON :].reshape(n, weeks, SEASON)
    observed = np.sum(~np.isnan(days), axis=2)
    mean = np.divide(
        np.nansum(days, axis=2), observed, out=np.full((n, weeks), np.nan), where=observed > 0
    )
    level = np.nan_to_num(_observed_mean(mean[:, : min(weeks, 4)]))
    for w in range(weeks):
        m = mean[:, w]
        level = np.where(np.isnan(m), level, level + alpha * (np.nan_to_num(m) - level))
    return np.repeat(level[:, None], horizon, axis=1)


MODELS = {
    "seasonal_naive": seasonal_naive,
    "ses": ses,
    "window_average": window_average,
    "croston_sba": croston_sba,
    "tsb": tsb,
    "adida": adida,
}
BASELINE = "seasonal_naive"
SMOOTH = ("ses", "window_average", "seasonal_naive")
INTERMITTENT = ("croston_sba", "tsb", "adida")
# Syntetos-Boylan: an average inter-demand interval above 1.32 days is intermittent
INTERMITTENT_ADI = 1.32


def demand_class(history: np.ndarray) -> np.ndarray:
    """'intermittent' or 'smooth' per series, by the average interval between demands over
    the observed days."""
    observed = np.sum(~np.isnan(history), axis=1)
    demands = np.sum(np.nan_to_num(history) > 0, axis=1)
    adi = np.divide(observed, demands, out=np.full(len(history), np.inf), where=demands > 0)
    return np.where(adi > INTERMITTENT_ADI, "intermittent", "smooth")


def _observed_mean(values: np.ndarray) -> np.ndarray:
    observed = np.sum(~np.isnan(values), axis=1)
    total = np.nansum(values, axis=1)
    return np.divide(total, observed, out=np.full(len(values), np.nan), where=observed > 0)
