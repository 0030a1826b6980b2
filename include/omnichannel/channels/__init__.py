"""Channel kinds: one module per kind. A kind pages through its API; it knows nothing of Postgres."""

from __future__ import annotations

from omnichannel.channels import shopify

KINDS = {"shopify": shopify}


def stream_spec(kind: str, stream: str):
    return KINDS[kind].STREAMS[stream]
