"""The BI layer on a demo's warehouse: MetricFlow's answers equal the marts' figures, and
Superset (its own virtualenv, `make bi`'s set-up) serves the dashboards of bi/superset/ as
bi_reader; headless Chromium logs in, opens each dashboard and finds every chart drawn
with the demo's data. Screenshots land in .local/test-artefacts/.

The demo runs with the simulator's faults, so that the Data health dashboard has held
batches, quarantined records and alerts to show."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

from omnichannel import runtime, superset
from omnichannel.cli.demo import run_demo
from tests.helpers.browser import CHROMIUM_ARGS, artefacts_dir
from tests.helpers.dbt import run_dbt
from tests.helpers.receivers import free_port
from tests.helpers.warehouse import query

pytestmark = [pytest.mark.integration, pytest.mark.dags, pytest.mark.browser]
BUNDLE = Path(__file__).parents[3] / "bi" / "superset"
STARTUP_TIMEOUT = 120


@pytest.fixture(scope="module")
def demo():
    """Three weeks of history and a day, every channel, faults on (something in
    quarantine). The demo's forecast (28 days ahead) has too short a history for its
    backtest; a week-ahead forecast with one backtest origin fills mart_forecast_accuracy,
    as the forecast_demand DAG's params would."""
    from omnichannel.forecast.run import run as run_forecast
    from tests.helpers.warehouse import reset_warehouse

    reset_warehouse()
    result = run_demo(days=1, seed=23, history_days=21, faults=True)
    run_forecast(horizon=7, origins=1)
    built = run_dbt("build", "--select", "tag:forecast")
    assert built.returncode == 0, built.stdout[-3000:]
    [(quarantined,)] = query("select count(*) from quarantine.records")
    [(scored,)] = query("select count(*) from marts.mart_forecast_accuracy where is_chosen")
    assert quarantined > 0 and scored > 0, (quarantined, scored)
    return result


# --- MetricFlow -------------------------------------------------------------------------


def _mf(metrics: list[str], group_by: list[str]) -> dict[tuple, tuple]:
    """MetricFlow's answer: the group-by values (days as dates) -> the metrics' values."""
    from omnichannel import metrics as semantic

    answer = semantic.query(metrics, group_by)
    index = {column: i for i, column in enumerate(answer.columns)}
    return {
        tuple(_day(row[index[g]]) for g in group_by): tuple(row[index[m]] for m in metrics)
        for row in answer.rows
    }


def _day(value):
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def _close(got, want, places: int) -> bool:
    """Equal when rounded to `places` as PostgreSQL rounds numerics (half away from zero)."""
    if got is None or want is None:
        return got is None and want is None
    step = Decimal(1).scaleb(-places)
    return Decimal(str(got)).quantize(step, ROUND_HALF_UP) == Decimal(str(want)).quantize(
        step, ROUND_HALF_UP
    )


def test_metricflow_equals_the_daily_kpis_mart(demo):
    """gmv, net_revenue, orders, aov, conversion_rate and new_customers per channel and
    day, through the semantic layer, equal mart_channel_daily_kpis row for row."""
    names = ["gmv", "net_revenue", "orders", "aov", "conversion_rate", "new_customers"]
    got = _mf(names, ["channel", "metric_time__day"])
    mart = query(
        """select channel_id, order_date, gmv_reporting, net_revenue_reporting, orders_count,
                  aov_reporting, conversion_rate, new_customers
           from marts.mart_channel_daily_kpis"""
    )
    assert len(mart) >= 4 * 22
    for channel, day, gmv, net, orders, aov, conversion, new in mart:
        row = got.get((channel, day))
        if orders == 0:  # a day with traffic and no order: no order row for MetricFlow
            assert row is None or not row[2], (channel, day, row)
            continue
        m_gmv, m_net, m_orders, m_aov, m_conversion, m_new = row
        where = (channel, day)
        assert Decimal(str(m_gmv)) == gmv and Decimal(str(m_net)) == net, where
        assert m_orders == orders and (m_new or 0) == new, where
        assert _close(m_aov, aov, 2), (where, m_aov, aov)
        assert _close(m_conversion, conversion, 4), (where, m_conversion, conversion)


def test_metricflow_equals_repurchase_cover_and_forecast_accuracy(demo):
    """repurchase_rate per channel (mart_repurchase), days_of_cover per location and SKU
    (mart_inventory_health) and forecast_wape per channel (pooled from
    mart_forecast_accuracy's chosen models)."""
    got = _mf(["repurchase_rate"], ["channel"])
    mart = query("select channel_id, repurchase_rate from marts.mart_repurchase")
    per_channel = [row for row in mart if row[0] != "all"]
    assert len(per_channel) == 4
    for channel, rate in per_channel:
        assert _close(got[(channel,)][0], rate, 4), (channel, got[(channel,)], rate)

    got = _mf(["days_of_cover"], ["inventory_position__location_id", "inventory_position__sku"])
    mart = query(
        "select location_id, sku, days_of_cover from marts.mart_inventory_health"
        " where sku is not null"
    )
    covered = 0
    for location, sku, cover in mart:
        (value,) = got[(location, sku)]
        if cover is None:
            assert value is None, (location, sku, value)
            continue
        assert _close(value, cover, 1), (location, sku, value, cover)
        covered += 1
    assert covered > 20

    got = _mf(["forecast_wape", "baseline_wape"], ["channel"])
    mart = query(
        """select channel_id,
                  sum(abs_error_units) filter (where is_chosen)
                  / sum(actual_units) filter (where is_chosen),
                  sum(abs_error_units) filter (where is_baseline)
                  / sum(actual_units) filter (where is_baseline)
           from marts.mart_forecast_accuracy group by channel_id"""
    )
    assert len(mart) == 4
    for channel, wape, baseline in mart:
        assert _close(got[(channel,)][0], wape, 6), (channel, got[(channel,)], wape)
        assert _close(got[(channel,)][1], baseline, 6), (channel, got[(channel,)], baseline)


def test_omni_metrics_query_prints_the_marts_figures(demo):
    """The issue's example, through the CLI: gmv by channel and day."""
    done = subprocess.run(
        [sys.executable, "-m", "omnichannel.cli", "metrics", "query", "--metrics", "gmv",
         "--group-by", "channel,metric_time__day", "--csv"],
        capture_output=True, text=True, env={**os.environ}, check=True,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    header = lines[0].split(",")
    assert sorted(header) == ["channel", "gmv", "metric_time__day"]
    printed = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=True))
        printed[(row["channel"], row["metric_time__day"][:10])] = Decimal(row["gmv"])
    mart = {
        (c, d.isoformat()): g
        for c, d, g in query(
            "select channel_id, order_date, gmv_reporting from marts.mart_channel_daily_kpis "
            "where orders_count > 0"
        )
    }
    assert printed == mart


# --- Superset in a browser --------------------------------------------------------------


def _dashboards() -> dict[str, list[str]]:
    """slug -> chart titles, from the bundle in the repository."""
    charts = {}
    for path in (BUNDLE / "charts").glob("*.yaml"):
        chart = yaml.safe_load(path.read_text())
        charts[chart["uuid"]] = chart["slice_name"]
    found = {}
    for path in (BUNDLE / "dashboards").glob("*.yaml"):
        dashboard = yaml.safe_load(path.read_text())
        found[dashboard["slug"]] = [
            charts[item["meta"]["uuid"]]
            for item in dashboard["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        ]
    return found


@pytest.fixture(scope="module")
def superset_ui(demo, tmp_path_factory):
    """`omni bi setup` into a metadata folder of this test, then gunicorn on a free port."""
    if not superset.installed():
        pytest.fail("Superset is not installed: `make test` installs it (make bi)")
    os.environ["OMNI_BI_HOME"] = str(tmp_path_factory.mktemp("superset"))
    try:
        runtime.apply()
        found = superset.setup()
        assert found.created
        again = superset.setup()  # idempotent: the admin exists, the import overwrites
        assert not again.created
        port = free_port()
        log = open(Path(os.environ["OMNI_BI_HOME"]) / "server.log", "w")  # noqa: SIM115
        server = subprocess.Popen(
            superset.serve_command(port), env=superset.environment(), stdout=log, stderr=log
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, "Superset exited; see its server.log"
            assert time.monotonic() < deadline, "Superset did not answer /health"
            time.sleep(1)
        yield url, found.admin_password
        server.terminate()
        server.wait(30)
        log.close()
    finally:
        del os.environ["OMNI_BI_HOME"]


def test_metadata_and_secrets_are_private(superset_ui):
    home = Path(os.environ["OMNI_BI_HOME"])
    for name in ("secrets.json", "superset.db"):
        assert (home / name).stat().st_mode & 0o077 == 0, name
    _, password = superset_ui
    assert password not in (home / "server.log").read_text()


def test_an_export_after_the_import_reproduces_the_bundle(superset_ui, tmp_path):
    """The round trip `make bi-export` relies on: what the import put into a new Superset
    exports as the very files of bi/superset/ (stable names, no installation's ids), so a
    change made in the UI shows in `git diff` as that change only."""
    superset.export(tmp_path)
    ours = {p.relative_to(BUNDLE): yaml.safe_load(p.read_text()) for p in BUNDLE.rglob("*.yaml")}
    theirs = {
        p.relative_to(tmp_path): yaml.safe_load(p.read_text()) for p in tmp_path.rglob("*.yaml")
    }
    assert sorted(theirs) == sorted(ours)
    assert [name for name in ours if theirs[name] != ours[name]] == []


def test_every_dashboard_shows_every_chart_with_data(superset_ui, chromium):
    from playwright.sync_api import sync_playwright

    url, password = superset_ui
    dashboards = _dashboards()
    assert set(dashboards) == {
        "channel-performance", "customers", "products-inventory", "forecasts", "data-health",
    }  # fmt: skip
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1800})
        page.goto(f"{url}/login/")
        page.locator("input#username, input[name=username]").first.fill(superset.ADMIN_USER)
        page.locator("input[type=password]").first.fill(password)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(lambda u: "/login" not in u, timeout=30_000)
        for slug, titles in dashboards.items():
            page.goto(f"{url}/superset/dashboard/{slug}/?standalone=1")
            charts = page.locator("[data-test='chart-grid-component']")
            charts.first.wait_for(timeout=60_000)
            _wait_for_charts(page, charts, len(titles))
            page.screenshot(path=str(artefacts_dir() / f"superset-{slug}.png"), full_page=True)
            for i in range(charts.count()):
                text = charts.nth(i).inner_text()
                title = text.splitlines()[0] if text else "?"
                for sign in ("Data error", "Unexpected error", "No results", "No data", "Error:"):
                    if sign in text:
                        problems.append(f"{slug} / {title}: {sign}")
                # a chart draws into a canvas or svg, a big number or a table writes text
                drawn = charts.nth(i).locator("canvas, svg, table").count() > 0
                if not drawn and not any(ch.isdigit() for ch in text):
                    problems.append(f"{slug} / {title}: nothing drawn")
            assert sorted(
                charts.nth(i).inner_text().splitlines()[0] for i in range(charts.count())
            ) == sorted(titles), slug
        browser.close()
    assert problems == []


def _wait_for_charts(page, charts, expected: int) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        loading = page.locator(
            "[data-test='chart-grid-component'] [aria-label='Loading'], "
            "[data-test='chart-grid-component'] .loading"
        ).count()
        if charts.count() == expected and loading == 0:
            page.wait_for_timeout(1000)  # the last canvas paints after its data
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"{charts.count()} of {expected} charts, still loading")
