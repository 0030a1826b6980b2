"""Superset on the marts (`make bi`, `omni bi`): its own virtualenv and lock (bi/), its
metadata in SQLite under .local/bi, the marts as bi_reader, the dashboards as code
(bi/superset/, Superset's export format) imported on every setup.

Superset cannot share our virtualenv (its dependency ranges conflict with Airflow's), so
everything Superset-side runs as a subprocess of its own Python: `superset` for migrations,
bi/assets.py for the admin and the dashboards. Secrets travel in the environment, never on
a command line."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from omnichannel import paths, warehouse

ADMIN_USER = "admin"
DEFAULT_PORT = 8088
VERSION = "from importlib.metadata import version; print(version('apache-superset'))"


def home() -> Path:
    """Superset's metadata and secrets (OMNI_BI_HOME: tests use one of their own)."""
    return Path(os.environ.get("OMNI_BI_HOME") or paths.local_dir() / "bi")


def venv_bin(name: str) -> Path:
    """A program of Superset's virtualenv, where `make bi` installs it."""
    return paths.project_root() / ".local" / "bi" / "venv" / "bin" / name


def bi_dir() -> Path:
    return paths.project_root() / "bi"


def installed() -> bool:
    return venv_bin("superset").exists()


@dataclass(frozen=True)
class Secrets:
    secret_key: str
    admin_password: str
    created: bool = False  # the admin was created just now: its password is shown once


def load_secrets() -> Secrets:
    """Superset's secret key and the admin's password: OMNI_BI_SECRET_KEY and
    OMNI_BI_ADMIN_PASSWORD, else generated once and kept in .local/bi/secrets.json (mode
    600)."""
    path = home() / "secrets.json"
    if not path.exists():
        values = {
            "secret_key": secrets.token_urlsafe(42),
            "admin_password": secrets.token_urlsafe(12),
        }
        warehouse.write_private(path, json.dumps(values))
    values = json.loads(path.read_text())
    return Secrets(
        secret_key=os.environ.get("OMNI_BI_SECRET_KEY") or values["secret_key"],
        admin_password=os.environ.get("OMNI_BI_ADMIN_PASSWORD") or values["admin_password"],
    )


def reader_url() -> str:
    """The marts as bi_reader, in the driver Superset uses (psycopg2)."""
    from omnichannel import bi

    url = os.environ.get("OMNI_BI_READER_URL") or bi.reader_url()
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def environment(found: Secrets | None = None) -> dict[str, str]:
    found = found or load_secrets()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(
        OMNI_BI_HOME=str(home()),
        SUPERSET_CONFIG_PATH=str(bi_dir() / "superset_config.py"),
        SUPERSET_SECRET_KEY=found.secret_key,
        FLASK_APP="superset",
        OMNI_BI_ADMIN_USER=ADMIN_USER,
        OMNI_BI_ADMIN_PASSWORD=found.admin_password,
        OMNI_BI_READER_URL=reader_url(),
        PATH=f"{venv_bin('superset').parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def _run(args: list, env: dict[str, str], what: str) -> str:
    """A Superset-side command, quiet unless it fails (then its output names the cause)."""
    done = subprocess.run(
        [str(a) for a in args], env=env, cwd=paths.project_root(), capture_output=True, text=True
    )
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise RuntimeError(f"superset: {what} failed:\n{tail}")
    return done.stdout


def setup() -> Secrets:
    """Migrate Superset's metadata, create the roles and the admin, grant bi_reader the
    marts, import the dashboards. Idempotent; `superset init` runs only after an upgrade
    of Superset or on a new metadata database."""
    if not installed():
        raise RuntimeError("Superset is not installed: run `make bi`")
    from omnichannel import bi

    with warehouse.connect() as conn:
        bi.ensure_bi_reader(conn)
        conn.commit()
    found = load_secrets()
    env = environment(found)
    home().mkdir(parents=True, exist_ok=True)
    home().chmod(0o700)  # the metadata holds bi_reader's password (encrypted) and logins
    _run([venv_bin("superset"), "db", "upgrade"], env, "db upgrade")
    metadata = home() / "superset.db"
    if metadata.exists():
        metadata.chmod(0o600)
    version = _run([venv_bin("python"), "-c", VERSION], env, "version").strip()
    stamp = home() / ".initialised"
    if not stamp.exists() or stamp.read_text() != version:
        _run([venv_bin("superset"), "init"], env, "init")
        stamp.write_text(version)
    out = _run([venv_bin("python"), bi_dir() / "assets.py", "setup", bi_dir() / "superset"],
               env, "admin and dashboards")  # fmt: skip
    return dataclasses.replace(found, created="admin admin: created" in out)


def export(folder: Path | None = None) -> str:
    """The dashboards as they are in Superset now, written into `folder` (default: back
    into bi/superset/)."""
    env = environment()
    target = folder or bi_dir() / "superset"
    out = _run([venv_bin("python"), bi_dir() / "assets.py", "export", target], env, "export")
    return out.strip().splitlines()[-1]


def serve_command(port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> list[str]:
    """gunicorn as Superset documents it for production, on loopback."""
    return [
        str(venv_bin("gunicorn")),
        "--workers", "2", "--worker-class", "gthread", "--threads", "8",
        "--timeout", "120", "--bind", f"{host}:{port}", "--log-level", "warning",
        "superset.app:create_app()",
    ]  # fmt: skip


def serve(port: int = DEFAULT_PORT) -> None:
    """Superset in the foreground until Ctrl-C."""
    env = environment()
    os.execve(serve_command(port)[0], serve_command(port), env)


def login_hint(found: Secrets, port: int = DEFAULT_PORT) -> str:
    where = home() / "secrets.json"
    if found.created:
        return (
            f"Superset: http://127.0.0.1:{port}  user {ADMIN_USER}, password "
            f"{found.admin_password}\n(shown once; kept in {where}, mode 600)"
        )
    return f"Superset: http://127.0.0.1:{port}  user {ADMIN_USER}, password in {where}"
