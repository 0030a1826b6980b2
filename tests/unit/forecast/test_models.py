"""Forecast models and backtest on synthetic series whose demand is known."""

import numpy as np
import pytest

from omnichannel.forecast import models
from omnichannel.forecast.backtest import Z95, forecast

WEEKDAYS = np.array([0.7, 0.8, 0.9, 1.0, 1.1, 1.4, 1.1])


def seasonal_series(n: int, days: int, level: float, seed: int = 1):
    rng = np.random.default_rng(seed)
    rate = level * np.tile(WEEKDAYS, days // 7 + 6)
    history = rng.poisson(rate[:days], (n, days)).astype(float)
    return history, rate[days : days + 28]


def test_a_weekly_seasonal_series_is_forecast_within_ten_percent_of_its_true_rate():
    """20 SKUs of one channel at 10 units a day with a strong weekday pattern: the
    forecast of the next 28 days is within 10% (WAPE) of the true expected demand, and
    beats seasonal naive by far."""
    history, truth = seasonal_series(20, 182, 10.0)
    result = forecast(history, groups=np.array(["c"] * 20))
    wape = np.abs(result.mean - truth).sum() / (truth.sum() * 20)
    naive = models.seasonal_naive(history, 28)
    naive_wape = np.abs(naive - truth).sum() / (truth.sum() * 20)
    assert wape < 0.10
    assert wape < 0.6 * naive_wape
    assert set(result.demand_class) == {"smooth"}
    # the weekday pattern is in the forecast: Saturdays (profile 1.4) above Mondays (0.7)
    saturday, monday = (182 + 5) % 7, 182 % 7  # index 0 of the history is a "Monday"
    assert result.mean[:, saturday].mean() > 1.6 * result.mean[:, monday].mean()


def test_an_intermittent_series_gets_an_intermittent_model():
    rng = np.random.default_rng(3)
    history = rng.poisson(0.15, (10, 200)) * rng.integers(1, 6, (10, 200)).astype(float)
    result = forecast(history)
    assert set(result.demand_class) == {"intermittent"}
    assert set(result.model) <= set(models.INTERMITTENT)
    expected = 0.15 * 3  # probability × mean size
    assert result.mean.mean() == pytest.approx(expected, rel=0.35)


def test_stock_out_days_do_not_pull_the_forecast_down():
    """The last 10 days sold nothing because the SKU was out of stock. Marked unknown,
    they leave the forecast at the demand before; read as zeros they would drag it down."""
    history, _ = seasonal_series(5, 140, 6.0, seed=7)
    censored = history.copy()
    censored[:, -10:] = np.nan
    zeros = history.copy()
    zeros[:, -10:] = 0.0
    groups = np.array(["c"] * 5)
    kept = forecast(censored, groups=groups).mean.mean()
    dragged = forecast(zeros, groups=groups).mean.mean()
    assert kept == pytest.approx(6.0, rel=0.12)
    assert dragged < 0.8 * kept


def test_a_new_sku_is_forecast_from_its_own_days_not_from_before_its_launch():
    history = np.zeros((1, 120))
    history[0, -12:] = [4, 5, 3, 4, 6, 5, 4, 3, 5, 4, 6, 5]
    result = forecast(history)
    assert result.short_history[0] and result.model[0] == "window_average"
    # its 12 days average 4.5 a day (their weekday mix adjusted for: within 5%)
    assert result.mean[0].mean() == pytest.approx(54 / 12, rel=0.05)
    assert result.sigma[0] > 0


def test_the_baseline_is_always_scored_and_intervals_widen_with_error():
    history, _ = seasonal_series(8, 150, 3.0, seed=11)
    result = forecast(history)
    base = list(models.MODELS).index(models.BASELINE)
    assert (result.origins == 4).all()
    assert (result.scores.wape()[:, base] > 0).all()
    lower, upper = result.interval(Z95)
    assert (lower >= 0).all() and (upper > result.mean).all()
    chosen = [list(models.MODELS).index(m) for m in result.model]
    assert (result.scores.wape()[np.arange(8), chosen] <= result.scores.wape()[:, base]).all()
