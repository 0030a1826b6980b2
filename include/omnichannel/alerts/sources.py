"""Where alerts come from, besides the quality gate: Airflow task callbacks, stream
freshness and the replenishment plan. Each source raises an alert while its condition
holds and resolves it when it clears, then announces what is new (alerts.deliver_pending).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from omnichannel import alerts, warehouse

log = logging.getLogger(__name__)


def task_failed(context) -> None:
    """on_failure_callback: a task failed for good (its retries are exhausted)."""
    try:
        _task_failed(context)
    except Exception:  # a callback must never hide the task's own failure
        log.exception("could not record the failure as an alert")
    alerts.deliver_pending()


def _task_failed(context) -> None:
    from omnichannel.pipeline import BatchHeld, UpstreamFailed
    from omnichannel.streams import ExtractError

    ti = context["ti"]
    exc = context.get("exception")
    if isinstance(getattr(exc, "__cause__", None), UpstreamFailed):
        return  # another task of the run failed first, and its alert says why
    channel_id, stream = _channel_stream(ti.dag_id, ti.task_id)
    recorded = None
    # the tasks raise AirflowFailException (no retry) from the BatchHeld that says why
    held = exc if isinstance(exc, BatchHeld) else getattr(exc, "__cause__", None)
    if isinstance(held, BatchHeld):
        recorded = held.fingerprint or alerts.fingerprint("dq", "hold", channel_id, stream)
    elif isinstance(exc, ExtractError) and exc.received is not None:
        recorded = alerts.fingerprint("dq", "unreadable", channel_id, stream)
    with warehouse.connect() as conn:
        from omnichannel.load import schema

        schema.ensure_base(conn)  # the first task after a reset may fail before any table
        if recorded and alerts.attach_run(conn, recorded, ti.dag_id, ti.task_id, ti.run_id):
            # one failure, one alert: the data-quality alert already says what went wrong
            conn.commit()
            return
        alerts.raise_alert(
            conn,
            alerts.Alert(
                kind="pipeline",
                severity="critical",
                fingerprint=alerts.fingerprint("pipeline", ti.dag_id, ti.task_id),
                message=f"task {ti.dag_id}.{ti.task_id} failed: "
                f"{type(exc).__name__ if exc else 'error'}: {exc}"[:1000],
                channel_id=channel_id,
                stream=stream,
                dag_id=ti.dag_id,
                task_id=ti.task_id,
                run_id=ti.run_id,
                details={
                    "try_number": getattr(ti, "try_number", None),
                    "map_index": getattr(ti, "map_index", None),
                    "logical_date": str(context.get("logical_date")),
                },
            ),
        )
        conn.commit()


def task_succeeded(context) -> None:
    """on_success_callback: the task that had failed now passes; its alert is resolved."""
    ti = context["ti"]
    _resolve_quietly(alerts.fingerprint("pipeline", ti.dag_id, ti.task_id))


def dag_run_failed(context) -> None:
    """DAG-level on_failure_callback: a run failed. A failed task has said why already (its
    own alert names this run); a run that fails without one (its dagrun_timeout ran out,
    say) gets an alert of its own."""
    try:
        dag_run = context["dag_run"]
        with warehouse.connect() as conn:
            told = conn.execute(
                "select 1 from ops.alerts where dag_id = %s and run_id = %s limit 1",
                (dag_run.dag_id, dag_run.run_id),
            ).fetchone()
            if not told:
                reason = context.get("reason") or "failed"
                alerts.raise_alert(
                    conn,
                    alerts.Alert(
                        kind="pipeline",
                        severity="critical",
                        fingerprint=alerts.fingerprint("pipeline", dag_run.dag_id, "run"),
                        message=f"DAG run {dag_run.dag_id} {dag_run.run_id}: {reason}",
                        channel_id=_channel_stream(dag_run.dag_id, "")[0],
                        dag_id=dag_run.dag_id,
                        run_id=dag_run.run_id,
                        details={"reason": reason},
                    ),
                )
            conn.commit()
    except Exception:  # never hide the run's own failure
        log.exception("could not record the DAG run's failure as an alert")
    alerts.deliver_pending()


def dag_run_succeeded(context) -> None:
    """DAG-level on_success_callback: a later run of the DAG passed."""
    _resolve_quietly(alerts.fingerprint("pipeline", context["dag_run"].dag_id, "run"))


def _resolve_quietly(fingerprint: str) -> None:
    """A success callback must not fail what succeeded: errors are logged only."""
    try:
        with warehouse.connect() as conn:
            # a task of the first run after a reset: no alert table, so nothing to resolve
            if conn.execute("select to_regclass('ops.alerts')").fetchone()[0] is None:
                return
            alerts.resolve(conn, fingerprint)
            conn.commit()
    except Exception:
        log.exception("could not resolve alert %s", fingerprint)


def _channel_stream(dag_id: str, task_id: str) -> tuple[str | None, str | None]:
    if not dag_id.startswith("extract_"):
        return None, None
    stream = task_id.split(".")[0] if "." in task_id else None
    return dag_id.removeprefix("extract_"), stream


def check_freshness(config, now: datetime | None = None) -> list[str]:
    """A stream with `freshness_hours` whose latest published batch is older than that is
    stale: one freshness alert per channel × stream, resolved once data arrives again.
    Returns the stale channel/stream names."""
    from omnichannel.kinds import extracted_streams

    now = now or datetime.now(UTC)
    stale = []
    with warehouse.connect() as conn:
        latest = dict(
            ((channel, stream), at)
            for channel, stream, at in conn.execute(
                """select channel_id, stream, max(finished_at) from ops.load_batches
                   where status = 'published' group by channel_id, stream"""
            ).fetchall()
        )
        for channel in config.channels:
            for stream in extracted_streams(channel):
                hours = channel.quality_rules(stream).freshness_hours
                if not hours:
                    continue
                fingerprint = alerts.fingerprint("freshness", channel.channel_id, stream)
                last = latest.get((channel.channel_id, stream))
                age = (now - last).total_seconds() / 3600 if last else None
                if age is not None and age <= hours:
                    alerts.resolve(conn, fingerprint)
                    continue
                stale.append(f"{channel.channel_id}/{stream}")
                since = f"{age:.1f} hours ago" if last else "never"
                alerts.raise_alert(
                    conn,
                    alerts.Alert(
                        kind="freshness",
                        severity="critical",
                        fingerprint=fingerprint,
                        message=f"{channel.channel_id}/{stream}: no data published for more "
                        f"than {hours:g} hours (last {since})",
                        channel_id=channel.channel_id,
                        stream=stream,
                        details={"freshness_hours": hours, "last_published": str(last)},
                    ),
                )
        conn.commit()
    alerts.deliver_pending()
    return stale


def check_stockouts() -> int:
    """A SKU projected to run out at a location before an order placed today arrives
    (marts.mart_replenishment_plan): one business alert per SKU × location, resolved when
    the plan no longer projects it. Returns the number at risk."""
    with warehouse.connect() as conn:
        exists = conn.execute("select to_regclass('marts.mart_replenishment_plan')").fetchone()
        if exists[0] is None:
            return 0
        at_risk = conn.execute(
            """select location_id, sku, on_hand, projected_stockout_date, lead_time_days,
                      suggested_order_quantity
               from marts.mart_replenishment_plan where stockout_within_lead_time"""
        ).fetchall()
        current = set()
        for location, sku, on_hand, day, lead, order in at_risk:
            fingerprint = alerts.fingerprint("stockout", location, sku)
            current.add(fingerprint)
            alerts.raise_alert(
                conn,
                alerts.Alert(
                    kind="business",
                    severity="warning",
                    fingerprint=fingerprint,
                    message=f"{sku} at {location}: projected to run out on {day}, within "
                    f"the {lead}-day lead time ({on_hand} on hand; order {order})",
                    details={
                        "location_id": location,
                        "sku": sku,
                        "on_hand": on_hand,
                        "projected_stockout_date": str(day),
                        "suggested_order_quantity": order,
                    },
                ),
            )
        for (fingerprint,) in conn.execute(
            "select fingerprint from ops.alerts where status <> 'resolved' and fingerprint like %s",
            (alerts.fingerprint("stockout", "") + "%",),
        ).fetchall():
            if fingerprint not in current:
                alerts.resolve(conn, fingerprint)
        conn.commit()
    alerts.deliver_pending()
    return len(at_risk)


# the seasonal band of a channel's daily GMV: the same weekday over the last 8 weeks
BAND_WEEKS = 8
BAND_MIN_DAYS = 4
BAND_MADS = 3.0  # median ± 3 scaled median absolute deviations ...
BAND_FLOOR = 0.25  # ... but never narrower than ±25% of the median


def check_gmv_band() -> list[str]:
    """Each channel's latest day of GMV (mart_channel_daily_kpis, in its own currency)
    against the seasonal band of the same weekday over the previous 8 weeks: outside it,
    a business alert per channel, resolved when a later day is inside again. Returns the
    channels outside their band."""
    import statistics
    from datetime import timedelta

    with warehouse.connect() as conn:
        exists = conn.execute("select to_regclass('marts.mart_channel_daily_kpis')").fetchone()
        if exists[0] is None:
            return []
        rows = conn.execute(
            """select channel_id, order_date, gmv, currency from marts.mart_channel_daily_kpis
               where order_date > (select max(order_date) from marts.mart_channel_daily_kpis)
                     - %s""",
            (7 * BAND_WEEKS + 7,),
        ).fetchall()
        by_channel: dict[str, dict] = {}
        for channel, day, gmv, currency in rows:
            by_channel.setdefault(channel, {})[day] = (gmv, currency)
        outside = []
        for channel, days in sorted(by_channel.items()):
            latest = max(days)
            gmv, currency = days[latest]
            same_weekday = [
                float(days[d][0])
                for w in range(1, BAND_WEEKS + 1)
                if (d := latest - timedelta(weeks=w)) in days
            ]
            fingerprint = alerts.fingerprint("gmv_band", channel)
            if len(same_weekday) < BAND_MIN_DAYS:
                continue
            median = statistics.median(same_weekday)
            mad = statistics.median(abs(x - median) for x in same_weekday)
            half = max(BAND_MADS * 1.4826 * mad, BAND_FLOOR * abs(median))
            low, high = median - half, median + half
            if low <= float(gmv) <= high:
                alerts.resolve(conn, fingerprint)
                continue
            outside.append(channel)
            direction = "below" if float(gmv) < low else "above"
            alerts.raise_alert(
                conn,
                alerts.Alert(
                    kind="business",
                    severity="warning",
                    fingerprint=fingerprint,
                    message=f"{channel}: GMV {gmv} {currency} on {latest} is {direction} its "
                    f"band {low:.2f}-{high:.2f} (same weekday, last {len(same_weekday)} weeks)",
                    channel_id=channel,
                    details={
                        "order_date": str(latest),
                        "gmv": str(gmv),
                        "currency": currency,
                        "band_low": f"{low:.2f}",
                        "band_high": f"{high:.2f}",
                        "median": str(median),
                        "weeks": len(same_weekday),
                    },
                ),
            )
        conn.commit()
    alerts.deliver_pending()
    return outside
