"""A seeded, deterministic commerce world.

Every order of a channel's local day is generated from its own random stream
(seed, channel_id, local date), so any span of days can be generated on its own and a
given seed always yields byte-identical orders. Orders change after creation
(fulfilment, cancellation, refunds days later), so the world has a clock: `state_at(t)`
is what the channel's API would show at time t.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
TAX_RATE = Decimal("0.08")
FREE_SHIPPING_FROM = Decimal("50.00")
SHIPPING_FEE = Decimal("5.00")
MAX_UPDATE_AGE = timedelta(days=13)  # refunds come at most 12 days after the order
WEEKDAY_FACTOR = (0.9, 0.85, 0.9, 0.95, 1.1, 1.25, 1.15)  # Monday .. Sunday


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    price: Decimal
    variant_id: int


@dataclass(frozen=True)
class WorldChannel:
    """What the world needs to know of a channel instance."""

    channel_id: str
    kind: str
    timezone: str
    currency: str
    opened_on: date  # no orders before this local day
    orders_per_day: float = 40.0


@dataclass(frozen=True)
class Line:
    line_id: int
    product: Product
    quantity: int
    discount: Decimal  # allocated share of the order discount, for the whole line

    @property
    def original_total(self) -> Decimal:
        return self.product.price * self.quantity

    @property
    def discounted_total(self) -> Decimal:
        return self.original_total - self.discount


@dataclass(frozen=True)
class Refund:
    refund_id: int
    created_at: datetime
    line: Line

    @property
    def subtotal(self) -> Decimal:
        return self.line.discounted_total

    @property
    def tax(self) -> Decimal:
        return money(self.subtotal * TAX_RATE)


@dataclass(frozen=True)
class Order:
    channel_id: str
    order_id: int
    order_number: int
    local_date: date
    created_at: datetime  # UTC
    email: str | None
    customer_id: int | None
    currency: str
    lines: tuple[Line, ...]
    fulfilled_at: datetime | None
    cancelled_at: datetime | None
    refunds: tuple[Refund, ...] = field(default=())

    @property
    def gross(self) -> Decimal:
        return sum((line.original_total for line in self.lines), Decimal("0"))

    @property
    def discounts(self) -> Decimal:
        return sum((line.discount for line in self.lines), Decimal("0"))

    @property
    def subtotal(self) -> Decimal:
        return self.gross - self.discounts

    @property
    def shipping(self) -> Decimal:
        return Decimal("0.00") if self.subtotal >= FREE_SHIPPING_FROM else SHIPPING_FEE

    @property
    def tax(self) -> Decimal:
        return money(self.subtotal * TAX_RATE)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax

    def state_at(self, now: datetime) -> OrderState | None:
        """The order as the channel shows it at `now`; None if it does not exist yet."""
        if self.created_at >= now:
            return None
        cancelled = self.cancelled_at if self.cancelled_at and self.cancelled_at < now else None
        fulfilled = self.fulfilled_at if self.fulfilled_at and self.fulfilled_at < now else None
        refunds = tuple(r for r in self.refunds if r.created_at < now)
        events = [self.created_at] + [t for t in (cancelled, fulfilled) if t]
        events += [r.created_at for r in refunds]
        return OrderState(self, max(events), cancelled, fulfilled, refunds)


@dataclass(frozen=True)
class OrderState:
    order: Order
    updated_at: datetime
    cancelled_at: datetime | None
    fulfilled_at: datetime | None
    refunds: tuple[Refund, ...]

    @property
    def refunded_subtotal(self) -> Decimal:
        return sum((r.subtotal for r in self.refunds), Decimal("0.00"))

    @property
    def total_refunded(self) -> Decimal:
        return sum((r.subtotal + r.tax for r in self.refunds), Decimal("0.00"))

    @property
    def financial_status(self) -> str:
        if self.cancelled_at:
            return "VOIDED"
        if not self.refunds:
            return "PAID"
        if self.total_refunded >= self.order.total:
            return "REFUNDED"
        return "PARTIALLY_REFUNDED"


class World:
    """The commerce world for one seed. Cheap to create; orders are generated per day."""

    def __init__(self, seed: int, channels: list[WorldChannel] | tuple[WorldChannel, ...]):
        self.seed = seed
        self.channels = {c.channel_id: c for c in channels}
        self.catalogue = self._make_catalogue()
        self._cache: dict[tuple[str, date], tuple[Order, ...]] = {}

    def _make_catalogue(self) -> tuple[Product, ...]:
        rng = random.Random(f"{self.seed}:catalogue")
        kinds = ("Tee", "Hoodie", "Cap", "Sneaker", "Mug", "Tote", "Sock", "Jacket")
        colours = ("Black", "White", "Olive", "Navy", "Sand")
        products = []
        for i in range(24):
            kind = kinds[i % len(kinds)]
            price = Decimal(rng.choice((9, 12, 19, 24, 29, 39, 49, 59, 89, 129))) - Decimal("0.01")
            title = f"{kind} {colours[(i // len(kinds)) % len(colours)]}"
            products.append(Product(f"SKU-{i + 1:04d}", title, price, 40_000_000 + i + 1))
        return tuple(products)

    def orders_for_day(self, channel_id: str, local_day: date) -> tuple[Order, ...]:
        key = (channel_id, local_day)
        if key not in self._cache:
            self._cache[key] = self._generate_day(self.channels[channel_id], local_day)
        return self._cache[key]

    def orders_between(self, channel_id: str, first: date, last: date) -> list[Order]:
        days = (last - first).days + 1
        return [
            o for n in range(days) for o in self.orders_for_day(channel_id, first + timedelta(n))
        ]

    def _generate_day(self, channel: WorldChannel, local_day: date) -> tuple[Order, ...]:
        if local_day < channel.opened_on:
            return ()
        rng = random.Random(f"{self.seed}:{channel.channel_id}:{local_day.isoformat()}")
        tz = ZoneInfo(channel.timezone)
        day_start = datetime.combine(local_day, time(0), tz)
        day_seconds = int(
            (datetime.combine(local_day + timedelta(1), time(0), tz) - day_start).total_seconds()
        )
        mean = channel.orders_per_day * WEEKDAY_FACTOR[local_day.weekday()]
        count = _poisson(rng, mean)
        offsets = sorted(rng.randrange(day_seconds) for _ in range(count))
        day_index = local_day.toordinal() - date(2020, 1, 1).toordinal()
        orders = []
        for n, offset in enumerate(offsets):
            created = (day_start + timedelta(seconds=offset)).astimezone(UTC)
            orders.append(self._make_order(rng, channel, local_day, day_index, n, created))
        return tuple(orders)

    def _make_order(self, rng, channel, local_day, day_index, n, created) -> Order:
        order_id = 5_000_000_000 + day_index * 10_000 + n
        lines = self._make_lines(rng, order_id)
        customer_no = int(rng.paretovariate(1.2) * 37) % 800 if rng.random() > 0.05 else None
        email = f"customer{customer_no:04d}@example.com" if customer_no is not None else None
        fulfilled = created + timedelta(hours=rng.uniform(4, 40))
        cancelled = None
        if rng.random() < 0.03:
            cancelled = created + timedelta(minutes=rng.uniform(10, 300))
            fulfilled = None
        order = Order(
            channel_id=channel.channel_id,
            order_id=order_id,
            order_number=1000 + day_index * 1000 + n,
            local_date=local_day,
            created_at=created,
            email=email,
            customer_id=9_000_000 + customer_no if customer_no is not None else None,
            currency=channel.currency,
            lines=lines,
            fulfilled_at=fulfilled,
            cancelled_at=cancelled,
        )
        if cancelled is None and rng.random() < 0.08:
            refund_line = lines[rng.randrange(len(lines))]
            refunded_at = created + timedelta(days=rng.uniform(2, 12))
            refund = Refund(order_id * 10 + 1, refunded_at, refund_line)
            order = replace(order, refunds=(refund,))
        return order

    def _make_lines(self, rng, order_id: int) -> tuple[Line, ...]:
        picks = rng.sample(self.catalogue, k=min(len(self.catalogue), 1 + _poisson(rng, 0.6)))
        quantities = [1 if rng.random() < 0.8 else rng.randint(2, 3) for _ in picks]
        discount_rate = Decimal(rng.choice((0, 0, 0, 0, 10, 15, 20))) / 100
        lines = []
        for i, (product, quantity) in enumerate(zip(picks, quantities, strict=True)):
            discount = money(product.price * quantity * discount_rate)
            lines.append(Line(order_id * 100 + i, product, quantity, discount))
        return tuple(lines)


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method is exact and fast enough for the small means used here.
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1
