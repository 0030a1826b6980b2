"""Load throughput: parsed API records → published raw rows, against COPY ceilings.

The same order-line records (Amazon order items as the connector flattens them: 15 text
columns plus the item's JSON payload) go into PostgreSQL four ways, in one run:

1. our path: `land_page` (COPY into landing, per page of 10,000) then `publish` (typed
   keyed merge into raw with history, watermark) — the quality gate is measured in the
   data-quality benchmark, not here. The records exist before the clock starts (they are
   what a connector yields), as for the DataFrame path. Twice: a first load into an
   empty raw table, then an incremental load of as many new records into the populated
   one;
2. COPY of the same rows from a CSV file (psql `\\copy` style, streamed from disk): the ceiling;
3. a pandas DataFrame written to CSV, then COPY;
4. `DataFrame.to_sql(method="multi")` on a sample (it is too slow for all rows), as rows/s.

    .venv/bin/python bench/bench_load.py [--rows 1000000] [--to-sql-rows 50000]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta

import psycopg

from omnichannel import runtime, warehouse
from omnichannel.channels.amazon_sp import ORDER_ITEMS
from omnichannel.load import ledger, publish, schema
from omnichannel.load.copy import land_page
from omnichannel.streams import Page

PAGE = 10_000
START = datetime(2026, 10, 1, tzinfo=UTC)


def records(n: int, first: int = 0):
    """Deterministic order-item records as the connector yields them."""
    for i in range(first, first + n):
        order = f"{300 + i // 2 % 700:03d}-{i // 2 % 10**7:07d}-{i // 2:07d}"
        stamp = (START + timedelta(seconds=i * 7)).strftime("%Y-%m-%dT%H:%M:%SZ")
        price = f"{10 + i % 90}.{i % 100:02d}"
        item = {
            "ASIN": f"B0{i % 500:08d}", "SellerSKU": f"NOR-{i % 500:05d}-FBA",
            "OrderItemId": f"{i:014d}", "Title": f"Northwind Tee {i % 500:03d}",
            "QuantityOrdered": 1 + i % 3, "QuantityShipped": 1 + i % 3,
            "ProductInfo": {"NumberOfItems": "1"},
            "ItemPrice": {"CurrencyCode": "EUR", "Amount": price},
            "ItemTax": {"CurrencyCode": "EUR", "Amount": "1.90"},
            "PromotionDiscount": {"CurrencyCode": "EUR", "Amount": "0.00"},
            "IsGift": "false", "ConditionId": "New",
        }  # fmt: skip
        yield {
            "amazon_order_id": order, "order_item_id": item["OrderItemId"],
            "order_last_update_date": stamp, "purchase_date": stamp, "order_status": "Shipped",
            "asin": item["ASIN"], "seller_sku": item["SellerSKU"], "title": item["Title"],
            "quantity_ordered": str(item["QuantityOrdered"]),
            "quantity_shipped": str(item["QuantityShipped"]), "item_price": price,
            "item_tax": "1.90", "promotion_discount": "0.00", "shipping_price": None,
            "currency": "EUR", "payload": item,
        }  # fmt: skip


def pages(n: int, first: int = 0):
    batch, number = [], 0
    for record in records(n, first):
        batch.append(record)
        if len(batch) == PAGE:
            number += 1
            yield Page(number, batch, None)
            batch = []
    if batch:
        yield Page(number + 1, batch, None)


def reset(conn) -> None:
    for name in ("landing", "raw", "ops", "quarantine", "bench"):
        conn.execute(f"drop schema if exists {name} cascade")
    schema.ensure_base(conn)
    schema.ensure_stream_tables(conn, ORDER_ITEMS)
    conn.execute("create schema bench")
    cols = ", ".join(f"{c} text" for c in ("channel_id", *ORDER_ITEMS.column_names))
    conn.execute(f"create table bench.ceiling ({cols}, payload jsonb)")


def settle(conn) -> None:
    """Each path starts from the same state: no checkpoint left over from the one before
    (a million rows write about 1 GB of WAL, the default max_wal_size)."""
    with psycopg.connect(warehouse.admin_url(), autocommit=True) as admin:
        admin.execute("checkpoint")  # the pipeline's role may not (pg_checkpoint)


def our_path(conn, n: int, first: int = 0, unlogged: bool = False) -> float:
    """One batch of n new records; raw is empty for the first (a first sync or backfill:
    the key index is built after the insert) and holds the first batch's rows for the
    second (an incremental load: every row goes through the key index)."""
    prepared = list(pages(n, first))  # parsed API records are the input: built before the clock
    settle(conn)
    started = time.perf_counter()
    day = (START + timedelta(first), START + timedelta(first + 1))
    batch_id = ledger.begin_batch(
        conn, "bench_de", "order_items", *day, *day, "bench", ORDER_ITEMS.table
    )
    if unlogged:  # landing as it was before it had to survive a crash: the WAL's cost
        conn.execute(f"alter table landing.{ORDER_ITEMS.table}__b{batch_id} set unlogged")
    rows = 0
    for page in prepared:
        with conn.transaction():
            rows += land_page(conn, ORDER_ITEMS, batch_id, "bench_de", page)
    ledger.set_status(conn, batch_id, "landed", pages=0, rows_received=rows)
    ledger.set_status(conn, batch_id, "gated")
    landed = time.perf_counter() - started
    published = publish.publish(conn, ORDER_ITEMS, batch_id)
    assert published.rows_published == n, published
    total = time.perf_counter() - started
    print(
        f"  our path (first row {first:,}): landing {landed:.1f}s + publish {total - landed:.1f}s"
    )
    return total


def csv_file(n: int) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="") as handle:
        writer = csv.writer(handle)
        for record in records(n):
            writer.writerow(["bench_de", *(record[c] for c in ORDER_ITEMS.column_names),
                             json.dumps(record["payload"], separators=(",", ":"))])  # fmt: skip
    return handle.name


def copy_file(conn, path: str) -> float:
    conn.execute("truncate bench.ceiling")
    settle(conn)
    started = time.perf_counter()
    with (
        conn.cursor() as cur,
        cur.copy("copy bench.ceiling from stdin (format csv)") as copy,
        open(path, "rb") as handle,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    return time.perf_counter() - started


def dataframe_copy(conn, n: int) -> float:
    import pandas as pd

    conn.execute("truncate bench.ceiling")
    prepared = list(records(n))
    settle(conn)
    started = time.perf_counter()
    frame = pd.DataFrame.from_records(
        ({"channel_id": "bench_de", **{k: v for k, v in r.items() if k != "payload"},
          "payload": json.dumps(r["payload"], separators=(",", ":"))} for r in prepared),
    )  # fmt: skip
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    with conn.cursor() as cur, cur.copy("copy bench.ceiling from stdin (format csv)") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)
    return time.perf_counter() - started


def to_sql(n: int) -> float:
    import pandas as pd
    from sqlalchemy import create_engine

    frame = pd.DataFrame.from_records(
        ({"channel_id": "bench_de", **{k: v for k, v in r.items() if k != "payload"},
          "payload": json.dumps(r["payload"], separators=(",", ":"))} for r in records(n)),
    )  # fmt: skip
    url = warehouse.url().replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    started = time.perf_counter()
    frame.to_sql("to_sql", engine, schema="bench", if_exists="replace", index=False,
                 method="multi", chunksize=1000)  # fmt: skip
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--to-sql-rows", type=int, default=50_000)
    args = p.parse_args()
    runtime.apply()
    n = args.rows
    print(f"{n:,} order-line rows (15 columns + JSON payload), {os.cpu_count()} cores, "
          f"warehouse {warehouse.status()['url']}")  # fmt: skip
    with warehouse.connect(autocommit=True) as conn:
        reset(conn)
        path = csv_file(n)
        size = os.path.getsize(path) / 1e6
        results = [
            ("COPY from a CSV file (ceiling)", copy_file(conn, path), n),
            ("our path, first load (raw empty)", our_path(conn, n), n),
            ("our path, incremental (raw holds n other rows)", our_path(conn, n, n), n),
            ("DataFrame → CSV → COPY", dataframe_copy(conn, n), n),
        ]
        reset(conn)  # baseline in the same run: a first load into an UNLOGGED landing
        unlogged = our_path(conn, n, unlogged=True)
        os.unlink(path)
        results.append(("DataFrame.to_sql(method='multi')", to_sql(args.to_sql_rows),
                        args.to_sql_rows))  # fmt: skip
        reset(conn)
    ceiling = n / results[0][1]
    print(f"\nCSV file: {size:,.0f} MB\n")
    print(f"| {'path':<50} | {'rows':>9} | {'seconds':>8} | {'rows/s':>9} | {'vs ceiling':>10} |")
    print(f"| {'-' * 50} | {'-' * 9}: | {'-' * 8}: | {'-' * 9}: | {'-' * 10}: |")
    for label, seconds, rows in results:
        rate = rows / seconds
        print(f"| {label:<50} | {rows:>9,} | {seconds:8.1f} | {rate:9,.0f} | "
              f"{rate / ceiling:9.0%} |")  # fmt: skip
    print(f"\nfirst load with unlogged landing (the baseline): {unlogged:.1f} s; logged "
          f"landing costs {results[1][1] / unlogged - 1:+.0%} on the first load")  # fmt: skip
    tosql = results[4][2] / results[4][1]
    for label, seconds, _ in results[1:3]:
        print(f"\n{label}: {n / seconds / ceiling:.0%} of the file-COPY rate (target ≥ 50%), "
              f"{n / seconds / tosql:.0f}× to_sql (target ≥ 20×)")  # fmt: skip


if __name__ == "__main__":
    main()
