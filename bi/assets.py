"""Superset's side of `omni bi`, run by Superset's own Python (its virtualenv): the admin
login, and the dashboards as code (bi/superset/, Superset's export format) imported and
exported. Our package is not installed there, so this file imports only Superset.

    python bi/assets.py admin           # OMNI_BI_ADMIN_USER / OMNI_BI_ADMIN_PASSWORD
    python bi/assets.py import DIR      # OMNI_BI_READER_URL: the marts as bi_reader
    python bi/assets.py setup DIR       # both
    python bi/assets.py export DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

DATABASE_FILE = "databases/omnichannel_marts.yaml"
# what the exported database URI holds instead of the host, port and password of one
# installation; the import puts OMNI_BI_READER_URL in its place
PLACEHOLDER_URI = "postgresql+psycopg2://bi_reader:XXXXXXXXXX@warehouse:5432/omni"


def _app():
    from superset.app import create_app

    return create_app()


def _admin(username: str) -> None:
    from superset import security_manager
    from superset.extensions import db

    if security_manager.find_user(username=username):
        print(f"admin {username}: exists")
        return
    role = security_manager.find_role("Admin")
    user = security_manager.add_user(
        username, "Omnichannel", "Admin", f"{username}@localhost", role,
        password=os.environ["OMNI_BI_ADMIN_PASSWORD"],
    )  # fmt: skip
    if not user:
        sys.exit(f"could not create the admin {username}")
    db.session.commit()
    print(f"admin {username}: created")


def _contents(folder: Path) -> dict[str, str]:
    """The bundle as Superset's importer wants it: relative path → YAML text, with the
    database's URI of this installation."""
    contents = {
        str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*.yaml"))
    }
    contents["metadata.yaml"] = yaml.safe_dump(
        {"version": "1.0.0", "type": "assets", "timestamp": "1970-01-01T00:00:00+00:00"}
    )
    database = yaml.safe_load(contents[DATABASE_FILE])
    database["sqlalchemy_uri"] = os.environ["OMNI_BI_READER_URL"]
    contents[DATABASE_FILE] = yaml.safe_dump(database, sort_keys=False)
    return contents


def _import(folder: Path, username: str) -> None:
    from flask import g
    from sqlalchemy.engine.url import make_url
    from superset import security_manager
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.extensions import db

    g.user = security_manager.find_user(username=username)
    contents = _contents(folder)
    password = make_url(os.environ["OMNI_BI_READER_URL"]).password
    # the assets importer overwrites databases, datasets and charts too (the dashboard
    # importer keeps existing ones as they are): the repository's definitions win
    ImportAssetsCommand(contents, passwords={DATABASE_FILE: password}).run()
    db.session.commit()
    dashboards = sum(1 for name in contents if name.startswith("dashboards/"))
    charts = sum(1 for name in contents if name.startswith("charts/"))
    print(f"imported {dashboards} dashboards, {charts} charts")


def _export(folder: Path, username: str) -> None:
    """Every dashboard, its charts, datasets and database into `folder` (replacing what was
    there), with the database's URI back to the placeholder and files in a stable form."""
    from flask import g
    from superset import security_manager
    from superset.commands.dashboard.export import ExportDashboardsCommand
    from superset.extensions import db
    from superset.models.dashboard import Dashboard

    g.user = security_manager.find_user(username=username)
    ids = [id_ for (id_,) in db.session.query(Dashboard.id).order_by(Dashboard.id)]
    files = {name: content() for name, content in ExportDashboardsCommand(ids).run()}
    for kind in ("databases", "datasets", "charts", "dashboards"):
        for old in (folder / kind).rglob("*.yaml") if (folder / kind).exists() else ():
            old.unlink()
    for name, text in files.items():
        if name == "metadata.yaml":
            continue  # a timestamp only: it would change on every export
        if name.startswith("databases/"):
            database = yaml.safe_load(text)
            database["sqlalchemy_uri"] = PLACEHOLDER_URI
            name, text = DATABASE_FILE, yaml.safe_dump(database, sort_keys=False)
        elif name.startswith("charts/"):
            chart = yaml.safe_load(text)
            chart["params"].pop("datasource", None)  # this installation's id; import sets it
            text = yaml.safe_dump(chart, sort_keys=False)
        elif name.startswith("dashboards/"):
            text = yaml.safe_dump(_stable_ids(yaml.safe_load(text)), sort_keys=False)
        target = folder / _stable(name, set(files))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    print(f"exported {len(ids)} dashboards into {folder}")


def _stable_ids(dashboard: dict) -> dict:
    """Chart ids of this installation replaced by 1, 2, 3 … in the order of the charts'
    uuids, wherever the dashboard holds them (the import maps them to its own ids through
    the position's uuids); lists the UI derives from the scope (chartsInScope) dropped."""
    charts = [
        item["meta"]
        for item in dashboard.get("position", {}).values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    ]
    ids = {meta["chartId"]: n for n, meta in enumerate(sorted(charts, key=lambda m: m["uuid"]), 1)}
    for meta in charts:
        meta["chartId"] = ids[meta["chartId"]]
    metadata = dashboard.get("metadata", {})
    for native in metadata.get("native_filter_configuration", []):
        native.pop("chartsInScope", None)
        native.pop("tabsInScope", None)
        scope = native.get("scope", {})
        scope["excluded"] = sorted(ids[i] for i in scope.get("excluded", []) if i in ids)
    for key in ("timed_refresh_immune_slices",):
        metadata[key] = sorted(ids[i] for i in metadata.get(key, []) if i in ids)
    for key in ("expanded_slices", "chart_configuration"):
        metadata[key] = {
            str(ids[int(k)]): v for k, v in metadata.get(key, {}).items() if int(k) in ids
        }
    for config in metadata["chart_configuration"].values():
        config.pop("id", None)
        config.get("crossFilters", {}).pop("chartsInScope", None)
    metadata.get("global_chart_configuration", {}).pop("chartsInScope", None)
    return dashboard


def _stable(name: str, names: set[str]) -> str:
    """`charts/GMV_12.yaml` → `charts/GMV.yaml`: the ids differ between installations (the
    files refer to each other by uuid), so a re-export after an import changes no name. Two
    objects of one title keep their ids."""
    stem, _, id_ = name.removesuffix(".yaml").rpartition("_")
    if not id_.isdigit():
        return name
    twins = [
        n
        for n in names
        if n.startswith(stem + "_") and n.removesuffix(".yaml")[len(stem) + 1 :].isdigit()
    ]
    return name if len(twins) > 1 else f"{stem}.yaml"


def main(argv: list[str]) -> None:
    username = os.environ.get("OMNI_BI_ADMIN_USER", "admin")
    with _app().app_context():
        if argv[0] == "admin":
            _admin(username)
        elif argv[0] == "setup":
            _admin(username)
            _import(Path(argv[1]), username)
        elif argv[0] == "import":
            _import(Path(argv[1]), username)
        elif argv[0] == "export":
            _export(Path(argv[1]), username)
        else:
            sys.exit(f"unknown command {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
