"""Channel kinds, one module each: a kind pages through its API and knows nothing of Postgres."""

from __future__ import annotations

from omnichannel.channels import shopify

KINDS = {"shopify": shopify}


def stream_spec(kind: str, stream: str):
    return KINDS[kind].STREAMS[stream]
