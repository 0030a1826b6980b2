"""Alerts end to end with real local receivers: each condition opens exactly one alert and
sends one Slack message and one e-mail; a repeat counts without a message; recovery
resolves. (The failing-task case runs a real DAG: airflow/test_alert_callbacks.py.)"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from omnichannel import alerts, warehouse
from omnichannel.alerts.sources import check_freshness, check_stockouts
from omnichannel.config import QualityRules
from omnichannel.pipeline import prepare_all, publish_batch
from tests.helpers.pipeline import load_day
from tests.helpers.warehouse import query

pytestmark = pytest.mark.integration


def one_open(fingerprint: str):
    return query(
        "select occurrences, status from ops.alerts where fingerprint = %s order by alert_id",
        fingerprint,
    )


def test_a_held_batch_alerts_once_and_the_next_good_load_resolves_it(
    clean_warehouse,
    simulator,
    shop,
    receivers,
    routed,
):
    load_day(simulator, shop, date(2026, 10, 1))
    batch_id = load_day(simulator, shop, date(2026, 10, 2), "schema_drift", "renamed_field")
    assert query("select status from ops.load_batches where batch_id = %s", batch_id) == [("held",)]
    alerts.deliver_pending()  # what the gate task's failure callback does
    fingerprint = f"dq:hold:{shop.channel_id}:orders"
    assert one_open(fingerprint) == [(1, "open")]
    assert len(receivers.slack) == 1 and len(receivers.mail) == 1
    assert f"batch {batch_id}" in receivers.slack[0]["text"]
    assert receivers.mail[0]["Subject"].startswith("[omni critical] data_quality shopify_us/orders")
    # the same day again, still bad: counted on the same alert, no second message
    load_day(simulator, shop, date(2026, 10, 2), "schema_drift", "renamed_field")
    alerts.deliver_pending()
    assert one_open(fingerprint) == [(2, "open")]
    assert len(receivers.slack) == 1 and len(receivers.mail) == 1
    # the channel is fixed and the next day loads clean: resolved, without a message
    simulator.clear_faults()
    load_day(simulator, shop, date(2026, 10, 3))
    alerts.deliver_pending()
    assert one_open(fingerprint) == [(2, "resolved")]
    assert len(receivers.slack) == 1


def past_batches(channel_id: str, stream: str, rows: int, days: int = 7) -> None:
    """A history of published daily batches of `rows` rows each before 2026-10-01."""
    prepare_all_tables()
    first = datetime(2026, 10, 1, tzinfo=UTC) - timedelta(days=days + 1)
    with warehouse.connect() as conn:
        for n in range(days):
            start = first + timedelta(days=n)
            conn.execute(
                """insert into ops.load_batches (channel_id, stream, interval_start, interval_end,
                       cursor_from, cursor_to, status, rows_received, finished_at)
                   values (%s, %s, %s, %s, %s, %s, 'published', %s, now())""",
                (channel_id, stream, start, start + timedelta(days=1), start,
                 start + timedelta(days=1), rows),
            )  # fmt: skip


def prepare_all_tables() -> None:
    from omnichannel.config import load_channels

    prepare_all(load_channels())


def test_a_load_far_below_its_volume_band_is_held_and_clears_when_a_load_fits(
    clean_warehouse, simulator, shop, receivers, routed
):
    past_batches(shop.channel_id, "orders", rows=20_000)  # a busy week, then a trickle
    batch_id = load_day(simulator, shop, date(2026, 10, 1))
    assert query("select status from ops.load_batches where batch_id = %s", batch_id) == [("held",)]
    alerts.deliver_pending()
    fingerprint = f"volume:{shop.channel_id}:orders"
    [(kind, severity, message, band)] = query(
        "select kind, severity, message, details->'volume_band' from ops.alerts "
        "where fingerprint = %s",
        fingerprint,
    )
    assert (kind, severity) == ("volume", "critical")
    assert f"batch {batch_id}: held:" in message and "rows received" in message
    assert band[0] > 1000 and band[1] is not None
    assert query("select count(*) from ops.alerts where fingerprint like 'dq:%%'") == [(0,)]
    assert len(receivers.slack) == 1 and "rows received" in receivers.slack[0]["text"]
    # ops widen the band (volume_factor) and load the day again: it fits, resolved
    wide = dataclasses.replace(shop, quality={"orders": QualityRules(volume_factor=10_000)})
    load_day(simulator, wide, date(2026, 10, 1))
    alerts.deliver_pending()
    assert one_open(fingerprint) == [(1, "resolved")]
    assert len(receivers.slack) == 1


def test_a_load_above_its_volume_band_publishes_with_a_warning(
    clean_warehouse, simulator, shop, receivers, routed
):
    past_batches(shop.channel_id, "orders", rows=1)  # a quiet week, then a sale
    batch_id = load_day(simulator, shop, date(2026, 10, 1))
    publish_batch(shop, "orders", batch_id)
    [(status, published)] = query(
        "select status, rows_published from ops.load_batches where batch_id = %s", batch_id
    )
    assert status == "published" and published > 19  # band: 0–19
    alerts.deliver_pending()
    [(kind, severity, message)] = query(
        "select kind, severity, message from ops.alerts where fingerprint = %s",
        f"volume:{shop.channel_id}:orders",
    )
    assert (kind, severity) == ("volume", "warning") and "a spike of data publishes" in message
    assert len(receivers.slack) == 1


def test_a_stale_stream_alerts_once_and_resolves_when_data_arrives(
    clean_warehouse,
    config,
    receivers,
    routed,
):
    prepare_all(config)
    now = datetime(2026, 10, 5, 12, tzinfo=UTC)
    with warehouse.connect() as conn:
        conn.execute(
            """insert into ops.load_batches (channel_id, stream, interval_start, interval_end,
                   cursor_from, cursor_to, status, finished_at)
               values ('shopify_us', 'orders', %s, %s, %s, %s, 'published', %s)""",
            (*[now - timedelta(days=2), now - timedelta(days=1)] * 2, now - timedelta(hours=30)),
        )
        conn.commit()
    stale = check_freshness(config, now=now)
    assert "shopify_us/orders" in stale
    fingerprint = "freshness:shopify_us:orders"
    assert one_open(fingerprint) == [(1, "open")]
    shopify = [m for m in receivers.slack if "shopify_us/orders" in m["text"]]
    assert len(shopify) == 1 and "more than 24 hours" in shopify[0]["blocks"][1]["text"]["text"]
    sent = len(receivers.slack)
    check_freshness(config, now=now + timedelta(hours=1))
    assert one_open(fingerprint) == [(2, "open")] and len(receivers.slack) == sent
    with warehouse.connect() as conn:
        conn.execute("update ops.load_batches set finished_at = %s", (now,))
        conn.commit()
    assert "shopify_us/orders" not in check_freshness(config, now=now + timedelta(hours=2))
    assert one_open(fingerprint) == [(2, "resolved")]


def test_a_projected_stockout_alerts_once_and_resolves_when_replenished(
    clean_warehouse,
    config,
    receivers,
    routed,
):
    prepare_all(config)
    with warehouse.connect() as conn:
        conn.execute("create schema if not exists marts")
        conn.execute(
            """create table marts.mart_replenishment_plan as
               select 'paris01'::text as location_id, 'SKU-1'::text as sku, 3 as on_hand,
                      date '2026-10-08' as projected_stockout_date, 5 as lead_time_days,
                      12 as suggested_order_quantity, true as stockout_within_lead_time"""
        )
        conn.commit()
    assert check_stockouts() == 1
    assert one_open("stockout:paris01:SKU-1") == [(1, "open")]
    assert len(receivers.slack) == 1 and "SKU-1 at paris01" in receivers.slack[0]["text"]
    assert len(receivers.mail) == 1
    check_stockouts()
    assert one_open("stockout:paris01:SKU-1") == [(2, "open")]
    assert len(receivers.slack) == 1 and len(receivers.mail) == 1
    with warehouse.connect() as conn:
        conn.execute("update marts.mart_replenishment_plan set stockout_within_lead_time = false")
        conn.commit()
    assert check_stockouts() == 0
    assert one_open("stockout:paris01:SKU-1") == [(2, "resolved")]


def test_a_failing_route_is_recorded_and_never_raises(
    clean_warehouse,
    config,
    receivers,
    routed,
):
    prepare_all(config)
    receivers.fail_slack = True
    with warehouse.connect() as conn:
        alerts.raise_alert(
            conn, alerts.Alert("volume", "critical", "volume:x", "volume far outside its band")
        )
        conn.commit()
    assert alerts.deliver_pending() >= 1  # the e-mail went; Slack failed without raising
    failure = query(
        "select kind, severity, message from ops.alerts where fingerprint = %s",
        "notifier:ops_slack:slack",
    )
    assert failure and failure[0][0] == "pipeline" and "ops_slack" in failure[0][2]
    assert "secret" not in failure[0][2]  # the webhook token stays out of the record
    # two e-mails: the volume alert, and the Slack route's failure (not sent to Slack)
    assert len(receivers.mail) == 2 and receivers.slack == []


def test_ack_resolve_and_the_digest(clean_warehouse, config, receivers, routed, capsys):
    from omnichannel.cli import main

    prepare_all(config)
    with warehouse.connect() as conn:
        first = alerts.raise_alert(conn, alerts.Alert("volume", "warning", "v:1", "low volume"))
        alerts.raise_alert(conn, alerts.Alert("business", "critical", "b:1", "GMV out of band"))
        conn.commit()
    assert alerts.send_digest() == 1
    assert "2 open alerts: 1 critical, 1 warning" in receivers.slack[-1]["text"]
    assert main(["alerts", "ack", str(first), "--by", "ana"]) == 0
    assert query("select status, acknowledged_by from ops.alerts where alert_id = %s", first) == [
        ("acknowledged", "ana")
    ]
    assert main(["alerts", "resolve", str(first), "--by", "ana"]) == 0
    assert main(["alerts", "list"]) == 0
    out = capsys.readouterr().out
    assert "GMV out of band" in out and "low volume" not in out and "1 alerts" in out


def test_daily_gmv_outside_its_seasonal_band_alerts_once_and_resolves(
    clean_warehouse, config, receivers, routed
):
    from omnichannel.alerts.sources import check_gmv_band

    prepare_all(config)
    last = date(2026, 10, 31)
    with warehouse.connect() as conn:
        conn.execute("create schema if not exists marts")
        # 9 weeks of 1,000.00 a day ± 40, then a last day at 300.00
        conn.execute(
            """create table marts.mart_channel_daily_kpis as
               select 'shopify_us'::text as channel_id, d::date as order_date, 'USD' as currency,
                      (1000 + 40 * sin(extract(doy from d)))::numeric(18, 2) as gmv
               from generate_series(%s::date - 63, %s::date - 1, interval '1 day') d
               union all select 'shopify_us', %s, 'USD', 300.00""",
            (last, last, last),
        )
        conn.commit()
    assert check_gmv_band() == ["shopify_us"]
    assert one_open("gmv_band:shopify_us") == [(1, "open")]
    assert len(receivers.slack) == 1 and "below its band" in receivers.slack[0]["text"]
    check_gmv_band()
    assert one_open("gmv_band:shopify_us") == [(2, "open")] and len(receivers.slack) == 1
    with warehouse.connect() as conn:
        conn.execute("update marts.mart_channel_daily_kpis set gmv = 990 where order_date = %s",
                     (last,))  # fmt: skip
        conn.commit()
    assert check_gmv_band() == []
    assert one_open("gmv_band:shopify_us") == [(2, "resolved")]
