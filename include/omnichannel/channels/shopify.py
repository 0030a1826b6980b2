"""Shopify, through the GraphQL Admin API (REST is legacy since 2024-10).

Incremental reads filter on `updated_at` with Shopify's search syntax and sort by
UPDATED_AT, paging with `first`/`after` until `pageInfo.hasNextPage` is false.
Money is read from `shopMoney` (the shop currency) as the decimal strings the API sends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

import httpx

from omnichannel.channels.base import Credentials, HttpSource, text
from omnichannel.streams import Column, ExtractError, Page, StreamSpec

__all__ = ["Credentials", "ShopifyClient", "STREAMS", "make_client"]

API_VERSION = "2025-01"
# Nested pages fetched with each order. Shopify prices a query before running it
# (objects 1 point, connections 2 + first × node cost) and refuses one above 1,000 points,
# so nested sizes bound how many orders fit on a page: about 190 points per order here.
# The rest of a longer nested list is read per order afterwards (see _complete_order).
LINE_PAGE = 20
REFUND_PAGE = 3
REFUND_LINE_PAGE = 3
MAX_ORDERS_PER_PAGE = 5
# per-order follow-up queries: 100 lines ≈ 600 points; every refund with up to 250 lines
# ≈ 760 points (a refund cannot have more lines than its order)
MORE_LINES_PAGE = 100
REFUND_LINES_MAX = 250

LINE_FIELDS = """
            id sku name quantity
            variant { id }
            originalUnitPriceSet { shopMoney { amount currencyCode } }
            discountedTotalSet { shopMoney { amount currencyCode } }"""
REFUND_FIELDS = """
          id createdAt
          totalRefundedSet { shopMoney { amount currencyCode } }
          refundLineItems(first: %(refund_lines)d) {
            pageInfo { hasNextPage }
            nodes { quantity subtotalSet { shopMoney { amount currencyCode } } }
          }"""


def orders_query(line_page: int, refund_page: int, refund_line_page: int) -> str:
    refund = REFUND_FIELDS % {"refund_lines": refund_line_page}
    return f"""
query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    edges {{
      cursor
      node {{
        id name email createdAt updatedAt processedAt cancelledAt
        displayFinancialStatus displayFulfillmentStatus currencyCode
        customer {{ id email }}
        subtotalPriceSet {{ shopMoney {{ amount currencyCode }} }}
        totalDiscountsSet {{ shopMoney {{ amount currencyCode }} }}
        totalShippingPriceSet {{ shopMoney {{ amount currencyCode }} }}
        totalTaxSet {{ shopMoney {{ amount currencyCode }} }}
        totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
        totalRefundedSet {{ shopMoney {{ amount currencyCode }} }}
        lineItems(first: {line_page}) {{
          pageInfo {{ hasNextPage endCursor }}
          nodes {{{LINE_FIELDS}
          }}
        }}
        refunds(first: {refund_page}) {{{refund}
        }}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""


ORDER_LINES_QUERY = f"""
query OrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: {MORE_LINES_PAGE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{{LINE_FIELDS}
      }}
    }}
  }}
}}
"""
ORDER_REFUNDS_QUERY = f"""
query OrderRefunds($id: ID!) {{
  order(id: $id) {{
    refunds {{{REFUND_FIELDS % {"refund_lines": REFUND_LINES_MAX}}
    }}
  }}
}}
"""

ORDERS = StreamSpec(
    channel_kind="shopify",
    stream="orders",
    key=("order_id",),
    cursor="updated_at",
    columns=(
        Column("order_id", "text", "Shopify global id of the order (gid://shopify/Order/…)", False),
        Column("order_name", "text", "Order name shown to the merchant, e.g. #1001"),
        Column("email", "text", "Buyer e-mail as given at checkout (may be null)"),
        Column("customer_id", "text", "Shopify global id of the customer (null for guests)"),
        Column("created_at", "timestamptz", "When the order was placed (UTC)", False),
        Column("updated_at", "timestamptz", "Last change of the order (UTC); the cursor", False),
        Column("processed_at", "timestamptz", "When the order was processed (UTC)"),
        Column("cancelled_at", "timestamptz", "When the order was cancelled (UTC), else null"),
        Column("financial_status", "text", "displayFinancialStatus, e.g. PAID, REFUNDED"),
        Column("fulfillment_status", "text", "displayFulfillmentStatus, e.g. FULFILLED"),
        Column("currency", "text", "Shop currency (ISO 4217) of the money columns", False),
        Column(
            "subtotal", "numeric(18,2)", "Line items after discounts, before tax/shipping", False
        ),
        Column("total_discounts", "numeric(18,2)", "Discounts applied to the order", False),
        Column("total_shipping", "numeric(18,2)", "Shipping charged", False),
        Column("total_tax", "numeric(18,2)", "Taxes charged", False),
        Column("total_price", "numeric(18,2)", "Order total incl. tax and shipping", False),
        Column("total_refunded", "numeric(18,2)", "Amount refunded so far, incl. tax", False),
        Column(
            "refunded_subtotal", "numeric(18,2)", "Merchandise refunded so far, excl. tax", False
        ),
        Column("line_items_count", "integer", "Number of line items", False),
        Column("units", "integer", "Sum of line item quantities", False),
    ),
)

PRODUCTS_QUERY = """
query Products($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges {
      node {
        id legacyResourceId title handle vendor productType status createdAt updatedAt
        variants(first: 10) {
          pageInfo { hasNextPage }
          nodes { id legacyResourceId sku barcode price inventoryItem { id } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
INVENTORY_QUERY = """
query Inventory($locationAfter: String, $after: String) {
  locations(first: 1, after: $locationAfter) {
    nodes {
      id name
      inventoryLevels(first: 50, after: $after) {
        nodes { item { id sku } quantities(names: ["available", "on_hand"]) { name quantity } }
        pageInfo { hasNextPage endCursor }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
PRODUCTS = StreamSpec(
    channel_kind="shopify",
    stream="products",
    key=("variant_id",),
    cursor="product_updated_at",
    full_first_sync=True,
    columns=(
        Column("variant_id", "text", "Shopify global id of the variant (one row each)", False),
        Column("product_id", "text", "Shopify global id of the product", False),
        Column("product_updated_at", "timestamptz", "Product's updatedAt (UTC); the cursor", False),
        Column("title", "text", "Product title"),
        Column("vendor", "text", "Vendor (brand)"),
        Column("product_type", "text", "Product type (category)"),
        Column("status", "text", "ACTIVE, ARCHIVED, DRAFT"),
        Column("sku", "text", "Variant SKU (the merchant's)"),
        Column("barcode", "text", "Variant barcode (EAN), the key to store tills"),
        Column("price", "numeric(18,2)", "Variant price in the shop currency"),
        Column("inventory_item_id", "text", "Inventory item of the variant"),
        Column("created_at", "timestamptz", "When the product was created (UTC)"),
    ),
)
INVENTORY = StreamSpec(
    channel_kind="shopify",
    stream="inventory",
    key=("location_id", "inventory_item_id", "snapshot_date"),
    cursor="snapshot_at",
    snapshot=True,
    columns=(
        Column("snapshot_date", "date", "Channel-local day the snapshot stands for", False),
        Column(
            "snapshot_at", "timestamptz", "When the shop answered (its Date header), UTC", False
        ),
        Column("location_id", "text", "Shopify global id of the location", False),
        Column("location_name", "text", "Location name"),
        Column("inventory_item_id", "text", "Shopify global id of the inventory item", False),
        Column("sku", "text", "SKU of the item"),
        Column("available", "integer", "Units available"),
        Column("on_hand", "integer", "Units on hand", False),
    ),
)
STREAMS = {"orders": ORDERS, "products": PRODUCTS, "inventory": INVENTORY}


class ShopifyClient(HttpSource):
    def __init__(
        self,
        channel_id: str,
        credentials: Credentials,
        *,
        page_size: int = 50,
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_backoff: float = 30.0,
        max_throttle_wait: float = 600.0,
        line_page: int = LINE_PAGE,
        refund_page: int = REFUND_PAGE,
        refund_line_page: int = REFUND_LINE_PAGE,
    ):
        super().__init__(
            channel_id,
            headers={
                "X-Shopify-Access-Token": credentials.access_token,
                "Content-Type": "application/json",
            },
            timeout=timeout,
            max_attempts=max_attempts,
            max_backoff=max_backoff,
            max_throttle_wait=max_throttle_wait,
        )
        self.url = f"{credentials.base_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"
        self.page_size = min(page_size, MAX_ORDERS_PER_PAGE)  # query cost bound
        self.orders_query = orders_query(line_page, refund_page, refund_line_page)
        self.refund_page = refund_page
        self.tz = None

    def iter_pages(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        """Pages of records updated in [since, until), oldest update first (inventory:
        a snapshot of every level, standing for `until`)."""
        if stream == "products":
            yield from self._products(stream, since, until)
            return
        if stream == "inventory":
            yield from self._inventory(stream, until)
            return
        if stream != "orders":
            raise ExtractError(self.channel_id, stream, None, "stream not supported by shopify")
        yield from self._search_pages(
            stream,
            self.orders_query,
            "orders",
            self.page_size,
            since,
            until,
            lambda node, page: [flatten_order(self._complete_order(stream, page, node))],
        )

    def _products(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        yield from self._search_pages(
            stream, PRODUCTS_QUERY, "products", 25, since, until, lambda n, _: flatten_product(n)
        )

    def _search_pages(self, stream, query, root, first, since, until, flatten) -> Iterator[Page]:
        """A connection searched by updated_at in [since, until), paged with first/after."""
        search = f"updated_at:>='{_iso(since)}' AND updated_at:<'{_iso(until)}'"
        after, number = None, 0
        while True:
            number += 1
            variables = {"first": first, "after": after, "query": search}
            data = self._post(stream, number, {"query": query, "variables": variables})
            connection = _dig(data, ("data", root), self.channel_id, stream, number)
            try:
                info = connection["pageInfo"]
                records = [r for edge in connection["edges"] for r in flatten(edge["node"], number)]
            except (KeyError, TypeError, ValueError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"unexpected response shape: {exc!r}"
                ) from exc
            yield Page(number, records, info.get("endCursor"))
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")
            if not after:
                raise ExtractError(
                    self.channel_id, stream, number, "hasNextPage is true but endCursor is missing"
                )

    def _complete_order(self, stream: str, page: int, node: dict) -> dict:
        """The order with all its line items and refunds: what did not fit on the page is
        read with order(id:), so the payload kept is the whole order. A change made between
        the two reads shows in a later updatedAt, and the order comes again next run."""
        lines = node["lineItems"]
        after = lines["pageInfo"].get("endCursor")
        while lines["pageInfo"]["hasNextPage"]:
            if not after:
                raise ExtractError(
                    self.channel_id, stream, page, f"order {node['id']}: line items "
                    "have a next page but no endCursor"
                )  # fmt: skip
            variables = {"id": node["id"], "after": after}
            data = self._post(stream, page, {"query": ORDER_LINES_QUERY, "variables": variables})
            more = _dig(data, ("data", "order", "lineItems"), self.channel_id, stream, page)
            lines["nodes"].extend(more["nodes"])
            lines["pageInfo"] = more["pageInfo"]
            after = more["pageInfo"].get("endCursor")
        refunds = node.get("refunds") or []
        if len(refunds) >= self.refund_page or any(
            r["refundLineItems"]["pageInfo"]["hasNextPage"] for r in refunds
        ):  # a full list may have more behind it
            body = {"query": ORDER_REFUNDS_QUERY, "variables": {"id": node["id"]}}
            data = self._post(stream, page, body)
            node["refunds"] = _dig(
                data, ("data", "order", "refunds"), self.channel_id, stream, page
            )
        return node

    def _inventory(self, stream: str, until: datetime) -> Iterator[Page]:
        day = (until - timedelta(seconds=1)).astimezone(self.tz).date() if self.tz else None
        location_after, after, number, read_at = None, None, 0, until
        while True:
            number += 1
            variables = {"locationAfter": location_after, "after": after}
            data = self._post(stream, number, {"query": INVENTORY_QUERY, "variables": variables})
            locations = _dig(data, ("data", "locations"), self.channel_id, stream, number)
            try:
                nodes = locations["nodes"]
                if not nodes:
                    return
                location = nodes[0]
                levels = location["inventoryLevels"]
                read_at = read_at if number > 1 else (self.source_time or until)
                records = [
                    flatten_level(location, level, day, read_at) for level in levels["nodes"]
                ]
            except (KeyError, TypeError, ValueError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"unexpected response shape: {exc!r}"
                ) from exc
            yield Page(number, records, levels["pageInfo"].get("endCursor"))
            if levels["pageInfo"].get("hasNextPage"):
                after = levels["pageInfo"]["endCursor"]
            elif locations["pageInfo"].get("hasNextPage"):
                location_after, after = locations["pageInfo"]["endCursor"], None
            else:
                return

    def _post(self, stream: str, page: int, body: dict) -> dict:
        """Transport errors, 5xx and 429 are retried by HttpSource; THROTTLED (a 200 with
        an error) is waited out here from the reported bucket state."""
        throttled_for = 0.0
        while True:
            response = self.request(stream, page, "POST", self.url, json=body)
            payload = self._decode(stream, page, response)
            wait = _throttle_wait(payload)
            if wait is None:
                return payload
            throttled_for += wait
            if throttled_for > self.max_throttle_wait:
                raise ExtractError(
                    self.channel_id,
                    stream,
                    page,
                    f"THROTTLED for over {self.max_throttle_wait:.0f}s",
                )
            time.sleep(min(max(wait, 0.05), self.max_backoff))

    def _decode(self, stream: str, page: int, response: httpx.Response) -> dict:
        payload = self.json(stream, page, response)
        if not isinstance(payload, dict):
            raise ExtractError(self.channel_id, stream, page, "malformed page: not a JSON object")
        errors = [e for e in payload.get("errors") or [] if not _is_throttle(e)]
        if errors:
            messages = "; ".join(str(e.get("message", e)) for e in errors)
            raise ExtractError(self.channel_id, stream, page, f"GraphQL errors: {messages}")
        return payload


def _is_throttle(error) -> bool:
    return isinstance(error, dict) and (error.get("extensions") or {}).get("code") == "THROTTLED"


def _throttle_wait(payload: dict) -> float | None:
    """Seconds to wait when Shopify answered THROTTLED, from the reported bucket state."""
    if not any(_is_throttle(e) for e in payload.get("errors") or []):
        return None
    cost = (payload.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    needed = float(cost.get("requestedQueryCost") or 0) - float(
        status.get("currentlyAvailable") or 0
    )
    rate = float(status.get("restoreRate") or 50.0)
    return max(needed / rate, 1.0)


def _dig(payload: dict, path: tuple[str, ...], channel_id: str, stream: str, page: int):
    node = payload
    for key in path:
        if not isinstance(node, dict) or node.get(key) is None:
            raise ExtractError(
                channel_id, stream, page, f"malformed page: missing {'.'.join(path)} in response"
            )
        node = node[key]
    return node


def _iso(ts: datetime) -> str:
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
        "snapshot_at": _iso(until),
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
        "subtotal": _amount(node.get("subtotalPriceSet")),
        "total_discounts": _amount(node.get("totalDiscountsSet")),
        "total_shipping": _amount(node.get("totalShippingPriceSet")),
        "total_tax": _amount(node.get("totalTaxSet")),
        "total_price": _amount(node.get("totalPriceSet")),
        "total_refunded": _amount(node.get("totalRefundedSet")),
        "refunded_subtotal": f"{refunded_subtotal:.2f}",
        "line_items_count": str(len(lines["nodes"])),
        "units": str(sum(int(item["quantity"]) for item in lines["nodes"])),
        "payload": node,
    }


def make_client(channel, credentials: Credentials) -> ShopifyClient:
    client = ShopifyClient(channel.channel_id, credentials, page_size=channel.page_size)
    client.tz = channel.tz  # the channel's local day names inventory snapshots
    return client
