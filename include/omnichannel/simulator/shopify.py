"""Shopify GraphQL Admin API (2025-01) served from the world.

Queries are parsed and validated by graphql-core against `shopify_admin.graphql`, so a
connector that asks for a field Shopify does not have gets Shopify's kind of error, and the
response carries only the fields asked for. Orders support cursor pagination
(`first`/`after`, `pageInfo`), the `query` search filter on `updated_at`/`created_at`
and `sortKey`.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from graphql import GraphQLError, build_schema, graphql_sync

from omnichannel.simulator.world import (
    MAX_UPDATE_AGE,
    Line,
    OrderState,
    Refund,
    World,
    WorldChannel,
)

API_VERSIONS = ("2024-10", "2025-01", "2025-04")
MAX_PAGE = 250
SEARCH_TERM = re.compile(
    r"(?P<field>[a-z_]+):(?P<op><=|>=|<|>|=)?'?(?P<value>[^'\s]+)'?", re.IGNORECASE
)


@cache
def schema():
    return build_schema((Path(__file__).with_name("shopify_admin.graphql")).read_text())


def iso(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money_bag(amount: Decimal, currency: str) -> dict:
    money = {"amount": f"{amount:.2f}", "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def encode_cursor(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_cursor(cursor: str) -> dict:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, json.JSONDecodeError) as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from exc


def connection(items: list, first: int | None, after: str | None, key, make_node) -> dict:
    """A Relay connection over `items` sorted by `key`, with keyset cursors."""
    if first is None:
        raise GraphQLError("you must provide one of first or last")
    if first > MAX_PAGE or first < 0:
        raise GraphQLError(f"The first argument must be between 0 and {MAX_PAGE}.")
    page_no = 1
    if after:
        position = decode_cursor(after)
        page_no = position.get("p", 0) + 1
        last_key = tuple(position["k"])
        items = [item for item in items if key(item) > last_key]
    page, more = items[:first], len(items) > first
    edges = [
        {"cursor": encode_cursor({"k": list(key(item)), "p": page_no}), "node": make_node(item)}
        for item in page
    ]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": more,
            "hasPreviousPage": after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def parse_search(query: str | None) -> list[tuple[str, str, datetime]]:
    """Parse the subset of Shopify search syntax used for incremental reads."""
    terms = []
    for match in SEARCH_TERM.finditer(query or ""):
        field = match["field"].lower()
        if field not in ("updated_at", "created_at"):
            continue  # Shopify ignores unknown search fields rather than failing
        value = match["value"]
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise GraphQLError(f"Invalid search value for {field}: {value}") from exc
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        terms.append((field, match["op"] or "=", stamp))
    return terms


def matches(state: OrderState, terms) -> bool:
    for field, op, stamp in terms:
        value = state.updated_at if field == "updated_at" else state.order.created_at
        ok = {
            ">": value > stamp,
            ">=": value >= stamp,
            "<": value < stamp,
            "<=": value <= stamp,
            "=": value == stamp,
        }[op]
        if not ok:
            return False
    return True


def line_node(line: Line, currency: str) -> dict:
    product = line.product
    return {
        "id": f"gid://shopify/LineItem/{line.line_id}",
        "sku": product.sku,
        "name": product.title,
        "title": product.title,
        "quantity": line.quantity,
        "variant": {
            "id": f"gid://shopify/ProductVariant/{product.variant_id}",
            "sku": product.sku,
            "title": "Default Title",
        },
        "originalUnitPriceSet": money_bag(product.price, currency),
        "originalTotalSet": money_bag(line.original_total, currency),
        "discountedTotalSet": money_bag(line.discounted_total, currency),
        "totalDiscountSet": money_bag(line.discount, currency),
    }


def refund_node(refund: Refund, currency: str) -> dict:
    item = {
        "quantity": refund.line.quantity,
        "lineItem": line_node(refund.line, currency),
        "subtotalSet": money_bag(refund.subtotal, currency),
        "totalTaxSet": money_bag(refund.tax, currency),
    }
    return {
        "id": f"gid://shopify/Refund/{refund.refund_id}",
        "createdAt": iso(refund.created_at),
        "totalRefundedSet": money_bag(refund.subtotal + refund.tax, currency),
        "refundLineItems": lambda info, first=None, after=None: connection(
            [item], first, after, key=lambda _: (0,), make_node=lambda i: i
        ),
    }


def order_node(state: OrderState) -> dict:
    order, currency = state.order, state.order.currency
    lines = list(order.lines)
    return {
        "id": f"gid://shopify/Order/{order.order_id}",
        "legacyResourceId": str(order.order_id),
        "name": f"#{order.order_number}",
        "email": order.email,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(state.updated_at),
        "processedAt": iso(order.created_at),
        "cancelledAt": iso(state.cancelled_at),
        "displayFinancialStatus": state.financial_status,
        "displayFulfillmentStatus": "FULFILLED" if state.fulfilled_at else "UNFULFILLED",
        "currencyCode": currency,
        "presentmentCurrencyCode": currency,
        "taxesIncluded": False,
        "subtotalPriceSet": money_bag(order.subtotal, currency),
        "totalDiscountsSet": money_bag(order.discounts, currency),
        "totalShippingPriceSet": money_bag(order.shipping, currency),
        "totalTaxSet": money_bag(order.tax, currency),
        "totalPriceSet": money_bag(order.total, currency),
        "totalRefundedSet": money_bag(state.total_refunded, currency),
        "customer": {"id": f"gid://shopify/Customer/{order.customer_id}", "email": order.email}
        if order.customer_id
        else None,
        "lineItems": lambda info, first=None, after=None, last=None, before=None: connection(
            lines,
            first,
            after,
            key=lambda line: (line.line_id,),
            make_node=lambda line: line_node(line, currency),
        ),
        "refunds": lambda info, first=None: [refund_node(r, currency) for r in state.refunds][
            : first if first is not None else None
        ],
    }


SORT_KEYS = {
    "ID": lambda s: (s.order.order_id,),
    "CREATED_AT": lambda s: (iso(s.order.created_at), s.order.order_id),
    "PROCESSED_AT": lambda s: (iso(s.order.created_at), s.order.order_id),
    "UPDATED_AT": lambda s: (iso(s.updated_at), s.order.order_id),
}


class ShopifyAdmin:
    """One shop of the world behind the GraphQL Admin API."""

    def __init__(self, world: World, channel_id: str):
        self.world = world
        self.channel_id = channel_id

    def visible_orders(self, now: datetime, terms) -> list[OrderState]:
        # Orders are generated per local day; a search bounded in time only needs those days.
        channel = self.world.channels[self.channel_id]
        first_day, last_day = _day_span(channel, now, terms)
        states = []
        for order in self.world.orders_between(self.channel_id, first_day, last_day):
            state = order.state_at(now)
            if state is not None and matches(state, terms):
                states.append(state)
        return states

    def execute(self, body: dict, now: datetime) -> dict:
        query, variables = body.get("query"), body.get("variables") or {}
        if not isinstance(query, str):
            return {"errors": [{"message": "Parameter Missing or Invalid: query"}]}

        def resolve_orders(
            _info,
            first=None,
            after=None,
            last=None,
            before=None,
            query=None,
            sortKey="ID",
            reverse=False,
        ):
            if last is not None or before is not None:
                raise GraphQLError("The simulator pages forwards only (first/after).")
            if reverse:
                raise GraphQLError("The simulator does not support reverse=true.")
            states = self.visible_orders(now, parse_search(query))
            key = SORT_KEYS[sortKey]
            states.sort(key=key)
            return connection(states, first, after, key=key, make_node=order_node)

        result = graphql_sync(
            schema(), query, root_value={"orders": resolve_orders}, variable_values=variables
        )
        response: dict = {}
        if result.errors:
            response["errors"] = [error.formatted for error in result.errors]
        if result.data is not None:
            response["data"] = result.data
        first = variables.get("first") or 0
        response["extensions"] = {
            "cost": {
                "requestedQueryCost": 2 + int(first) * 3,
                "actualQueryCost": 2 + int(first) * 3,
                "throttleStatus": {
                    "maximumAvailable": 2000.0,
                    "currentlyAvailable": 1990,
                    "restoreRate": 100.0,
                },
            }
        }
        return response


def _day_span(channel: WorldChannel, now: datetime, terms) -> tuple[date, date]:
    """Local days whose orders can match the search (generation is per local day)."""
    tz = ZoneInfo(channel.timezone)
    lower, upper = None, now
    for field, op, stamp in terms:
        if op in (">", ">=", "="):
            # an order is updated at most MAX_UPDATE_AGE after creation
            bound = stamp - (MAX_UPDATE_AGE if field == "updated_at" else timedelta(0))
            lower = bound if lower is None else max(lower, bound)
        if op in ("<", "<=", "=") and stamp < upper:
            upper = stamp
    first_day = channel.opened_on
    if lower is not None:
        first_day = max(first_day, lower.astimezone(tz).date())
    return first_day, upper.astimezone(tz).date()
