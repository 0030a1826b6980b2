"""Channel instances from include/config/channels.yml, typed and validated with clear errors.

What a kind allows (streams, options, page limit, api or files) comes from the registry
(`omnichannel.kinds`); nothing here is written per kind.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, Strict, field_validator, model_validator
from pydantic.dataclasses import dataclass

from omnichannel.currencies import iso_currencies
from omnichannel.kinds import KINDS, ChannelType
from omnichannel.paths import config_dir
from omnichannel.typed import ConfigError, parse, read_yaml

__all__ = ["ChannelConfig", "ChannelsConfig", "ConfigError", "QualityRules", "load_channels"]

CLOSED = ConfigDict(extra="forbid")
Count = Annotated[int, Strict()]  # YAML gives ints; "7" or true is a mistake, not a 7
Number = Annotated[float, Strict()]  # strict floats take ints, not strings or booleans


@dataclass(frozen=True, config=CLOSED)
class QualityRules:
    """How the quality gate treats one stream of a channel instance."""

    # row-level failures move the rows to quarantine and the rest publishes, unless the
    # bad rows are more than this share of the batch: then the whole batch is held
    max_bad_share: Number = Field(0.05, ge=0, le=1)
    # rows per hour of interval outside [median / f, median × f] of the stream's trailing
    # published batches holds the batch; needs `volume_history` batches first
    volume_factor: Number = Field(5.0, gt=1)
    volume_history: Count = Field(7, ge=1)
    # hold when the newest record is older than this many hours before the interval end
    freshness_hours: Number | None = Field(None, gt=0)


@dataclass(frozen=True, config=CLOSED)
class ChannelConfig:
    channel_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")]
    kind: str
    timezone: str
    currency: str
    start_date: date
    connection_id: str = ""  # default: the channel_id
    base_url: str = ""  # api kinds
    landing_path: str = ""  # files kinds: a folder, or object storage (s3://bucket/prefix)
    # how reports group the channel (dim_channels.channel_type); default: its kind's
    channel_type: ChannelType | None = None
    schedule: str = "0 0 * * *"
    lookback_hours: Count = Field(24, ge=0)
    page_size: Count = Field(50, ge=1)
    streams: tuple[str, ...] = ()  # default: every stream the kind offers
    # typed by the kind (omnichannel.kinds), kept as a mapping: ops.channels stores it and
    # dbt reads from it (a traffic property's traffic_of)
    options: dict = Field(default_factory=dict, validate_default=True)
    # quality rules per stream ("*": every stream), from the entry's `quality` block:
    # defaults for every stream and a `streams:` mapping of overrides
    quality: dict[str, QualityRules] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
        return kind

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {name!r}") from None
        return name

    @field_validator("currency")
    @classmethod
    def _currency(cls, code: str) -> str:
        if code not in iso_currencies():
            raise ValueError(f"must be an ISO 4217 code, got {code!r}")
        return code

    @field_validator("start_date", mode="before")
    @classmethod
    def _day(cls, value):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"must be YYYY-MM-DD, got {value!r}") from None

    @field_validator("options", mode="before")
    @classmethod
    def _typed_options(cls, value, info):
        kind = KINDS.get(info.data.get("kind"))
        if kind is None:
            return value  # the kind's own error says it
        return kind.options.model_validate(value or {}).model_dump()

    @field_validator("quality", mode="before")
    @classmethod
    def _merge_quality(cls, block):
        if not isinstance(block, dict) or all(isinstance(v, QualityRules) for v in block.values()):
            return block  # already built (dataclasses.replace) or not a mapping: say so
        overrides = block.get("streams") or {}
        if not isinstance(overrides, dict):
            raise ValueError("quality.streams must map stream names to rules")
        defaults = {k: v for k, v in block.items() if k != "streams"}
        merged = {
            s: {**defaults, **(v if isinstance(v, dict) else {})} for s, v in overrides.items()
        }
        return {"*": defaults, **merged}

    @model_validator(mode="after")
    def _fits_its_kind(self):
        kind = KINDS[self.kind]
        if not self.connection_id:
            object.__setattr__(self, "connection_id", self.channel_id)
        if self.channel_type is None:
            object.__setattr__(self, "channel_type", kind.channel_type)
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if not self.streams:
            object.__setattr__(self, "streams", kind.default_streams(self.options))
        where = {"api": ("base_url", self.base_url), "landing": ("landing_path", self.landing_path)}
        key, value = where[kind.source]
        if not value:
            raise ValueError(f"{key}: missing (required for kind {kind.name!r})")
        if unknown := [s for s in self.streams if s not in kind.offers]:
            raise ValueError(f"streams: kind {kind.name!r} has no stream(s) {', '.join(unknown)}")
        if unknown := [s for s in self.quality if s != "*" and s not in self.streams]:
            raise ValueError(f"quality.streams names unknown stream(s) {unknown}")
        kind.check(self)
        if kind.page_limit and self.page_size > kind.page_limit:
            raise ValueError(
                f"page_size: {self.page_size} exceeds {kind.name}'s maximum of {kind.page_limit}"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def quality_rules(self, stream: str) -> QualityRules:
        return self.quality.get(stream) or self.quality.get("*") or QualityRules()


@dataclass(frozen=True, config=CLOSED)
class ChannelsConfig:
    channels: tuple[ChannelConfig, ...]
    # folder of the brand's reference files: products.csv (the product master, the key to
    # ids a channel does not share, e.g. Amazon seller SKUs) and fx_rates.csv
    reference_path: str = Field(".local/landing/reference", min_length=1)

    @model_validator(mode="after")
    def _channels_agree(self):
        if not self.channels:
            raise ValueError("channels: expected a non-empty list of channel entries")
        seen: set[str] = set()
        for channel in self.channels:
            if channel.channel_id in seen:
                raise ValueError(f"channel_id {channel.channel_id!r} is configured twice")
            seen.add(channel.channel_id)
        for channel in self.channels:
            for option in KINDS[channel.kind].options.CHANNEL_REFS:
                if channel.options[option] not in seen:
                    raise ValueError(
                        f"channel {channel.channel_id!r}: options.{option} names "
                        f"{channel.options[option]!r}, which is not a configured channel"
                    )
        return self

    def get(self, channel_id: str) -> ChannelConfig:
        for channel in self.channels:
            if channel.channel_id == channel_id:
                return channel
        known = ", ".join(c.channel_id for c in self.channels)
        raise ConfigError(f"unknown channel_id {channel_id!r} (configured: {known})")


def load_channels(path: Path | None = None) -> ChannelsConfig:
    path = path or config_dir() / "channels.yml"
    document = read_yaml(path, "channel config")
    return parse(ChannelsConfig, path, document, entries="channels", id_key="channel_id")
