"""SP-API payloads (orders, items, financial events, inventory, report rows)
flattened to the streams' columns."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from omnichannel.channels.base import iso_z, pick, text


def _money(node: dict | None, field: str = "Amount") -> str | None:
    return None if not node else text(node.get(field))


def flatten_order(order: dict) -> dict:
    total = order.get("OrderTotal") or {}
    return {
        "amazon_order_id": order["AmazonOrderId"],
        "purchase_date": order["PurchaseDate"],
        "last_update_date": order["LastUpdateDate"],
        "order_status": order["OrderStatus"],
        "fulfillment_channel": order.get("FulfillmentChannel"),
        "sales_channel": order.get("SalesChannel"),
        "marketplace_id": order.get("MarketplaceId"),
        "order_total": _money(total),
        "currency": total.get("CurrencyCode"),
        "items_shipped": text(order.get("NumberOfItemsShipped")),
        "items_unshipped": text(order.get("NumberOfItemsUnshipped")),
        "buyer_email": (order.get("BuyerInfo") or {}).get("BuyerEmail"),
        "is_prime": text(order.get("IsPrime")),
        "is_business_order": text(order.get("IsBusinessOrder")),
        "payload": order,
    }


def flatten_item(order: dict, item: dict) -> dict:
    price = item.get("ItemPrice") or {}
    return {
        "amazon_order_id": order["AmazonOrderId"],
        "order_item_id": item["OrderItemId"],
        "order_last_update_date": order["LastUpdateDate"],
        "purchase_date": order["PurchaseDate"],
        "order_status": order["OrderStatus"],
        "asin": item["ASIN"],
        "seller_sku": item.get("SellerSKU"),
        "title": item.get("Title"),
        "quantity_ordered": text(item["QuantityOrdered"]),
        "quantity_shipped": text(item.get("QuantityShipped")),
        "item_price": _money(price),
        "item_tax": _money(item.get("ItemTax")),
        "promotion_discount": _money(item.get("PromotionDiscount")),
        "shipping_price": _money(item.get("ShippingPrice")),
        "currency": price.get("CurrencyCode"),
        "payload": item,
    }


def flatten_refund(event: dict) -> list[dict]:
    records = []
    for item in event.get("ShipmentItemAdjustmentList") or []:
        charges = {c["ChargeType"]: c["ChargeAmount"] for c in item["ItemChargeAdjustmentList"]}
        principal = charges.get("Principal") or {}
        records.append(
            {
                "amazon_order_id": event["AmazonOrderId"],
                "adjustment_item_id": item["OrderAdjustmentItemId"],
                "posted_date": event["PostedDate"],
                "seller_sku": item.get("SellerSKU"),
                "quantity": text(item.get("QuantityShipped")),
                "principal": _amount(principal.get("CurrencyAmount")),
                "tax": _amount((charges.get("Tax") or {}).get("CurrencyAmount")),
                "currency": principal.get("CurrencyCode"),
                "payload": {
                    **{k: v for k, v in event.items() if k != "ShipmentItemAdjustmentList"},
                    "item": item,
                },
            }
        )
    return records


def _amount(value) -> str | None:
    """A Finances API amount (a JSON number) as an exact decimal string."""
    if value is None:
        return None
    return f"{Decimal(str(value)):.2f}"


def flatten_inventory(summary: dict, day: date, read_at: datetime) -> dict:
    details = summary.get("inventoryDetails") or {}
    inbound = sum(
        int(details.get(k) or 0)
        for k in ("inboundWorkingQuantity", "inboundShippedQuantity", "inboundReceivingQuantity")
    )
    return {
        "snapshot_date": day.isoformat(),
        "snapshot_at": iso_z(read_at),
        "seller_sku": summary["sellerSku"],
        "asin": summary.get("asin"),
        "fn_sku": summary.get("fnSku"),
        "fulfillable_quantity": text(details.get("fulfillableQuantity")),
        "inbound_quantity": text(inbound) if details else None,
        "reserved_quantity": text(
            (details.get("reservedQuantity") or {}).get("totalReservedQuantity")
        ),
        "unfulfillable_quantity": text(
            (details.get("unfulfillableQuantity") or {}).get("totalUnfulfillableQuantity")
        ),
        "total_quantity": text(summary.get("totalQuantity")),
        "product_name": summary.get("productName"),
        "payload": summary,
    }


# the Sales and Traffic report's counts: column ← field of salesByDate / trafficByDate
SALES_FIELDS = {
    "units_ordered": "unitsOrdered",
    "total_order_items": "totalOrderItems",
    "units_refunded": "unitsRefunded",
    "units_shipped": "unitsShipped",
    "orders_shipped": "ordersShipped",
}
TRAFFIC_FIELDS = {
    "page_views": "pageViews",
    "sessions": "sessions",
    "buy_box_percentage": "buyBoxPercentage",
    "unit_session_percentage": "unitSessionPercentage",
}


def flatten_sales_traffic(row: dict, as_of: datetime) -> dict:
    sales, traffic = row.get("salesByDate") or {}, row.get("trafficByDate") or {}
    ordered = sales.get("orderedProductSales") or {}
    shipped = sales.get("shippedProductSales") or {}
    return {
        "as_of": iso_z(as_of),
        "report_date": row["date"],
        "ordered_product_sales": text(ordered.get("amount")),
        "currency": ordered.get("currencyCode"),
        "shipped_product_sales": text(shipped.get("amount")),
        **pick(sales, SALES_FIELDS),
        **pick(traffic, TRAFFIC_FIELDS),
        "payload": json.loads(json.dumps(row, default=str)),
    }
