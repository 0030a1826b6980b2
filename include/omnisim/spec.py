"""What the simulated world is made of: its size, its channels, stores and locations.

The world is described by `include/config/simulator.yml` (size, seed defaults, per-channel
behaviour) on top of the channel instances of `channels.yml` (kind, time zone, currency),
so a channel's time zone or currency is written once. Tests and benchmarks build a
`WorldSpec` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pydantic import ConfigDict, Field, field_validator
from pydantic.dataclasses import dataclass as typed

from omnichannel.config import ChannelsConfig
from omnichannel.kinds import KINDS
from omnichannel.paths import config_dir
from omnichannel.typed import ConfigError, parse, read_yaml

# Per kind: share of anonymous buyers, cancellation, edit-after-creation and refund rates,
# mean lines per order, conversion rate of a session (or a store visit) into an order.
KIND_DEFAULTS = {
    "shopify": dict(anonymous=0.03, cancel=0.03, edit=0.06, refund=0.08, lines=1.5, cr=0.028),
    "woocommerce": dict(anonymous=0.05, cancel=0.03, edit=0.04, refund=0.07, lines=1.4, cr=0.022),
    "amazon_sp": dict(anonymous=0.0, cancel=0.02, edit=0.0, refund=0.10, lines=1.2, cr=0.11),
    "files": dict(anonymous=0.65, cancel=0.0, edit=0.0, refund=0.03, lines=1.8, cr=0.24),
}
# Sales tax is added on top in the US; VAT is included in the price elsewhere.
TAX_BY_CURRENCY = {"USD": ("0.08", False), "EUR": ("0.19", True), "GBP": ("0.20", True)}
LEAD_DAYS = {"shopify": 7, "woocommerce": 7, "amazon_sp": 14, "files": 5}


TYPED = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


@typed(frozen=True, config=TYPED)
class Store:
    store_id: str
    name: str = ""  # default: the store_id

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.store_id)


@typed(frozen=True, config=TYPED)
class WorldChannel:
    """A channel instance as the world sees it: identity from channels.yml, behaviour from
    simulator.yml (its keys are this class's fields)."""

    channel_id: str
    kind: str
    timezone: str
    currency: str
    opened_on: date  # no orders before this local day
    daily_orders: float = Field(40.0, ge=0)  # mean orders per local day at an average season
    location: str = ""  # stock location; channels may share one (a web warehouse)
    stores: tuple[Store, ...] = ()  # files: one sales point and location per store
    listing_share: float = Field(1.0, gt=0, le=1)  # share of the catalogue listed here
    tax_rate: str = ""  # decimal string; default from the currency
    taxes_included: bool | None = None
    shipping_fee: str = "4.95"
    free_shipping_from: str = "50.00"
    # from the channel's options in channels.yml (not repeated in simulator.yml)
    marketplace_id: str = ""
    property_id: str = ""
    traffic_of: str = ""  # a traffic kind: the channel whose visitors it measures
    behaviour: dict[str, float] = Field(default_factory=dict)  # overrides of KIND_DEFAULTS
    rate_limits: dict[str, float] = Field(default_factory=dict)  # API throttling (the app's)

    @field_validator("behaviour")
    @classmethod
    def _known_rates(cls, rates: dict) -> dict:
        known = next(iter(KIND_DEFAULTS.values()))
        if unknown := sorted(set(rates) - set(known)):
            raise ValueError(f"unknown rate(s) {unknown} (known: {sorted(known)})")
        return rates

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
        return KINDS[self.kind].role == "sales"

    def sales_points(self) -> tuple[tuple[str, str], ...]:
        """(sales point id, location id) pairs: one per store, else the channel itself."""
        if self.stores:
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


@typed(frozen=True, config=ConfigDict(extra="forbid"))
class WorldSize:
    start: date | None = None  # default: the earliest start_date minus history_days
    history_days: int = Field(0, ge=0)
    days: int = Field(120, ge=1)
    skus: int = Field(60, ge=1)
    customers: int = Field(3000, ge=1)


@typed(frozen=True, config=ConfigDict(extra="forbid"))
class SimulatorFile:
    """simulator.yml: the world's size, each channel's behaviour, the fault profile."""

    world: WorldSize = Field(default_factory=WorldSize)
    channels: dict[str, dict] = Field(default_factory=dict)  # WorldChannel fields per channel
    faults: list[dict] = Field(default_factory=list)  # Fault fields per fault


def read_simulator_file(path: Path | None = None) -> tuple[Path, SimulatorFile]:
    path = path or config_dir() / "simulator.yml"
    document = read_yaml(path, "simulator config") if path.exists() else {}
    return path, parse(SimulatorFile, path, document)


def spec_from_config(
    seed: int,
    config: ChannelsConfig,
    *,
    end: date | None = None,
    path: Path | None = None,
    **overrides,
) -> WorldSpec:
    """The world for the configured channel instances, sized by simulator.yml."""
    path, document = read_simulator_file(path)
    world = document.world
    unknown = sorted(set(document.channels) - {c.channel_id for c in config.channels})
    if unknown:
        raise ConfigError(f"{path}: channels not in channels.yml: {', '.join(unknown)}")
    simulated = [c for c in config.channels if c.channel_id in simulated_ids(config, document)]
    first_open = min(c.start_date for c in simulated)
    history_days = int(overrides.pop("history_days", world.history_days))
    start = world.start or first_open - timedelta(days=history_days)
    days = int(overrides.pop("days", world.days))
    channels = tuple(
        _channel(c, document.channels.get(c.channel_id) or {}, path, start) for c in simulated
    )
    return WorldSpec(
        seed=seed,
        start=start,
        end=end or start + timedelta(days=days - 1),
        channels=channels,
        skus=int(overrides.get("skus", world.skus)),
        customers=int(overrides.get("customers", world.customers)),
    )


def simulated_ids(config, document: SimulatorFile | None = None) -> set[str]:
    """The channels the simulator plays: every one, except a files channel that
    simulator.yml does not name. Its files are the brand's own (a layout mapped in
    channels.yml, dropped into its landing place): the pipeline reads them as they come,
    and the truth check does not cover it."""
    if document is None:
        document = read_simulator_file()[1]
    return {
        c.channel_id
        for c in config.channels
        if KINDS[c.kind].source != "landing" or c.channel_id in document.channels
    }


def _channel(c, behaviour: dict, path: Path, start: date) -> WorldChannel:
    where = f"channels.{c.channel_id}"
    if KINDS[c.kind].source == "landing" and not behaviour.get("stores"):
        raise ConfigError(f"{path}: {where}: a {c.kind} channel needs a list of stores")
    fields = {
        "opened_on": start,
        **behaviour,
        **{k: v for k, v in c.options.items() if k in WorldChannel.__dataclass_fields__},
        "channel_id": c.channel_id,
        "kind": c.kind,
        "timezone": c.timezone,
        "currency": c.currency,
    }
    return parse(WorldChannel, path, fields, within=where)


def _date(value, default: date) -> date:
    if value is None:
        return default
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def fault_profile(path: Path | None = None) -> list:
    """The `faults:` list of simulator.yml as Fault objects."""
    from omnisim.faults import Fault, FaultError

    path, document = read_simulator_file(path)
    faults = []
    for n, entry in enumerate(document.faults):
        try:
            faults.append(Fault(**entry))
        except (TypeError, FaultError) as exc:
            raise ConfigError(f"{path}: faults[{n}]: {exc}") from exc
    return faults
