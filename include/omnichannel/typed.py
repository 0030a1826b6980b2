"""Typed YAML config: a file parsed into pydantic structures, with errors that name the file,
the entry and the key.

pydantic (not msgspec) because it is in the lock already (Airflow depends on it), its errors
carry the location of every failure at once, and validators can depend on fields read
before them (a channel's options are typed by its kind).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

# pydantic's wording → ours, for the errors people meet most
MESSAGES = {
    "missing": "missing (required)",
    "missing_argument": "missing (required)",
    "extra_forbidden": "unknown key",
    "unexpected_keyword_argument": "unknown key",
}


class ConfigError(ValueError):
    """A config file that cannot be used; the message names file, entry and key."""


def read_yaml(path: Path, what: str) -> dict:
    """The document of a YAML config file, a mapping (empty when the file is empty)."""
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: {what} not found") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping at the top, got {type(document).__name__}")
    return document


def parse(model, path: Path, document: dict, entries: str = "", id_key: str = "", within=""):
    """`model(**document)`, or a ConfigError listing every failure. An entry of the list
    under `entries` is named by its `id_key` (e.g. "channel 'web_us'"); `within` is
    where the document sits in its file (e.g. "channels.web_us")."""
    try:
        return model(**document)
    except ValidationError as exc:
        where = f"{path}: {within}" if within else str(path)
        lines = [_line(where, error, document, entries, id_key) for error in exc.errors()]
        raise ConfigError("\n".join(dict.fromkeys(lines))) from None
    except TypeError as exc:  # a top-level key the model does not have
        raise ConfigError(f"{path}: {exc}") from None


def _line(where: str, error: dict, document: dict, entries: str, id_key: str) -> str:
    loc = list(error["loc"])
    if entries and len(loc) >= 2 and loc[0] == entries and isinstance(loc[1], int):
        listed = document.get(entries) or []
        entry = listed[loc[1]] if loc[1] < len(listed) else None
        name = entry.get(id_key) if isinstance(entry, dict) else None
        where += f": {entries.rstrip('s')} {name!r}" if name else f": {entries}[{loc[1]}]"
        loc = loc[2:]
    key = ".".join(str(part) for part in loc if part != "__root__")
    message = MESSAGES.get(error["type"], error["msg"]).removeprefix("Value error, ")
    return f"{where}: {key}: {message}" if key else f"{where}: {message}"
