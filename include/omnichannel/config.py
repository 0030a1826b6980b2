"""Channel instances from include/config/channels.yml, validated with clear errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from omnichannel.currencies import iso_currencies
from omnichannel.paths import config_dir

# Streams each channel kind offers (what its API or files carry). Which of them the pipeline
# extracts today is decided by the connectors in omnichannel.channels (`extracted_streams`).
KNOWN_KINDS = {
    "shopify": ("orders", "products", "inventory"),
    "amazon_sp": ("orders", "order_items", "refunds", "inventory", "sales_traffic"),
    "woocommerce": ("orders", "refunds", "products"),
    "pos_files": ("sales", "stock", "footfall"),
    "ga4": ("traffic",),
}
PAGE_LIMITS = {"shopify": 250, "amazon_sp": 100, "woocommerce": 100, "ga4": 250_000}
CHANNEL_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class ConfigError(ValueError):
    """A channel configuration that cannot be used; the message names file, entry and field."""


@dataclass(frozen=True)
class QualityRules:
    """How the quality gate treats one stream of a channel instance."""

    # row-level failures move the rows to quarantine and the rest publishes, unless the
    # bad rows are more than this share of the batch: then the whole batch is held
    max_bad_share: float = 0.05
    # rows per hour of interval outside [median / f, median × f] of the stream's trailing
    # published batches holds the batch; needs `volume_history` batches first
    volume_factor: float = 5.0
    volume_history: int = 7
    # hold when the newest record is older than this many hours before the interval end
    freshness_hours: float | None = None


QUALITY_KEYS = {f for f in QualityRules.__dataclass_fields__}


@dataclass(frozen=True)
class ChannelConfig:
    channel_id: str
    kind: str
    connection_id: str
    base_url: str
    timezone: str
    currency: str
    schedule: str
    start_date: date
    lookback_hours: int
    page_size: int
    streams: tuple[str, ...]
    landing_path: str = ""
    # kind-specific: marketplace_id (amazon_sp), property_id (ga4); any kind: concurrency
    # (extract tasks of this channel running at once, the Airflow pool's slots)
    options: dict = field(default_factory=dict)
    # quality rules per stream ("*": every stream), from the entry's `quality` block
    quality: dict = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def quality_rules(self, stream: str) -> QualityRules:
        return self.quality.get(stream) or self.quality.get("*") or QualityRules()


@dataclass(frozen=True)
class ChannelsConfig:
    channels: tuple[ChannelConfig, ...]
    # folder of the brand's reference files: products.csv (the product master, the key to
    # ids a channel does not share, e.g. Amazon seller SKUs) and fx_rates.csv
    reference_path: str = ".local/landing/reference"

    def get(self, channel_id: str) -> ChannelConfig:
        for channel in self.channels:
            if channel.channel_id == channel_id:
                return channel
        known = ", ".join(c.channel_id for c in self.channels)
        raise ConfigError(f"unknown channel_id {channel_id!r} (configured: {known})")


def load_channels(path: Path | None = None) -> ChannelsConfig:
    path = path or config_dir() / "channels.yml"
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: channel config not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    entries = (document or {}).get("channels")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected a non-empty list under 'channels'")
    channels = tuple(_parse_channel(path, i, entry) for i, entry in enumerate(entries))
    seen: set[str] = set()
    for channel in channels:
        if channel.channel_id in seen:
            raise ConfigError(f"{path}: channel_id {channel.channel_id!r} is configured twice")
        seen.add(channel.channel_id)
    for channel in channels:
        measured = channel.options.get("traffic_of")
        if measured is not None and measured not in seen:
            raise ConfigError(
                f"{path}: channel {channel.channel_id!r}: options.traffic_of names "
                f"{measured!r}, which is not a configured channel"
            )
    reference = (document or {}).get("reference_path", ChannelsConfig.reference_path)
    if not isinstance(reference, str) or not reference:
        raise ConfigError(f"{path}: reference_path must be a folder path")
    return ChannelsConfig(channels, reference_path=reference)


def _parse_channel(path: Path, index: int, entry: object) -> ChannelConfig:
    where = f"{path}: channels[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(entry).__name__}")
    required = ("channel_id", "kind", "timezone", "currency", "start_date")
    required += ("landing_path",) if entry.get("kind") == "pos_files" else ("base_url",)
    missing = [key for key in required if key not in entry]
    if missing:
        raise ConfigError(f"{where}: missing required field(s): {', '.join(missing)}")
    where = f"{path}: channel {entry['channel_id']!r}"
    channel_id = str(entry["channel_id"])
    if not CHANNEL_ID.match(channel_id):
        raise ConfigError(f"{where}: channel_id must be lower_snake_case (2-41 chars)")
    kind = str(entry["kind"])
    if kind not in KNOWN_KINDS:
        raise ConfigError(f"{where}: unknown kind {kind!r} (known: {', '.join(KNOWN_KINDS)})")
    try:
        ZoneInfo(str(entry["timezone"]))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: unknown timezone {entry['timezone']!r}") from exc
    currency = str(entry["currency"])
    if currency not in iso_currencies():
        raise ConfigError(f"{where}: currency must be an ISO 4217 code, got {currency!r}")
    try:
        start_date = date.fromisoformat(str(entry["start_date"]))
    except ValueError as exc:
        raise ConfigError(f"{where}: start_date must be YYYY-MM-DD") from exc
    streams = tuple(entry.get("streams", KNOWN_KINDS[kind]))
    unknown = [s for s in streams if s not in KNOWN_KINDS[kind]]
    if unknown:
        raise ConfigError(f"{where}: kind {kind!r} has no stream(s) {', '.join(unknown)}")
    page_size = _positive_int(where, entry, "page_size", 50)
    limit = PAGE_LIMITS.get(kind)
    if limit and page_size > limit:
        raise ConfigError(f"{where}: page_size {page_size} exceeds {kind}'s maximum of {limit}")
    return ChannelConfig(
        channel_id=channel_id,
        kind=kind,
        connection_id=str(entry.get("connection_id", channel_id)),
        base_url=str(entry.get("base_url", "")).rstrip("/"),
        timezone=str(entry["timezone"]),
        currency=currency,
        schedule=str(entry.get("schedule", "0 0 * * *")),
        start_date=start_date,
        lookback_hours=_positive_int(where, entry, "lookback_hours", 24, allow_zero=True),
        page_size=page_size,
        streams=streams,
        landing_path=str(entry.get("landing_path", "")),
        options=_options(where, kind, entry.get("options") or {}),
        quality=_quality(where, streams, entry.get("quality") or {}),
    )


def _quality(where: str, streams: tuple[str, ...], block: object) -> dict:
    """`quality:` holds defaults for every stream and a `streams:` mapping of overrides."""
    if not isinstance(block, dict):
        raise ConfigError(f"{where}: quality must be a mapping")
    overrides = block.get("streams") or {}
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: quality.streams must map stream names to rules")
    unknown = [s for s in overrides if s not in streams]
    if unknown:
        raise ConfigError(f"{where}: quality.streams names unknown stream(s) {unknown}")
    defaults = _rules(f"{where}: quality", {k: v for k, v in block.items() if k != "streams"})
    rules = {"*": defaults}
    for stream, values in overrides.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: quality.streams.{stream} must be a mapping")
        merged = {**defaults.__dict__, **values}
        rules[stream] = _rules(f"{where}: quality.streams.{stream}", merged)
    return rules


def _rules(where: str, values: dict) -> QualityRules:
    unknown = sorted(set(values) - QUALITY_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown} (known: {sorted(QUALITY_KEYS)})")
    rules = QualityRules(**values)
    numbers = (rules.max_bad_share, rules.volume_factor, rules.volume_history)
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in numbers):
        raise ConfigError(f"{where}: max_bad_share, volume_factor, volume_history are numbers")
    if not 0 <= rules.max_bad_share <= 1:
        raise ConfigError(f"{where}: max_bad_share must be between 0 and 1")
    if rules.volume_factor <= 1 or rules.volume_history < 1:
        raise ConfigError(f"{where}: volume_factor must be > 1 and volume_history ≥ 1")
    if rules.freshness_hours is not None and (
        not isinstance(rules.freshness_hours, int | float) or rules.freshness_hours <= 0
    ):
        raise ConfigError(f"{where}: freshness_hours must be a positive number")
    return rules


REQUIRED_OPTIONS = {"amazon_sp": ("marketplace_id",), "ga4": ("property_id", "traffic_of")}


def _options(where: str, kind: str, options: object) -> dict:
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: options must be a mapping")
    missing = [o for o in REQUIRED_OPTIONS.get(kind, ()) if o not in options]
    if missing:
        raise ConfigError(f"{where}: kind {kind!r} needs options: {', '.join(missing)}")
    return {str(k): str(v) for k, v in options.items()}


def _positive_int(where: str, entry: dict, key: str, default: int, allow_zero=False) -> int:
    value = entry.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if allow_zero else 1):
        raise ConfigError(
            f"{where}: {key} must be a {'non-negative' if allow_zero else 'positive'} "
            f"integer, got {value!r}"
        )
    return value
