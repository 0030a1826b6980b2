"""Ground truth computed from the world itself (never from the warehouse).

Tables (`omni simulate truth --table NAME`):
- daily: per channel and local day of order creation, as the channel shows it at the end
  of the last local day asked for (`as_of`):
  orders_count  orders not cancelled
  units         units in those orders
  gmv           list price × quantity of those orders, before discounts, without shipping;
                VAT is inside where the channel's prices include it (as the channel reports)
  discounts     discounts on those orders
  refunds       merchandise refunded by `as_of`, without tax
  net_revenue   gmv - discounts - refunds, without tax (VAT taken out where included)
  tax, shipping as charged; sessions: web sessions (GA4), marketplace sessions, store footfall
- sku_daily: per channel, SKU and local day: units sold, true demand (uncensored), lost units
- inventory: per location, SKU and day: units on hand at the end of the day
- replenishments: purchase orders placed in the span: location, SKU, quantity, ordered
  and arrival dates (late deliveries included)
- fx: per day and currency: USD per unit
- catalogue: the SKU master with every channel's ids (the crosswalk a pipeline must rebuild)
"""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from omnisim.world import World, cents

TRUTH_COLUMNS = (
    "channel_id",
    "order_date",
    "currency",
    "orders_count",
    "units",
    "gmv",
    "discounts",
    "refunds",
    "net_revenue",
    "tax",
    "shipping",
    "sessions",
)
TABLES = ("daily", "sku_daily", "inventory", "replenishments", "fx", "catalogue")


@dataclass(frozen=True)
class TruthRow:
    channel_id: str
    order_date: date
    currency: str
    orders_count: int
    units: int
    gmv: Decimal
    discounts: Decimal
    refunds: Decimal
    net_revenue: Decimal
    tax: Decimal
    shipping: Decimal
    sessions: int


def end_of_local_day(day: date, timezone: str) -> datetime:
    return datetime.combine(day + timedelta(1), time(0), ZoneInfo(timezone))


def daily_truth(world: World, start: date, end: date) -> list[TruthRow]:
    o = world.orders
    order_units = _order_units(world)
    rows = []
    for channel in world.sales_channels:
        as_of = int(end_of_local_day(end, channel.timezone).timestamp())
        index = world.channel_orders(channel.channel_id)
        live = index[o.cancelled[index] >= as_of]
        refunded = live[world.refunded_by(live, as_of)]  # a refund deleted in the shop is gone
        included = channel.tax[1]
        # VAT inside a refund is taken out to report merchandise without tax
        refund_net = o.refund_subtotal[refunded] - (o.refund_tax[refunded] if included else 0)
        units = order_units[live]
        points = [p.index for p in world.points if p.channel.channel_id == channel.channel_id]
        for day in _days(start, end):
            k = world.day_index(day)
            if not 0 <= k < world.spec.days:
                continue
            on_day = o.day[live] == k
            ids = live[on_day]
            refund_day = o.day[refunded] == k
            tax = int(o.tax[ids].sum())
            subtotal = int(o.subtotal[ids].sum())
            refunds = int(refund_net[refund_day].sum())
            net = subtotal - (tax if included else 0) - refunds
            rows.append(
                TruthRow(
                    channel_id=channel.channel_id,
                    order_date=day,
                    currency=channel.currency,
                    orders_count=len(ids),
                    units=int(units[on_day].sum()),
                    gmv=cents(o.gross[ids].sum()),
                    discounts=cents(o.discount[ids].sum()),
                    refunds=cents(refunds),
                    net_revenue=cents(net),
                    tax=cents(tax),
                    shipping=cents(o.shipping[ids].sum()),
                    sessions=_sessions(world, channel.kind, points, k),
                )
            )
    return rows


def _order_units(world: World) -> np.ndarray:
    lines = world.lines
    units = np.bincount(lines.order, weights=lines.quantity, minlength=len(world.orders))
    return units.astype(np.int64)


def _sessions(world: World, kind: str, points: list[int], k: int) -> int:
    if kind == "amazon_sp":
        return int(world.sku_sessions[points, k].sum())
    return int(world.sessions[points, k].sum())


def sku_daily(world: World, start: date, end: date) -> list[tuple]:
    rows = []
    for channel in world.sales_channels:
        points = [p.index for p in world.points if p.channel.channel_id == channel.channel_id]
        for day in _days(start, end):
            k = world.day_index(day)
            if not 0 <= k < world.spec.days:
                continue
            sold = world.sold_units[points, k].sum(axis=0)
            wanted = world.demand_units[points, k].sum(axis=0)
            for s in np.flatnonzero(wanted):
                rows.append(
                    (
                        channel.channel_id,
                        world.catalogue.sku[s],
                        day.isoformat(),
                        int(sold[s]),
                        int(wanted[s]),
                        int(wanted[s] - sold[s]),
                    )
                )
    return rows


def inventory(world: World, start: date, end: date) -> list[tuple]:
    rows = []
    for loc, location in enumerate(world.locations):
        for day in _days(start, end):
            k = world.day_index(day)
            if not 0 <= k < world.spec.days:
                continue
            for s, units in enumerate(world.on_hand[loc, k]):
                rows.append((location, world.catalogue.sku[s], day.isoformat(), int(units)))
    return rows


def replenishments(world: World, start: date, end: date) -> list[tuple]:
    return [
        (r.location, r.sku, r.quantity, r.ordered_on.isoformat(), r.arrives_on.isoformat())
        for r in world.replenishments
        if start <= r.ordered_on <= end
    ]


def fx(world: World, start: date, end: date) -> list[tuple]:
    rows = []
    for day in _days(start, end):
        k = world.day_index(day)
        if 0 <= k < world.spec.days:
            for currency in world.currencies:
                rows.append((day.isoformat(), currency, f"{world.fx[currency][k]:.6f}"))
    return rows


def catalogue(world: World) -> list[tuple]:
    cat, rows = world.catalogue, []
    for s, sku in enumerate(cat.sku):
        ids = []
        for channel in world.sales_channels:
            listing = world.listings[channel.channel_id]
            ids.append(
                f"{channel.channel_id}={int(listing.product_id[s]) or cat.asin[s]}"
                if listing.listed[s]
                else f"{channel.channel_id}="
            )
        rows.append(
            (
                sku,
                cat.title[s],
                cat.category[s],
                cat.brand[s],
                f"{cents(cat.list_price_cents[s])}",
                f"{cents(cat.unit_cost_cents[s])}",
                cat.launch_date(s).isoformat(),
                cat.barcode[s],
                cat.asin[s],
                cat.seller_sku[s],
                ";".join(ids),
            )
        )
    return rows


HEADERS = {
    "sku_daily": ("channel_id", "sku", "date", "units_sold", "demand_units", "lost_units"),
    "inventory": ("location_id", "sku", "date", "on_hand"),
    "replenishments": ("location_id", "sku", "quantity", "ordered_on", "arrives_on"),
    "fx": ("date", "currency", "usd_per_unit"),
    "catalogue": (
        "sku",
        "title",
        "category",
        "brand",
        "list_price_usd",
        "unit_cost_usd",
        "launch_date",
        "barcode",
        "asin",
        "seller_sku",
        "channel_ids",
    ),
}


def truth_table(world: World, table: str, start: date, end: date) -> str:
    if table == "daily":
        return truth_csv(daily_truth(world, start, end))
    rows = {
        "sku_daily": lambda: sku_daily(world, start, end),
        "inventory": lambda: inventory(world, start, end),
        "replenishments": lambda: replenishments(world, start, end),
        "fx": lambda: fx(world, start, end),
        "catalogue": lambda: catalogue(world),
    }[table]()
    return _csv(HEADERS[table], rows)


def truth_csv(rows: list[TruthRow]) -> str:
    return _csv(TRUTH_COLUMNS, [_format(astuple(row)) for row in rows])


def _format(values: tuple) -> tuple:
    return tuple(
        f"{v:.2f}" if isinstance(v, Decimal) else v.isoformat() if isinstance(v, date) else v
        for v in values
    )


def _csv(header, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _days(start: date, end: date):
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# -- rows a clean daily batch receives ---------------------------------------------------------

EVENT_STREAMS = {  # kind → stream → what one record of a batch is
    "shopify": {"orders": "order", "inventory": "level"},
    "amazon_sp": {
        "orders": "order",
        "order_items": "line",
        "refunds": "refund",
        "inventory": "level",
        "sales_traffic": "sku_day",
    },
    "woocommerce": {"orders": "order", "refunds": "refund"},
    "files": {"sales": "store_line", "stock": "store_sku_day", "footfall": "store_hour"},
}


def batch_counts(world: World, channel_id: str, kind: str, lookback_hours: int) -> dict:
    """Per stream of a channel, the rows each daily batch of a clean run receives: the
    records changed in the day and its lookback (orders, their lines and refunds as of the
    day's end), or the snapshot's size (levels, counts per store). One value per world day
    from the second on (the first batch of a stream is a first sync). For the gate's volume
    band: a clean stream must never be held, whatever the seed."""
    o = world.orders
    index = world.channel_orders(channel_id)
    points = [p for p in world.points if p.channel.channel_id == channel_id]
    listed = int(world.listings[channel_id].listed.sum()) if channel_id in world.listings else 0
    span_days = 1 + -(-lookback_hours // 24)  # the day and the local days its lookback reaches
    counts: dict[str, list[int]] = {s: [] for s in EVENT_STREAMS.get(kind, {})}
    for day in world.dates[1:]:
        end = int(end_of_local_day(day, world.channels[channel_id].timezone).timestamp())
        start = end - 86400 - lookback_hours * 3600
        updated = world.updated_at(index, end)
        changed = index[(updated >= start) & (updated < end)]
        refunded = index[(o.refund_at[index] >= start) & (o.refund_at[index] < end)]
        first = world.day_index(day) - span_days + 1
        in_files = index[(o.day[index] >= first) & (o.day[index] <= world.day_index(day))]
        file_days = min(span_days, world.day_index(day) + 1)
        rows = {
            "order": len(changed),
            "line": int(o.line_count[changed].sum()),
            "refund": len(refunded),
            "level": listed * max(1, len({p.location for p in points})),
            "sku_day": listed * span_days,
            "store_line": int(o.line_count[in_files].sum()) + len(refunded),
            "store_sku_day": listed * len(points) * file_days,
            "store_hour": 10 * len(points) * file_days,
        }
        for stream, record in EVENT_STREAMS.get(kind, {}).items():
            counts[stream].append(rows[record])
    return counts
