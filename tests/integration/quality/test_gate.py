"""The gate on hand-made landed batches of the Shopify orders stream: the frame it builds
(typed and derived columns), row- versus batch-level failures, and the verdict."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from omnichannel import warehouse
from omnichannel.channels.shopify import ORDERS
from omnichannel.load import ledger, schema
from omnichannel.load.copy import land_page
from omnichannel.quality.gate import landed_frame, validate_frame
from omnichannel.streams import Page

pytestmark = pytest.mark.integration
START = datetime(2026, 10, 1, 4, tzinfo=UTC)
END = START + timedelta(days=1)


def money(amount: str) -> dict:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def order(n: int, **changes) -> dict:
    payload = {
        "id": f"gid://shopify/Order/{n}",
        "updatedAt": "2026-10-01T12:00:00Z",
        "subtotalPriceSet": money("90.00"),
        "lineItems": {"nodes": [{"quantity": 1}, {"quantity": 2}]},
    }
    record = {
        "order_id": f"gid://shopify/Order/{n}", "order_name": f"#{1000 + n}",
        "email": "a@example.com", "customer_id": "gid://shopify/Customer/9",
        "created_at": "2026-10-01T10:00:00Z", "updated_at": "2026-10-01T12:00:00Z",
        "processed_at": "2026-10-01T10:00:00Z", "cancelled_at": None,
        "financial_status": "PAID", "fulfillment_status": "FULFILLED", "currency": "USD",
        "subtotal": "90.00", "total_discounts": "10.00", "total_shipping": "0.00",
        "total_tax": "7.20", "total_price": "97.20", "total_refunded": "0.00",
        "refunded_subtotal": "0.00", "line_items_count": "2", "units": "3",
    }  # fmt: skip
    payload_changes = changes.pop("payload", {})
    record.update(changes)
    record["payload"] = {**copy.deepcopy(payload), **payload_changes}
    return record


@pytest.fixture
def conn():
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        schema.ensure_stream_tables(conn, ORDERS)
        yield conn


def params(**changes) -> dict:
    values = {
        "shop_currencies": ["USD"],
        "now": datetime(2026, 10, 2, tzinfo=UTC), "cursor_from": START - timedelta(days=2),
        "cursor_to": END, "volume_min": None, "volume_max": None, "fresh_after": None,
    }  # fmt: skip
    return {**values, **changes}


def validate(conn, *records, **parameters):
    batch_id = ledger.begin_batch(
        conn, "unit_shop", "orders", START, END, START, END, None, ORDERS.table
    )
    land_page(conn, ORDERS, batch_id, "unit_shop", Page(1, list(records), None))
    values = params(**parameters)
    frame = landed_frame(conn, ORDERS, batch_id, values)
    schema.drop_landing_partitions(conn, ORDERS.table, [batch_id])
    return validate_frame(ORDERS, frame, values)


def labels(result) -> list[str]:
    return [f.label for f in result.failures]


def test_a_good_batch_passes(conn):
    result = validate(conn, order(1), order(2))
    assert result.success, result.summary()
    assert result.evaluated > 40 and result.rows == 2


def test_typed_columns_are_parsed_as_publish_will_cast_them(conn):
    # the regex of a timestamp would pass a 13th month; PostgreSQL does not
    result = validate(conn, order(1), order(2, created_at="2026-13-01T10:00:00Z"))
    assert labels(result) == ["expect_column_values_to_be_null(created_at__unparsed)"]
    assert result.bad_rows == {
        (1, 2): [{"expectation": "expect_column_values_to_be_null",
                  "column": "created_at__unparsed", "observed": "2026-13-01T10:00:00Z"}]
    }  # fmt: skip
    assert result.verdict(max_bad_share=0.5) == "quarantine"
    assert result.verdict(max_bad_share=0.1) == "hold"


def test_another_currency_than_the_shops_is_flagged(conn):
    result = validate(conn, order(1), order(2, currency="XXX"))
    assert labels(result) == ["expect_column_values_to_be_in_set(currency)"]
    assert result.bad_rows[(1, 2)][0]["observed"] == "XXX"


def test_one_version_with_two_contents_is_a_conflict_an_exact_copy_is_not(conn):
    copy_of_1 = order(1)
    changed = order(2, payload={"note": "edited without a new updatedAt"})
    result = validate(conn, order(1), copy_of_1, order(2), changed)
    assert labels(result) == ["expect_column_values_to_be_in_set(version_conflict)"]
    assert sorted(result.bad_rows) == [(1, 3), (1, 4)]


def test_a_record_outside_the_extraction_window_is_flagged(conn):
    result = validate(conn, order(1, updated_at="2026-09-01T00:00:00Z"))
    assert labels(result) == ["expect_column_values_to_be_between(updated_at__typed)"]


def test_volume_outside_the_band_holds_the_batch(conn):
    result = validate(conn, order(1), order(2), volume_min=10, volume_max=50)
    [failure] = result.failures
    assert failure.label == "expect_table_row_count_to_be_between(table)"
    assert failure.severity == "batch" and failure.observed == 2
    assert result.bad_rows == {} and result.verdict(max_bad_share=1.0) == "hold"


def test_a_stale_batch_fails_freshness(conn):
    result = validate(conn, order(1), fresh_after=datetime(2026, 10, 1, 20, tzinfo=UTC))
    [failure] = result.failures
    assert failure.label == "expect_column_max_to_be_between(updated_at__typed)"
    assert failure.severity == "batch"


def test_an_empty_batch_passes_without_volume_history(conn):
    assert validate(conn).success
