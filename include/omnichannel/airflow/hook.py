"""The channel hook: a channel's credentials from its Airflow connection.

The hook owns the connection (as a provider's hook does): base URL, login, secret and
extras. With no connection, the configured base_url is used without a secret.
"""

from __future__ import annotations

import logging

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from omnichannel.channels.base import Credentials

log = logging.getLogger(__name__)


class ChannelHook(BaseHook):
    """Reads the Airflow connection named by a channel's `connection_id`."""

    conn_name_attr = "connection_id"
    default_conn_name = "channel_default"
    conn_type = "http"
    hook_name = "Omnichannel channel"

    def __init__(self, channel) -> None:
        super().__init__()
        self.channel = channel

    def credentials(self) -> Credentials:
        channel = self.channel
        try:
            conn = self.get_connection(channel.connection_id)
        except AirflowNotFoundException:
            log.warning(
                "no Airflow connection %r; using base_url %s without a secret",
                channel.connection_id,
                channel.base_url,
            )
            return Credentials(channel.base_url)
        host = conn.host or channel.base_url
        if "://" not in host:
            port = f":{conn.port}" if conn.port else ""
            host = f"{conn.schema or 'https'}://{host}{port}"
        return Credentials(host, conn.password or "", conn.login or "", conn.extra_dejson or {})


def credentials_for(channel) -> Credentials:
    """Base URL and secret from the channel's Airflow connection, else the configured URL."""
    return ChannelHook(channel).credentials()
