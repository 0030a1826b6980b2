"""A seeded, deterministic commerce world, generated day by day as column arrays.

Each simulated day draws from its own random stream (seed, day), and the only state carried
from day to day is stock, open replenishment orders and customers' first purchases, so a
longer world starts with exactly the days of a shorter one (prefix-stable), and the same
spec always gives byte-identical data.

One day, for every sales point (a web shop, a marketplace account, a store):
1. replenishment orders due today arrive at their location;
2. purchase events per SKU are drawn around the expected demand (see `demand`);
3. stock censors them: a line that no longer fits the location's stock is lost demand,
   recorded in the truth only;
4. sold lines are grouped into orders, which get a time, a customer, discounts, shipping,
   tax and a later life (fulfilment, cancellation, edits, a refund days later);
5. traffic (sessions, visits) is drawn consistent with the day's orders;
6. locations below their reorder point order more, with a lead time and occasional delays.

Money is held in integer cents of the channel's currency and turned into `Decimal` only
when an order is materialised for an API (`World.order`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from omnisim import demand
from omnisim.catalogue import (
    Catalogue,
    Listing,
    make_catalogue,
    make_listing,
    stable_hash,
)
from omnisim.spec import LEAD_DAYS, WorldChannel, WorldSpec

NEVER = np.iinfo(np.int64).max  # timestamp of an event that does not happen
SOURCE_GROUPS = (
    "Organic Search",
    "Direct",
    "Paid Search",
    "Email",
    "Organic Social",
    "Paid Social",
    "Referral",
)
SOURCE_SHARE = np.array([0.34, 0.22, 0.16, 0.09, 0.08, 0.06, 0.05])
SOURCE_CONVERSION = np.array([1.0, 1.3, 1.1, 1.8, 0.6, 0.7, 0.9])  # relative to the mean
HOURLY = {  # share of a day's orders per local hour
    "web": np.array(
        [
            1,
            0.6,
            0.4,
            0.3,
            0.3,
            0.5,
            1,
            2,
            3,
            4,
            4.5,
            5,
            5.5,
            5,
            4.5,
            4.5,
            5,
            5.5,
            6,
            7,
            7.5,
            6.5,
            4,
            2,
        ]
    ),
    "files": np.array([0] * 9 + [3, 5, 7, 9, 8, 7, 7, 8, 9, 8, 5] + [0] * 4),
}
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Mia",
    "Noah",
    "Olivia",
    "Paul",
    "Rosa",
    "Sam",
    "Tara",
    "Yusuf",
    "Zoe",
    "Lea",
    "Omar",
    "Nina",
)
LAST_NAMES = (
    "Smith",
    "Muller",
    "Martin",
    "Garcia",
    "Rossi",
    "Jones",
    "Dubois",
    "Novak",
    "Silva",
    "Brown",
    "Weber",
    "Moreau",
    "Khan",
    "Lopez",
    "Fischer",
    "Taylor",
)
DOMAINS = ("example.com", "mail.example", "post.example", "example.org")


def cents(value: int) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5).astype(np.int64)


@dataclass(frozen=True)
class SalesPoint:
    """Where orders happen: a web shop, a marketplace account or one store."""

    index: int
    point_id: str
    channel: WorldChannel
    location: int


@dataclass
class Columns:
    """A table of equal-length numpy columns."""

    def __len__(self) -> int:
        return len(next(iter(vars(self).values())))

    @classmethod
    def concat(cls, parts: list):
        names = list(cls.__dataclass_fields__)
        if not parts:
            return cls(**{n: np.zeros(0, dtype=np.int64) for n in names})
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})


@dataclass
class OrderColumns(Columns):
    order_id: np.ndarray
    channel: np.ndarray  # index into World.channel_list
    point: np.ndarray
    day: np.ndarray  # world day index (the channel's local date)
    number: np.ndarray  # order number within the channel (store receipts per store)
    created: np.ndarray  # epoch seconds, UTC
    fulfilled: np.ndarray
    cancelled: np.ndarray
    edited: np.ndarray
    customer: np.ndarray  # index into World.customers, -1 for an anonymous buyer
    source: np.ndarray  # index into SOURCE_GROUPS (web) else -1
    line_start: np.ndarray
    line_count: np.ndarray
    gross: np.ndarray  # cents: list price × quantity
    discount: np.ndarray
    subtotal: np.ndarray  # gross - discount (VAT included where prices include it)
    tax: np.ndarray
    shipping: np.ndarray
    total: np.ndarray
    refund_at: np.ndarray  # NEVER: no refund
    refund_line: np.ndarray  # global line index, -1
    refund_quantity: np.ndarray
    refund_subtotal: np.ndarray  # merchandise refunded, priced like `subtotal`
    refund_tax: np.ndarray
    # NEVER unless the shop deletes the refund (the simulator's deleted_refund fault): a
    # change of the world after its creation, so the truth follows it
    refund_deleted: np.ndarray


@dataclass
class LineColumns(Columns):
    line_id: np.ndarray
    order: np.ndarray  # global order index
    sku: np.ndarray  # index into the catalogue
    quantity: np.ndarray
    price: np.ndarray  # cents per unit
    gross: np.ndarray
    discount: np.ndarray
    tax: np.ndarray


@dataclass(frozen=True)
class Customer:
    index: int
    customer_id: int
    email: str
    first_name: str
    last_name: str
    home_channel: str


class Customers:
    """The customer base; a `Customer` is built when asked for (there can be many)."""

    def __init__(self, home: list[str], first, last, domain):
        self.home, self.first, self.last, self.domain = home, first, last, domain

    def __len__(self) -> int:
        return len(self.home)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, i: int) -> Customer:
        i = int(i)
        first, last = FIRST_NAMES[self.first[i]], LAST_NAMES[self.last[i]]
        return Customer(
            index=i,
            customer_id=6_000_000_000 + i * 17,
            email=f"{first.lower()}.{last.lower()}{i}@{DOMAINS[self.domain[i]]}",
            first_name=first,
            last_name=last,
            home_channel=self.home[i],
        )


@dataclass(frozen=True)
class Replenishment:
    location: str
    sku: str
    quantity: int
    ordered_on: date
    arrives_on: date


class World:
    """The world of one spec; generated when created (about 1 s per 100k order lines)."""

    def __init__(self, spec: WorldSpec):
        self.spec = spec
        self.seed = spec.seed
        self.channel_list = [c for c in spec.channels]
        self.channels = {c.channel_id: c for c in spec.channels}
        self.sales_channels = [c for c in self.channel_list if c.is_sales]
        self.catalogue: Catalogue = make_catalogue(spec.seed, spec.skus, spec.start)
        self.dates = [spec.start + timedelta(days=k) for k in range(spec.days)]
        self.currencies = sorted({"USD"} | {c.currency for c in self.channel_list})
        self.fx = self._fx_series()  # currency -> USD per unit, per day
        self.listings: dict[str, Listing] = {
            c.channel_id: make_listing(
                spec.seed,
                c.channel_id,
                c.kind,
                c.listing_share,
                self.catalogue,
                1 / self.fx[c.currency][0],
            )
            for c in self.sales_channels
        }
        self.locations: list[str] = []
        self.points = self._sales_points()
        self._make_customers()
        self._generate()

    # -- set-up ------------------------------------------------------------------------

    def _fx_series(self) -> dict[str, np.ndarray]:
        anchors = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "CAD": 0.73}
        series = {}
        for currency in self.currencies:
            rng = np.random.default_rng([self.seed, 4, stable_hash(currency)])
            steps = rng.normal(0, 0.004, self.spec.days)
            steps[0] = 0.0
            anchor = anchors.get(currency, 1.0)
            series[currency] = (
                np.ones(self.spec.days) if currency == "USD" else anchor * np.exp(np.cumsum(steps))
            )
        return series

    def _sales_points(self) -> list[SalesPoint]:
        points = []
        for channel in self.sales_channels:
            for point_id, location in channel.sales_points():
                if location not in self.locations:
                    self.locations.append(location)
                points.append(
                    SalesPoint(len(points), point_id, channel, self.locations.index(location))
                )
        return points

    def _make_customers(self) -> None:
        n = self.spec.customers
        rng = np.random.default_rng([self.seed, 5])
        weights = np.array([c.daily_orders for c in self.sales_channels], dtype=float)
        self.customer_home = rng.choice(len(self.sales_channels), n, p=weights / weights.sum())
        self.customer_propensity = rng.gamma(0.6, 1.0, n)
        self.customer_lifetime = (30 + rng.exponential(240, n)).astype(np.int64)
        self.customer_first_day = np.full(n, -1, dtype=np.int64)
        self.customers = Customers(
            home=[self.sales_channels[h].channel_id for h in self.customer_home],
            first=rng.integers(0, len(FIRST_NAMES), n),
            last=rng.integers(0, len(LAST_NAMES), n),
            domain=rng.integers(0, len(DOMAINS), n),
        )
        self._home_index = [
            np.flatnonzero(self.customer_home == c) for c in range(len(self.sales_channels))
        ]

    # -- generation ---------------------------------------------------------------------

    def _generate(self) -> None:
        spec, cat = self.spec, self.catalogue
        n_points, n_skus, n_days = len(self.points), len(cat), spec.days
        n_locations = len(self.locations)
        self.demand_units = np.zeros((n_points, n_days, n_skus), dtype=np.int32)
        self.sold_units = np.zeros((n_points, n_days, n_skus), dtype=np.int32)
        self.on_hand = np.zeros((n_locations, n_days, n_skus), dtype=np.int32)
        self.sessions = np.zeros((n_points, n_days, len(SOURCE_GROUPS)), dtype=np.int64)
        self.users = np.zeros((n_points, n_days), dtype=np.int64)
        self.add_to_carts = np.zeros((n_points, n_days, len(SOURCE_GROUPS)), dtype=np.int64)
        self.sku_sessions = np.zeros((n_points, n_days, n_skus), dtype=np.int32)
        self.replenishments: list[Replenishment] = []

        listed = np.array([self.listings[p.channel.channel_id].listed for p in self.points])
        price = np.array([self.listings[p.channel.channel_id].price_cents for p in self.points])
        share = listed * cat.popularity
        share = share / share.sum(axis=1, keepdims=True)
        lines_per_order = np.array([p.channel.rate("lines") for p in self.points])
        per_store = np.array([len(p.channel.stores) or 1 for p in self.points], dtype=float)
        base_lines = np.array([p.channel.daily_orders for p in self.points]) / per_store
        base_lines *= lines_per_order
        mean_qty = 1.25 + 0.75 * cat.long_tail  # long-tail SKUs sell rarely, in bigger lots
        base_rate = base_lines[:, None] * share  # lines per day per point × SKU
        point_location = np.array([p.location for p in self.points])
        self._point_channel = np.array(
            [
                [c.channel_id for c in self.channel_list].index(p.channel.channel_id)
                for p in self.points
            ]
        )
        location_rate = np.zeros((n_locations, n_skus))
        np.add.at(location_rate, point_location, base_rate * mean_qty)
        lead = np.array([self._location_lead(loc) for loc in range(n_locations)])
        self.reorder_point = np.ceil(location_rate * (lead[:, None] + 4)).astype(np.int64)
        self.order_quantity = np.maximum(6, np.ceil(location_rate * 28)).astype(np.int64)
        rng0 = np.random.default_rng([self.seed, 6])
        stock = self.reorder_point + np.round(
            self.order_quantity * rng0.uniform(0.4, 1.2, self.order_quantity.shape)
        ).astype(np.int64)
        arrivals = np.zeros((n_days + 64, n_locations, n_skus), dtype=np.int64)
        on_order = np.zeros((n_locations, n_skus), dtype=np.int64)

        day_orders, day_lines = [], []
        self._order_count = 0
        self._line_count = 0
        self._numbers = {
            p.point_id if p.channel.kind == "files" else p.channel.channel_id: 0
            for p in self.points
        }
        for k, day in enumerate(self.dates):
            rng = np.random.default_rng([self.seed, 7, day.toordinal()])
            stock += arrivals[k]
            on_order -= arrivals[k]
            rate, discount_rate = self._expected_lines(k, day, base_rate, share)
            events = rng.poisson(rate)
            self._sku_traffic(rng, k, rate)
            sold = self._censor(rng, k, events, point_location, stock, mean_qty)
            orders = None
            if sold is not None:
                orders, lines = self._make_orders(rng, k, day, *sold, price, discount_rate)
                day_orders.append(orders)
                day_lines.append(lines)
            self._traffic(rng, k, day, orders)
            self.on_hand[:, k, :] = stock
            self._replenish(rng, k, stock, on_order, arrivals, lead)
        self.orders = OrderColumns.concat(day_orders)
        self.lines = LineColumns.concat(day_lines)
        self._index_channels()

    def _location_lead(self, location: int) -> int:
        for p in self.points:
            if p.location == location:
                return LEAD_DAYS[p.channel.kind]
        return 7

    def _expected_lines(self, k, day, base_rate, share):
        cat, n_skus = self.catalogue, len(self.catalogue)
        factor = np.zeros(len(self.points))
        discount_rate = np.zeros((len(self.points), n_skus))
        common = demand.season(day) * demand.trend(day, self.spec.start)
        for p in self.points:
            channel = p.channel
            if day < channel.opened_on:
                continue
            peak = demand.peak_day(day, channel.kind)
            factor[p.index] = common * demand.WEEKDAY[channel.kind][day.weekday()]
            promo = demand.weekly_promotions(self.seed, p.index, day, n_skus)
            if peak:
                factor[p.index] *= peak.traffic
                promo = np.maximum(promo, peak.discount)
            discount_rate[p.index] = promo
        launched = cat.launch_day <= day.toordinal()
        uplift = (1 - discount_rate) ** -cat.elasticity
        rate = base_rate * factor[:, None] * uplift * launched
        return rate, discount_rate

    def _censor(self, rng, k, events, point_location, stock, mean_qty):
        """Lines (point, sku, quantity) that stock allows; the rest is lost demand."""
        point, sku = np.nonzero(events)
        counts = events[point, sku]
        point = np.repeat(point, counts)
        sku = np.repeat(sku, counts)
        if len(point) == 0:
            return None
        extra = mean_qty[sku] - 1
        quantity = 1 + np.minimum(rng.poisson(extra), 11)
        np.add.at(self.demand_units[:, k, :], (point, sku), quantity)
        location = point_location[point]
        order = np.lexsort((rng.random(len(point)), sku, location))
        point, sku, quantity, location = point[order], sku[order], quantity[order], location[order]
        group = location * len(self.catalogue) + sku
        running = np.cumsum(quantity)
        starts = np.r_[True, group[1:] != group[:-1]]
        before = np.maximum.accumulate(np.where(starts, running - quantity, 0))
        keep = running - before <= stock[location, sku]
        point, sku, quantity, location = point[keep], sku[keep], quantity[keep], location[keep]
        np.subtract.at(stock, (location, sku), quantity)
        np.add.at(self.sold_units[:, k, :], (point, sku), quantity)
        return (point, sku, quantity) if len(point) else None

    def _make_orders(self, rng, k, day, point, sku, quantity, price, discount_rate):
        # Shuffle lines within each sales point, then cut them into orders.
        order = np.lexsort((rng.random(len(point)), point))
        point, sku, quantity = point[order], sku[order], quantity[order]
        lines_per_order = np.array([p.channel.rate("lines") for p in self.points])
        starts = rng.random(len(point)) < 1 / lines_per_order[point]
        starts[0] = True
        starts[1:] |= point[1:] != point[:-1]
        order_of_line = np.cumsum(starts) - 1
        n = int(order_of_line[-1]) + 1
        o_point = point[starts]
        o_channel = self._point_channel[o_point]

        created = self._order_times(rng, k, day, o_point)
        # Orders sorted by channel then time; lines follow their order.
        by_time = np.lexsort((created, o_channel))
        rank = np.empty(n, dtype=np.int64)
        rank[by_time] = np.arange(n)
        o_point, o_channel, created = o_point[by_time], o_channel[by_time], created[by_time]
        new_order_of_line = rank[order_of_line]
        line_order = np.argsort(new_order_of_line, kind="stable")
        order_of_line = new_order_of_line[line_order]
        point, sku, quantity = point[line_order], sku[line_order], quantity[line_order]

        kinds = [self.points[i].channel.kind for i in range(len(self.points))]
        is_web = np.array([kinds[i] in ("shopify", "woocommerce") for i in range(len(kinds))])
        code = np.where(is_web[o_point] & (rng.random(n) < 0.08), 0.10, 0.0)
        rate = np.maximum(discount_rate[point, sku], code[order_of_line])
        unit_price = price[point, sku]
        gross = unit_price * quantity
        discount = round_half_up(gross * rate)
        net = gross - discount
        tax_rate = np.array([float(p.channel.tax[0]) for p in self.points])
        included = np.array([p.channel.tax[1] for p in self.points])
        r = tax_rate[point]
        tax = np.where(included[point], round_half_up(net * r / (1 + r)), round_half_up(net * r))

        line_start = np.flatnonzero(np.r_[True, order_of_line[1:] != order_of_line[:-1]])
        line_count = np.diff(np.r_[line_start, len(point)])
        o_gross = np.add.reduceat(gross, line_start)
        o_discount = np.add.reduceat(discount, line_start)
        o_subtotal = o_gross - o_discount
        o_tax = np.add.reduceat(tax, line_start)
        fee = np.array([_cents(p.channel.shipping_fee) for p in self.points])
        free_from = np.array([_cents(p.channel.free_shipping_from) for p in self.points])
        shipping = np.where(is_web[o_point] & (o_subtotal < free_from[o_point]), fee[o_point], 0)
        o_included = included[o_point]
        total = o_subtotal + shipping + np.where(o_included, 0, o_tax)

        life = self._lifecycle(rng, o_point, created)
        refund = self._refunds(
            rng,
            life["cancelled"],
            life["fulfilled"],
            o_point,
            line_start,
            line_count,
            quantity,
            net,
            r,
            included,
        )
        numbers = self._order_numbers(o_point)
        first_line = self._line_count
        orders = OrderColumns(
            order_id=self._order_ids(o_channel, n),
            channel=o_channel,
            point=o_point,
            day=np.full(n, k),
            number=numbers,
            created=created,
            fulfilled=life["fulfilled"],
            cancelled=life["cancelled"],
            edited=life["edited"],
            customer=self._customers_for(rng, k, o_point, o_channel),
            source=np.where(is_web[o_point], rng.choice(len(SOURCE_GROUPS), n, p=SOURCE_SHARE), -1),
            line_start=line_start + first_line,
            line_count=line_count,
            gross=o_gross,
            discount=o_discount,
            subtotal=o_subtotal,
            tax=o_tax,
            shipping=shipping,
            total=total,
            refund_at=refund["at"],
            refund_line=np.where(refund["line"] >= 0, refund["line"] + first_line, -1),
            refund_quantity=refund["quantity"],
            refund_subtotal=refund["subtotal"],
            refund_tax=refund["tax"],
            refund_deleted=np.full(n, NEVER),
        )
        lines = LineColumns(
            line_id=np.arange(first_line, first_line + len(point)) + 10_000_000_000,
            order=order_of_line + self._order_count,
            sku=sku,
            quantity=quantity,
            price=unit_price,
            gross=gross,
            discount=discount,
            tax=tax,
        )
        self._order_count += n
        self._line_count += len(point)
        return orders, lines

    def _order_times(self, rng, k, day, o_point):
        created = np.zeros(len(o_point), dtype=np.int64)
        for p in self.points:
            mask = o_point == p.index
            count = int(mask.sum())
            if not count:
                continue
            profile = HOURLY["files" if p.channel.kind == "files" else "web"]
            hours = rng.choice(24, count, p=profile / profile.sum())
            # the UTC instant of each local hour: right on days when the clocks change
            tz = ZoneInfo(p.channel.timezone)
            hour_start = np.array(
                [int(datetime.combine(day, time(h), tz).timestamp()) for h in range(24)]
            )
            created[mask] = hour_start[hours] + rng.integers(0, 3600, count)
        return created

    def _lifecycle(self, rng, o_point, created):
        n = len(o_point)
        rate = {
            name: np.array([p.channel.rate(name) for p in self.points])[o_point]
            for name in ("cancel", "edit")
        }
        kind = np.array([p.channel.kind for p in self.points])[o_point]
        hours = np.where(kind == "amazon_sp", rng.uniform(2, 30, n), rng.uniform(4, 40, n))
        fulfilled = np.where(kind == "files", created, created + (hours * 3600).astype(np.int64))
        is_cancelled = rng.random(n) < rate["cancel"]
        cancel_after = np.minimum(rng.uniform(600, 5 * 3600, n), (fulfilled - created) * 0.9)
        cancelled = np.where(is_cancelled, created + cancel_after.astype(np.int64), NEVER)
        fulfilled = np.where(is_cancelled, NEVER, fulfilled)
        is_edited = ~is_cancelled & (rng.random(n) < rate["edit"])
        edited = np.where(
            is_edited, created + rng.uniform(1800, 30 * 3600, n).astype(np.int64), NEVER
        )
        return {"fulfilled": fulfilled, "cancelled": cancelled, "edited": edited}

    def _refunds(
        self, rng, cancelled, fulfilled, o_point, line_start, line_count, quantity, net, r, included
    ):
        n = len(o_point)
        p_refund = np.array([p.channel.rate("refund") for p in self.points])[o_point]
        has = (cancelled == NEVER) & (rng.random(n) < p_refund)
        line = line_start + (rng.random(n) * line_count).astype(np.int64)
        qty = quantity[line]
        partial = (qty > 1) & (rng.random(n) < 0.4)
        refund_qty = np.where(partial, 1 + (rng.random(n) * (qty - 1)).astype(np.int64), qty)
        subtotal = round_half_up(net[line] * refund_qty / qty)
        rr = r[line]
        tax = np.where(
            included[o_point], round_half_up(subtotal * rr / (1 + rr)), round_half_up(subtotal * rr)
        )
        after = (rng.uniform(2, 30, n) * 86400).astype(np.int64)
        at = np.where(has, np.where(fulfilled == NEVER, 0, fulfilled) + after, NEVER)
        return {
            "at": at,
            "line": np.where(has, line, -1),
            "quantity": np.where(has, refund_qty, 0),
            "subtotal": np.where(has, subtotal, 0),
            "tax": np.where(has, tax, 0),
        }

    def _order_numbers(self, o_point):
        numbers = np.zeros(len(o_point), dtype=np.int64)
        for p in self.points:
            key = p.point_id if p.channel.kind == "files" else p.channel.channel_id
            mask = o_point == p.index
            count = int(mask.sum())
            numbers[mask] = self._numbers[key] + 1001 + np.arange(count)
            self._numbers[key] += count
        return numbers

    def _order_ids(self, o_channel, n):
        return 5_000_000_000 + self._order_count + np.arange(n, dtype=np.int64)

    def _customers_for(self, rng, k, o_point, o_channel):
        n = len(o_point)
        customer = np.full(n, -1, dtype=np.int64)
        if not self.spec.customers:
            return customer
        anonymous = np.array([p.channel.rate("anonymous") for p in self.points])[o_point]
        known = rng.random(n) >= anonymous
        first = self.customer_first_day
        alive = (first < 0) | (k - first <= self.customer_lifetime)
        base = self.customer_propensity * alive
        # A customer buys on their home channel, and at 12% of that rate elsewhere: draw
        # from the mixture "anyone × 0.12" + "home customers × 0.88" (two cumulative sums).
        everyone = np.cumsum(base)
        for c, channel in enumerate(self.sales_channels):
            mask = known & (o_channel == self.channel_list.index(channel))
            count = int(mask.sum())
            home = self._home_index[c]
            if not count or not len(home):
                continue
            at_home = np.cumsum(base[home])
            mass_all, mass_home = 0.12 * everyone[-1], 0.88 * at_home[-1]
            u = rng.random(count) * (mass_all + mass_home)
            anywhere = u < mass_all
            picks = np.empty(count, dtype=np.int64)
            picks[anywhere] = np.searchsorted(everyone, u[anywhere] / 0.12, side="right")
            homed = np.searchsorted(at_home, (u[~anywhere] - mass_all) / 0.88, side="right")
            picks[~anywhere] = home[np.minimum(homed, len(home) - 1)]
            customer[mask] = np.minimum(picks, len(base) - 1)
        new = customer[(customer >= 0)]
        new = new[first[new] < 0]
        first[new] = k
        return customer

    def _traffic(self, rng, k, day, orders: OrderColumns | None) -> None:
        for p in self.points:
            if day < p.channel.opened_on:
                continue
            mask = (orders.point == p.index) if orders is not None else np.zeros(0, dtype=bool)
            count = int(mask.sum())
            cr = p.channel.rate("cr") * rng.uniform(0.85, 1.15)
            if p.channel.kind in ("shopify", "woocommerce"):
                sources = orders.source[mask] if count else np.zeros(0, dtype=np.int64)
                purchases = np.bincount(sources, minlength=len(SOURCE_GROUPS))
                visits = max(count, int(round(count / cr))) if count else rng.poisson(20)
                extra = max(0, visits - count)
                shares = SOURCE_SHARE / SOURCE_CONVERSION
                browse = rng.multinomial(extra, shares / shares.sum())
                self.sessions[p.index, k] = purchases + browse
                self.add_to_carts[p.index, k] = purchases + rng.binomial(browse, 0.06)
                self.users[p.index, k] = max(
                    count, round((extra + count) * rng.uniform(0.78, 0.86))
                )
            elif p.channel.kind == "files":
                visits = max(count, int(round(count / cr)))
                self.sessions[p.index, k, 0] = visits  # footfall
                self.users[p.index, k] = visits
            # amazon_sp traffic is per SKU (_sku_traffic)

    def _sku_traffic(self, rng, k, rate) -> None:
        for p in self.points:
            if p.channel.kind != "amazon_sp":
                continue
            cr = p.channel.rate("cr")
            self.sku_sessions[p.index, k] = rng.poisson(rate[p.index] / cr)

    def _replenish(self, rng, k, stock, on_order, arrivals, lead) -> None:
        position = stock + on_order
        need = position <= self.reorder_point
        if not need.any():
            return
        location, sku = np.nonzero(need)
        quantity = self.order_quantity[location, sku]
        days = lead[location] + rng.integers(-1, 2, len(location))
        delayed = rng.random(len(location)) < 0.07  # a supplier misses the date
        days = np.clip(np.where(delayed, days * 2 + 3, days), 1, 63)
        np.add.at(arrivals, (k + days, location, sku), quantity)
        on_order[location, sku] += quantity
        day = self.dates[k]
        for loc, s, q, d in zip(location, sku, quantity, days, strict=True):
            self.replenishments.append(
                Replenishment(
                    self.locations[loc],
                    self.catalogue.sku[s],
                    int(q),
                    day,
                    day + timedelta(days=int(d)),
                )
            )

    def _index_channels(self) -> None:
        o = self.orders
        self._channel_slices = {}
        for c, channel in enumerate(self.channel_list):
            idx = np.flatnonzero(o.channel == c)
            # orders are grouped per day, channel, time: a channel's orders in time order
            self._channel_slices[channel.channel_id] = idx[
                np.argsort(o.created[idx], kind="stable")
            ]

    # -- reading ------------------------------------------------------------------------

    def channel_orders(self, channel_id: str) -> np.ndarray:
        """Global order indexes of a channel, in creation order."""
        if channel_id not in self.channels:
            raise KeyError(f"the simulated world has no channel {channel_id!r}")
        return self._channel_slices[channel_id]

    def updated_at(self, index: np.ndarray, now: int) -> np.ndarray:
        """Last change visible at `now` (epoch s) of the given orders; -1 if not created yet."""
        o = self.orders
        updated = np.where(o.created[index] < now, o.created[index], -1)
        for events in (o.fulfilled, o.cancelled, o.edited, o.refund_at, o.refund_deleted):
            at = events[index]
            updated = np.where((at < now) & (updated >= 0), np.maximum(updated, at), updated)
        return updated

    def refunded_by(self, index: np.ndarray, as_of: int) -> np.ndarray:
        """Which of the given orders show a refund at `as_of` (made, and not deleted)."""
        o = self.orders
        return (o.refund_at[index] < as_of) & (o.refund_deleted[index] >= as_of)

    def delete_refunds(self, channel_id: str, day: date, hours: float) -> int:
        """The shop deletes the refunds a channel made on `day` (its local date), `hours`
        after each was made; returns how many. Undone by `restore_refunds`."""
        o = self.orders
        index = self.channel_orders(channel_id)
        index = index[o.refund_at[index] != NEVER]
        zone = ZoneInfo(self.channels[channel_id].timezone)
        start = int(datetime.combine(day, time(0), zone).timestamp())
        end = int(datetime.combine(day + timedelta(days=1), time(0), zone).timestamp())
        chosen = index[(o.refund_at[index] >= start) & (o.refund_at[index] < end)]
        o.refund_deleted[chosen] = o.refund_at[chosen] + int(hours * 3600)
        return len(chosen)

    def restore_refunds(self) -> None:
        self.orders.refund_deleted[:] = NEVER

    def day_index(self, day: date) -> int:
        return (day - self.spec.start).days

    def orders_between(self, channel_id: str, first: date, last: date) -> list[Order]:
        index = self.channel_orders(channel_id)
        days = self.orders.day[index]
        wanted = index[(days >= self.day_index(first)) & (days <= self.day_index(last))]
        return [self.order(int(i)) for i in wanted]

    def orders_for_day(self, channel_id: str, day: date) -> list[Order]:
        return self.orders_between(channel_id, day, day)

    def order(self, i: int) -> Order:
        o, cat = self.orders, self.catalogue
        channel = self.channel_list[int(o.channel[i])]
        listing = self.listings[channel.channel_id]
        start = int(o.line_start[i])
        lines = []
        for j in range(start, start + int(o.line_count[i])):
            s = int(self.lines.sku[j])
            product = Product(
                sku=cat.sku[s],
                title=cat.title[s],
                price=cents(self.lines.price[j]),
                variant_id=int(listing.variant_id[s]),
                product_id=int(listing.product_id[s]),
                barcode=cat.barcode[s],
                asin=cat.asin[s],
                seller_sku=cat.seller_sku[s],
            )
            lines.append(
                Line(
                    line_id=int(self.lines.line_id[j]),
                    product=product,
                    quantity=int(self.lines.quantity[j]),
                    discount=cents(self.lines.discount[j]),
                    tax=cents(self.lines.tax[j]),
                )
            )
        refunds: tuple[Refund, ...] = ()
        if o.refund_at[i] != NEVER:
            line = lines[int(o.refund_line[i]) - start]
            refunds = (
                Refund(
                    refund_id=int(o.order_id[i]) * 10 + 1,
                    created_at=_ts(o.refund_at[i]),
                    line=line,
                    quantity=int(o.refund_quantity[i]),
                    subtotal=cents(o.refund_subtotal[i]),
                    tax=cents(o.refund_tax[i]),
                    deleted_at=_ts(o.refund_deleted[i]),
                ),
            )
        customer = self.customers[int(o.customer[i])] if o.customer[i] >= 0 else None
        rate, included = channel.tax
        return Order(
            index=i,
            channel_id=channel.channel_id,
            point_id=self.points[int(o.point[i])].point_id,
            order_id=int(o.order_id[i]),
            order_number=int(o.number[i]),
            local_date=self.dates[int(o.day[i])],
            created_at=_ts(o.created[i]),
            customer=customer,
            currency=channel.currency,
            lines=tuple(lines),
            fulfilled_at=_ts(o.fulfilled[i]),
            cancelled_at=_ts(o.cancelled[i]),
            edited_at=_ts(o.edited[i]),
            refunds=refunds,
            shipping=cents(o.shipping[i]),
            tax=cents(o.tax[i]),
            taxes_included=included,
            tax_rate=Decimal(rate),
            source=SOURCE_GROUPS[int(o.source[i])] if o.source[i] >= 0 else None,
        )

    def on_hand_at(self, location: str, day: date) -> np.ndarray:
        """Stock per SKU at the end of `day` at a location."""
        k = min(max(self.day_index(day), 0), self.spec.days - 1)
        return self.on_hand[self.locations.index(location), k]


def _cents(text: str) -> int:
    return int(Decimal(text) * 100)


def _ts(value) -> datetime | None:
    if value == NEVER:
        return None
    return datetime.fromtimestamp(int(value), UTC)


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    price: Decimal
    variant_id: int
    product_id: int = 0
    barcode: str = ""
    asin: str = ""
    seller_sku: str = ""


@dataclass(frozen=True)
class Line:
    line_id: int
    product: Product
    quantity: int
    discount: Decimal  # for the whole line
    tax: Decimal = Decimal("0.00")

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
    quantity: int
    subtotal: Decimal  # merchandise refunded, priced like the line (VAT inside if included)
    tax: Decimal
    deleted_at: datetime | None = None  # deleted in the shop (WooCommerce allows it)


@dataclass(frozen=True)
class Order:
    index: int
    channel_id: str
    point_id: str
    order_id: int
    order_number: int
    local_date: date
    created_at: datetime  # UTC
    customer: Customer | None
    currency: str
    lines: tuple[Line, ...]
    fulfilled_at: datetime | None
    cancelled_at: datetime | None
    edited_at: datetime | None
    refunds: tuple[Refund, ...]
    shipping: Decimal
    tax: Decimal
    taxes_included: bool
    tax_rate: Decimal
    source: str | None

    @property
    def email(self) -> str | None:
        return self.customer.email if self.customer else None

    @property
    def customer_id(self) -> int | None:
        return self.customer.customer_id if self.customer else None

    @property
    def gross(self) -> Decimal:
        return sum((line.original_total for line in self.lines), Decimal("0.00"))

    @property
    def discounts(self) -> Decimal:
        return sum((line.discount for line in self.lines), Decimal("0.00"))

    @property
    def subtotal(self) -> Decimal:
        return self.gross - self.discounts

    @property
    def total(self) -> Decimal:
        return (
            self.subtotal + self.shipping + (Decimal("0.00") if self.taxes_included else self.tax)
        )

    def state_at(self, now: datetime) -> OrderState | None:
        """The order as the channel shows it at `now`; None if it does not exist yet."""
        if self.created_at >= now:
            return None

        def seen(at):
            return at if at is not None and at < now else None

        cancelled, fulfilled, edited = map(
            seen, (self.cancelled_at, self.fulfilled_at, self.edited_at)
        )
        made = [r for r in self.refunds if r.created_at < now]
        refunds = tuple(r for r in made if seen(r.deleted_at) is None)
        events = [self.created_at] + [t for t in (cancelled, fulfilled, edited) if t]
        events += [seen(r.deleted_at) or r.created_at for r in made]
        return OrderState(self, max(events), cancelled, fulfilled, refunds, edited)


@dataclass(frozen=True)
class OrderState:
    order: Order
    updated_at: datetime
    cancelled_at: datetime | None
    fulfilled_at: datetime | None
    refunds: tuple[Refund, ...]
    edited_at: datetime | None = None

    @property
    def refunded_subtotal(self) -> Decimal:
        return sum((r.subtotal for r in self.refunds), Decimal("0.00"))

    @property
    def total_refunded(self) -> Decimal:
        """Money returned to the buyer."""
        included = self.order.taxes_included
        return sum(
            (r.subtotal + (Decimal("0.00") if included else r.tax) for r in self.refunds),
            Decimal("0.00"),
        )

    @property
    def financial_status(self) -> str:
        if self.cancelled_at:
            return "VOIDED"
        if not self.refunds:
            return "PAID"
        if self.total_refunded >= self.order.total:
            return "REFUNDED"
        return "PARTIALLY_REFUNDED"
