"""True daily figures per channel, computed from the world itself (never from the warehouse).

Definitions (the same as the marts):
- a day is the channel's local day of order creation;
- orders_count counts orders not cancelled;
- gmv: merchandise value of those orders before discounts, without tax and shipping;
- net_revenue: gmv minus discounts minus refunded merchandise (tax and shipping excluded).
State is taken as the channel shows it at the end of the last local day (`as_of`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from omnichannel.simulator.world import World

TRUTH_COLUMNS = ("channel_id", "order_date", "orders_count", "gmv", "net_revenue")


@dataclass(frozen=True)
class TruthRow:
    channel_id: str
    order_date: date
    orders_count: int
    gmv: Decimal
    net_revenue: Decimal


def end_of_local_day(day: date, timezone: str) -> datetime:
    return datetime.combine(day + timedelta(1), time(0), ZoneInfo(timezone))


def daily_truth(world: World, start: date, end: date) -> list[TruthRow]:
    rows = []
    for channel in world.channels.values():
        as_of = end_of_local_day(end, channel.timezone)
        for n in range((end - start).days + 1):
            day = start + timedelta(n)
            count, gmv, net = 0, Decimal("0.00"), Decimal("0.00")
            for order in world.orders_for_day(channel.channel_id, day):
                state = order.state_at(as_of)
                if state is None or state.cancelled_at is not None:
                    continue
                count += 1
                gmv += order.gross
                net += order.subtotal - state.refunded_subtotal
            rows.append(TruthRow(channel.channel_id, day, count, gmv, net))
    return rows


def truth_csv(rows: list[TruthRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TRUTH_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.channel_id,
                row.order_date.isoformat(),
                row.orders_count,
                f"{row.gmv:.2f}",
                f"{row.net_revenue:.2f}",
            ]
        )
    return buffer.getvalue()
