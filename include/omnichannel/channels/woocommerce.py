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

from omnichannel.channels.base import Credentials, HttpSource, pick, text
from omnichannel.streams import ExtractError, Page, load_streams

# columns, key and cursor of each stream: channels/streams/woocommerce.yml
STREAMS = load_streams("woocommerce")
ORDERS, REFUNDS, PRODUCTS = (STREAMS[s] for s in ("orders", "refunds", "products"))


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
        **pick(line, {name: name for name in ("product_id", "quantity", "subtotal", "total_tax")}),
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
