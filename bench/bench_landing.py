"""Landing throughput: our COPY loader vs pandas.to_sql vs psql \\copy, same rows, same run.

    .venv/bin/python bench/bench_landing.py [--orders 20000]

Uses the warehouse (embedded or OMNI_WAREHOUSE_URL), table landing.bench__orders (dropped after).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import subprocess
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from omnichannel import warehouse
from omnichannel.channels.shopify import ORDERS, flatten_order
from omnichannel.load.copy import land_page
from omnichannel.load.schema import create_landing_partition, ensure_base, ensure_stream_tables
from omnichannel.streams import Page
from omnisim.apps.shopify import order_node
from omnisim.world import World, WorldChannel


def make_records(n: int) -> list[dict]:
    channel = WorldChannel(
        "bench", "shopify", "UTC", "USD", opened_on=date(2026, 1, 1), orders_per_day=400
    )
    world, records, day = World(1, [channel]), [], date(2026, 1, 1)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    while len(records) < n:
        for order in world.orders_for_day("bench", day):
            node = order_node(order.state_at(now))
            node["lineItems"] = node["lineItems"](None, first=50)
            node["lineItems"]["pageInfo"] = {"hasNextPage": False}
            node["refunds"] = [
                {**r, "refundLineItems": {**r["refundLineItems"](None, first=50)}}
                for r in node["refunds"](None)
            ]
            records.append(flatten_order(node))
        day += timedelta(days=1)
    return records[:n]


# The same table shape as landing.shopify__orders, under a name of its own.
SPEC = replace(ORDERS, channel_kind="bench", stream="orders")
TABLE = f"landing.{SPEC.table}"


def reset(conn):
    conn.execute(f"drop table if exists {TABLE}")
    ensure_base(conn)
    ensure_stream_tables(conn, SPEC)
    create_landing_partition(conn, SPEC.table, 1)  # the pandas and psql paths route to it


def ours(conn, records):
    land_page(conn, SPEC, 1, "bench", Page(1, records, None))


def pandas_to_sql(conn, records):
    import pandas as pd
    from sqlalchemy import create_engine
    from sqlalchemy.dialects.postgresql import JSONB

    frame = pd.DataFrame(
        [{**{c: r.get(c) for c in ORDERS.column_names}, "payload": r["payload"]} for r in records]
    )
    frame.insert(0, "record_no", range(1, len(frame) + 1))
    frame.insert(0, "page_no", 1)
    frame.insert(0, "channel_id", "bench")
    frame.insert(0, "batch_id", 1)
    engine = create_engine(warehouse.url().replace("postgresql://", "postgresql+psycopg://"))
    frame.to_sql(
        SPEC.table,
        engine,
        schema="landing",
        if_exists="append",
        index=False,
        method="multi",
        chunksize=1000,
        dtype={"payload": JSONB},
    )
    engine.dispose()


def psql_copy(conn, records):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for n, r in enumerate(records, 1):
        writer.writerow(
            [1, "bench", 1, n, *[r.get(c) for c in ORDERS.column_names], json.dumps(r["payload"])]
        )
    subprocess.run(
        [
            shutil.which("psql"),
            warehouse.url(),
            "-qc",
            f"\\copy {TABLE} from stdin with (format csv)",
        ],
        input=buffer.getvalue(),
        text=True,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=20000)
    args = parser.parse_args()
    warehouse.start()
    records = make_records(args.orders)
    print(f"{len(records)} Shopify order records (flattened + JSON payload)")
    results = {}
    for name, fn in (
        ("omnichannel COPY loader", ours),
        ("psql \\copy (csv)", psql_copy),
        ("pandas.to_sql multi", pandas_to_sql),
    ):
        with warehouse.connect(autocommit=True) as conn:
            reset(conn)
            started = time.perf_counter()
            fn(conn, records)
            elapsed = time.perf_counter() - started
            count = conn.execute(f"select count(*) from {TABLE}").fetchone()[0]
        assert count == len(records), (name, count)
        results[name] = elapsed
        print(f"{name:<26} {elapsed:7.2f} s  {len(records) / elapsed:10,.0f} rows/s")
    with warehouse.connect(autocommit=True) as conn:
        conn.execute(f"drop table {TABLE}")
    speedup = results["pandas.to_sql multi"] / results["omnichannel COPY loader"]
    print(f"speed-up of our loader over pandas.to_sql: {speedup:.1f}x")


if __name__ == "__main__":
    main()
