"""Shopify GraphQL Admin API (2024-10 .. 2025-04) served from the world.

Queries are parsed and validated by graphql-core against `shopify_admin.graphql`, so a
connector that asks for a field Shopify does not have gets Shopify's kind of error, and the
response carries only the fields asked for. Served: `orders` (line items, tax lines,
refunds, customer), `products` with variants, `locations` with inventory levels;
cursor pagination (`first`/`after`, `pageInfo`), the `query` search filter on
`updated_at`/`created_at`, `sortKey`.

Cost: every query is priced as Shopify documents it (objects 1, connections
2 + first × node cost, scalars 0). A query above 1,000 fails with MAX_COST_EXCEEDED; the
shop's leaky bucket answers THROTTLED when the requested cost is not available, and every
response carries `extensions.cost` with the throttle status. The bucket is set per channel
in simulator.yml (`rate_limits: {maximum, restore_rate}`); the default is a Shopify Plus
shop (10,000 points, 1,000 restored per second). Requested cost is taken up front and the
difference to the actual cost is given back, as Shopify does.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    build_schema,
    execute_sync,
    get_named_type,
    parse,
    validate,
)

from omnisim.catalogue import stable_hash
from omnisim.faults import spoil
from omnisim.paging import TokenError, decode_token, encode_token, keyset_page
from omnisim.protocol import Response
from omnisim.throttle import Bucket
from omnisim.world import Line, OrderState, Refund, cents

API_VERSIONS = ("2024-10", "2025-01", "2025-04")
PATH = re.compile(r"^/admin/api/(?P<version>[^/]+)/graphql\.json$")
MAX_PAGE = 250
MAX_COST = 1000
BUCKET_SIZE = 10_000.0
RESTORE_RATE = 1_000.0
SEARCH_TERM = re.compile(
    r"(?P<field>[a-z_]+):(?P<op><=|>=|<|>|=)?'?(?P<value>[^'\s]+)'?", re.IGNORECASE
)
BAD_ROW_FIELDS = {
    "amount": ("subtotalPriceSet", "shopMoney", "amount"),
    "quantity": ("lineItems", "nodes", 0, "quantity"),
    "currency": ("currencyCode",),
    "id": ("id",),
    "date": ("createdAt",),
    "total": ("totalPriceSet", "shopMoney", "amount"),
    "new_field": "poNumber",
    "rename": ("updatedAt", "updated_at"),
}


@cache
def schema():
    return build_schema((Path(__file__).with_name("shopify_admin.graphql")).read_text())


@lru_cache(maxsize=64)
def checked(query: str) -> tuple:
    """The query parsed and validated once (a connector sends the same text with every
    page): (document, None), or (None, the errors as GraphQL formats them)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [exc.formatted]
    problems = validate(schema(), document)
    if problems:
        return None, [p.formatted for p in problems]
    return document, None


def iso(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ts(value: int) -> str:
    return datetime.fromtimestamp(int(value), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money_bag(amount: Decimal, currency: str) -> dict:
    money = {"amount": f"{amount:.2f}", "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def gid(kind: str, value: int) -> str:
    return f"gid://shopify/{kind}/{value}"


# -- request handling ---------------------------------------------------------------------


def handle(ctx, request, rest: str):
    match = PATH.match(rest)
    if not match or request.method != "POST":
        return Response.of(404, {"errors": "Not Found"})
    if match["version"] not in API_VERSIONS:
        return Response.of(404, {"errors": "Not Found"})
    if not request.headers.get("x-shopify-access-token"):
        return Response.of(
            401,
            {
                "errors": "[API] Invalid API key or access token "
                "(unrecognized login or wrong password)"
            },
        )
    try:
        body = request.json()
    except json.JSONDecodeError:
        return Response.of(400, {"errors": {"query": "Required parameter missing or invalid"}})
    query, variables = body.get("query"), body.get("variables") or {}
    if not isinstance(query, str):
        return Response.of(400, {"errors": {"query": "Required parameter missing or invalid"}})
    document, errors = checked(query)
    if errors:
        return Response.of(200, {"errors": errors})
    cost = query_cost(document, variables)
    if cost > MAX_COST:
        return Response.of(200, {"errors": [max_cost_error(cost)]})
    stream, page_no = _stream_and_page(document, variables)
    fault = ctx.app.draw_fault(ctx, stream, page_no)
    if fault and fault.fault == "server_error":
        return Response.of(502, {"errors": "Bad Gateway"})
    bucket = _bucket(ctx)
    if fault and fault.fault == "rate_limit":
        return throttled(ctx, cost, bucket, empty=True)
    if bucket.take(cost) is None:
        return throttled(ctx, cost, bucket)
    ctx.fault = fault
    result = execute_sync(schema(), document, root_value=_root(ctx), variable_values=variables)
    response: dict = {}
    if result.errors:
        response["errors"] = [error.formatted for error in result.errors]
    if result.data is not None:
        response["data"] = result.data
        _data_faults(ctx, response["data"])
    actual = min(cost, _actual_cost(result.data))
    bucket.refund(cost - actual)
    response["extensions"] = {"cost": _cost(cost, actual, bucket)}
    payload = json.dumps(response).encode()
    if fault and fault.fault == "malformed_page":
        payload = payload[: max(1, len(payload) // 2)]  # a body cut off mid-way
    return Response(200, payload, {"Content-Type": "application/json"})


def _bucket(ctx) -> Bucket:
    state = ctx.app.state_for(ctx.channel.channel_id)
    if "bucket" not in state:
        limits = ctx.channel.rate_limits
        state["bucket"] = Bucket(
            limits.get("maximum", BUCKET_SIZE),
            limits.get("restore_rate", RESTORE_RATE),
            ctx.app.api_time,
        )
    return state["bucket"]


def _cost(requested: int, actual: int, bucket: Bucket) -> dict:
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": bucket.size,
            "currentlyAvailable": int(bucket.available),
            "restoreRate": bucket.restore_rate,
        },
    }


def throttled(ctx, cost: int, bucket: Bucket, empty: bool = False):
    if empty:  # a 429 storm: the bucket is empty for this request
        bucket.drain()
    return Response.of(
        200,
        {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/rate-limits",
                    },
                }
            ],
            "extensions": {"cost": _cost(cost, 0, bucket) | {"actualQueryCost": None}},
        },
    )


def max_cost_error(cost: int) -> dict:
    return {
        "message": f"Query cost is {cost}, which exceeds the single query max cost limit "
        f"({MAX_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more "
        "information on how the\ncost of a query is calculated.\n\nTo query larger amounts "
        "of data with fewer limits, bulk operations should be used instead.\n",
        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost, "maxCost": MAX_COST},
    }


def query_cost(document, variables: dict) -> int:
    """Requested cost per Shopify's rules: objects 1, connections and paged lists
    2 + first × (cost of one node), scalars and enums 0."""
    operation = next(d for d in document.definitions if hasattr(d, "operation"))
    fragments = {d.name.value: d for d in document.definitions if not hasattr(d, "operation")}
    root = schema().query_type
    return _selection_cost(operation.selection_set, root, variables, fragments)


def _selection_cost(selection_set, parent, variables, fragments) -> int:
    total = 0
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, InlineFragmentNode):
            total += _selection_cost(node.selection_set, parent, variables, fragments)
            continue
        if not isinstance(node, FieldNode):  # a fragment spread
            fragment = fragments.get(node.name.value)
            if fragment:
                total += _selection_cost(fragment.selection_set, parent, variables, fragments)
            continue
        definition = parent.fields.get(node.name.value) if hasattr(parent, "fields") else None
        if definition is None:
            continue
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType):
            continue
        first = _argument(node, "first", variables)
        inner = _selection_cost(node.selection_set, named, variables, fragments)
        if first is not None:
            if named.name.endswith("Connection"):
                node_cost = _node_cost(node, named, variables, fragments)
                total += 2 + int(first) * node_cost
            else:
                total += 2 + int(first) * (1 + inner)
        elif _is_list(definition.type):
            total += 1 + inner
        else:
            total += 1 + inner
    return total


def _node_cost(connection_node, connection_type, variables, fragments) -> int:
    """Cost of one node of a connection (its edges.node or nodes selection)."""
    cost = 0
    for child in connection_node.selection_set.selections:
        if not isinstance(child, FieldNode):
            continue
        if child.name.value == "nodes":
            node_type = get_named_type(connection_type.fields["nodes"].type)
            cost = max(
                cost, 1 + _selection_cost(child.selection_set, node_type, variables, fragments)
            )
        elif child.name.value == "edges":
            edge_type = get_named_type(connection_type.fields["edges"].type)
            for sub in child.selection_set.selections:
                if isinstance(sub, FieldNode) and sub.name.value == "node":
                    node_type = get_named_type(edge_type.fields["node"].type)
                    cost = max(
                        cost,
                        1 + _selection_cost(sub.selection_set, node_type, variables, fragments),
                    )
    return max(cost, 1)


def _is_list(type_) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _argument(node: FieldNode, name: str, variables: dict):
    for argument in node.arguments or ():
        if argument.name.value == name:
            value = argument.value
            if value.kind == "variable":
                return variables.get(value.name.value)
            return getattr(value, "value", None)
    return None


def _actual_cost(data) -> int:
    """Points actually used: 1 per object returned, 2 per connection (approximation)."""
    if isinstance(data, dict):
        own = 2 if "pageInfo" in data or "edges" in data else 1
        return own + sum(_actual_cost(v) for v in data.values())
    if isinstance(data, list):
        return sum(_actual_cost(v) for v in data)
    return 0


def _stream_and_page(document, variables) -> tuple[str, int]:
    operation = next(d for d in document.definitions if hasattr(d, "operation"))
    field = next((s for s in operation.selection_set.selections if isinstance(s, FieldNode)), None)
    stream = {"orders": "orders", "products": "products", "locations": "inventory"}.get(
        field.name.value if field else "", "other"
    )
    after = _argument(field, "after", variables) if field else None
    if not after:
        return stream, 1
    try:
        return stream, int(decode_token(after).get("p", 0)) + 1
    except TokenError:
        return stream, 0


def _data_faults(ctx, data: dict) -> None:
    fault = ctx.fault
    if fault is None or fault.fault not in ("bad_row", "schema_drift"):
        return
    nodes = [edge["node"] for edge in ((data.get("orders") or {}).get("edges") or [])]
    nodes = nodes or list((data.get("orders") or {}).get("nodes") or [])
    targets = nodes[:1] if fault.fault == "bad_row" else nodes
    for node in targets:
        spoil(node, fault, BAD_ROW_FIELDS, ctx.now)


# -- resolvers ----------------------------------------------------------------------------


def connection(page, make_node, page_no: int, after) -> dict:
    edges = [
        {"cursor": encode_token({"k": list(key), "p": page_no}), "node": make_node(item)}
        for item, key in zip(page.items, page.keys, strict=True)
    ]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": page.has_next,
            "hasPreviousPage": after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def list_connection(items: list, first, after, make_node) -> dict:
    """A connection over a short in-memory list (line items, refund lines)."""
    _check_first(first)
    keys = (np.arange(len(items), dtype=np.int64),)
    position = _after_key(after)
    page = keyset_page(np.arange(len(items)), keys, position, first)
    return connection(page, lambda i: make_node(items[int(i)]), _page_no(after), after)


def _check_first(first) -> None:
    if first is None:
        raise GraphQLError("you must provide one of first or last")
    if first > MAX_PAGE or first < 0:
        raise GraphQLError(f"The first argument must be between 0 and {MAX_PAGE}.")


def _after_key(after) -> tuple | None:
    if not after:
        return None
    try:
        return tuple(decode_token(after)["k"])
    except (TokenError, KeyError) as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {after}") from exc


def _page_no(after) -> int:
    if not after:
        return 1
    try:
        return int(decode_token(after).get("p", 0)) + 1
    except TokenError:
        return 0


def parse_search(query: str | None) -> list[tuple[str, str, datetime]]:
    """The subset of Shopify search syntax used for incremental reads."""
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


def _filter(values: dict[str, np.ndarray], terms) -> np.ndarray:
    keep = np.ones(len(next(iter(values.values()))), dtype=bool)
    for field, op, stamp in terms:
        value, ts = values[field], int(stamp.timestamp())
        keep &= {
            ">": value > ts,
            ">=": value >= ts,
            "<": value < ts,
            "<=": value <= ts,
            "=": value == ts,
        }[op]
    return keep


def _root(ctx) -> dict:
    return {
        "orders": lambda info, **args: resolve_orders(ctx, **args),
        "products": lambda info, **args: resolve_products(ctx, **args),
        "locations": lambda info, **args: resolve_locations(ctx, **args),
        "order": lambda info, id: resolve_order(ctx, id),
    }


def resolve_orders(
    ctx, first=None, after=None, last=None, before=None, query=None, sortKey="ID", reverse=False
):
    if last is not None or before is not None:
        raise GraphQLError("The simulator pages forwards only (first/after).")
    if reverse:
        raise GraphQLError("The simulator does not support reverse=true.")
    _check_first(first)
    world = ctx.world
    index = world.channel_orders(ctx.channel.channel_id)
    updated = ctx.updated_at(index)
    created = world.orders.created[index]
    keep = (updated >= 0) & _filter(
        {"updated_at": updated, "created_at": created}, parse_search(query)
    )
    index, updated, created = index[keep], updated[keep], created[keep]
    ids = world.orders.order_id[index]
    keys = {
        "ID": (ids,),
        "CREATED_AT": (created, ids),
        "PROCESSED_AT": (created, ids),
        "UPDATED_AT": (updated, ids),
    }[sortKey]
    overlap = 1 if ctx.data_fault("duplicates") and after else 0
    page = keyset_page(index, keys, _after_key(after), first, overlap)
    if ctx.data_fault("updated_between_pages") and len(page.items) and len(page.rest):
        ctx.touch(page.items[0])  # changes after it was read: it comes again at the end
    updated_of = dict(zip(index.tolist(), updated.tolist(), strict=True))

    def node(i):
        order = world.order(int(i))
        state = order.state_at(ctx.now)
        return order_node(
            replace(state, updated_at=datetime.fromtimestamp(updated_of[int(i)], UTC))
        )

    return connection(page, node, _page_no(after), after)


def resolve_order(ctx, id: str):
    """One order by its global id, as the orders connection shows it now; null when the
    shop has no such order (yet)."""
    prefix = "gid://shopify/Order/"
    if not id.startswith(prefix) or not id[len(prefix) :].isdigit():
        raise GraphQLError(f"Invalid global id '{id}'")
    index = ctx.world.channel_orders(ctx.channel.channel_id)
    found = index[ctx.world.orders.order_id[index] == int(id[len(prefix) :])]
    if not len(found):
        return None
    updated = int(ctx.updated_at(found)[0])
    if updated < 0:
        return None
    state = ctx.world.order(int(found[0])).state_at(ctx.now)
    return order_node(replace(state, updated_at=datetime.fromtimestamp(updated, UTC)))


def line_node(line: Line, currency: str, tax_rate: Decimal) -> dict:
    product = line.product
    return {
        "id": gid("LineItem", line.line_id),
        "sku": product.sku,
        "name": product.title,
        "title": product.title,
        "quantity": line.quantity,
        "variant": {
            "id": gid("ProductVariant", product.variant_id),
            "legacyResourceId": str(product.variant_id),
            "sku": product.sku,
            "barcode": product.barcode,
            "title": "Default Title",
            "price": f"{product.price:.2f}",
        },
        "originalUnitPriceSet": money_bag(product.price, currency),
        "originalTotalSet": money_bag(line.original_total, currency),
        "discountedTotalSet": money_bag(line.discounted_total, currency),
        "totalDiscountSet": money_bag(line.discount, currency),
        "taxLines": lambda info, first=None: [
            {
                "priceSet": money_bag(line.tax, currency),
                "rate": float(tax_rate),
                "ratePercentage": float(tax_rate * 100),
                "title": "VAT" if currency != "USD" else "Sales tax",
            }
        ],
    }


def refund_node(refund: Refund, order) -> dict:
    currency, rate = order.currency, order.tax_rate
    item = {
        "quantity": refund.quantity,
        "lineItem": line_node(refund.line, currency, rate),
        "subtotalSet": money_bag(refund.subtotal, currency),  # priced like the line
        "totalTaxSet": money_bag(refund.tax, currency),
    }
    returned = refund.subtotal + (Decimal("0.00") if order.taxes_included else refund.tax)
    return {
        "id": gid("Refund", refund.refund_id),
        "createdAt": iso(refund.created_at),
        "totalRefundedSet": money_bag(returned, currency),
        "refundLineItems": lambda info, first=None, after=None: list_connection(
            [item], first, after, lambda i: i
        ),
    }


def order_node(state: OrderState) -> dict:
    order, currency = state.order, state.order.currency
    lines = list(order.lines)
    customer = order.customer
    email = customer.email if customer else None
    return {
        "id": gid("Order", order.order_id),
        "legacyResourceId": str(order.order_id),
        "name": f"#{order.order_number}",
        "email": email,
        "createdAt": iso(order.created_at),
        "updatedAt": iso(state.updated_at),
        "processedAt": iso(order.created_at),
        "cancelledAt": iso(state.cancelled_at),
        "closedAt": None,
        "edited": False,
        "note": "Delivery instructions updated" if state.edited_at else None,
        "sourceName": "web",
        "displayFinancialStatus": state.financial_status,
        "displayFulfillmentStatus": "FULFILLED" if state.fulfilled_at else "UNFULFILLED",
        "currencyCode": currency,
        "presentmentCurrencyCode": currency,
        "taxesIncluded": order.taxes_included,
        "subtotalPriceSet": money_bag(order.subtotal, currency),
        "totalDiscountsSet": money_bag(order.discounts, currency),
        "totalShippingPriceSet": money_bag(order.shipping, currency),
        "totalTaxSet": money_bag(order.tax, currency),
        "totalPriceSet": money_bag(order.total, currency),
        "totalRefundedSet": money_bag(state.total_refunded, currency),
        "customer": {
            "id": gid("Customer", customer.customer_id),
            "email": email,
            "firstName": customer.first_name,
            "lastName": customer.last_name,
            "createdAt": iso(order.created_at),
        }
        if customer
        else None,
        "lineItems": lambda info, first=None, after=None, last=None, before=None: list_connection(
            lines, first, after, lambda line: line_node(line, currency, order.tax_rate)
        ),
        "refunds": lambda info, first=None: [refund_node(r, order) for r in state.refunds][
            : first if first is not None else None
        ],
    }


def _product_times(ctx, s: int) -> tuple[int, int]:
    launch = datetime.combine(ctx.world.catalogue.launch_date(s), datetime.min.time(), UTC)
    created = int((launch - timedelta(days=14)).timestamp()) + 9 * 3600
    return created, created + 3600


def resolve_products(ctx, first=None, after=None, query=None, sortKey="ID", reverse=False):
    if reverse:
        raise GraphQLError("The simulator does not support reverse=true.")
    _check_first(first)
    world, listing = ctx.world, ctx.world.listings[ctx.channel.channel_id]
    skus = np.flatnonzero(listing.listed)
    times = np.array([_product_times(ctx, int(s)) for s in skus]).reshape(-1, 2)
    created, updated = times[:, 0], times[:, 1]
    keep = (created < ctx.now_ts) & _filter(
        {"updated_at": updated, "created_at": created}, parse_search(query)
    )
    skus, created, updated = skus[keep], created[keep], updated[keep]
    ids = listing.product_id[skus]
    keys = {
        "ID": (ids,),
        "CREATED_AT": (created, ids),
        "UPDATED_AT": (updated, ids),
        "TITLE": (skus, ids),
    }[sortKey]
    page = keyset_page(skus, keys, _after_key(after), first)
    cat = world.catalogue

    def node(s):
        s = int(s)
        c_at, u_at = _product_times(ctx, s)
        product = {
            "id": gid("Product", int(listing.product_id[s])),
            "legacyResourceId": str(int(listing.product_id[s])),
            "title": cat.title[s],
            "handle": cat.title[s].lower().replace(" & ", "-").replace(" ", "-"),
            "vendor": cat.brand[s],
            "productType": cat.category[s],
            "status": "ACTIVE",
            "createdAt": iso_ts(c_at),
            "updatedAt": iso_ts(u_at),
        }
        variant = {
            "id": gid("ProductVariant", int(listing.variant_id[s])),
            "legacyResourceId": str(int(listing.variant_id[s])),
            "sku": cat.sku[s],
            "barcode": cat.barcode[s],
            "title": "Default Title",
            "price": f"{cents(listing.price_cents[s]):.2f}",
            "compareAtPrice": None,
            "inventoryItem": _inventory_item(ctx, s),
            "product": product,
            "createdAt": iso_ts(c_at),
            "updatedAt": iso_ts(u_at),
        }
        product["variants"] = lambda info, first=None, after=None: list_connection(
            [variant], first, after, lambda v: v
        )
        return product

    return connection(page, node, _page_no(after), after)


def _inventory_item(ctx, s: int) -> dict:
    listing, cat = ctx.world.listings[ctx.channel.channel_id], ctx.world.catalogue
    fx = ctx.world.fx[ctx.channel.currency][0]
    cost = Decimal(int(round(cat.unit_cost_cents[s] / fx))).scaleb(-2)
    created, updated = _product_times(ctx, s)
    return {
        "id": gid("InventoryItem", int(listing.inventory_item_id[s])),
        "sku": cat.sku[s],
        "tracked": True,
        "unitCost": {"amount": f"{cost:.2f}", "currencyCode": ctx.channel.currency},
        "updatedAt": iso_ts(updated),
    }


def location_id(name: str) -> int:
    return 60_000_000_000 + stable_hash(name) % 1_000_000_000


def stock_day(ctx):
    """Stock shows the end of the last complete local day before `now`."""
    from zoneinfo import ZoneInfo

    local = ctx.now.astimezone(ZoneInfo(ctx.channel.timezone)).date()
    return local - timedelta(days=1)


def resolve_locations(ctx, first=None, after=None):
    _check_first(first)
    world = ctx.world
    [(_, location)] = ctx.channel.sales_points()
    items = [location]
    day = stock_day(ctx)
    day_end = int(datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC).timestamp())

    def node(name):
        listing = world.listings[ctx.channel.channel_id]
        skus = np.flatnonzero(listing.listed)
        skus = skus[[_product_times(ctx, int(s))[0] < ctx.now_ts for s in skus]]
        on_hand = world.on_hand_at(name, day)

        def levels(info, first=None, after=None):
            _check_first(first)
            page = keyset_page(skus, (listing.inventory_item_id[skus],), _after_key(after), first)

            def level(s):
                s = int(s)
                units = int(on_hand[s]) if world.day_index(day) >= 0 else 0
                return {
                    "id": f"gid://shopify/InventoryLevel/{location_id(name)}"
                    f"?inventory_item_id={int(listing.inventory_item_id[s])}",
                    "item": _inventory_item(ctx, s),
                    "location": {"id": gid("Location", location_id(name)), "name": name},
                    "quantities": lambda info, names: [
                        {
                            "name": n,
                            "quantity": units if n in ("available", "on_hand") else 0,
                            "updatedAt": iso_ts(day_end),
                        }
                        for n in names
                    ],
                    "updatedAt": iso_ts(day_end),
                }

            return connection(page, level, _page_no(after), after)

        return {
            "id": gid("Location", location_id(name)),
            "legacyResourceId": str(location_id(name)),
            "name": name,
            "isActive": True,
            "inventoryLevels": levels,
        }

    page = keyset_page(np.arange(len(items)), (np.arange(len(items)),), _after_key(after), first)
    return connection(page, lambda i: node(items[int(i)]), _page_no(after), after)
