"""WooCommerce REST API v3 served from the world (field names and formats as in
`shared/conformance/woocommerce/`).

- `GET /wp-json/wc/v3/orders`, `/orders/<id>`, `/orders/<id>/refunds`, `/products`,
  `/products/<id>`: `page`/`per_page` (1..100) offset paging with `X-WP-Total`,
  `X-WP-TotalPages` and a `Link` header; `modified_after`/`modified_before`,
  `after`/`before` (creation) with `dates_are_gmt`; `orderby` date|id|modified, `order`.
- Money as decimal strings (line `price` is a JSON number, as WooCommerce sends it);
  `date_*` in the site's local time without offset, `date_*_gmt` in UTC.
- Line `subtotal`/`total` are without tax even when prices include tax
  (`prices_include_tax`), with `subtotal_tax`/`total_tax` beside them.
- Auth: HTTP Basic with consumer key/secret (`ck_…`/`cs_…`) or `consumer_key`/
  `consumer_secret` query parameters, as over HTTPS.
- Offset paging is not stable: a record modified between two page requests moves to the
  end, the records after it shift up and the next page skips one (fault
  `updated_between_pages`).
"""

from __future__ import annotations

import base64
import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from omnisim.catalogue import CATEGORIES
from omnisim.faults import spoil
from omnisim.protocol import Response
from omnisim.world import cents

PER_PAGE_MAX = 100
BAD_ROW_FIELDS = {
    "amount": ("total",),
    "quantity": ("line_items", 0, "quantity"),
    "currency": ("currency",),
    "id": ("id",),
    "date": ("date_created_gmt",),
    "total": ("total",),
    "new_field": "is_editable",
    "rename": ("date_modified_gmt", "date_modified_utc"),
}
STATUS = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")


def _error(status: int, code: str, message: str, extra: dict | None = None):
    return Response.of(
        status, {"code": code, "message": message, "data": {"status": status, **(extra or {})}}
    )


def _authorised(request) -> bool:
    auth = request.headers.get("authorization", "")
    if auth.startswith("Basic "):
        try:
            key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return False
    else:
        key, secret = request.arg("consumer_key", ""), request.arg("consumer_secret", "")
    return key.startswith("ck_") and secret.startswith("cs_")


def handle(ctx, request, rest: str):
    match = re.match(
        r"^/wp-json/wc/v3/(?P<resource>orders|products)(?:/(?P<id>\d+))?(?P<refunds>/refunds)?$",
        rest,
    )
    if not match or request.method != "GET":
        return _error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )
    if not _authorised(request):
        return _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    stream = match["resource"]
    try:
        page_no = int(request.arg("page", "1"))
        per_page = int(request.arg("per_page", "10"))
    except ValueError:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): page, per_page")
    if not 1 <= per_page <= PER_PAGE_MAX:
        return _error(
            400,
            "rest_invalid_param",
            "Invalid parameter(s): per_page",
            {"params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}},
        )
    fault = ctx.app.draw_fault(ctx, stream, page_no)
    if fault and fault.fault == "rate_limit":
        return Response.of(
            429,
            {"code": "too_many_requests", "message": "Too Many Requests", "data": {"status": 429}},
            {"Retry-After": str(fault.retry_after)},
        )
    if fault and fault.fault == "server_error":
        return Response(
            502,
            b"<html><body><h1>502 Bad Gateway</h1></body></html>",
            {"Content-Type": "text/html"},
        )
    ctx.fault = fault
    if stream == "orders":
        response = _orders(ctx, request, match, page_no, per_page)
    else:
        response = _products(ctx, request, match, page_no, per_page)
    if fault and fault.fault == "malformed_page":
        response.body = response.body[: max(1, len(response.body) // 2)]
    return response


def _time_arg(request, name: str, gmt: bool, tz: ZoneInfo) -> int | None | str:
    raw = request.arg(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return f"Invalid parameter(s): {name}"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC if gmt else tz)
    return int(value.timestamp())


def _window(ctx, request) -> dict | str:
    gmt = request.arg("dates_are_gmt", "false") in ("true", "1")
    tz = ZoneInfo(ctx.channel.timezone)
    bounds = {}
    for name in ("after", "before", "modified_after", "modified_before"):
        value = _time_arg(request, name, gmt, tz)
        if isinstance(value, str):
            return value
        bounds[name] = value
    return bounds


def _in_window(bounds: dict, created: np.ndarray, modified: np.ndarray) -> np.ndarray:
    """The after/before (creation) and modified_after/modified_before filters (exclusive)."""
    keep = np.ones(len(created), dtype=bool)
    for name, values, op in (
        ("after", created, np.greater),
        ("before", created, np.less),
        ("modified_after", modified, np.greater),
        ("modified_before", modified, np.less),
    ):
        if bounds[name] is not None:
            keep &= op(values, bounds[name])
    return keep


def _paged(ctx, request, items, keys, page_no, per_page, render, fields):
    order = request.arg("order", "desc")
    idx = np.lexsort(tuple(reversed(keys)))
    if order == "desc":
        idx = idx[::-1]
    items = items[idx]
    total = len(items)
    pages = max(1, math.ceil(total / per_page)) if total else 0
    start = (page_no - 1) * per_page
    if ctx.data_fault("duplicates") and page_no > 1:
        start -= 1
    chunk = items[start : start + per_page]
    if ctx.data_fault("updated_between_pages") and len(chunk) and start + per_page < total:
        # a record already read changes: it moves to the end, the rest shift up by one
        ctx.touch(chunk[0])
    records = [render(int(i)) for i in chunk]
    fault = ctx.fault
    if fault and fault.fault in ("bad_row", "schema_drift") and fields:
        for record in records[:1] if fault.fault == "bad_row" else records:
            spoil(record, fault, fields, ctx.now)
    base = f"{request.headers.get('host', '127.0.0.1')}{request.path}"
    links = []
    if page_no < pages:
        links.append(f'<http://{base}?page={page_no + 1}&per_page={per_page}>; rel="next"')
    if page_no > 1:
        links.append(f'<http://{base}?page={page_no - 1}&per_page={per_page}>; rel="prev"')
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    if links:
        headers["Link"] = ", ".join(links)
    return Response.of(200, records, headers)


def _orders(ctx, request, match, page_no, per_page):
    world = ctx.world
    index = world.channel_orders(ctx.channel.channel_id)
    updated = ctx.updated_at(index)
    created = world.orders.created[index]
    exists = updated >= 0
    if match["id"]:
        hit = index[exists & (world.orders.order_id[index] == int(match["id"]))]
        if not len(hit):
            return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        if match["refunds"]:
            return Response.of(200, refunds_json(ctx, int(hit[0])))
        return Response.of(200, order_json(ctx, int(hit[0])))
    bounds = _window(ctx, request)
    if isinstance(bounds, str):
        return _error(400, "rest_invalid_param", bounds)
    keep = exists & _in_window(bounds, created, updated)
    index, updated, created = index[keep], updated[keep], created[keep]
    ids = world.orders.order_id[index]
    orderby = request.arg("orderby", "date")
    keys = {"date": (created, ids), "id": (ids,), "modified": (updated, ids)}.get(orderby)
    if keys is None:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): orderby")
    updated_of = dict(zip(index.tolist(), updated.tolist(), strict=True))
    return _paged(
        ctx,
        request,
        index,
        keys,
        page_no,
        per_page,
        lambda i: order_json(ctx, i, updated_of.get(i)),
        BAD_ROW_FIELDS,
    )


def _local(ts: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(int(ts), tz).strftime("%Y-%m-%dT%H:%M:%S")


def _gmt(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def order_json(ctx, i: int, updated: int | None = None) -> dict:
    world, channel = ctx.world, ctx.channel
    tz = ZoneInfo(channel.timezone)
    order = world.order(i)
    state = order.state_at(ctx.now)
    if updated is None:
        updated = int(ctx.updated_at(np.array([i]))[0])
    included = order.taxes_included
    lines, discount_total, discount_tax = [], Decimal("0.00"), Decimal("0.00")
    for line in order.lines:
        rate = order.tax_rate
        if included:  # WooCommerce reports line amounts without tax
            subtotal_tax = _half_up(line.original_total * rate / (1 + rate))
            subtotal = line.original_total - subtotal_tax
            total = line.discounted_total - line.tax
        else:
            subtotal_tax = _half_up(line.original_total * rate)
            subtotal = line.original_total
            total = line.discounted_total
        discount_total += subtotal - total
        discount_tax += subtotal_tax - line.tax
        lines.append(
            {
                "id": 100_000 + line.line_id % 10**9,
                "name": line.product.title,
                "product_id": line.product.product_id,
                "variation_id": 0,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": _money(subtotal),
                "subtotal_tax": _money(subtotal_tax),
                "total": _money(total),
                "total_tax": _money(line.tax),
                "taxes": [{"id": 1, "total": _money(line.tax), "subtotal": _money(subtotal_tax)}],
                "meta_data": [],
                "sku": line.product.sku,
                "price": float(subtotal / line.quantity),
            }
        )
    if state.cancelled_at:
        status = "cancelled"
    elif state.refunds and state.total_refunded >= order.total:
        status = "refunded"
    elif state.fulfilled_at:
        status = "completed"
    else:
        status = "processing"
    customer = order.customer
    email = customer.email if customer else ""
    paid = int(order.created_at.timestamp()) + 5
    completed = int(state.fulfilled_at.timestamp()) if state.fulfilled_at else None
    address = {
        "first_name": customer.first_name if customer else "",
        "last_name": customer.last_name if customer else "",
        "company": "",
        "address_1": "1 High Street",
        "address_2": "",
        "city": "London",
        "state": "",
        "postcode": "EC1A 1AA",
        "country": "GB",
    }
    shipping_total = order.shipping
    return {
        "id": order.order_id,
        "parent_id": 0,
        "number": str(order.order_number),
        "order_key": f"wc_order_{order.order_id:x}",
        "created_via": "checkout",
        "version": "8.6.1",
        "status": status,
        "currency": order.currency,
        "date_created": _local(order.created_at.timestamp(), tz),
        "date_created_gmt": _gmt(order.created_at.timestamp()),
        "date_modified": _local(updated, tz),
        "date_modified_gmt": _gmt(updated),
        "discount_total": _money(discount_total),
        "discount_tax": _money(discount_tax),
        "shipping_total": _money(shipping_total),
        "shipping_tax": "0.00",
        "cart_tax": _money(order.tax),
        "total": _money(order.total),
        "total_tax": _money(order.tax),
        "prices_include_tax": included,
        "customer_id": customer.index + 1 if customer else 0,  # 0: a guest
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": "Please leave at the door" if state.edited_at else "",
        "billing": {
            **address,
            "email": f" {email} " if email and order.order_id % 7 == 0 else email,
            "phone": "",
        },
        "shipping": address,
        "payment_method": "stripe",
        "payment_method_title": "Credit card",
        "transaction_id": f"ch_{order.order_id:x}",
        "date_paid": _local(paid, tz),
        "date_paid_gmt": _gmt(paid),
        "date_completed": _local(completed, tz) if completed else None,
        "date_completed_gmt": _gmt(completed) if completed else None,
        "cart_hash": f"{order.order_id * 2654435761 % 2**64:016x}",
        "meta_data": [],
        "line_items": lines,
        "tax_lines": [
            {
                "id": 1,
                "rate_code": f"{order.currency[:2]}-VAT-1",
                "rate_id": 1,
                "label": "VAT" if included else "Tax",
                "compound": False,
                "tax_total": _money(order.tax),
                "shipping_tax_total": "0.00",
                "meta_data": [],
            }
        ],
        "shipping_lines": [
            {
                "id": 1,
                "method_title": "Standard",
                "method_id": "flat_rate",
                "total": _money(shipping_total),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
            }
        ]
        if shipping_total
        else [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [
            {
                "id": r.refund_id % 10**9,
                "reason": "Returned",
                "total": f"-{_refund_amount(r, order)}",
            }
            for r in state.refunds
        ],
        "_links": {
            "self": [{"href": f"/wp-json/wc/v3/orders/{order.order_id}"}],
            "collection": [{"href": "/wp-json/wc/v3/orders"}],
        },
    }


def _refund_amount(refund, order) -> str:
    returned = refund.subtotal + (Decimal("0.00") if order.taxes_included else refund.tax)
    return _money(returned)


def refunds_json(ctx, i: int) -> list[dict]:
    """`GET /orders/<id>/refunds`: amounts negative, line amounts without tax."""
    world = ctx.world
    order = world.order(i)
    state = order.state_at(ctx.now)
    tz = ZoneInfo(ctx.channel.timezone)
    out = []
    for refund in state.refunds:
        merchandise = refund.subtotal - (refund.tax if order.taxes_included else 0)
        out.append(
            {
                "id": refund.refund_id % 10**9,
                "date_created": _local(refund.created_at.timestamp(), tz),
                "date_created_gmt": _gmt(refund.created_at.timestamp()),
                "amount": _refund_amount(refund, order),
                "reason": "Returned",
                "refunded_by": 1,
                "refunded_payment": True,
                "meta_data": [],
                "line_items": [
                    {
                        "id": 200_000 + refund.line.line_id % 10**9,
                        "name": refund.line.product.title,
                        "product_id": refund.line.product.product_id,
                        "variation_id": 0,
                        "quantity": -refund.quantity,
                        "tax_class": "",
                        "subtotal": _money(-merchandise),
                        "subtotal_tax": _money(-refund.tax),
                        "total": _money(-merchandise),
                        "total_tax": _money(-refund.tax),
                        "taxes": [],
                        "meta_data": [
                            {
                                "id": 1,
                                "key": "_refunded_item_id",
                                "value": str(100_000 + refund.line.line_id % 10**9),
                            }
                        ],
                        "sku": refund.line.product.sku,
                        "price": -float(merchandise / refund.quantity),
                    }
                ],
            }
        )
    return out


def _half_up(value: Decimal) -> Decimal:
    from decimal import ROUND_HALF_UP

    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _products(ctx, request, match, page_no, per_page):
    world, channel = ctx.world, ctx.channel
    listing = world.listings[channel.channel_id]
    skus = np.flatnonzero(listing.listed)
    created = np.array([_product_created(world, int(s)) for s in skus], dtype=np.int64)
    modified = np.array(
        [_product_modified(ctx, int(s), int(c)) for s, c in zip(skus, created, strict=True)],
        dtype=np.int64,
    )
    exists = created < ctx.now_ts
    if match["id"]:
        hit = np.flatnonzero(exists & (listing.product_id[skus] == int(match["id"])))
        if not len(hit):
            return _error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        j = int(hit[0])
        return Response.of(200, product_json(ctx, int(skus[j]), int(created[j]), int(modified[j])))
    bounds = _window(ctx, request)
    if isinstance(bounds, str):
        return _error(400, "rest_invalid_param", bounds)
    keep = exists & _in_window(bounds, created, modified)
    positions = np.flatnonzero(keep)
    ids = listing.product_id[skus][positions]
    orderby = request.arg("orderby", "date")
    keys = {
        "date": (created[positions], ids),
        "id": (ids,),
        "modified": (modified[positions], ids),
    }.get(orderby)
    if keys is None:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): orderby")
    return _paged(
        ctx,
        request,
        positions,
        keys,
        page_no,
        per_page,
        lambda j: product_json(ctx, int(skus[j]), int(created[j]), int(modified[j])),
        None,
    )


def _product_created(world, s: int) -> int:
    launch = datetime.combine(world.catalogue.launch_date(s), datetime.min.time(), UTC)
    return int((launch - timedelta(days=14)).timestamp()) + 10 * 3600


def _stock_day_index(ctx) -> int:
    local = ctx.now.astimezone(ZoneInfo(ctx.channel.timezone)).date()
    return ctx.world.day_index(local) - 1  # the last complete local day


def _product_modified(ctx, s: int, created: int) -> int:
    """Stock changes save the product: modified = end of the last day its stock moved."""
    world = ctx.world
    k = _stock_day_index(ctx)
    if k < 0:
        return created
    [(_, location)] = ctx.channel.sales_points()
    series = world.on_hand[world.locations.index(location), : k + 1, s]
    moved = np.flatnonzero(np.diff(series)) if len(series) > 1 else []
    if not len(moved):
        return created
    day = world.dates[int(moved[-1]) + 1]
    end = datetime.combine(
        day + timedelta(days=1), datetime.min.time(), ZoneInfo(ctx.channel.timezone)
    )
    return max(created, int(end.timestamp()) - 1)


def product_json(ctx, s: int, created: int, modified: int) -> dict:
    world, channel = ctx.world, ctx.channel
    tz = ZoneInfo(channel.timezone)
    cat, listing = world.catalogue, world.listings[channel.channel_id]
    k = _stock_day_index(ctx)
    [(_, location)] = channel.sales_points()
    stock = int(world.on_hand[world.locations.index(location), k, s]) if k >= 0 else 0
    price = _money(cents(listing.price_cents[s]))
    slug = cat.title[s].lower().replace(" & ", "-").replace(" ", "-")
    return {
        "id": int(listing.product_id[s]),
        "name": cat.title[s],
        "slug": slug,
        "permalink": f"https://woo.example/product/{slug}/",
        "date_created": _local(created, tz),
        "date_created_gmt": _gmt(created),
        "date_modified": _local(modified, tz),
        "date_modified_gmt": _gmt(modified),
        "type": "simple",
        "status": "publish",
        "featured": False,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": cat.sku[s],
        "price": price,
        "regular_price": price,
        "sale_price": "",
        "on_sale": False,
        "purchasable": True,
        "total_sales": int(
            world.sold_units[
                [p.index for p in world.points if p.channel.channel_id == channel.channel_id],
                : max(k + 1, 0),
                s,
            ].sum()
        ),
        "virtual": False,
        "downloadable": False,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": True,
        "stock_quantity": stock,
        "stock_status": "instock" if stock > 0 else "outofstock",
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "categories": [
            {
                "id": 10 + cat_idx(cat.category[s]),
                "name": cat.category[s],
                "slug": cat.category[s].lower(),
            }
        ],
        "meta_data": [{"id": 1, "key": "_global_unique_id", "value": cat.barcode[s]}],
        "_links": {
            "self": [{"href": f"/wp-json/wc/v3/products/{int(listing.product_id[s])}"}],
            "collection": [{"href": "/wp-json/wc/v3/products"}],
        },
    }


def cat_idx(category: str) -> int:
    return CATEGORIES.index(category)
