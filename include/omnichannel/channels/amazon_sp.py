"""Amazon Selling Partner API: Orders v0, FBA Inventory v1, Sales and Traffic report.

Auth: a Login with Amazon access token from the refresh token (connection password), the
app's client id (login) and client secret (extra `client_secret`), sent as
`x-amz-access-token`; the token endpoint is extra `lwa_url` (default
https://api.amazon.com/auth/o2/token, the simulator's own under the base URL).

Streams
- orders: `getOrders` with LastUpdatedAfter/Before and NextToken (cursor LastUpdateDate).
- order_items: the same scan, then `getOrderItems` per order; one record per item.
- inventory: `getInventorySummaries` (details) as a snapshot of the moment of the run.
- sales_traffic: the Sales and Traffic report (DAY granularity) per complete local day of
  the window: create → poll → document (gzip JSON), amounts parsed as decimals.
Throttling: Amazon sends no Retry-After; a 429 waits 1 / x-amzn-RateLimit-Limit seconds
(bounded exponential backoff otherwise).
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx

from omnichannel.channels.base import Credentials, HttpSource, iso_z, loads, text
from omnichannel.streams import Column, ExtractError, Page, StreamSpec

TS = "timestamptz"
MONEY = "numeric(18,2)"
ORDERS = StreamSpec(
    channel_kind="amazon_sp",
    stream="orders",
    key=("amazon_order_id",),
    cursor="last_update_date",
    columns=(
        Column("amazon_order_id", "text", "Amazon order id, e.g. 302-1234567-1234567", False),
        Column("purchase_date", TS, "When the order was placed (UTC)", False),
        Column("last_update_date", TS, "Last change of the order (UTC); the cursor", False),
        Column("order_status", "text", "Pending, Unshipped, Shipped, Canceled, …", False),
        Column("fulfillment_channel", "text", "AFN (Amazon fulfils) or MFN (seller)"),
        Column("sales_channel", "text", "Marketplace site, e.g. Amazon.de"),
        Column("marketplace_id", "text", "Marketplace id, e.g. A1PA6795UKMFR9"),
        Column("order_total", MONEY, "OrderTotal amount (absent for pending/cancelled)"),
        Column("currency", "text", "OrderTotal currency (ISO 4217)"),
        Column("items_shipped", "integer", "NumberOfItemsShipped"),
        Column("items_unshipped", "integer", "NumberOfItemsUnshipped"),
        Column("buyer_email", "text", "BuyerInfo.BuyerEmail as sent (normalise to match)"),
        Column("is_prime", "boolean", "IsPrime"),
        Column("is_business_order", "boolean", "IsBusinessOrder"),
    ),
)
ORDER_ITEMS = StreamSpec(
    channel_kind="amazon_sp",
    stream="order_items",
    key=("amazon_order_id", "order_item_id"),
    cursor="order_last_update_date",
    columns=(
        Column("amazon_order_id", "text", "The order the item belongs to", False),
        Column("order_item_id", "text", "OrderItemId", False),
        Column("order_last_update_date", TS, "LastUpdateDate of the order; the cursor", False),
        Column("purchase_date", TS, "When the order was placed (UTC)", False),
        Column("order_status", "text", "Status of the order when read", False),
        Column("asin", "text", "ASIN", False),
        Column("seller_sku", "text", "Seller SKU (the seller's id, not ours)"),
        Column("title", "text", "Item title"),
        Column("quantity_ordered", "integer", "QuantityOrdered", False),
        Column("quantity_shipped", "integer", "QuantityShipped"),
        Column("item_price", MONEY, "ItemPrice: unit price × quantity (VAT inside in the EU)"),
        Column("item_tax", MONEY, "ItemTax"),
        Column("promotion_discount", MONEY, "PromotionDiscount"),
        Column("shipping_price", MONEY, "ShippingPrice"),
        Column("currency", "text", "Currency of the item amounts"),
    ),
)
INVENTORY = StreamSpec(
    channel_kind="amazon_sp",
    stream="inventory",
    key=("seller_sku", "snapshot_date"),
    cursor="snapshot_at",
    snapshot=True,
    columns=(
        Column("snapshot_date", "date", "Channel-local day the snapshot stands for", False),
        Column("snapshot_at", TS, "When the API answered (its Date header), UTC", False),
        Column("seller_sku", "text", "Seller SKU", False),
        Column("asin", "text", "ASIN"),
        Column("fn_sku", "text", "Fulfilment network SKU"),
        Column("fulfillable_quantity", "integer", "Units that can be shipped now"),
        Column("inbound_quantity", "integer", "Units inbound (working + shipped + receiving)"),
        Column("reserved_quantity", "integer", "Units reserved"),
        Column("unfulfillable_quantity", "integer", "Damaged, defective, expired units"),
        Column("total_quantity", "integer", "totalQuantity", False),
        Column("product_name", "text", "Product name"),
    ),
)
SALES_TRAFFIC = StreamSpec(
    channel_kind="amazon_sp",
    stream="sales_traffic",
    key=("report_date",),
    cursor="as_of",
    columns=(
        Column(
            "as_of",
            TS,
            "End of the interval the report was read for; the cursor (later "
            "reads of a day replace earlier ones: shipments and refunds keep coming)",
            False,
        ),
        Column("report_date", "date", "Marketplace day of the figures", False),
        Column("ordered_product_sales", MONEY, "orderedProductSales (all orders placed)"),
        Column("currency", "text", "Currency of the amounts"),
        Column("units_ordered", "integer", "unitsOrdered"),
        Column("total_order_items", "integer", "totalOrderItems"),
        Column("units_refunded", "integer", "unitsRefunded"),
        Column("shipped_product_sales", MONEY, "shippedProductSales"),
        Column("units_shipped", "integer", "unitsShipped"),
        Column("orders_shipped", "integer", "ordersShipped"),
        Column("page_views", "integer", "pageViews"),
        Column("sessions", "integer", "sessions", False),
        Column("buy_box_percentage", "numeric(6,2)", "buyBoxPercentage"),
        Column("unit_session_percentage", "numeric(6,2)", "unitSessionPercentage"),
    ),
)
REFUNDS = StreamSpec(
    channel_kind="amazon_sp",
    stream="refunds",
    key=("amazon_order_id", "adjustment_item_id", "posted_date"),
    cursor="posted_date",
    columns=(
        Column("amazon_order_id", "text", "The refunded order", False),
        Column("adjustment_item_id", "text", "OrderAdjustmentItemId of the refunded item", False),
        Column("posted_date", TS, "When the refund was posted (UTC); the cursor", False),
        Column("seller_sku", "text", "Seller SKU of the refunded item"),
        Column("quantity", "integer", "Units refunded"),
        Column("principal", MONEY, "Principal charge adjustment (negative; VAT inside in the EU)"),
        Column("tax", MONEY, "Tax charge adjustment (negative)"),
        Column("currency", "text", "Currency of the amounts"),
    ),
)
STREAMS = {s.stream: s for s in (ORDERS, ORDER_ITEMS, REFUNDS, INVENTORY, SALES_TRAFFIC)}
REPORTS = "/reports/2021-06-30"


def _money(node: dict | None, field: str = "Amount") -> str | None:
    return None if not node else text(node.get(field))


class AmazonClient(HttpSource):
    def __init__(self, channel, credentials: Credentials, *, page_size: int = 100, **kwargs):
        super().__init__(channel.channel_id, **kwargs)
        self.channel = channel
        self.base = credentials.base_url.rstrip("/")
        self.credentials = credentials
        self.page_size = min(page_size, 100)
        self.marketplace = channel.options["marketplace_id"]
        self.token: str | None = None
        self.poll_seconds = float(credentials.extra.get("report_poll_seconds", 0.2))

    def throttle_wait(self, response: httpx.Response) -> float | None:
        try:
            return 1.0 / float(response.headers.get("x-amzn-RateLimit-Limit", ""))
        except (ValueError, ZeroDivisionError):
            return None

    def _authorise(self, stream: str) -> None:
        url = self.credentials.extra.get("lwa_url") or f"{self.base}/auth/o2/token"
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.credentials.secret,
            "client_id": self.credentials.login,
            "client_secret": self.credentials.extra.get("client_secret", ""),
        }
        response = self.request(stream, None, "POST", url, data=form)
        self.token = self.json(stream, None, response)["access_token"]
        self.http.headers["x-amz-access-token"] = self.token

    def get(self, stream: str, page: int | None, path: str, params=None) -> dict:
        if self.token is None:
            self._authorise(stream)
        response = self.request(stream, page, "GET", f"{self.base}{path}", params=params)
        body = self.json(stream, page, response)
        if not isinstance(body, dict):
            raise ExtractError(self.channel_id, stream, page, "malformed page: not an object")
        return body

    def iter_pages(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        if stream in ("orders", "order_items"):
            yield from self._orders(stream, since, until)
        elif stream == "inventory":
            yield from self._inventory(stream, until)
        elif stream == "sales_traffic":
            yield from self._sales_traffic(stream, since, until)
        elif stream == "refunds":
            yield from self._refunds(stream, since, until)
        else:
            raise ExtractError(self.channel_id, stream, None, "stream not supported by amazon_sp")

    def _orders(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        params = {
            "MarketplaceIds": self.marketplace,
            "LastUpdatedAfter": iso_z(since),
            "LastUpdatedBefore": iso_z(until),
            "MaxResultsPerPage": self.page_size,
        }
        number = 0
        while True:
            number += 1
            body = self.get(stream, number, "/orders/v0/orders", params)
            try:
                payload = body["payload"]
                orders = payload["Orders"]
                if stream == "orders":
                    records = [flatten_order(o) for o in orders]
                else:
                    records = [r for o in orders for r in self._items(stream, number, o)]
            except (KeyError, TypeError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"unexpected response shape: missing {exc}"
                ) from exc
            token = payload.get("NextToken")
            yield Page(number, records, token)
            if not token:
                return
            params = {"MarketplaceIds": self.marketplace, "NextToken": token}

    def _items(self, stream: str, number: int, order: dict) -> list[dict]:
        order_id = order["AmazonOrderId"]
        records, token = [], None
        while True:
            params = {"NextToken": token} if token else None
            body = self.get(stream, number, f"/orders/v0/orders/{order_id}/orderItems", params)
            payload = body["payload"]
            records += [flatten_item(order, item) for item in payload["OrderItems"]]
            token = payload.get("NextToken")
            if not token:
                return records

    def _refunds(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        params = {
            "PostedAfter": iso_z(since),
            "PostedBefore": iso_z(until),
            "MaxResultsPerPage": self.page_size,
        }
        number = 0
        while True:
            number += 1
            body = self.get(stream, number, "/finances/v0/financialEvents", params)
            try:
                payload = body["payload"]
                events = (payload.get("FinancialEvents") or {}).get("RefundEventList") or []
                records = [r for event in events for r in flatten_refund(event)]
            except (KeyError, TypeError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"unexpected response shape: missing {exc}"
                ) from exc
            token = payload.get("NextToken")
            yield Page(number, records, token)
            if not token:
                return
            params = {"NextToken": token}

    def _inventory(self, stream: str, until: datetime) -> Iterator[Page]:
        # the snapshot stands for the interval's local day; snapshot_at is when the source
        # answered (its Date header), so a late read shows as one
        day = (until - timedelta(seconds=1)).astimezone(self.channel.tz).date()
        read_at = until
        params = {
            "details": "true",
            "granularityType": "Marketplace",
            "granularityId": self.marketplace,
            "marketplaceIds": self.marketplace,
        }
        number = 0
        while True:
            number += 1
            body = self.get(stream, number, "/fba/inventory/v1/summaries", params)
            try:
                summaries = body["payload"]["inventorySummaries"]
                read_at = read_at if number > 1 else (self.source_time or until)
                records = [flatten_inventory(s, day, read_at) for s in summaries]
            except (KeyError, TypeError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"unexpected response shape: missing {exc}"
                ) from exc
            token = (body.get("pagination") or {}).get("nextToken")
            yield Page(number, records, token)
            if not token:
                return
            params = {**params, "nextToken": token}

    def _sales_traffic(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        tz = self.channel.tz
        first = since.astimezone(tz).date()
        last = (until - timedelta(seconds=1)).astimezone(tz).date()
        for number, day in enumerate(_days(first, last), start=1):
            document = self._report(stream, number, day)
            try:
                records = [
                    flatten_sales_traffic(row, until) for row in document["salesAndTrafficByDate"]
                ]
            except (KeyError, TypeError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"report document lacks {exc}"
                ) from exc
            yield Page(number, records, day.isoformat())

    def _report(self, stream: str, number: int, day: date) -> dict:
        spec = {
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
            "marketplaceIds": [self.marketplace],
            "dataStartTime": day.isoformat(),
            "dataEndTime": day.isoformat(),
            "reportOptions": {"dateGranularity": "DAY", "asinGranularity": "SKU"},
        }
        if self.token is None:
            self._authorise(stream)
        created = self.request(stream, number, "POST", f"{self.base}{REPORTS}/reports", json=spec)
        report_id = self.json(stream, number, created)["reportId"]
        for _ in range(60):
            status = self.get(stream, number, f"{REPORTS}/reports/{report_id}")
            state = status.get("processingStatus")
            if state == "DONE":
                break
            if state in ("CANCELLED", "FATAL"):
                raise ExtractError(self.channel_id, stream, number, f"report {report_id} {state}")
            time.sleep(self.poll_seconds)
        else:
            raise ExtractError(self.channel_id, stream, number, f"report {report_id} not done")
        document = self.get(stream, number, f"{REPORTS}/documents/{status['reportDocumentId']}")
        # a pre-signed URL on another host (S3): the SP-API access token is not sent there
        raw = self.request(stream, number, "GET", document["url"], plain=True)
        try:
            content = raw.content
            if document.get("compressionAlgorithm") == "GZIP":
                content = gzip.decompress(content)
            return loads(content, parse_float=Decimal)
        except (OSError, ValueError, EOFError) as exc:
            raise ExtractError(
                self.channel_id, stream, number, f"malformed report document: {exc}"
            ) from exc


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


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


def flatten_sales_traffic(row: dict, as_of: datetime) -> dict:
    sales, traffic = row.get("salesByDate") or {}, row.get("trafficByDate") or {}
    ordered = sales.get("orderedProductSales") or {}
    shipped = sales.get("shippedProductSales") or {}
    return {
        "as_of": iso_z(as_of),
        "report_date": row["date"],
        "ordered_product_sales": text(ordered.get("amount")),
        "currency": ordered.get("currencyCode"),
        "units_ordered": text(sales.get("unitsOrdered")),
        "total_order_items": text(sales.get("totalOrderItems")),
        "units_refunded": text(sales.get("unitsRefunded")),
        "shipped_product_sales": text(shipped.get("amount")),
        "units_shipped": text(sales.get("unitsShipped")),
        "orders_shipped": text(sales.get("ordersShipped")),
        "page_views": text(traffic.get("pageViews")),
        "sessions": text(traffic.get("sessions")),
        "buy_box_percentage": text(traffic.get("buyBoxPercentage")),
        "unit_session_percentage": text(traffic.get("unitSessionPercentage")),
        "payload": json.loads(json.dumps(row, default=str)),
    }


def make_client(channel, credentials: Credentials) -> AmazonClient:
    return AmazonClient(channel, credentials, page_size=channel.page_size)
