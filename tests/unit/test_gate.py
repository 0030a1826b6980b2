"""The Great Expectations suite of the Shopify orders stream, on landing-shaped frames."""

import pandas as pd

from omnichannel.channels.shopify import ORDERS
from omnichannel.quality.gate import validate_frame

GOOD = {
    "order_id": "gid://shopify/Order/1",
    "order_name": "#1001",
    "email": "a@example.com",
    "customer_id": "gid://shopify/Customer/9",
    "created_at": "2026-10-01T10:00:00Z",
    "updated_at": "2026-10-02T10:00:00Z",
    "processed_at": "2026-10-01T10:00:00Z",
    "cancelled_at": None,
    "financial_status": "PAID",
    "fulfillment_status": "FULFILLED",
    "currency": "USD",
    "subtotal": "90.00",
    "total_discounts": "10.00",
    "total_shipping": "0.00",
    "total_tax": "7.20",
    "total_price": "97.20",
    "total_refunded": "0.00",
    "refunded_subtotal": "0.00",
    "line_items_count": "2",
    "units": "3",
}
PARAMS = {"shop_currencies": ["USD"]}


def frame(*rows):
    return pd.DataFrame(list(rows), columns=list(ORDERS.column_names), dtype="object")


def test_good_batch_passes():
    result = validate_frame(
        ORDERS, frame(GOOD, {**GOOD, "order_id": "gid://shopify/Order/2"}), PARAMS
    )
    assert result.success, result.summary()
    assert result.evaluated > 20


def test_bad_money_value_fails_with_column_and_value():
    result = validate_frame(ORDERS, frame(GOOD, {**GOOD, "subtotal": "12,50"}), PARAMS)
    assert not result.success
    [failure] = result.failures
    assert failure.column == "subtotal"
    assert failure.unexpected_count == 1
    assert failure.observed == ["12,50"]


def test_other_shop_currency_fails():
    result = validate_frame(ORDERS, frame({**GOOD, "currency": "EUR"}), PARAMS)
    assert [f.column for f in result.failures] == ["currency"]


def test_missing_column_is_a_schema_failure():
    result = validate_frame(ORDERS, frame(GOOD).drop(columns=["units"]), PARAMS)
    assert not result.success
    assert "expect_table_columns_to_match_set" in [f.expectation for f in result.failures]


def test_empty_batch_passes():
    assert validate_frame(ORDERS, frame(), PARAMS).success
