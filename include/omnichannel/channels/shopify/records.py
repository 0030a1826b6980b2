"""Shopify's GraphQL nodes flattened to the streams' columns."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from omnichannel.channels.base import text
from omnichannel.channels.shopify.queries import (
    REFUND_LINES_MAX,
)


def search_time(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount(bag: dict | None) -> str | None:
    return None if bag is None else bag["shopMoney"]["amount"]


def flatten_product(node: dict) -> list[dict]:
    variants = node["variants"]
    if variants["pageInfo"]["hasNextPage"]:
        raise ValueError(f"product {node['id']} has more than 10 variants")
    product = {k: v for k, v in node.items() if k != "variants"}
    return [
        {
            "variant_id": variant["id"],
            "product_id": node["id"],
            "product_updated_at": node["updatedAt"],
            "title": node.get("title"),
            "vendor": node.get("vendor"),
            "product_type": node.get("productType"),
            "status": node.get("status"),
            "sku": variant.get("sku"),
            "barcode": variant.get("barcode"),
            "price": variant.get("price"),
            "inventory_item_id": (variant.get("inventoryItem") or {}).get("id"),
            "created_at": node.get("createdAt"),
            "payload": {"product": product, "variant": variant},
        }
        for variant in variants["nodes"]
    ]


def flatten_level(location: dict, level: dict, day, until: datetime) -> dict:
    quantities = {q["name"]: q["quantity"] for q in level["quantities"]}
    return {
        "snapshot_date": day.isoformat() if day else None,
        "snapshot_at": search_time(until),
        "location_id": location["id"],
        "location_name": location.get("name"),
        "inventory_item_id": level["item"]["id"],
        "sku": level["item"].get("sku"),
        "available": text(quantities.get("available")),
        "on_hand": text(quantities.get("on_hand")),
        "payload": {
            "location": {"id": location["id"], "name": location.get("name")},
            "level": level,
        },
    }


# an order's money: column ← MoneyBag field (read in the shop's currency)
ORDER_MONEY = {
    "subtotal": "subtotalPriceSet",
    "total_discounts": "totalDiscountsSet",
    "total_shipping": "totalShippingPriceSet",
    "total_tax": "totalTaxSet",
    "total_price": "totalPriceSet",
    "total_refunded": "totalRefundedSet",
}


def flatten_order(node: dict) -> dict:
    """An Order node to the orders stream's columns (values as received) plus its payload."""
    lines = node["lineItems"]
    if lines["pageInfo"]["hasNextPage"]:
        raise ValueError(f"order {node['id']}: line items beyond the page were not read")
    refunded_subtotal = Decimal("0")
    for refund in node.get("refunds") or []:
        items = refund["refundLineItems"]
        if items["pageInfo"]["hasNextPage"]:
            raise ValueError(
                f"order {node['id']}: refund {refund['id']} has > {REFUND_LINES_MAX} lines"
            )
        for item in items["nodes"]:
            try:
                refunded_subtotal += Decimal(item["subtotalSet"]["shopMoney"]["amount"])
            except InvalidOperation as exc:
                raise ValueError(f"order {node['id']}: refund amount is not a decimal") from exc
    customer = node.get("customer") or {}
    return {
        "order_id": node["id"],
        "order_name": node.get("name"),
        "email": node.get("email"),
        "customer_id": customer.get("id"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "processed_at": node.get("processedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "financial_status": node.get("displayFinancialStatus"),
        "fulfillment_status": node.get("displayFulfillmentStatus"),
        "currency": node.get("currencyCode"),
        **{column: _amount(node.get(field)) for column, field in ORDER_MONEY.items()},
        "refunded_subtotal": f"{refunded_subtotal:.2f}",
        "line_items_count": str(len(lines["nodes"])),
        "units": str(sum(int(item["quantity"]) for item in lines["nodes"])),
        "payload": node,
    }
