"""Quality-gate overhead: the gate's time against extract + load of the same batch, in one run.

Two batches, as the issue names them: 100,000 Shopify orders and 300,000 Amazon order lines.
For each:

- extract: the connector's own flattening of API-shaped nodes (Shopify Order nodes with
  line items; Amazon orders with their OrderItems) into records — the network is left
  out, which only makes the gate's share look larger;
- load: the batch ledger, COPY into the landing partition (pages of 250), and publish;
- gate: `pipeline.gate` as the DAG runs it — the frame query (typed and derived columns),
  the GX suite, the results kept, and 0.1% bad rows moved to quarantine.

    .venv/bin/python bench/bench_gate.py [--orders 100000] [--lines 300000]

It resets the pipeline's schemas of the warehouse it runs against (like bench_load.py).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta

from omnichannel import runtime, warehouse
from omnichannel.channels import amazon_sp, shopify
from omnichannel.config import load_channels
from omnichannel.kinds import stream_spec
from omnichannel.load import ledger
from omnichannel.load.copy import land_page
from omnichannel.pipeline import gate, prepare, publish_batch
from omnichannel.streams import Page

START = datetime(2026, 10, 1, 4, tzinfo=UTC)
PAGE = 250
BAD_EVERY = 1000  # 0.1% of the rows carry an unparseable amount


def money(amount: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def shopify_node(i: int) -> dict:
    stamp = (START + timedelta(seconds=i * 0.8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        {"id": f"gid://shopify/LineItem/{i * 3 + k}", "sku": f"NOR-{(i + k) % 500:05d}",
         "name": f"Northwind Tee {k}", "quantity": 1 + k, "variant": {"id": f"gid://v/{k}"},
         "originalUnitPriceSet": money("20.00"), "discountedTotalSet": money(f"{20 * (1 + k)}.00")}
        for k in range(1 + i % 3)
    ]  # fmt: skip
    subtotal = sum(20 * (1 + k) for k in range(len(lines)))
    tax = subtotal * 8 / 100
    return {
        "id": f"gid://shopify/Order/{5_000_000_000 + i}", "name": f"#{1000 + i}",
        "email": f"buyer{i % 5000}@example.com", "createdAt": stamp, "updatedAt": stamp,
        "processedAt": stamp, "cancelledAt": None, "displayFinancialStatus": "PAID",
        "displayFulfillmentStatus": "FULFILLED", "currencyCode": "USD",
        "customer": {"id": f"gid://shopify/Customer/{i % 5000}", "email": None},
        "subtotalPriceSet": money("12,50" if i % BAD_EVERY == 7 else f"{subtotal}.00"),
        "totalDiscountsSet": money("0.00"), "totalShippingPriceSet": money("0.00"),
        "totalTaxSet": money(f"{tax:.2f}"), "totalPriceSet": money(f"{subtotal + tax:.2f}"),
        "totalRefundedSet": money("0.00"),
        "lineItems": {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": lines},
        "refunds": [],
    }  # fmt: skip


def amazon_order(i: int) -> tuple[dict, list[dict]]:
    stamp = (START + timedelta(seconds=i * 0.5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    order = {
        "AmazonOrderId": f"{300 + i % 700:03d}-{i % 10**7:07d}-{i:07d}", "PurchaseDate": stamp,
        "LastUpdateDate": stamp, "OrderStatus": "Shipped", "MarketplaceId": "A1PA6795UKMFR9",
        "OrderTotal": {"CurrencyCode": "EUR", "Amount": "59.70"},
    }  # fmt: skip
    items = [
        {"ASIN": f"B0{(i + k) % 500:08d}", "SellerSKU": f"NOR-{(i + k) % 500:05d}-FBA",
         "OrderItemId": f"{i * 3 + k:014d}", "Title": "Northwind Tee", "QuantityOrdered": 1,
         "QuantityShipped": 1,
         "ItemPrice": {"CurrencyCode": "EUR",
                       "Amount": "12,50" if (i * 3 + k) % BAD_EVERY == 7 else "19.90"},
         "ItemTax": {"CurrencyCode": "EUR", "Amount": "3.18"},
         "PromotionDiscount": {"CurrencyCode": "EUR", "Amount": "0.00"}}
        for k in range(3)
    ]  # fmt: skip
    return order, items


def api_seconds_per_record(channel, stream: str, days: int) -> tuple[float, int]:
    """Extraction through the API, measured on `days` of the simulator's world (a local
    HTTP server with rate limits 10-20x kinder than the real APIs'): seconds per record."""
    from omnichannel.kinds import KINDS
    from omnisim.server import Simulator, world_from_config

    world = world_from_config(42, load_channels())
    since = datetime(2026, 10, 1, tzinfo=UTC)
    until = since + timedelta(days=days)
    with Simulator(world) as simulator:
        simulator.set_clock(until)
        creds = simulator.credentials(channel)
        client = KINDS[channel.kind].client(channel, creds)
        started = time.perf_counter()
        records = sum(len(page.records) for page in client.iter_pages(stream, since, until))
        seconds = time.perf_counter() - started
        client.close()
    return seconds / records, records


def shopify_pages(n: int):
    nodes = [shopify_node(i) for i in range(n)]  # the API's pages, before the clock
    started = time.perf_counter()
    records = [shopify.flatten_order(node) for node in nodes]
    return _pages(records), time.perf_counter() - started


def amazon_pages(lines: int):
    orders = [amazon_order(i) for i in range(lines // 3)]
    started = time.perf_counter()
    records = [amazon_sp.flatten_item(order, item) for order, items in orders for item in items]
    return _pages(records), time.perf_counter() - started


def _pages(records: list[dict]) -> list[Page]:
    return [
        Page(n + 1, records[i : i + PAGE], None) for n, i in enumerate(range(0, len(records), PAGE))
    ]


def measure(channel, stream: str, pages: list[Page], extract: float, hours: int) -> dict:
    prepare(channel, stream)
    spec = stream_spec(channel.kind, stream)
    end = START + timedelta(hours=hours)
    with warehouse.connect(autocommit=True) as conn:
        started = time.perf_counter()
        batch_id = ledger.begin_batch(
            conn, channel.channel_id, stream, START, end, START, end, "bench", spec.table
        )
        rows = 0
        for page in pages:
            with conn.transaction():
                rows += land_page(conn, spec, batch_id, channel.channel_id, page)
        ledger.set_status(conn, batch_id, "landed", pages=len(pages), rows_received=rows)
        land = time.perf_counter() - started
    started = time.perf_counter()
    result = gate(channel, stream, batch_id)
    gated = time.perf_counter() - started
    started = time.perf_counter()
    batch = publish_batch(channel, stream, batch_id)
    publish = time.perf_counter() - started
    assert batch.rows_received == batch.rows_published + batch.rows_quarantined
    return {
        "rows": rows, "extract": extract, "land": land, "publish": publish, "gate": gated,
        "quarantined": batch.rows_quarantined, "expectations": result.evaluated,
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=100_000)
    p.add_argument("--lines", type=int, default=300_000)
    args = p.parse_args()
    runtime.apply()
    print(f"{os.cpu_count()} cores, warehouse {warehouse.status()['url']}")
    from bench_load import reset  # the same clean slate as the load benchmark

    with warehouse.connect(autocommit=True) as conn:
        reset(conn)
    channels = load_channels()
    pages, extract = shopify_pages(args.orders)
    hours = int(args.orders * 0.8 / 3600) + 2
    results = [
        ("Shopify orders", measure(channels.get("shopify_us"), "orders", pages, extract, hours))
    ]
    pages, extract = amazon_pages(args.lines)
    hours = int(args.lines / 3 * 0.5 / 3600) + 2
    amazon = channels.get("amazon_de")
    results.append(("Amazon order lines", measure(amazon, "order_items", pages, extract, hours)))
    api = [
        api_seconds_per_record(channels.get("shopify_us"), "orders", 7),
        api_seconds_per_record(amazon, "order_items", 7),
    ]
    print()
    print(
        "| batch | rows | extract s (parse only) | land s | publish s | gate s "
        "| gate / (parse + load) | extract s (API, scaled) | gate / (API + load) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (label, r), (per_record, _) in zip(results, api, strict=True):
        load = r["land"] + r["publish"]
        online = per_record * r["rows"]
        print(f"| {label} | {r['rows']:,} | {r['extract']:.1f} | {r['land']:.1f} | "
              f"{r['publish']:.1f} | {r['gate']:.1f} | {r['gate'] / (r['extract'] + load):.0%} "
              f"| {online:,.0f} | {r['gate'] / (online + load):.2%} |")  # fmt: skip
    for (label, _), (per_record, sample) in zip(results, api, strict=True):
        print(f"{label}: API extraction measured on {sample:,} records through the simulator, "
              f"{1 / per_record:,.0f} records/s")  # fmt: skip
    for label, r in results:
        print(f"{label}: {r['expectations']} expectations, {r['quarantined']} rows quarantined")
    print("target: gate ≤ 25% of extract + load")


if __name__ == "__main__":
    main()
