"""What the simulated world is made of: its size, its channels, stores and locations.

The world is described by `include/config/simulator.yml` (size, seed defaults, per-channel
behaviour) on top of the channel instances of `channels.yml` (kind, time zone, currency),
so a channel's time zone or currency is written once. Tests and benchmarks build a
`WorldSpec` directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

from omnichannel.config import ChannelsConfig, ConfigError
from omnichannel.paths import config_dir

SALES_KINDS = ("shopify", "amazon_sp", "woocommerce", "pos_files")
TRAFFIC_KINDS = ("ga4",)

# Per kind: share of anonymous buyers, cancellation, edit-after-creation and refund rates,
# mean lines per order, conversion rate of a session (or a store visit) into an order.
KIND_DEFAULTS = {
    "shopify": dict(anonymous=0.03, cancel=0.03, edit=0.06, refund=0.08, lines=1.5, cr=0.028),
    "woocommerce": dict(anonymous=0.05, cancel=0.03, edit=0.04, refund=0.07, lines=1.4, cr=0.022),
    "amazon_sp": dict(anonymous=0.0, cancel=0.02, edit=0.0, refund=0.10, lines=1.2, cr=0.11),
    "pos_files": dict(anonymous=0.65, cancel=0.0, edit=0.0, refund=0.03, lines=1.8, cr=0.24),
}
# Sales tax is added on top in the US; VAT is included in the price elsewhere.
TAX_BY_CURRENCY = {"USD": ("0.08", False), "EUR": ("0.19", True), "GBP": ("0.20", True)}
LEAD_DAYS = {"shopify": 7, "woocommerce": 7, "amazon_sp": 14, "pos_files": 5}


@dataclass(frozen=True)
class Store:
    store_id: str
    name: str


@dataclass(frozen=True)
class WorldChannel:
    """A channel instance as the world sees it."""

    channel_id: str
    kind: str
    timezone: str
    currency: str
    opened_on: date  # no orders before this local day
    daily_orders: float = 40.0  # mean orders per local day at an average season
    location: str = ""  # stock location; channels may share one (a web warehouse)
    stores: tuple[Store, ...] = ()  # pos_files: one sales point and location per store
    listing_share: float = 1.0  # share of the catalogue listed on this channel
    tax_rate: str = ""  # decimal string; default from the currency
    taxes_included: bool | None = None
    shipping_fee: str = "4.95"
    free_shipping_from: str = "50.00"
    marketplace_id: str = ""  # amazon_sp
    property_id: str = ""  # ga4
    traffic_of: str = ""  # ga4: the web channel whose traffic this property measures
    behaviour: dict = field(default_factory=dict)  # overrides of KIND_DEFAULTS
    rate_limits: dict = field(default_factory=dict)  # API throttling (see the kind's module)

    def rate(self, name: str) -> float:
        return float(self.behaviour.get(name, KIND_DEFAULTS[self.kind][name]))

    @property
    def tax(self) -> tuple[str, bool]:
        rate, included = TAX_BY_CURRENCY.get(self.currency, ("0.10", True))
        return (
            self.tax_rate or rate,
            included if self.taxes_included is None else self.taxes_included,
        )

    @property
    def is_sales(self) -> bool:
        return self.kind in SALES_KINDS

    def sales_points(self) -> tuple[tuple[str, str], ...]:
        """(sales point id, location id) pairs: one per store, else the channel itself."""
        if self.kind == "pos_files":
            return tuple((s.store_id, f"store_{s.store_id}") for s in self.stores)
        return ((self.channel_id, self.location or f"wh_{self.channel_id}"),)


@dataclass(frozen=True)
class WorldSpec:
    seed: int
    start: date  # first simulated day (history before the pipeline's start may exist)
    end: date  # last simulated day (inclusive)
    channels: tuple[WorldChannel, ...]
    skus: int = 60
    customers: int = 3000

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def channel(self, channel_id: str) -> WorldChannel:
        for channel in self.channels:
            if channel.channel_id == channel_id:
                return channel
        raise KeyError(f"the simulated world has no channel {channel_id!r}")


def spec_from_config(
    seed: int,
    config: ChannelsConfig,
    *,
    end: date | None = None,
    path: Path | None = None,
    **overrides,
) -> WorldSpec:
    """The world for the configured channel instances, sized by simulator.yml."""
    path = path or config_dir() / "simulator.yml"
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        document = {}
    world = document.get("world") or {}
    per_channel = document.get("channels") or {}
    unknown = sorted(set(per_channel) - {c.channel_id for c in config.channels})
    if unknown:
        raise ConfigError(f"{path}: channels not in channels.yml: {', '.join(unknown)}")
    first_open = min(c.start_date for c in config.channels)
    start = _date(
        world.get("start"), first_open - timedelta(days=int(world.get("history_days", 0)))
    )
    days = int(overrides.pop("days", world.get("days", 120)))
    channels = tuple(
        _channel(c, per_channel.get(c.channel_id) or {}, path, start) for c in config.channels
    )
    return WorldSpec(
        seed=seed,
        start=start,
        end=end or start + timedelta(days=days - 1),
        channels=channels,
        skus=int(overrides.get("skus", world.get("skus", 60))),
        customers=int(overrides.get("customers", world.get("customers", 3000))),
    )


def _channel(c, extra: dict, path: Path, start: date) -> WorldChannel:
    where = f"{path}: channels.{c.channel_id}"
    stores = tuple(
        Store(str(s["store_id"]), str(s.get("name", s["store_id"])))
        for s in extra.get("stores", [])
    )
    if c.kind == "pos_files" and not stores:
        raise ConfigError(f"{where}: a pos_files channel needs a list of stores")
    if c.kind == "ga4" and not extra.get("traffic_of"):
        raise ConfigError(f"{where}: a ga4 property needs traffic_of: <web channel_id>")
    known = set(WorldChannel.__dataclass_fields__) - {"channel_id", "kind", "timezone", "currency"}
    bad = sorted(set(extra) - known - {"stores"})
    if bad:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(bad)}")
    fields = {k: v for k, v in extra.items() if k != "stores"}
    for option in ("marketplace_id", "property_id"):  # as the channel config names them
        if option in c.options:
            fields.setdefault(option, c.options[option])
    for key in ("tax_rate", "shipping_fee", "free_shipping_from"):
        if key in fields:
            fields[key] = str(fields[key])
    return WorldChannel(
        channel_id=c.channel_id,
        kind=c.kind,
        timezone=c.timezone,
        currency=c.currency,
        opened_on=_date(fields.pop("opened_on", None), start),
        stores=stores,
        **fields,
    )


def _date(value, default: date) -> date:
    if value is None:
        return default
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def fault_profile(path: Path | None = None) -> list:
    """The `faults:` list of simulator.yml as Fault objects."""
    from omnichannel.simulator.faults import Fault, FaultError

    path = path or config_dir() / "simulator.yml"
    document = yaml.safe_load(path.read_text()) or {}
    faults = []
    for n, entry in enumerate(document.get("faults") or []):
        try:
            faults.append(Fault(**entry))
        except (TypeError, FaultError) as exc:
            raise ConfigError(f"{path}: faults[{n}]: {exc}") from exc
    return faults
