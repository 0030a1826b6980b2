"""The simulator's registry: which app answers each channel kind, under which URL prefix,
and what it accepts as a secret. Keyed by the library's kind names (`omnichannel.kinds`);
the server's routing, the Airflow connections pointing at the simulator and the file drops
derive from it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

from omnichannel.channels.base import Credentials
from omnisim.apps import amazon_sp, ga4, shopify, woocommerce
from omnisim.files import pos_files


@dataclass(frozen=True)
class SimulatedKind:
    kind: str
    app: ModuleType | None = None  # handle(ctx, request, rest) for an API kind
    prefix: str = ""  # /<prefix>/<channel_id>/...
    # what the simulator accepts as the secret (Airflow connection fields)
    credentials: dict[str, str] = field(default_factory=dict)
    # a file kind: drop(world, channel, folder, now, faults) writes what is due by now
    drop: Callable | None = None


SIMULATED: dict[str, SimulatedKind] = {
    k.kind: k
    for k in (
        SimulatedKind("shopify", shopify, "shops", {"password": "shpat_simulator"}),
        SimulatedKind(
            "amazon_sp",
            amazon_sp,
            "amazon",
            {
                "login": "amzn1.application-oa2-client.simulator",
                "password": "Atzr|simulator-refresh-token",
            },
        ),
        SimulatedKind(
            "woocommerce", woocommerce, "woo", {"login": "ck_simulator", "password": "cs_simulator"}
        ),
        SimulatedKind("files", drop=pos_files.drop),
        SimulatedKind("ga4", ga4, "ga4", {"password": "ya29.simulator"}),
    )
}
BY_PREFIX = {k.prefix: k for k in SIMULATED.values() if k.app is not None}
ROUTE = re.compile(rf"^/(?P<prefix>{'|'.join(BY_PREFIX)})/(?P<channel>[a-z0-9_]+)(?P<rest>/.*)?$")


def channel_base_url(simulator_url: str, kind: str, channel_id: str) -> str:
    return f"{simulator_url.rstrip('/')}/{SIMULATED[kind].prefix}/{channel_id}"


def credentials(channel, simulator_url: str) -> dict[str, str]:
    """Connection fields (host, login, password) pointing a channel at the simulator; a
    file kind has none."""
    kind = SIMULATED[channel.kind]
    if kind.app is None:
        return {}
    return {
        "host": channel_base_url(simulator_url, kind.kind, channel.channel_id),
        **kind.credentials,
    }


def connector_credentials(channel, simulator_url: str) -> Credentials:
    """What a connector gets from its Airflow connection, when that points at the simulator."""
    fields = credentials(channel, simulator_url)
    return Credentials(fields.get("host", ""), fields.get("password", ""), fields.get("login", ""))


def airflow_connections(channels, simulator_url: str) -> dict[str, str]:
    """Airflow connections (AIRFLOW_CONN_* variables) pointing every API channel at the
    simulator."""
    return {
        f"AIRFLOW_CONN_{c.connection_id.upper()}": json.dumps(
            {"conn_type": "http", **credentials(c, simulator_url)}
        )
        for c in channels
        if SIMULATED[c.kind].app is not None
    }
