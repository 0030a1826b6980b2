"""World generation at benchmark size: 1 year × 5 sales channels × 500 SKUs (~1M order lines).

Compares, in the same run:
- the columnar generator (`omnisim.world.World`): demand, stock censoring,
  orders, lines, refunds, traffic, customers;
- a per-order Python baseline generating the same number of order lines the way the first
  simulator did (random.Random per day, Decimal money, one object per order and line),
  without stock, customers or traffic;
and reports the truth computation and the cost of materialising orders for API pages.

    .venv/bin/python bench/bench_world.py [--days 365] [--skus 500] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from omnisim.spec import Store, WorldChannel, WorldSpec
from omnisim.truth import daily_truth
from omnisim.world import World

START = date(2025, 11, 1)


def bench_spec(days: int, skus: int, scale: float, seed: int = 1) -> WorldSpec:
    def ch(channel_id, kind, tz, currency, orders, **kw):
        return WorldChannel(
            channel_id, kind, tz, currency, START, daily_orders=orders * scale, **kw
        )

    channels = (
        ch("shopify_us", "shopify", "America/New_York", "USD", 420, location="wh_us"),
        ch("amazon_us", "amazon_sp", "America/Los_Angeles", "USD", 520, listing_share=0.7),
        ch("amazon_de", "amazon_sp", "Europe/Berlin", "EUR", 520, listing_share=0.7),
        ch("woo_uk", "woocommerce", "Europe/London", "GBP", 280, listing_share=0.8),
        ch(
            "pos_fr",
            "files",
            "Europe/Paris",
            "EUR",
            350,
            listing_share=0.5,
            stores=(Store("paris01", "Paris"), Store("lyon01", "Lyon")),
        ),
        WorldChannel(
            "ga4_shopify_us", "ga4", "America/New_York", "USD", START, traffic_of="shopify_us"
        ),
    )
    return WorldSpec(
        seed,
        START,
        START + timedelta(days=days - 1),
        channels,
        skus=skus,
        customers=int(200_000 * scale),
    )


def baseline(days: int, skus: int, lines_wanted: int, seed: int = 1) -> int:
    """Per-order Python objects with Decimal money, as the first simulator built them."""
    prices = [
        Decimal(random.Random(f"{seed}:{i}").choice((9, 19, 29, 49, 89))) - Decimal("0.01")
        for i in range(skus)
    ]
    cent = Decimal("0.01")
    lines_per_day = lines_wanted / days
    made = 0
    orders = []
    for n in range(days):
        rng = random.Random(f"{seed}:{n}")
        day_lines = 0
        while day_lines < lines_per_day:
            k = 1 + (rng.random() < 0.4) + (rng.random() < 0.1)
            lines = []
            for _ in range(k):
                price = prices[rng.randrange(skus)]
                quantity = 1 if rng.random() < 0.8 else rng.randint(2, 3)
                gross = price * quantity
                discount = (gross * Decimal(rng.choice((0, 0, 0, 10, 20))) / 100).quantize(
                    cent, rounding=ROUND_HALF_UP
                )
                tax = ((gross - discount) * Decimal("0.08")).quantize(cent, rounding=ROUND_HALF_UP)
                lines.append(
                    {
                        "price": price,
                        "quantity": quantity,
                        "discount": discount,
                        "tax": tax,
                        "gross": gross,
                    }
                )
            subtotal = sum((x["gross"] - x["discount"] for x in lines), Decimal("0.00"))
            orders.append({"created": rng.randrange(86400), "lines": lines, "subtotal": subtotal})
            day_lines += k
        made += day_lines
    return made


def timed(label, func):
    started = time.perf_counter()
    result = func()
    return result, time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--skus", type=int, default=500)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--skip-baseline", action="store_true")
    args = p.parse_args()
    spec = bench_spec(args.days, args.skus, args.scale)
    print(
        f"world: {args.days} days, {args.skus} SKUs, 5 sales channels (+ GA4), "
        f"{spec.customers:,} customers; {os.cpu_count()} cores"
    )
    world, gen = timed("world", lambda: World(spec))
    n_lines, n_orders = len(world.lines), len(world.orders)
    rows = [("columnar World (stock, customers, traffic, refunds)", gen, n_lines)]
    if not args.skip_baseline:
        made, base = timed("baseline", lambda: baseline(args.days, args.skus, n_lines))
        rows.append(("per-order Python objects + Decimal (baseline)", base, made))
    _, truth = timed("truth", lambda: daily_truth(world, spec.start, spec.end))
    sample = range(0, n_orders, max(1, n_orders // 5000))
    _, materialise = timed("orders", lambda: [world.order(i) for i in sample])
    print(
        f"generated {n_orders:,} orders, {n_lines:,} order lines, "
        f"{len(world.replenishments):,} replenishment orders, "
        f"lost demand {1 - world.sold_units.sum() / world.demand_units.sum():.1%}"
    )
    print(f"\n| {'generator':<52} | {'seconds':>8} | {'lines/s':>10} |")
    print(f"| {'-' * 52} | {'-' * 8}: | {'-' * 10}: |")
    for label, seconds, lines in rows:
        print(f"| {label:<52} | {seconds:8.2f} | {lines / seconds:10,.0f} |")
    if len(rows) == 2:
        print(
            f"\ncolumnar is {rows[1][1] / rows[0][1] * rows[0][2] / rows[1][2]:.1f}× faster "
            "per line than the baseline (which models far less)"
        )
    print(f"truth (daily, all channels, whole year): {truth:.2f} s")
    print(f"materialising orders for API pages: {len(sample) / materialise:,.0f} orders/s")
    print(f"target: ≤ 60 s for ~1M lines on 2 cores → {'met' if gen <= 60 else 'MISSED'}")


if __name__ == "__main__":
    main()
