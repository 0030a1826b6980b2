"""Each bad-value fault of the simulator is caught by a named expectation of the gate and
ends in quarantine with its reason (real simulator, real warehouse, real GX)."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest

from omnichannel.channels.base import Credentials
from omnichannel.pipeline import BatchHeld, extract_and_land, gate, run_interval
from omnichannel.streams import ExtractError
from tests.helpers.pipeline import day_interval, load_day
from tests.helpers.warehouse import query

pytestmark = pytest.mark.integration
DAY = date(2026, 10, 2)

FAULTS = [
    # (fault, variant) → the expectation (and column) that names the problem
    ("bad_row", "unparseable_amount", "expect_column_values_to_be_null", "subtotal__unparsed"),
    ("bad_row", "negative_quantity", "expect_column_values_to_be_between", "min_line_quantity"),
    ("bad_row", "unknown_currency", "expect_column_values_to_be_in_set", "currency"),
    ("bad_row", "null_id", "expect_column_values_to_not_be_null", "order_id"),
    ("bad_row", "future_date", "expect_column_values_to_be_between", "created_at__typed"),
    ("bad_row", "totals_mismatch", "expect_column_values_to_be_between", "totals_gap"),
    ("schema_drift", "type_change", "expect_column_values_to_be_in_set", "amount_json_type"),
    ("schema_drift", "renamed_field", "expect_column_values_to_not_be_null", "updated_at"),
]


@pytest.mark.parametrize(("fault", "variant", "expectation", "column"), FAULTS)
def test_a_bad_value_is_caught_by_a_named_expectation_and_quarantined(
    clean_warehouse, simulator, shop, fault, variant, expectation, column
):
    load_day(simulator, shop, DAY - timedelta(days=1))  # the stream's baseline
    batch_id = load_day(simulator, shop, DAY, fault, variant)
    failed = query(
        "select expectation, column_name from ops.dq_results "
        "where batch_id = %s and not success and expectation <> 'suite'",
        batch_id,
    )
    assert (expectation, column) in failed
    quarantined = query(
        "select count(*) from quarantine.records where batch_id = %s and reasons @> %s::jsonb",
        batch_id,
        f'[{{"expectation": "{expectation}", "column": "{column}"}}]',
    )
    assert quarantined[0][0] >= 1
    [(status, received, quarantined_rows)] = query(
        "select status, rows_received, rows_quarantined from ops.load_batches where batch_id = %s",
        batch_id,
    )
    assert status in ("gated", "held") and 1 <= quarantined_rows <= received
    assert query("select count(*) from ops.alerts where batch_id = %s", batch_id) == [(1,)]


def test_a_truncated_page_fails_the_batch_and_keeps_its_body(clean_warehouse, simulator, shop):
    with pytest.raises(ExtractError, match="page 1: malformed page"):
        load_day(simulator, shop, DAY, "malformed_page")
    [(key, reasons, payload)] = query("select record_key, reasons, payload from quarantine.records")
    assert key == "page 1" and reasons[0]["expectation"] == "page_is_readable"
    assert payload["body"].startswith('{"data"') and payload["bytes"] == len(payload["body"])
    assert query("select status from ops.load_batches") == [("failed",)]
    assert query("select kind, severity from ops.alerts") == [("data_quality", "critical")]


def test_every_batch_received_is_published_or_quarantined(clean_warehouse, simulator, shop):
    for n, variant in enumerate(("unparseable_amount", "null_id", None)):
        day = DAY + timedelta(days=n)
        interval = day_interval(day, shop.tz)
        simulator.set_clock(interval.end)
        simulator.clear_faults()
        if variant:
            simulator.add_fault(shop.channel_id, "bad_row", variant=variant, page=1)
        creds = Credentials(simulator.shop_url(shop.channel_id), "shpat_test")
        run_interval(shop, "orders", interval, creds)
    rows = query(
        "select status, rows_received, rows_published, rows_quarantined from ops.load_batches"
    )
    assert [r[0] for r in rows] == ["published"] * 3
    assert all(received == published + quarantined for _, received, published, quarantined in rows)
    assert sum(r[3] for r in rows) == 2


def test_data_docs_show_the_latest_results(clean_warehouse, simulator, shop, tmp_path):
    from omnichannel import warehouse
    from omnichannel.quality import docs

    load_day(simulator, shop, DAY - timedelta(days=1))
    batch_id = load_day(simulator, shop, DAY, "bad_row", "totals_mismatch")
    with warehouse.connect() as conn:
        index = docs.build(conn, tmp_path)
    assert index.exists() and f"shopify_us-orders-batch-{batch_id}" in index.read_text()
    [page] = tmp_path.glob(f"validations/shopify__orders/*batch-{batch_id}/*/*.html")
    assert "totals_gap" in page.read_text()


def test_the_cli_lists_and_shows_quarantined_rows(clean_warehouse, simulator, shop, capsys):
    from omnichannel.cli import main

    batch_id = load_day(simulator, shop, DAY, "bad_row", "null_id")
    assert main(["quarantine", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{batch_id}  shopify_us/orders" in listed
    assert "expect_column_values_to_not_be_null(order_id)" in listed
    assert main(["quarantine", "show", str(batch_id), "--records"]) == 0
    shown = capsys.readouterr().out
    assert "(page 1, record 1): open" in shown and '"order_id": null' in shown


def test_woocommerce_totals_that_do_not_add_up_are_caught(clean_warehouse, simulator, channels):
    from tests.helpers.pipeline import credentials

    woo = channels.get("woo_uk")
    batches = []
    for day, variant in ((DAY - timedelta(days=1), None), (DAY, "totals_mismatch")):
        interval = day_interval(day, woo.tz)
        simulator.set_clock(interval.end)
        if variant:
            simulator.add_fault(woo.channel_id, "bad_row", variant=variant, stream="orders")
        batch_id = extract_and_land(woo, "orders", interval, credentials(simulator, woo))
        with contextlib.suppress(BatchHeld):
            gate(woo, "orders", batch_id)
        batches.append(batch_id)
    failed = query(
        "select batch_id, expectation, column_name from ops.dq_results "
        "where not success and expectation <> 'suite'"
    )
    assert failed == [(batches[1], "expect_column_values_to_be_between", "totals_gap")]
