"""Channel kinds, one module each: a kind pages through its API and knows nothing of Postgres."""

from __future__ import annotations

from omnichannel.channels import amazon_sp, ga4, pos_files, shopify, woocommerce

KINDS = {
    "shopify": shopify,
    "amazon_sp": amazon_sp,
    "woocommerce": woocommerce,
    "pos_files": pos_files,
    "ga4": ga4,
}


def stream_spec(kind: str, stream: str):
    return KINDS[kind].STREAMS[stream]


def extracted_streams(channel) -> tuple[str, ...]:
    """The channel's configured streams that have a connector (the others are not extracted yet)."""
    kind = KINDS.get(channel.kind)
    return tuple(s for s in channel.streams if kind is not None and s in kind.STREAMS)


def extracted_channels(config) -> list:
    """Channel instances with at least one stream the pipeline has a connector for."""
    return [c for c in config.channels if extracted_streams(c)]
