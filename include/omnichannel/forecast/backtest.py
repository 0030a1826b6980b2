"""Rolling-origin backtest, model choice per series and forecast intervals.

The last `origins` forecast origins, `step` days apart, each forecast `horizon` days from
the history before it; errors are measured on the days whose demand is known (stock-out
days are left out). Per series and model: WAPE (sum of absolute errors over units sold),
MASE (mean absolute error over the in-sample mean absolute weekly difference) and bias
(sum of errors over units sold). Each series gets the candidate of its demand class with
the lowest absolute error (the same ranking as WAPE); the seasonal-naive baseline is
always scored beside it. Intervals come from the chosen model's backtest errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnichannel.forecast import models

Z80, Z95 = 1.2816, 1.9600
MIN_TRAINING_DAYS = 14


@dataclass
class Scores:
    """Backtest figures per series (rows) and model (columns, in `models.MODELS` order)."""

    abs_error: np.ndarray
    error: np.ndarray
    squared_error: np.ndarray
    actual: np.ndarray
    points: np.ndarray
    scale: np.ndarray  # in-sample mean absolute weekly difference, per series

    def wape(self) -> np.ndarray:
        return _ratio(self.abs_error, self.actual)

    def bias(self) -> np.ndarray:
        return _ratio(self.error, self.actual)

    def mase(self) -> np.ndarray:
        mae = _ratio(self.abs_error, self.points)
        return _ratio(mae, self.scale[:, None] * np.ones_like(mae))

    def rmse(self) -> np.ndarray:
        return np.sqrt(_ratio(self.squared_error, self.points))


@dataclass
class Forecast:
    """The outcome for every series: the chosen model's forecast with its intervals."""

    demand_class: np.ndarray
    model: np.ndarray
    short_history: np.ndarray
    mean: np.ndarray  # series × horizon
    sigma: np.ndarray  # daily forecast error (standard deviation) per series
    scores: Scores
    origins: np.ndarray  # backtest origins each series was scored on

    def interval(self, z: float) -> tuple[np.ndarray, np.ndarray]:
        half = z * self.sigma[:, None]
        return np.maximum(self.mean - half, 0.0), self.mean + half


def unlaunched_as_unknown(history: np.ndarray) -> np.ndarray:
    """Days before a series' first sale are unknown, not zero demand (new SKUs)."""
    sold = np.nan_to_num(history) > 0
    started = np.cumsum(sold, axis=1) > 0
    return np.where(started, history, np.nan)


def backtest(
    history: np.ndarray, horizon: int, origins: int, step: int, groups: np.ndarray
) -> tuple:
    """Scores of every model over the rolling origins, and per series how many origins
    had enough history to be scored."""
    n, t = history.shape
    names = list(models.MODELS)
    shape = (n, len(names))
    abs_error, error, squared, actual, points = (np.zeros(shape) for _ in range(5))
    scored = np.zeros(n, dtype=int)
    for i in range(origins):
        origin = t - horizon - i * step
        if origin < MIN_TRAINING_DAYS:
            break
        train, test = history[:, :origin], history[:, origin : origin + horizon]
        usable = np.sum(~np.isnan(train), axis=1) >= MIN_TRAINING_DAYS
        known = ~np.isnan(test) & usable[:, None]
        scored += usable
        truth = np.nan_to_num(test)
        profile = models.group_profile(train, groups)
        for j, name in enumerate(names):
            predicted = models.predict(name, train, horizon, profile)
            diff = np.where(known, predicted - truth, 0.0)
            abs_error[:, j] += np.abs(diff).sum(axis=1)
            error[:, j] += diff.sum(axis=1)
            squared[:, j] += (diff**2).sum(axis=1)
            actual[:, j] += np.where(known, truth, 0.0).sum(axis=1)
            points[:, j] += known.sum(axis=1)
    weekly = np.abs(history[:, models.SEASON :] - history[:, : -models.SEASON])
    known = ~np.isnan(weekly)
    scale = _ratio(np.nansum(weekly, axis=1), known.sum(axis=1))
    return Scores(abs_error, error, squared, actual, points, scale), scored


def forecast(
    history: np.ndarray,
    horizon: int = 28,
    origins: int = 4,
    step: int = 7,
    groups: np.ndarray | None = None,
) -> Forecast:
    """Backtest, choose a model per series, and forecast the next `horizon` days.
    `groups` (one label per series, its channel) share a weekday profile."""
    history = unlaunched_as_unknown(np.asarray(history, dtype=float))
    n = len(history)
    groups = np.zeros(n, dtype=int) if groups is None else np.asarray(groups)
    names = list(models.MODELS)
    with np.errstate(all="ignore"):
        scores, scored = backtest(history, horizon, origins, step, groups)
    classes = models.demand_class(history)
    short = scored == 0
    choice = np.empty(n, dtype=object)
    for kind, candidates in (("smooth", models.SMOOTH), ("intermittent", models.INTERMITTENT)):
        columns = [names.index(c) for c in candidates]
        best = np.argmin(scores.abs_error[:, columns], axis=1)
        members = classes == kind
        choice[members] = np.array(candidates, dtype=object)[best[members]]
    choice[short] = "window_average"
    mean = np.zeros((n, horizon))
    profile = models.group_profile(history, groups)
    for name in set(choice):
        rows = choice == name
        mean[rows] = models.predict(name, history[rows], horizon, profile[rows])
    with np.errstate(all="ignore"):
        rmse = scores.rmse()
    chosen_rmse = rmse[np.arange(n), [names.index(c) for c in choice]]
    poisson = np.sqrt(mean.mean(axis=1))  # no backtest yet: Poisson spread around the mean
    sigma = np.where(short | np.isnan(chosen_rmse), poisson, chosen_rmse)
    return Forecast(classes, choice, short, mean, sigma, scores, scored)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
