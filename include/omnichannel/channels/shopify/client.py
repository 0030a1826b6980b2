"""The GraphQL client: search pages by updated_at, orders completed page by page,
throttling by the cost the API reports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx

from omnichannel.channels.base import Credentials, HttpSource
from omnichannel.channels.shopify.queries import (
    API_VERSION,
    INVENTORY_QUERY,
    LINE_PAGE,
    MAX_ORDERS_PER_PAGE,
    ORDER_LINES_QUERY,
    ORDER_REFUNDS_QUERY,
    PRODUCTS_QUERY,
    REFUND_LINE_PAGE,
    REFUND_PAGE,
    orders_query,
)
from omnichannel.channels.shopify.records import (
    flatten_level,
    flatten_order,
    flatten_product,
    search_time,
)
from omnichannel.streams import ExtractError, Page


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
        search = f"updated_at:>='{search_time(since)}' AND updated_at:<'{search_time(until)}'"
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
            throttled_for = self.wait_throttled(stream, page, wait, throttled_for, "THROTTLED")

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


def make_client(channel, credentials: Credentials) -> ShopifyClient:
    client = ShopifyClient(channel.channel_id, credentials, page_size=channel.page_size)
    client.tz = channel.tz  # the channel's local day names inventory snapshots
    return client
