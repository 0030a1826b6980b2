"""WooCommerce REST API v3 (`/wp-json/wc/v3`), with consumer key/secret over Basic auth.

Streams
- orders: `orders?modified_after&modified_before&dates_are_gmt=true&orderby=modified&
  order=asc`, paged with `page`/`per_page` until `X-WP-TotalPages`. Offset paging can skip a
  record that changes during the scan; the next run's lookback re-reads it.
- refunds: for each order of the same scan that has refunds, `orders/<id>/refunds`; one
  record per refund line (amounts negative, without tax, as WooCommerce sends them).
- products: `products?modified_after…` with stock (stock changes save the product).
Money stays the decimal strings WooCommerce sends; dates are read from the `_gmt` fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

from omnichannel.channels.base import Credentials, HttpSource, text
from omnichannel.streams import Column, ExtractError, Page, StreamSpec

TS = "timestamp"  # WooCommerce's *_gmt fields carry no offset: UTC by definition
MONEY = "numeric(18,2)"
ORDERS = StreamSpec(
    channel_kind="woocommerce",
    stream="orders",
    key=("order_id",),
    cursor="date_modified_gmt",
    columns=(
        Column("order_id", "bigint", "WooCommerce order id", False),
        Column("order_number", "text", "Order number shown to the buyer"),
        Column("status", "text", "pending, processing, on-hold, completed, cancelled, …", False),
        Column("currency", "text", "Order currency (ISO 4217)", False),
        Column("date_created_gmt", TS, "When the order was placed (UTC)", False),
        Column("date_modified_gmt", TS, "Last change (UTC); the cursor", False),
        Column("date_completed_gmt", TS, "When the order was completed (UTC)"),
        Column("prices_include_tax", "boolean", "Whether prices include tax (VAT)"),
        Column("discount_total", MONEY, "Discounts without tax"),
        Column("discount_tax", MONEY, "Tax on the discounts"),
        Column("shipping_total", MONEY, "Shipping without tax"),
        Column("total_tax", MONEY, "All tax"),
        Column("total", MONEY, "Order total incl. tax and shipping", False),
        Column("customer_id", "bigint", "Customer id (0 for guests)"),
        Column("billing_email", "text", "Billing e-mail as typed (normalise to match)"),
        Column("line_items_count", "integer", "Number of line items", False),
        Column("refunds_total", MONEY, "Sum of refunds (positive), incl. tax"),
    ),
)
REFUNDS = StreamSpec(
    channel_kind="woocommerce",
    stream="refunds",
    key=("refund_id", "refund_line_id"),
    cursor="order_modified_gmt",
    complete_for=("order_id",),  # an order's refunds are read whole with the order
    columns=(
        Column("refund_id", "bigint", "Refund id", False),
        Column("refund_line_id", "bigint", "Refund line item id", False),
        Column("order_id", "bigint", "The refunded order", False),
        Column("order_modified_gmt", TS, "date_modified_gmt of the order; the cursor", False),
        Column("date_created_gmt", TS, "When the refund was made (UTC)", False),
        Column("sku", "text", "SKU of the refunded product"),
        Column("product_id", "bigint", "Refunded product id"),
        Column("quantity", "integer", "Units refunded (negative, as sent)"),
        Column("subtotal", MONEY, "Merchandise refunded without tax (negative)"),
        Column("total_tax", MONEY, "Tax refunded (negative)"),
        Column("amount", MONEY, "Whole refund amount returned to the buyer (positive)"),
    ),
)
PRODUCTS = StreamSpec(
    channel_kind="woocommerce",
    stream="products",
    key=("product_id",),
    cursor="date_modified_gmt",
    full_first_sync=True,
    columns=(
        Column("product_id", "bigint", "WooCommerce product id", False),
        Column("sku", "text", "The merchant's SKU"),
        Column("name", "text", "Product name"),
        Column("status", "text", "publish, draft, …"),
        Column("price", MONEY, "Current price (tax as the shop is set up)"),
        Column("regular_price", MONEY, "Regular price"),
        Column("stock_quantity", "integer", "Units in stock (manage_stock)"),
        Column("stock_status", "text", "instock, outofstock, onbackorder"),
        Column("date_created_gmt", TS, "When the product was created (UTC)"),
        Column("date_modified_gmt", TS, "Last change (UTC); the cursor", False),
    ),
)
STREAMS = {s.stream: s for s in (ORDERS, REFUNDS, PRODUCTS)}


class WooClient(HttpSource):
    def __init__(self, channel, credentials: Credentials, *, page_size: int = 100, **kwargs):
        super().__init__(channel.channel_id, auth=(credentials.login, credentials.secret), **kwargs)
        self.base = f"{credentials.base_url.rstrip('/')}/wp-json/wc/v3"
        self.page_size = min(page_size, 100)

    def _list(self, stream: str, resource: str, since: datetime, until: datetime):
        page = 0
        while True:
            page += 1
            params = {
                "modified_after": _gmt(since),
                "modified_before": _gmt(until),
                "dates_are_gmt": "true",
                "orderby": "modified" if resource == "orders" else "date",
                "order": "asc",
                "page": page,
                "per_page": self.page_size,
            }
            if resource == "products":
                params.pop("orderby")
            response = self.request(stream, page, "GET", f"{self.base}/{resource}", params=params)
            body = self.json(stream, page, response)
            if not isinstance(body, list):
                raise ExtractError(self.channel_id, stream, page, "malformed page: not a list")
            try:
                pages = int(response.headers["X-WP-TotalPages"])
            except (KeyError, ValueError) as exc:
                raise ExtractError(
                    self.channel_id, stream, page, "response lacks X-WP-TotalPages"
                ) from exc
            yield page, body
            if page >= pages:
                return

    def iter_pages(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        if stream not in STREAMS:
            raise ExtractError(self.channel_id, stream, None, "stream not supported by woocommerce")
        resource = "products" if stream == "products" else "orders"
        for number, body in self._list(stream, resource, since, until):
            try:
                if stream == "orders":
                    records = [flatten_order(o) for o in body]
                elif stream == "products":
                    records = [flatten_product(p) for p in body]
                else:
                    records = [
                        r for o in body if o.get("refunds") for r in self._refunds(number, o)
                    ]
                # the refunds of every order of the page are all listed (an order's
                # `refunds` is its current list): one gone was deleted in the shop
                covers = tuple((text(o["id"]),) for o in body) if stream == "refunds" else ()
            except (KeyError, TypeError, ValueError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"unexpected record shape: missing {exc}"
                ) from exc
            yield Page(number, records, str(number), covers=covers)

    def _refunds(self, number: int, order: dict) -> list[dict]:
        url = f"{self.base}/orders/{order['id']}/refunds"
        refunds = self.json("refunds", number, self.request("refunds", number, "GET", url))
        return [
            flatten_refund_line(order, refund, line)
            for refund in refunds
            for line in refund["line_items"]
        ]


def _gmt(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def flatten_order(order: dict) -> dict:
    refunds = order.get("refunds") or []
    return {
        "order_id": text(order["id"]),
        "order_number": order.get("number"),
        "status": order["status"],
        "currency": order["currency"],
        "date_created_gmt": order["date_created_gmt"],
        "date_modified_gmt": order["date_modified_gmt"],
        "date_completed_gmt": order.get("date_completed_gmt"),
        "prices_include_tax": text(order.get("prices_include_tax")),
        "discount_total": order.get("discount_total"),
        "discount_tax": order.get("discount_tax"),
        "shipping_total": order.get("shipping_total"),
        "total_tax": order.get("total_tax"),
        "total": text(order["total"]),
        "customer_id": text(order.get("customer_id")),
        "billing_email": (order.get("billing") or {}).get("email"),
        "line_items_count": text(len(order["line_items"])),
        "refunds_total": _negated_sum([r.get("total") for r in refunds]),
        "payload": order,
    }


def _negated_sum(values) -> str:
    return f"{-sum((Decimal(str(v)) for v in values if v is not None), Decimal('0')):.2f}"


def flatten_refund_line(order: dict, refund: dict, line: dict) -> dict:
    return {
        "refund_id": text(refund["id"]),
        "refund_line_id": text(line["id"]),
        "order_id": text(order["id"]),
        "order_modified_gmt": order["date_modified_gmt"],
        "date_created_gmt": refund["date_created_gmt"],
        "sku": line.get("sku"),
        "product_id": text(line.get("product_id")),
        "quantity": text(line.get("quantity")),
        "subtotal": text(line.get("subtotal")),
        "total_tax": text(line.get("total_tax")),
        "amount": text(refund.get("amount")),
        "payload": {
            "refund": {k: v for k, v in refund.items() if k != "line_items"},
            "line": line,
        },
    }


def flatten_product(product: dict) -> dict:
    return {
        "product_id": text(product["id"]),
        "sku": product.get("sku"),
        "name": product.get("name"),
        "status": product.get("status"),
        "price": product.get("price") or None,
        "regular_price": product.get("regular_price") or None,
        "stock_quantity": text(product.get("stock_quantity")),
        "stock_status": product.get("stock_status"),
        "date_created_gmt": product.get("date_created_gmt"),
        "date_modified_gmt": product["date_modified_gmt"],
        "payload": product,
    }


def make_client(channel, credentials: Credentials) -> WooClient:
    return WooClient(channel, credentials, page_size=channel.page_size)
