"""Where alerts go: include/config/alerts.yml, typed. A route matches alerts by kind,
minimum severity and channel, and names an Airflow connection for Slack and/or e-mail."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.dataclasses import dataclass

from omnichannel import paths
from omnichannel.alerts.record import KINDS, SEVERITIES
from omnichannel.typed import ConfigError, parse, read_yaml

Kind = Literal["pipeline", "data_quality", "freshness", "volume", "business"]
Severity = Literal["info", "warning", "critical"]
CLOSED = ConfigDict(extra="forbid")


class AlertsConfigError(ConfigError):
    pass


@dataclass(frozen=True, config=CLOSED)
class Route:
    name: str
    kinds: tuple[Kind, ...] = KINDS
    min_severity: Severity = "info"
    channels: tuple[str, ...] | None = None  # default: every channel
    slack: str | None = None  # Airflow connection id (Slack incoming webhook)
    email: str | None = None  # Airflow connection id (SMTP)
    recipients: tuple[str, ...] = Field(default=())

    @model_validator(mode="after")
    def _has_a_target(self):
        if not self.slack and not self.email:
            raise ValueError("needs slack or email (an Airflow connection id)")
        if self.email and not self.recipients:
            raise ValueError("email needs recipients")
        return self

    def matches(self, kind: str, severity: str, channel_id: str | None) -> bool:
        return (
            kind in self.kinds
            and SEVERITIES.index(severity) >= SEVERITIES.index(self.min_severity)
            and (self.channels is None or channel_id in self.channels)
        )


@dataclass(frozen=True, config=CLOSED)
class AlertsConfig:
    routes: tuple[Route, ...] = ()
    digest: Route | None = None


def load_config(path: Path | None = None) -> AlertsConfig:
    path = path or paths.config_dir() / "alerts.yml"
    if not path.exists():
        return AlertsConfig(())
    document = read_yaml(path, "alert routes")
    try:
        return parse(AlertsConfig, path, document, entries="routes", id_key="name")
    except ConfigError as exc:
        raise AlertsConfigError(str(exc)) from None
