"""Forecasts at benchmark size: 500 SKUs × 5 channels = 2,500 series, a year of daily history.

The simulator's world knows the true demand of every SKU, channel and day (sold units
plus the demand that stock turned away). The forecast step sees what a warehouse sees:
units sold, with the days a channel was out of stock of a SKU marked unknown. In one run:

1. fit + forecast + backtest (4 weekly origins × 28 days) of every series, timed;
2. accuracy against the true demand of the backtest windows: WAPE pooled over all
   SKU × channel series of the chosen models versus the seasonal-naive baseline.

    .venv/bin/python bench/bench_forecast.py [--days 365] [--skus 500]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from bench_world import bench_spec

from omnichannel.forecast import models
from omnichannel.forecast.backtest import forecast
from omnisim.world import World

HORIZON, ORIGINS, STEP = 28, 4, 7


def channel_series(world: World) -> tuple[np.ndarray, np.ndarray, list]:
    """Units sold with stock-out days unknown, and the true demand (channel × SKU, days)."""
    channels = [c.channel_id for c in world.channel_list]
    n_days, n_skus = world.spec.days, len(world.catalogue)
    sold = np.zeros((len(channels), n_days, n_skus))
    true = np.zeros_like(sold)
    out = np.zeros((len(channels), n_days, n_skus), dtype=bool)
    for p in world.points:
        c = channels.index(p.channel.channel_id)
        sold[c] += world.sold_units[p.index]
        true[c] += world.demand_units[p.index]
        out[c] |= world.on_hand[p.location] == 0
    keys = [(ch, s) for ch in channels for s in range(n_skus)]
    flat = lambda a: a.transpose(0, 2, 1).reshape(-1, n_days)  # noqa: E731
    history = np.where(flat(out), np.nan, flat(sold))
    return history, flat(true), keys


def pooled_wape(history: np.ndarray, true: np.ndarray, model_of) -> float:
    """WAPE over all series and backtest windows against the true demand."""
    abs_error = actual = 0.0
    t = history.shape[1]
    for i in range(ORIGINS):
        origin = t - HORIZON - i * STEP
        train = history[:, :origin]
        result = model_of(train)
        truth = true[:, origin : origin + HORIZON]
        abs_error += np.abs(result - truth).sum()
        actual += truth.sum()
    return abs_error / actual


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--skus", type=int, default=500)
    args = p.parse_args()
    started = time.monotonic()
    world = World(bench_spec(args.days + HORIZON, args.skus, 1.0))
    history, true, keys = channel_series(world)
    history, true = history[:, : args.days], true[:, : args.days]
    print(f"{os.cpu_count()} cores; world in {time.monotonic() - started:.1f}s; "
          f"{len(keys):,} series × {args.days} days, "
          f"{np.isnan(history).mean():.1%} of the days censored by stock-outs")  # fmt: skip

    started = time.monotonic()
    groups = np.array([channel for channel, _ in keys])
    result = forecast(history, HORIZON, ORIGINS, STEP, groups)
    seconds = time.monotonic() - started
    chosen, counts = np.unique(result.model, return_counts=True)
    print(f"fit + forecast + backtest: {seconds:.2f}s, {len(keys) / seconds:,.0f} series/s")
    print("models chosen: " + ", ".join(f"{m} {c}" for m, c in zip(chosen, counts, strict=True)))

    def chosen_models(train):
        return forecast(train, HORIZON, ORIGINS, STEP, groups).mean

    naive = pooled_wape(history, true, lambda train: models.seasonal_naive(train, HORIZON))
    ours = pooled_wape(history, true, chosen_models)
    print("\n| forecast (28 days, 4 weekly origins, vs true demand) | WAPE |")
    print("| --- | ---: |")
    print(f"| seasonal naive (baseline) | {naive:.3f} |")
    print(f"| chosen model per series (backtest inside each origin) | {ours:.3f} |")
    gain = 1 - ours / naive
    print(f"\nWAPE {gain:.1%} lower than seasonal naive; target ≥ 20%: "
          f"{'met' if gain >= 0.2 else 'NOT met'}; speed target ≤ 120 s: "
          f"{'met' if seconds <= 120 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
