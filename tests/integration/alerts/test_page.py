"""The Ops alerts page: served by the plugin's FastAPI app, it lists open alerts with
their details and links, and its buttons acknowledge and resolve them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from omnichannel import alerts, warehouse
from omnichannel.alerts.page import create_app
from omnichannel.pipeline import prepare_all
from tests.helpers.alerts import held_batch_alert
from tests.helpers.warehouse import query

pytestmark = pytest.mark.integration


def signed_in(monkeypatch, username: str | None, role: str = "op") -> TestClient:
    """The page's app as a user of Airflow's simple auth manager (None: not signed in).
    The real login, through the UI's session cookie, is in test_page_in_a_browser.py."""
    from airflow.api_fastapi.app import create_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.security import get_user

    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
    create_auth_manager()
    app = create_app()
    if username:
        app.dependency_overrides[get_user] = lambda: SimpleAuthManagerUser(
            username=username, role=role
        )
    return TestClient(app)


def test_the_page_lists_open_alerts_and_its_buttons_ack_and_resolve(
    clean_warehouse, config, monkeypatch
):
    prepare_all(config)
    with warehouse.connect() as conn:
        held = held_batch_alert(conn, 7, "updated_at")
        alerts.raise_alert(conn, alerts.Alert("volume", "warning", "v:1", "few orders <b>"))
        conn.commit()
    client = signed_in(monkeypatch, "ana")
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    assert "held by expect_column_values_to_not_be_null" in text and "updated_at" in text
    assert text.index("critical") < text.index("few orders")  # worst first
    assert "few orders &lt;b&gt;" in text  # escaped
    assert "../dags/extract_shopify_us/runs/scheduled__x/tasks/orders.gate" in text
    assert "omni quarantine show 7" in text

    acked = client.post(f"/{held}/ack", follow_redirects=False)
    assert acked.status_code == 303
    assert query("select status, acknowledged_by from ops.alerts where alert_id = %s", held) == [
        ("acknowledged", "ana")
    ]
    assert "acknowledged by ana" in client.get("/").text
    client.post(f"/{held}/resolve")
    assert query("select status, resolved_by from ops.alerts where alert_id = %s", held) == [
        ("resolved", "ana")
    ]
    assert "held by expect" not in client.get("/").text


def test_the_page_needs_a_signed_in_user_and_acks_need_the_right_to_edit_runs(
    clean_warehouse, config, monkeypatch
):
    prepare_all(config)
    with warehouse.connect() as conn:
        alert_id = alerts.raise_alert(conn, alerts.Alert("volume", "warning", "v:2", "few"))
        conn.commit()
    assert signed_in(monkeypatch, None).get("/").status_code == 401
    viewer = signed_in(monkeypatch, "vic", role="viewer")
    assert viewer.get("/").status_code == 200
    assert viewer.post(f"/{alert_id}/ack").status_code == 403
    assert query("select status from ops.alerts where alert_id = %s", alert_id) == [("open",)]


def test_airflow_loads_the_plugin_with_its_nav_entry():
    from omnichannel import runtime

    runtime.apply()  # the plugins folder of the project
    from airflow import plugins_manager

    loaded, errors = plugins_manager._get_plugins()  # what the API server loads
    assert errors == {}
    plugins = {p.name: p for p in loaded}
    plugin = plugins["ops_alerts"]
    assert plugin.fastapi_apps[0]["url_prefix"] == "/ops-alerts"
    assert plugin.external_views[0]["name"] == "Ops alerts"
    assert plugin.external_views[0]["destination"] == "nav"
