"""The forecast step: daily units per SKU × channel from the marts, backtest and model
choice, forecasts with intervals, all written under one run id to schema `forecast`
(read by the dbt marts mart_demand_forecast, mart_forecast_accuracy and
mart_replenishment_plan)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from omnichannel import warehouse
from omnichannel.forecast import models
from omnichannel.forecast.backtest import Z80, Z95, Forecast, forecast

HISTORY_DAYS = 365
TOTAL = "all"  # channel_id of the per-SKU totals over every channel

DDL = """
create schema if not exists forecast;
create table if not exists forecast.runs (
    run_id text primary key,
    started_at timestamptz not null,
    finished_at timestamptz,
    as_of_date date,
    horizon_days integer not null,
    backtest_origins integer not null,
    series integer,
    seconds numeric(10, 2),
    status text not null
);
create table if not exists forecast.demand_forecasts (
    run_id text not null references forecast.runs,
    channel_id text not null,
    sku text not null,
    forecast_date date not null,
    horizon_day integer not null,
    model text not null,
    demand_class text not null,
    is_short_history boolean not null,
    units numeric(12, 3) not null,
    lower_80 numeric(12, 3) not null,
    upper_80 numeric(12, 3) not null,
    lower_95 numeric(12, 3) not null,
    upper_95 numeric(12, 3) not null,
    error_sigma numeric(12, 3) not null,
    primary key (run_id, channel_id, sku, forecast_date)
);
create table if not exists forecast.backtest_scores (
    run_id text not null references forecast.runs,
    channel_id text not null,
    sku text not null,
    model text not null,
    is_chosen boolean not null,
    is_baseline boolean not null,
    demand_class text not null,
    origins integer not null,
    actual_units numeric(14, 3),
    wape numeric(12, 4),
    mase numeric(12, 4),
    bias numeric(12, 4),
    primary key (run_id, channel_id, sku, model)
);
-- the backtest's summed absolute error: WAPE pooled over any set of series is
-- sum(abs_error_units) / sum(actual_units) (the forecast_wape metric)
alter table forecast.backtest_scores add column if not exists abs_error_units numeric(14, 3);
"""

HISTORY_SQL = """
with sales as (
    select channel_id, sku, order_date as day, sum(units) as units
    from marts.fct_sales_daily
    where sku is not null and order_date > %(since)s
    group by channel_id, sku, order_date
),
stocked_out as (
    select channel_id, sku, inventory_date as day
    from marts.fct_inventory_daily
    where inventory_date > %(since)s
    group by channel_id, sku, inventory_date
    having bool_and(is_stocked_out)
)
select 'sales', channel_id, sku, day, units from sales
union all
select 'out', channel_id, sku, day, 0 from stocked_out
"""


@dataclass
class History:
    """Daily units per series (SKU × channel); NaN on stock-out days."""

    keys: list[tuple[str, str]]  # (channel_id, sku)
    first_day: date
    units: np.ndarray

    @property
    def as_of(self) -> date:
        return self.first_day + timedelta(days=self.units.shape[1] - 1)

    @property
    def groups(self) -> np.ndarray:
        return np.array([channel for channel, _ in self.keys])


@dataclass
class Summary:
    run_id: str | None
    as_of: date | None
    series: int
    seconds: float
    models: dict[str, int]
    wape: float | None  # pooled over series, chosen models
    baseline_wape: float | None  # pooled, seasonal naive

    def text(self) -> str:
        if not self.series:
            return "no sales in the marts yet: nothing to forecast"
        chosen = ", ".join(f"{m} {n}" for m, n in sorted(self.models.items()))
        lines = [
            f"{self.series} series (SKU × channel) up to {self.as_of}, {self.seconds:.1f}s",
            f"models chosen: {chosen}",
        ]
        if self.wape is None:
            lines.append("backtest: too little history for any origin (window averages)")
        else:
            gain = 1 - self.wape / self.baseline_wape if self.baseline_wape else float("nan")
            lines.append(
                f"backtest WAPE {self.wape:.3f} vs seasonal naive {self.baseline_wape:.3f} "
                f"({gain:.1%} lower)"
            )
        if self.run_id:
            lines.append(f"run {self.run_id} written to forecast.demand_forecasts")
        return "\n".join(lines)


def ensure_tables(conn) -> None:
    conn.execute(DDL)


def load_history(conn, days: int = HISTORY_DAYS) -> History | None:
    [(last,)] = conn.execute(
        "select max(order_date) from marts.fct_sales_daily where sku is not null"
    ).fetchall()
    if last is None:
        return None
    first = last - timedelta(days=days - 1)
    rows = conn.execute(HISTORY_SQL, {"since": first - timedelta(days=1)}).fetchall()
    keys = sorted({(r[1], r[2]) for r in rows if r[0] == "sales"})
    index = {key: i for i, key in enumerate(keys)}
    units = np.zeros((len(keys), days))
    out = []
    for what, channel, sku, day, value in rows:
        i = index.get((channel, sku))
        if i is None or day > last:
            continue
        if what == "sales":
            units[i, (day - first).days] = float(value)
        else:
            out.append((i, (day - first).days))
    for i, k in out:
        units[i, k] = np.nan
    return History(keys, first, units)


def run(
    horizon: int = 28,
    origins: int = 4,
    write: bool = True,
    progress: Callable[[str], None] = lambda stage: None,
) -> Summary:
    """Forecast every SKU × channel in the marts; with `write`, store the run."""
    started = time.monotonic()
    started_at = datetime.now(UTC)
    with warehouse.connect() as conn:
        ensure_tables(conn)
        progress("reading daily sales and stock-outs")
        history = load_history(conn)
        if history is None:
            return Summary(None, None, 0, time.monotonic() - started, {}, None, None)
        progress(f"backtest and forecast of {len(history.keys)} series")
        result = forecast(history.units, horizon, origins, groups=history.groups)
        summary = _summary(history, result, time.monotonic() - started)
        if write:
            progress("writing the run")
            summary.run_id = _write(conn, history, result, horizon, origins, started_at, summary)
        conn.commit()
    return summary


def _summary(history: History, result: Forecast, seconds: float) -> Summary:
    names = list(models.MODELS)
    chosen = np.array([names.index(m) for m in result.model])
    rows = np.arange(len(chosen))
    scores = result.scores
    actual = scores.actual[rows, chosen].sum()
    wape = scores.abs_error[rows, chosen].sum() / actual if actual > 0 else None
    base = names.index(models.BASELINE)
    baseline = scores.abs_error[:, base].sum() / actual if actual > 0 else None
    counts = dict(zip(*np.unique(result.model.astype(str), return_counts=True), strict=True))
    return Summary(
        None,
        history.as_of,
        len(history.keys),
        seconds,
        {m: int(n) for m, n in counts.items()},
        wape,
        baseline,
    )


def _write(conn, history, result, horizon, origins, started_at, summary) -> str:
    run_id = f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    conn.execute(
        "insert into forecast.runs (run_id, started_at, as_of_date, horizon_days,"
        " backtest_origins, status) values (%s, %s, %s, %s, %s, 'running')",
        (run_id, started_at, history.as_of, horizon, origins),
    )
    dates = [history.as_of + timedelta(days=h + 1) for h in range(horizon)]
    lo80, hi80 = result.interval(Z80)
    lo95, hi95 = result.interval(Z95)
    with conn.cursor().copy(
        "copy forecast.demand_forecasts (run_id, channel_id, sku, forecast_date, horizon_day,"
        " model, demand_class, is_short_history, units, lower_80, upper_80, lower_95,"
        " upper_95, error_sigma) from stdin"
    ) as copy:
        for i, (channel, sku) in enumerate(history.keys):
            for h, day in enumerate(dates):
                copy.write_row(
                    (run_id, channel, sku, day, h + 1, result.model[i], result.demand_class[i],
                     bool(result.short_history[i]), _r(result.mean[i, h]), _r(lo80[i, h]),
                     _r(hi80[i, h]), _r(lo95[i, h]), _r(hi95[i, h]), _r(result.sigma[i]))
                )  # fmt: skip
        for sku, rows in _by_sku(history.keys).items():
            mean = result.mean[rows].sum(axis=0)
            # channel errors taken as independent: variances add up
            sigma = float(np.sqrt((result.sigma[rows] ** 2).sum()))
            for h, day in enumerate(dates):
                copy.write_row(
                    (run_id, TOTAL, sku, day, h + 1, "sum_of_channels", "total",
                     bool(result.short_history[rows].all()), _r(mean[h]),
                     _r(max(mean[h] - Z80 * sigma, 0)), _r(mean[h] + Z80 * sigma),
                     _r(max(mean[h] - Z95 * sigma, 0)), _r(mean[h] + Z95 * sigma), _r(sigma))
                )  # fmt: skip
    names = list(models.MODELS)
    scores = result.scores
    wape, mase, bias = scores.wape(), scores.mase(), scores.bias()
    with conn.cursor().copy(
        "copy forecast.backtest_scores (run_id, channel_id, sku, model, is_chosen,"
        " is_baseline, demand_class, origins, actual_units, abs_error_units, wape, mase, bias)"
        " from stdin"
    ) as copy:
        for i, (channel, sku) in enumerate(history.keys):
            if result.origins[i] == 0:
                continue
            for j, name in enumerate(names):
                copy.write_row(
                    (run_id, channel, sku, name, name == result.model[i],
                     name == models.BASELINE, result.demand_class[i], int(result.origins[i]),
                     _r(scores.actual[i, j]), _r(scores.abs_error[i, j]), _r(wape[i, j], 4),
                     _r(mase[i, j], 4), _r(bias[i, j], 4))
                )  # fmt: skip
    conn.execute(
        "update forecast.runs set finished_at = now(), series = %s, seconds = %s,"
        " status = 'succeeded' where run_id = %s",
        (summary.series, round(summary.seconds, 2), run_id),
    )
    return run_id


def _by_sku(keys: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    rows: dict[str, list[int]] = {}
    for i, (_, sku) in enumerate(keys):
        rows.setdefault(sku, []).append(i)
    return {sku: np.array(r) for sku, r in rows.items()}


def _r(value: float, digits: int = 3) -> float | None:
    value = float(value)
    return None if np.isnan(value) or np.isinf(value) else round(value, digits)
