"""Alerts as the pipeline raises them, for tests of what reads them."""

from __future__ import annotations

from omnichannel import alerts


def held_batch_alert(conn, batch_id: int, column: str) -> int:
    """The alert of a batch the gate held (shopify_us/orders), with its run and DQ details."""
    return alerts.raise_alert(
        conn,
        alerts.Alert(
            "data_quality", "critical", "dq:hold:shopify_us:orders",
            f"shopify_us/orders batch {batch_id}: held by expect_column_values_to_not_be_null",
            channel_id="shopify_us", stream="orders", batch_id=batch_id,
            details={"failures": [{"expectation": "expect_column_values_to_not_be_null",
                                   "column": column}]},
            dag_id="extract_shopify_us", task_id="orders.gate", run_id="scheduled__x",
        ),
    )  # fmt: skip
