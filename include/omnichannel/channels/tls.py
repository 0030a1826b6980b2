"""The TLS context every HTTP client of the connectors shares."""

from __future__ import annotations

import ssl
from functools import lru_cache


@lru_cache(maxsize=1)
def tls() -> ssl.SSLContext:
    """One TLS context per process: httpx otherwise builds one for each client it makes,
    loading every CA certificate again (~10 ms; a run makes a client per batch, and a
    catch-up run thousands of batches)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
