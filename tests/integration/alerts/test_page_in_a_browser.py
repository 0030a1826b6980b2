"""The Ops alerts page in the real Airflow UI: an `airflow api-server` on 127.0.0.1 with the
project's plugin, driven by headless Chromium (Debian's `chromium` package) through
Playwright. The browser opens the page from the UI's navigation, sees a held batch's alert
and acknowledges it; screenshots are kept in .local/test-artefacts/.

Needs /usr/bin/chromium (`apt-get install chromium`): without it the test is skipped, unless
OMNI_REQUIRE_BROWSER=1 (set by CI), where it fails."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from omnichannel import runtime, warehouse
from omnichannel.pipeline import prepare_all
from tests.helpers.alerts import held_batch_alert
from tests.helpers.browser import CHROMIUM_ARGS, artefacts_dir
from tests.helpers.receivers import free_port
from tests.helpers.warehouse import query

pytestmark = [pytest.mark.integration, pytest.mark.browser]

USERS = {"ana": "ops-page-test"}
STARTUP_TIMEOUT = 120  # seconds for the API server to answer


@pytest.fixture(scope="module")
def airflow_ui(tmp_path_factory):
    """`airflow api-server` (UI + plugins) on a free port of 127.0.0.1, with a real login:
    Airflow's simple auth manager and one user, ana, in the "op" role."""
    runtime.migrate_airflow_db()
    port = free_port()
    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps(USERS))
    log_path = artefacts_dir() / "api-server.log"
    airflow = runtime.venv_bin("airflow")
    env = {
        **os.environ,
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "ana:op",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
    }
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, log_path)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait_until_up(base: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"airflow api-server exited {server.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"airflow api-server not up after {STARTUP_TIMEOUT} s:\n{log_path.read_text()}")


def test_ops_acknowledge_a_held_batch_in_the_airflow_ui(
    clean_warehouse, config, chromium, airflow_ui
):
    from playwright.sync_api import expect, sync_playwright

    prepare_all(config)
    with warehouse.connect() as conn:
        alert_id = held_batch_alert(conn, 12, "order_id")
        conn.commit()

    shots = artefacts_dir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            # not signed in: the page itself refuses, the UI asks for a login
            anonymous = page.request.get(airflow_ui + "/ops-alerts/")
            assert anonymous.status == 401, anonymous.status
            page.goto(airflow_ui + "/")
            page.get_by_label("Username").fill("ana")
            page.get_by_label("Password").fill(USERS["ana"])
            page.get_by_role("button", name="Sign in").click()
            # the plugin's entry in the UI's navigation opens the page inside the UI
            page.get_by_role("link", name="Ops alerts").first.click()
            frame = page.frame_locator("iframe").first
            row = frame.locator("tr", has_text="held by expect_column_values_to_not_be_null")
            expect(row).to_be_visible(timeout=30_000)
            expect(row).to_contain_text("critical")
            page.screenshot(path=str(shots / "ops-alerts-open.png"), full_page=True)

            row.get_by_role("button", name="Acknowledge").click()
            expect(row).to_contain_text("acknowledged by ana", timeout=15_000)
            page.screenshot(path=str(shots / "ops-alerts-acknowledged.png"), full_page=True)
        finally:
            browser.close()

    assert query(
        "select status, acknowledged_by from ops.alerts where alert_id = %s", alert_id
    ) == [("acknowledged", "ana")]
    assert (shots / "ops-alerts-acknowledged.png").stat().st_size > 10_000
