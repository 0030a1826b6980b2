"""What a transform run selects (omnichannel.changes): the sources that changed since the
last build that passed, or everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from omnichannel import changes, warehouse
from omnichannel.load import schema

T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)


def published_batch(conn, channel_id: str, stream: str, finished_at: datetime) -> None:
    conn.execute(
        """insert into ops.load_batches (channel_id, stream, interval_start, interval_end,
                                         cursor_from, cursor_to, status, finished_at)
           values (%(c)s, %(s)s, %(t)s, %(t)s + interval '1 day', %(t)s,
                   %(t)s + interval '1 day', 'published', %(f)s)""",
        {"c": channel_id, "s": stream, "t": T0, "f": finished_at},
    )


def passed_build(conn, checksum: str, started_at: datetime) -> None:
    build_id = changes.begin(conn, "run", checksum, changes.Plan(None, "test"))
    conn.execute(
        "update ops.transform_builds set started_at = %s where build_id = %s",
        (started_at, build_id),
    )
    changes.finish(conn, build_id, passed=True)


def test_a_run_selects_what_was_published_since_the_last_build_that_passed(
    clean_warehouse, channels
):
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        schema.sync_channels(conn, list(channels.channels))
        conn.execute("update ops.channels set synced_at = %s", (T0,))
        assert changes.plan(conn, "a", every_row=False).select is None  # no build yet
        passed_build(conn, "a", T0 + timedelta(hours=1))
        # before that build: already built; after it: to build
        published_batch(conn, "woo_uk", "orders", T0 + timedelta(minutes=30))
        published_batch(conn, "shopify_us", "orders", T0 + timedelta(hours=2))
        published_batch(conn, "ga4_shopify_us", "traffic", T0 + timedelta(hours=3))
        plan = changes.plan(conn, "a", every_row=False)
        assert plan.select == [
            "source:ga4.ga4__traffic+",
            "source:shopify.shopify__orders+",
            "tag:every_run",
        ]
        assert "ga4.ga4__traffic, shopify.shopify__orders" in plan.reason
        # a failed build is no reference point: the next run still builds those
        build_id = changes.begin(conn, "run", "a", plan)
        changes.finish(conn, build_id, passed=False)
        assert changes.plan(conn, "a", every_row=False).select == plan.select
        # a deploy, or a run that tests every row: everything
        assert changes.plan(conn, "b", every_row=False).select is None
        assert "dbt project changed" in changes.plan(conn, "b", every_row=False).reason
        assert changes.plan(conn, "a", every_row=True).select is None
        # a channel's settings changed: the channels' mirror is a source too
        conn.execute("update ops.channels set synced_at = now() where channel_id = 'woo_uk'")
        assert "source:ops.channels+" in changes.plan(conn, "a", every_row=False).select
