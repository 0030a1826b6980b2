"""The registry of channel kinds: what each kind offers, declared once.

Config validation (streams, options, page limits, where a channel is read from), DAG
generation, quality-suite lookup and the docs' table of kinds all read this registry; the
simulator keeps a registry of its own apps (`omnisim.kinds`) keyed by the same names.
Adding a kind is one connector module under `omnichannel/channels/` plus one entry here:
see docs/adding-a-channel-kind.md.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnichannel.files.formats import Feed

SUITES_DIR = Path(__file__).parent / "quality" / "suites"
ChannelType = Literal["web_store", "marketplace", "physical_store", "wholesale", "web_analytics"]


class Options(BaseModel):
    """Options every kind takes (a channel entry's `options:`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
    # option names whose value must be the channel_id of another configured channel
    CHANNEL_REFS: ClassVar[tuple[str, ...]] = ()

    concurrency: int = Field(1, ge=1, description="extract tasks of the channel at once")


class MarketplaceOptions(Options):
    marketplace_id: str = Field(min_length=1, description="the marketplace the seller sells on")


class PropertyOptions(Options):
    CHANNEL_REFS: ClassVar[tuple[str, ...]] = ("traffic_of",)

    property_id: str = Field(min_length=1, description="the analytics property read")
    traffic_of: str = Field(description="the channel whose visitors the property measures")


class FilesOptions(Options):
    # which files, their format and their mapping onto a stream (omnichannel.files.formats)
    feeds: list[Feed] = Field(min_length=1, description="the channel's kinds of file")
    max_file_bytes: int = Field(256 * 2**20, ge=1, description="a larger file is quarantined")
    max_line_bytes: int = Field(2**20, ge=1, description="a longer line fails its file")


@dataclass(frozen=True)
class Kind:
    name: str
    title: str  # for people: docs, DAG descriptions
    connector: str  # module under omnichannel.channels: STREAMS, make_client, (parse)
    offers: tuple[str, ...]  # streams the source carries; a channel entry may list these
    role: Literal["sales", "traffic"]  # traffic kinds measure another channel's visitors
    # how reports group channels (dim_channels.channel_type)
    # (a channel entry's `channel_type` overrides it: a files channel may be a wholesale
    # partner's orders or an ERP's invoices as well as a store's tills)
    channel_type: ChannelType
    options: type[Options] = Options
    page_limit: int | None = None  # the API's maximum page size
    # "api": read over HTTP from base_url (an Airflow connection holds the secret);
    # "landing": read from where its files land (landing_path: a folder)
    source: Literal["api", "landing"] = "api"
    simulated: bool = True  # the channel simulator serves it (omnisim.kinds)

    @cached_property
    def module(self) -> ModuleType:
        # imported on first use: reading the config does not import every connector
        return importlib.import_module(f"omnichannel.channels.{self.connector}")

    @property
    def streams(self) -> dict:
        """The streams the connector extracts today (StreamSpec per name), a subset of
        `offers`."""
        return self.module.STREAMS

    def client(self, channel, credentials):
        return self.module.make_client(channel, credentials)

    def default_streams(self, options: dict) -> tuple[str, ...]:
        """A channel's streams when its entry lists none: those its feeds feed (files),
        else every stream the kind offers."""
        if options.get("feeds"):
            return tuple(dict.fromkeys(f["stream"] for f in options["feeds"]))
        return self.offers

    def check(self, channel) -> None:
        """The connector's own config checks (a files feed against its stream)."""
        check = getattr(self.module, "check_channel", None)
        if check is not None:
            check(channel)

    def parser(self):
        """files kinds: `parse(channel, spec, name, content)`, for re-reading a kept file."""
        return getattr(self.module, "parse", None)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "shopify",
            "Shopify (GraphQL Admin API)",
            "shopify",
            offers=("orders", "products", "inventory"),
            role="sales",
            channel_type="web_store",
            page_limit=250,
        ),
        Kind(
            "amazon_sp",
            "Amazon Selling Partner API",
            "amazon_sp",
            offers=("orders", "order_items", "refunds", "inventory", "sales_traffic"),
            role="sales",
            channel_type="marketplace",
            options=MarketplaceOptions,
            page_limit=100,
        ),
        Kind(
            "woocommerce",
            "WooCommerce (REST API v3)",
            "woocommerce",
            offers=("orders", "refunds", "products"),
            role="sales",
            channel_type="web_store",
            page_limit=100,
        ),
        Kind(
            "files",
            "Files of any layout (exports dropped in a landing folder)",
            "files",
            offers=("sales", "stock", "footfall"),
            role="sales",
            channel_type="physical_store",
            options=FilesOptions,
            source="landing",
        ),
        Kind(
            "ga4",
            "Google Analytics 4 (Data API)",
            "ga4",
            offers=("traffic",),
            role="traffic",
            channel_type="web_analytics",
            options=PropertyOptions,
            page_limit=250_000,
        ),
    )
}


def stream_spec(kind: str, stream: str):
    return KINDS[kind].streams[stream]


def suite_path(kind: str, stream: str) -> Path:
    """The quality suite of a kind's stream: one stream, one suite."""
    return SUITES_DIR / f"{kind}__{stream}.json"


def extracted_streams(channel) -> tuple[str, ...]:
    """The channel's configured streams that have a connector (the others are not extracted yet)."""
    kind = KINDS.get(channel.kind)
    return tuple(s for s in channel.streams if kind is not None and s in kind.streams)


def extracted_channels(config) -> list:
    """Channel instances with at least one stream the pipeline has a connector for."""
    return [c for c in config.channels if extracted_streams(c)]


def markdown_table() -> str:
    """The table of kinds in docs/adding-a-channel-kind.md (a test keeps the two equal)."""
    rows = [
        "| kind | source | role | streams offered (extracted in bold) | options | page limit |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for k in KINDS.values():
        streams = ", ".join(f"**{s}**" if s in k.streams else s for s in k.offers)
        options = ", ".join(
            f"{name}{'' if f.is_required() else '?'}" for name, f in k.options.model_fields.items()
        )
        limit = f"{k.page_limit:,}" if k.page_limit else "—"
        rows.append(f"| `{k.name}` | {k.source} | {k.role} | {streams} | {options} | {limit} |")
    return "\n".join(rows)
