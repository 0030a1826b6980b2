"""The marts against `omni simulate truth`: every channel loaded for some days through the
real connectors, gate and loader, then a real `dbt build` (and an incremental one)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import psycopg
import pytest

from omnichannel import paths, warehouse
from omnisim.server import Simulator
from omnisim.truth import daily_truth, inventory
from tests.helpers.dbt import dbt_build, reference_path, run_dbt
from tests.helpers.pipeline import run_day
from tests.helpers.warehouse import query, reset_warehouse
from tests.helpers.workers import dbt_target

pytestmark = pytest.mark.integration
FIRST = date(2026, 10, 1)
DAYS = 5
TRAFFIC = {"shopify_us", "amazon_de", "pos_fr"}  # woo_uk has no web analytics configured
# the world's names of the locations that report daily stock (WooCommerce does not)
LOCATIONS = {"wh_us": "wh_us", "fba_de": "amazon_de_fba"} | {
    f"store_{s}": s for s in ("paris01", "lyon01")
}


@pytest.fixture(scope="module")
def built(config, world):
    """DAYS days of every channel, then one full dbt build; the simulator stays up."""
    reset_warehouse()
    landing = {c.channel_id: c.landing_path for c in config.channels if c.kind == "files"}
    with Simulator(world, landing=landing, reference=reference_path()) as simulator:
        for n in range(DAYS):
            batches = run_day(simulator, config, FIRST + timedelta(days=n))
            assert {b.status for b in batches} == {"published"}
        dbt_build(world)
        yield simulator


def test_daily_kpis_equal_the_truth_to_the_cent(built, world):
    columns = "orders_count, units, gmv, discounts, refunds, net_revenue, sessions"
    mart = {
        (r[0], r[1]): r[2:]
        for r in query(
            f"select channel_id, order_date, {columns} from marts.mart_channel_daily_kpis"  # noqa: S608
        )
    }
    last = FIRST + timedelta(days=DAYS - 1)
    checked = 0
    for row in daily_truth(world, FIRST, last):
        if row.order_date == last:
            continue  # orders of the last day may still be read by the next run
        want = (
            row.orders_count,
            row.units,
            row.gmv,
            row.discounts,
            row.refunds,
            row.net_revenue,
            row.sessions if row.channel_id in TRAFFIC else None,
        )
        assert mart[(row.channel_id, row.order_date)] == want, (row.channel_id, row.order_date)
        checked += 1
    assert checked == 4 * (DAYS - 1)


def test_on_hand_stock_equals_the_truth_per_sku_location_and_day(built, world):
    """Through the SKU crosswalk (Amazon seller SKUs and store barcodes mapped by the
    product master), on hand per SKU, location and day is the world's end-of-day stock."""
    ours = {
        (r[0], r[1], r[2]): r[3]
        for r in query(
            "select location_id, sku, inventory_date, on_hand from marts.fct_inventory_daily"
        )
    }
    # a channel reports the stock of the SKUs it lists (Shopify tracks the items of its
    # products, a till counts what the store sells): those pairs, every day
    pairs = {(location, sku) for location, sku, _ in ours}
    compared = 0
    for name, sku, day, on_hand in inventory(world, FIRST, FIRST + timedelta(days=DAYS - 1)):
        if (LOCATIONS.get(name), sku) in pairs:
            key = (LOCATIONS[name], sku, date.fromisoformat(day))
            assert ours.get(key) == on_hand, key
            compared += 1
    assert compared == len(ours) == len(pairs) * DAYS
    assert {location for location, _ in pairs} == set(LOCATIONS.values())
    assert query("select count(*) from marts.fct_order_lines where sku is null") == [(0,)]


def test_reporting_currency_uses_the_daily_rate_of_the_local_order_day(built, world):
    rows = query(
        "select currency, order_date, gmv, gmv_reporting, fx_rate from marts.fct_orders "
        "where currency <> 'USD'"
    )
    assert {r[0] for r in rows} == {"EUR", "GBP"}
    for currency, day, gmv, gmv_usd, rate in rows:
        assert abs(float(rate) - world.fx[currency][world.day_index(day)]) < 1e-6
        assert gmv_usd == (gmv * rate).quantize(Decimal("0.01"))
    types = dict(
        query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'mart_channel_daily_kpis'"
        )
    )
    money = [c for c in types if c.startswith(("gmv", "net_revenue", "refunds", "aov"))]
    assert len(money) == 8 and all(types[c] == "numeric" for c in money)


def test_customers_are_one_identity_across_channels(built, world):
    """The same buyer on Shopify, Amazon (e-mail in title case) and a till (upper case)
    is one customer; anonymous orders stay anonymous."""
    [(customers, multi, anonymous_keys)] = query(
        """select count(*), count(*) filter (where channels_count > 1),
                  (select count(*) from marts.fct_orders where is_anonymous
                   and customer_key is not null)
           from marts.dim_customers"""
    )
    assert customers > 0 and multi > 0 and anonymous_keys == 0
    known = {c.email for c in world.customers}
    assert len(known) >= customers


def test_customer_keys_are_keyed_with_the_installations_secret(built, world):
    """A list of plainly hashed addresses matches no key; the secret and the address do."""
    import hashlib
    import re

    keys = {k for (k,) in query("select customer_key from marts.dim_customers")}
    emails = [re.sub(r"\+[^@]*@", "@", c.email.strip().lower()) for c in world.customers]
    assert not keys & {hashlib.sha256(e.encode()).hexdigest() for e in emails}
    secret = warehouse.customer_key_secret()
    keyed = {hashlib.sha256(f"{secret}:{e}".encode()).hexdigest() for e in emails}
    assert keys and keys <= keyed


def test_a_nan_in_any_mart_number_fails_its_numbers_are_finite_test(built):
    """'NaN' is valid numeric in PostgreSQL and passes not_null and range tests: the model
    test reads each mart's number columns from the warehouse and fails on it."""
    [(before,)] = query("select gmv from marts.mart_channel_daily_kpis order by 1 desc limit 1")
    assert (
        run_dbt(
            "test", "--select", "mart_channel_daily_kpis,test_name:numbers_are_finite"
        ).returncode
        == 0
    )
    execute("update marts.mart_channel_daily_kpis set gmv = 'NaN' where gmv = %s", before)
    try:
        result = run_dbt("test", "--select", "mart_channel_daily_kpis,test_name:numbers_are_finite")
        assert result.returncode != 0 and "numbers_are_finite" in result.stdout
    finally:
        execute("update marts.mart_channel_daily_kpis set gmv = %s where gmv = 'NaN'", before)


def test_bi_reader_reads_marts_and_nothing_else(built):
    from omnichannel import bi

    with psycopg.connect(bi.reader_url()) as conn:
        assert conn.execute("select count(*) from marts.fct_orders").fetchone()[0] > 0
        for statement in (
            "select count(*) from raw.shopify__orders",
            "delete from marts.fct_orders",
            "insert into marts.dim_channels (channel_id) values ('x')",
            "create table marts.scratch (x int)",
        ):
            conn.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_bi_session_holding_a_mart_times_the_swap_out_and_a_retry_succeeds(built):
    """An idle BI transaction holds a lock on a mart: dbt's table swap waits lock_timeout,
    then fails that model (the mart left whole); bi_reader's sessions end after their idle
    timeout, and the task's retry then swaps (Airflow retries the model; run again here)."""
    from omnichannel import bi

    model = "mart_channel_daily_kpis"
    [(rows,)] = query(f"select count(*) from marts.{model}")  # noqa: S608
    with psycopg.connect(bi.reader_url()) as reader:
        assert reader.execute("show idle_in_transaction_session_timeout").fetchone() == ("1min",)
        reader.execute(f"select count(*) from marts.{model}")  # noqa: S608 (left open)
        blocked = run_dbt("run", "--select", model, "--vars", "{lock_timeout: 2s}")
        assert blocked.returncode != 0
        assert "lock timeout" in blocked.stdout, blocked.stdout[-2000:]
    assert query(f"select count(*) from marts.{model}") == [(rows,)]  # noqa: S608
    retried = run_dbt("run", "--select", model, "--vars", "{lock_timeout: 2s}")
    assert retried.returncode == 0, retried.stdout[-2000:]
    assert query(f"select count(*) from marts.{model}") == [(rows,)]  # noqa: S608


def test_an_incremental_run_equals_a_full_refresh(built, config, world):
    """Two more days arrive (new orders, late refunds and edits of older ones, new stock
    snapshots), and a store re-sends a day's export without one receipt (deleted at the
    source). The incremental facts then equal the same facts rebuilt from scratch, and the
    deleted receipt is in none of them. Without a lookback: the simulator publishes every
    day within minutes, so a lookback of days would re-read everything and prove nothing.
    (A refund deleted in a shop: test_deletions.)"""
    store, receipt = _resend_without_a_receipt(config, FIRST + timedelta(days=DAYS - 1))
    for n in range(DAYS, DAYS + 2):
        run_day(built, config, FIRST + timedelta(days=n))
    [(deleted,)] = query("select sum(rows_deleted) from ops.load_batches where stream = 'sales'")
    assert deleted >= 1
    # the models only (everything upstream of them is a view): their tests run elsewhere
    models = [
        "--select",
        *(table.split(".")[1] for table in INCREMENTAL),
        "--resource-type",
        "model",
    ]
    dbt_build(world, *models, "--vars", "{incremental_lookback_days: 0}")
    incremental = {table: _content(table) for table in INCREMENTAL}
    for table in INCREMENTAL[:3]:  # the models keyed by order
        sql = f"select count(*) from {table} where order_id = %s"  # noqa: S608
        assert query(sql, f"{store}/{receipt}") == [(0,)], table
    dbt_build(world, "--full-refresh", *models)
    for table in INCREMENTAL:
        assert _content(table) == incremental[table], table
    days = query("select count(distinct inventory_date) from marts.fct_inventory_daily")
    assert days == [(DAYS + 2,)]


def _resend_without_a_receipt(config, day: date) -> tuple[str, str]:
    """A store's corrected export of `day`: the day's sales file again, without the lines of
    one sale that no return points at. Returns the store and the receipt left out."""
    import csv
    from pathlib import Path

    [channel] = [c for c in config.channels if c.kind == "files"]
    root = Path(channel.landing_path)
    original = sorted(root.glob(f"*/sales_*_{day:%Y%m%d}.csv"))[0]
    returned = {
        row["return_of"]
        for path in root.glob("*/sales_*.csv")
        for row in csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";")
    }
    lines = original.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = list(csv.DictReader(lines, delimiter=";"))
    receipt = next(
        r["receipt_no"] for r in rows if not r["return_of"] and r["receipt_no"] not in returned
    )
    kept = [lines[0]]
    kept += [line for line, r in zip(lines[1:], rows, strict=True) if r["receipt_no"] != receipt]
    original.with_name(original.stem + "_resent.csv").write_text("".join(kept), encoding="utf-8")
    return rows[0]["store_id"], receipt


INCREMENTAL = (
    "intermediate.int_orders_unioned",
    "marts.fct_orders",
    "marts.fct_order_lines",
    "marts.fct_sales_daily",
    "marts.fct_inventory_daily",
)


def _content(table: str) -> str:
    [(digest,)] = query(
        f"select md5(string_agg(t::text, '|' order by t::text)) from {table} t"  # noqa: S608
    )
    return digest


def test_the_docs_site_builds_with_every_mart(built, tmp_path):
    """What `make docs` runs: dbt docs as one static page, with the warehouse's catalog."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from omnichannel import paths, warehouse

    project = paths.dbt_project_dir()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "docs",
            "generate",
            "--quiet",
            "--static",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(tmp_path),
        ],
        env={**os.environ, **warehouse.dbt_env()},
        check=True,
    )
    page = (tmp_path / "static_index.html").read_text()
    for mart in ("mart_channel_daily_kpis", "mart_customer_rfm", "mart_inventory_health"):
        assert mart in page
    catalog = (tmp_path / "catalog.json").read_text()
    assert "model.omnichannel.fct_order_lines" in catalog


def test_a_daily_run_tests_what_it_published_and_a_full_run_every_row(built, monkeypatch):
    """A Shopify order gets a status the staging test does not accept. Published ten days
    ago, a transform run does not read it (its window starts at the latest publication
    built, less the 3-day lookback) and the weekly run, which tests every row, does.
    Published now, the run reads it. The window is noted once per DAG run (cosmos gives
    each task's dbt the run's id, and runs dbt in-process as here) before any model is
    rebuilt: a run whose facts already hold later publications starts after it, while the
    first run keeps its own window."""
    from dbt.cli.main import dbtRunner

    [(order_id, status, published_at)] = query(
        "select order_id, financial_status, published_at from raw.shopify__orders"
        " order by order_id limit 1"
    )
    [(latest,)] = query("select max(published_at) from marts.fct_order_lines")
    for name, value in warehouse.dbt_env().items():
        monkeypatch.setenv(name, value)
    project = str(paths.dbt_project_dir())
    target = dbt_target()
    run_dbt("parse")  # each run below finds a parsed project, as cosmos' tasks do

    def passes(run_id: str, test_all_rows: str = "False") -> bool:
        """One dbt task of transform_dbt's run `run_id`: True when its test passes."""
        monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "transform_dbt")
        monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", run_id)
        monkeypatch.setenv("OMNI_DBT_TEST_ALL_ROWS", test_all_rows)
        events = []
        result = dbtRunner(callbacks=[lambda event: events.append(event.info.name)]).invoke(
            ["test", "--project-dir", project, "--profiles-dir", project, "--target-path",
             target, "--select", "stg_shopify__orders,test_name:accepted_values"]
        )  # fmt: skip
        assert result.exception is None, result.exception
        [tested] = [r for r in result.result.results if r.node.resource_type == "test"]
        assert tested.node.name.startswith("accepted_values_stg_shopify__orders_financial")
        assert "UnableToPartialParse" not in events  # environment, not vars: no re-parse
        return result.success

    execute(
        "update raw.shopify__orders set financial_status = 'BOGUS',"
        " published_at = published_at - interval '10 days' where order_id = %s",
        order_id,
    )
    try:
        assert passes("asset_triggered__1")
        assert not passes("scheduled__1", test_all_rows="True")
        execute("update raw.shopify__orders set published_at = %s where order_id = %s",
                published_at, order_id)  # fmt: skip
        assert not passes("asset_triggered__1")
        execute("update marts.fct_order_lines set published_at = published_at"
                " + interval '10 days' where published_at = %s", latest)  # fmt: skip
        assert passes("asset_triggered__2")
        assert not passes("asset_triggered__1")
    finally:
        execute(
            "update raw.shopify__orders set financial_status = %s, published_at = %s"
            " where order_id = %s",
            status, published_at, order_id,
        )  # fmt: skip
        execute("update marts.fct_order_lines set published_at = %s where published_at > %s",
                latest, latest)  # fmt: skip


def execute(statement: str, *params) -> None:
    with warehouse.connect(autocommit=True) as conn:
        conn.execute(statement, params)
