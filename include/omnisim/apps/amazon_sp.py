"""Amazon Selling Partner API served from the world, per the official models in
`shared/conformance/amazon_sp_api/`.

- Orders v0: `GET /orders/v0/orders` (`MarketplaceIds`, `CreatedAfter` or `LastUpdatedAfter`,
  `…Before`, `MaxResultsPerPage` ≤ 100, `NextToken`), `GET /orders/v0/orders/{id}/orderItems`;
  `{payload, errors}` envelopes; money as `{CurrencyCode, Amount}` with string amounts.
- FBA Inventory v1: `GET /fba/inventory/v1/summaries` (`details`, `granularityType`,
  `granularityId`, `marketplaceIds`, `nextToken`; 50 per page).
- Finances v0: `GET /finances/v0/financialEvents` (PostedAfter/Before, NextToken):
  refund events with their item charge adjustments (Principal, Tax).
- Reports 2021-06-30: create `GET_SALES_AND_TRAFFIC_REPORT` → poll → document → a gzip JSON
  document following `sellerSalesAndTrafficReport.json`.
- Auth: `x-amz-access-token` must be a token issued by `POST /auth/o2/token` (Login with
  Amazon's refresh-token grant); every response carries `x-amzn-RateLimit-Limit`, and an
  operation's token bucket answers 429 `QuotaExceeded` when empty. The simulator's buckets
  restore faster than Amazon's (getOrders: 0.0167/s, burst 20) so tests finish; a connector
  must honour 429 either way. Refunds are not part of the Orders API: they come from the
  Finances API; the Sales and Traffic report has units refunded per day.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from omnisim.faults import spoil
from omnisim.paging import TokenError, decode_token, encode_token, keyset_page
from omnisim.protocol import Response
from omnisim.throttle import Bucket
from omnisim.world import cents

MARKETPLACES = {  # id: (sales channel, country)
    "ATVPDKIKX0DER": ("Amazon.com", "US"),
    "A1PA6795UKMFR9": ("Amazon.de", "DE"),
    "A1F83G8C2ARO7P": ("Amazon.co.uk", "GB"),
    "A13V1IB3VIYZZH": ("Amazon.fr", "FR"),
    "APJ6JRA9NG5V4": ("Amazon.it", "IT"),
    "A1RKKUPIHCS9HS": ("Amazon.es", "ES"),
}
DEFAULT_MARKETPLACE = {"USD": "ATVPDKIKX0DER", "EUR": "A1PA6795UKMFR9", "GBP": "A1F83G8C2ARO7P"}
# operation: (requests per second restored, burst). Amazon's own: getOrders 0.0167/20,
# getOrderItems 0.5/30, getInventorySummaries 2/2, createReport 0.0167/15.
RATE_LIMITS = {
    "getOrders": (5.0, 20),
    "getOrderItems": (10.0, 30),
    "getInventorySummaries": (5.0, 10),
    "listFinancialEvents": (5.0, 30),
    "reports": (5.0, 15),
}
INVENTORY_PAGE = 50
REPORTS = "/reports/2021-06-30"
BAD_ROW_FIELDS = {
    "amount": ("OrderTotal", "Amount"),
    "quantity": ("NumberOfItemsUnshipped",),
    "currency": ("OrderTotal", "CurrencyCode"),
    "id": ("AmazonOrderId",),
    "date": ("PurchaseDate",),
    "total": ("OrderTotal", "Amount"),
    "new_field": "IsIBA2",
    "rename": ("LastUpdateDate", "LastUpdatedDate"),
}
ITEM_FIELDS = {
    "amount": ("ItemPrice", "Amount"),
    "quantity": ("QuantityOrdered",),
    "currency": ("ItemPrice", "CurrencyCode"),
    "id": ("OrderItemId",),
    "date": ("ScheduledDeliveryStartDate",),
    "total": ("ItemPrice", "Amount"),
    "new_field": "ItemFeatures",
    "rename": ("QuantityOrdered", "OrderedQuantity"),
}


def marketplace_id(channel) -> str:
    return channel.marketplace_id or DEFAULT_MARKETPLACE.get(channel.currency, "ATVPDKIKX0DER")


def amazon_order_id(order_id: int) -> str:
    n = int(order_id)
    return f"{300 + n % 700:03d}-{(n * 7919) % 10**7:07d}-{n % 10**7:07d}"


def order_index_of(amazon_id: str, world, channel_id: str) -> int | None:
    try:
        tail = int(amazon_id.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return None
    index = world.channel_orders(channel_id)
    ids = world.orders.order_id[index]
    hits = index[(ids % 10**7) == tail]
    for i in hits:
        if amazon_order_id(int(world.orders.order_id[i])) == amazon_id:
            return int(i)
    return None


def iso(ts) -> str:
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: Decimal, currency: str) -> dict:
    return {"CurrencyCode": currency, "Amount": f"{amount:.2f}"}


def error(status: int, code: str, message: str, headers=None, details: str = ""):
    return Response.of(
        status, {"errors": [{"code": code, "message": message, "details": details}]}, headers
    )


def handle(ctx, request, rest: str):

    if rest == "/auth/o2/token" and request.method == "POST":
        return _token(ctx, request)
    if rest.startswith(REPORTS + "/_documents/"):
        return _document_body(ctx, rest)  # a pre-signed URL: no token, like S3
    state = ctx.app.state_for(ctx.channel.channel_id)
    token = request.headers.get("x-amz-access-token")
    if not token or token not in state.setdefault("tokens", set()):
        return error(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            details="The access token you provided is revoked, malformed or invalid.",
        )
    routes = (
        (r"^/orders/v0/orders$", "getOrders", _get_orders),
        (r"^/orders/v0/orders/(?P<order>[0-9-]+)/orderItems$", "getOrderItems", _get_order_items),
        (r"^/fba/inventory/v1/summaries$", "getInventorySummaries", _inventory),
        (r"^/finances/v0/financialEvents$", "listFinancialEvents", _financial_events),
        (rf"^{REPORTS}/(reports|documents)(/.*)?$", "reports", _reports),
    )
    for pattern, operation, func in routes:
        match = re.match(pattern, rest)
        if not match:
            continue
        rate, burst = RATE_LIMITS[operation]
        bucket = state.setdefault(operation, Bucket(burst, rate, ctx.app.api_time))
        limit = {"x-amzn-RateLimit-Limit": f"{rate:g}", "x-amzn-RequestId": _request_id(ctx)}
        page = 1 + int(bool(request.arg("NextToken") or request.arg("nextToken")))
        fault = ctx.app.draw_fault(ctx, _stream(operation), page)
        if fault and fault.fault == "rate_limit":
            bucket.drain()
        if bucket.take() is None:
            return error(
                429, "QuotaExceeded", "You exceeded your quota for the requested resource.", limit
            )
        if fault and fault.fault == "server_error":
            return error(503, "ServiceUnavailable", "Service temporarily unavailable.", limit)
        ctx.fault = fault
        response = func(ctx, request, match)
        response.headers.update(limit)
        if fault and fault.fault == "malformed_page":
            response.body = response.body[: max(1, len(response.body) // 2)]
        return response
    return error(404, "NotFound", "Resource not found.")


def _stream(operation: str) -> str:
    return {
        "getOrders": "orders",
        "getOrderItems": "order_items",
        "getInventorySummaries": "inventory",
        "reports": "sales_traffic",
        "listFinancialEvents": "refunds",
    }[operation]


def _request_id(ctx) -> str:
    state = ctx.app.state_for(ctx.channel.channel_id)
    state["requests"] = state.get("requests", 0) + 1
    return f"{ctx.world.seed:08x}-{state['requests']:04x}-sim"


def _token(ctx, request):
    from urllib.parse import parse_qs

    form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
    if (
        form.get("grant_type") != "refresh_token"
        or not form.get("refresh_token", "").startswith("Atzr|")
        or not form.get("client_id")
    ):
        return Response.of(
            400,
            {
                "error": "invalid_grant",
                "error_description": "The request has an invalid grant parameter : refresh_token",
            },
        )
    state = ctx.app.state_for(ctx.channel.channel_id)
    tokens = state.setdefault("tokens", set())
    token = f"Atza|sim-{ctx.channel.channel_id}-{len(tokens) + 1}"
    tokens.add(token)
    return Response.of(
        200,
        {
            "access_token": token,
            "refresh_token": form["refresh_token"],
            "token_type": "bearer",
            "expires_in": 3600,
        },
    )


def _parse_time(request, name: str) -> datetime | None | str:
    raw = request.arg(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return f"Invalid date format for {name}: {raw}"
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _get_orders(ctx, request, match):
    world, channel = ctx.world, ctx.channel
    token = request.arg("NextToken")
    if token:
        try:
            params = decode_token(token)
        except TokenError:
            return error(400, "InvalidInput", "Invalid NextToken.")
    else:
        params = {}
        for name in ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore"):
            value = _parse_time(request, name)
            if isinstance(value, str):
                return error(400, "InvalidInput", value)
            if value is not None:
                params[name] = int(value.timestamp())
        if not request.arg("MarketplaceIds"):
            return error(400, "InvalidInput", "MarketplaceIds is required.")
        if ("CreatedAfter" in params) == ("LastUpdatedAfter" in params):
            return error(
                400,
                "InvalidInput",
                "Exactly one of CreatedAfter and LastUpdatedAfter must be specified.",
            )
        if "CreatedBefore" in params and "LastUpdatedAfter" in params:
            return error(400, "InvalidInput", "CreatedBefore cannot be used with LastUpdatedAfter.")
        try:
            size = int(request.arg("MaxResultsPerPage", "100"))
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            return error(400, "InvalidInput", "MaxResultsPerPage must be between 1 and 100.")
        params["size"] = size
        params["markets"] = request.arg("MarketplaceIds").split(",")
        if request.arg("OrderStatuses"):
            params["statuses"] = request.arg("OrderStatuses").split(",")
    if marketplace_id(channel) not in params.get("markets", []):
        return Response.of(200, {"payload": {"Orders": []}})
    # Amazon requires Before ≤ now - 2 minutes; the simulator caps it at now.
    before_cap = ctx.now_ts
    index = world.channel_orders(channel.channel_id)
    updated = ctx.updated_at(index)
    created = world.orders.created[index]
    keep = updated >= 0
    if "LastUpdatedAfter" in params:
        upper = min(params.get("LastUpdatedBefore", before_cap), before_cap)
        keep &= (updated >= params["LastUpdatedAfter"]) & (updated < upper)
        keys = (updated, world.orders.order_id[index])
    else:
        upper = min(params.get("CreatedBefore", before_cap), before_cap)
        keep &= (created >= params["CreatedAfter"]) & (created < upper)
        keys = (created, world.orders.order_id[index])
    if "statuses" in params:
        keep &= np.isin(statuses(world.orders, index, ctx.now_ts), params["statuses"])
    index, keys = index[keep], tuple(k[keep] for k in keys)
    after = tuple(params["after"]) if "after" in params else None
    overlap = 1 if ctx.data_fault("duplicates") and after else 0
    page = keyset_page(index, keys, after, params["size"], overlap)
    if ctx.data_fault("updated_between_pages") and len(page.items) and len(page.rest):
        ctx.touch(page.items[0])  # changes after it was read: it comes again at the end
    updated_of = (
        dict(zip(index.tolist(), keys[0].tolist(), strict=True))
        if "LastUpdatedAfter" in params
        else None
    )
    orders = [order_json(ctx, int(i), updated_of) for i in page.items]
    fault = ctx.fault
    if fault and fault.fault in ("bad_row", "schema_drift"):
        for record in orders[:1] if fault.fault == "bad_row" else orders:
            spoil(record, fault, BAD_ROW_FIELDS, ctx.now)
    payload: dict = {"Orders": orders}
    if page.has_next:
        payload["NextToken"] = encode_token({**params, "after": list(page.keys[-1])})
    payload["LastUpdatedBefore" if "LastUpdatedAfter" in params else "CreatedBefore"] = iso(upper)
    return Response.of(200, {"payload": payload})


def statuses(o, index: np.ndarray, now: int) -> np.ndarray:
    """OrderStatus of many orders at `now` (see `order_status`)."""
    out = np.where(now - o.created[index] < 1800, "Pending", "Unshipped").astype(object)
    out[o.fulfilled[index] < now] = "Shipped"
    out[o.cancelled[index] < now] = "Canceled"
    return out


def order_status(o, i: int, now: int) -> str:
    if o.cancelled[i] < now:
        return "Canceled"
    if o.fulfilled[i] < now:
        return "Shipped"
    if now - o.created[i] < 1800:
        return "Pending"  # payment not yet authorised
    return "Unshipped"


def order_json(ctx, i: int, updated_of: dict | None = None) -> dict:
    world, channel = ctx.world, ctx.channel
    o, now = world.orders, ctx.now_ts
    status = order_status(o, i, now)
    units = int(world.lines.quantity[o.line_start[i] : o.line_start[i] + o.line_count[i]].sum())
    shipped = units if status == "Shipped" else 0
    updated = (updated_of or {}).get(i)
    if updated is None:
        updated = int(ctx.updated_at(np.array([i]))[0])
    market = marketplace_id(channel)
    created = int(o.created[i])
    record = {
        "AmazonOrderId": amazon_order_id(int(o.order_id[i])),
        "PurchaseDate": iso(created),
        "LastUpdateDate": iso(updated),
        "OrderStatus": status,
        "FulfillmentChannel": "AFN",
        "SalesChannel": MARKETPLACES.get(market, ("Amazon.com", "US"))[0],
        "ShipServiceLevel": "Std DE Dom" if channel.currency == "EUR" else "Std Dom",
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": 0 if status in ("Canceled", "Shipped") else units,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": market,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(created + 86400),
        "LatestShipDate": iso(created + 2 * 86400),
        "IsBusinessOrder": False,
        "IsPrime": bool(int(o.order_id[i]) % 3 == 0),
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
    }
    if status not in ("Pending", "Canceled"):  # Amazon omits the total of these
        record["OrderTotal"] = money(cents(o.total[i]), channel.currency)
    if o.customer[i] >= 0:
        customer = world.customers[int(o.customer[i])]
        # marketplace buyers type their address their own way: normalise before matching
        record["BuyerInfo"] = {"BuyerEmail": customer.email.title()}
    return record


def _get_order_items(ctx, request, match):
    world = ctx.world
    i = order_index_of(match["order"], world, ctx.channel.channel_id)
    if i is None or world.orders.created[i] >= ctx.now_ts:
        return error(404, "InvalidInput", f"Invalid AmazonOrderId: {match['order']}")
    o, lines, cat = world.orders, world.lines, world.catalogue
    currency = ctx.channel.currency
    status = order_status(o, i, ctx.now_ts)
    items = []
    for j in range(int(o.line_start[i]), int(o.line_start[i] + o.line_count[i])):
        s = int(lines.sku[j])
        quantity = int(lines.quantity[j])
        items.append(
            {
                "ASIN": cat.asin[s],
                "SellerSKU": cat.seller_sku[s],
                "OrderItemId": f"{int(lines.line_id[j]) % 10**14:014d}",
                "Title": cat.title[s],
                "QuantityOrdered": quantity,
                "QuantityShipped": quantity if status == "Shipped" else 0,
                "ProductInfo": {"NumberOfItems": "1"},
                "ItemPrice": money(cents(lines.gross[j]), currency),
                "ItemTax": money(cents(lines.tax[j]), currency),
                "ShippingPrice": money(Decimal("0.00"), currency),
                "PromotionDiscount": money(cents(lines.discount[j]), currency),
                "PromotionDiscountTax": money(Decimal("0.00"), currency),
                "PromotionIds": ["SIM-PROMO"] if lines.discount[j] else [],
                "IsGift": "false",
                "ConditionId": "New",
                "ConditionSubtypeId": "New",
                "IsTransparency": False,
                "SerialNumberRequired": False,
            }
        )
    fault = ctx.fault
    if fault and fault.fault in ("bad_row", "schema_drift"):
        for record in items[:1] if fault.fault == "bad_row" else items:
            spoil(record, fault, ITEM_FIELDS, ctx.now)
    payload = {"AmazonOrderId": match["order"], "OrderItems": items}
    return Response.of(200, {"payload": payload})


def _inventory(ctx, request, match):
    world, channel = ctx.world, ctx.channel
    if request.arg("granularityType") != "Marketplace" or not request.arg("granularityId"):
        return error(
            400, "InvalidInput", "granularityType=Marketplace and granularityId are required."
        )
    if not request.arg("marketplaceIds"):
        return error(400, "InvalidInput", "marketplaceIds is required.")
    listing = world.listings[channel.channel_id]
    skus = np.flatnonzero(listing.listed)
    token = request.arg("nextToken")
    start = 0
    if token:
        try:
            start = int(decode_token(token)["offset"])
        except (TokenError, KeyError, ValueError):
            return error(400, "InvalidInput", "Invalid nextToken.")
    local = ctx.now.astimezone(ZoneInfo(channel.timezone)).date()
    day = local - timedelta(days=1)
    [(_, location)] = channel.sales_points()
    on_hand = world.on_hand_at(location, day)
    updated = iso(
        datetime.combine(local, datetime.min.time(), ZoneInfo(channel.timezone)).timestamp()
    )
    details = request.arg("details", "false") == "true"
    summaries = []
    cat = world.catalogue
    for s in skus[start : start + INVENTORY_PAGE]:
        s = int(s)
        units = int(on_hand[s]) if world.day_index(day) >= 0 else 0
        summary = {
            "asin": cat.asin[s],
            "fnSku": "X00" + cat.asin[s][3:],
            "sellerSku": cat.seller_sku[s],
            "condition": "NewItem",
            "lastUpdatedTime": updated,
            "productName": cat.title[s],
            "totalQuantity": units,
        }
        if details:
            summary["inventoryDetails"] = {
                "fulfillableQuantity": units,
                "inboundWorkingQuantity": 0,
                "inboundShippedQuantity": 0,
                "inboundReceivingQuantity": 0,
                "reservedQuantity": {
                    "totalReservedQuantity": 0,
                    "pendingCustomerOrderQuantity": 0,
                    "pendingTransshipmentQuantity": 0,
                    "fcProcessingQuantity": 0,
                },
                "researchingQuantity": {
                    "totalResearchingQuantity": 0,
                    "researchingQuantityBreakdown": [],
                },
                "unfulfillableQuantity": {
                    "totalUnfulfillableQuantity": 0,
                    "customerDamagedQuantity": 0,
                    "warehouseDamagedQuantity": 0,
                    "distributorDamagedQuantity": 0,
                    "carrierDamagedQuantity": 0,
                    "defectiveQuantity": 0,
                    "expiredQuantity": 0,
                },
            }
        summaries.append(summary)
    body: dict = {
        "payload": {
            "granularity": {
                "granularityType": "Marketplace",
                "granularityId": request.arg("granularityId"),
            },
            "inventorySummaries": summaries,
        }
    }
    if start + INVENTORY_PAGE < len(skus):
        body["pagination"] = {"nextToken": encode_token({"offset": start + INVENTORY_PAGE})}
    return Response.of(200, body)


# -- Finances API ------------------------------------------------------------------------------


def _financial_events(ctx, request, match):
    """`listFinancialEvents`: refund events (RefundEventList) posted in a time range.

    Each refund carries ShipmentItemAdjustmentList items with ItemChargeAdjustmentList
    charges: Principal (the refunded merchandise as priced, VAT inside in the EU) and Tax
    (that VAT), negative, as `{CurrencyCode, CurrencyAmount}` numbers."""
    world, channel = ctx.world, ctx.channel
    token = request.arg("NextToken")
    if token:
        try:
            params = decode_token(token)
        except TokenError:
            return error(400, "InvalidInput", "Invalid NextToken.")
    else:
        after = _parse_time(request, "PostedAfter")
        before = _parse_time(request, "PostedBefore")
        if isinstance(after, str) or isinstance(before, str) or after is None:
            return error(400, "InvalidInput", "PostedAfter is required (ISO 8601).")
        try:
            size = int(request.arg("MaxResultsPerPage", "100"))
        except ValueError:
            size = 0
        if not 1 <= size <= 100:
            return error(400, "InvalidInput", "MaxResultsPerPage must be between 1 and 100.")
        params = {
            "after_ts": int(after.timestamp()),
            "size": size,
            "before_ts": int(before.timestamp()) if before else None,
        }
    o = world.orders
    index = world.channel_orders(channel.channel_id)
    upper = min(params["before_ts"] or ctx.now_ts, ctx.now_ts)
    posted = o.refund_at[index]
    keep = (posted >= params["after_ts"]) & (posted < upper)
    index = index[keep]
    keys = (o.refund_at[index], o.order_id[index])
    after = tuple(params["after"]) if "after" in params else None
    page = keyset_page(index, keys, after, params["size"])
    events = [refund_event(ctx, int(i)) for i in page.items]
    payload: dict = {"FinancialEvents": {"RefundEventList": events}}
    if page.has_next:
        payload["NextToken"] = encode_token({**params, "after": list(page.keys[-1])})
    return Response.of(200, {"payload": payload})


def refund_event(ctx, i: int) -> dict:
    world, currency = ctx.world, ctx.channel.currency
    o, lines, cat = world.orders, world.lines, world.catalogue
    j = int(o.refund_line[i])
    s = int(lines.sku[j])

    def charge(kind: str, value_cents: int) -> dict:
        amount = float(-cents(value_cents))
        return {
            "ChargeType": kind,
            "ChargeAmount": {"CurrencyCode": currency, "CurrencyAmount": amount},
        }

    return {
        "AmazonOrderId": amazon_order_id(int(o.order_id[i])),
        "SellerOrderId": str(int(o.order_id[i])),
        "MarketplaceName": MARKETPLACES.get(marketplace_id(ctx.channel), ("Amazon.com",))[0],
        "PostedDate": iso(o.refund_at[i]),
        "ShipmentItemAdjustmentList": [
            {
                "SellerSKU": cat.seller_sku[s],
                "OrderAdjustmentItemId": f"{int(lines.line_id[j]) % 10**14:014d}",
                "QuantityShipped": int(o.refund_quantity[i]),
                "ItemChargeAdjustmentList": [
                    charge("Principal", int(o.refund_subtotal[i])),
                    charge("Tax", int(o.refund_tax[i])),
                ],
            }
        ],
    }


# -- Reports API ------------------------------------------------------------------------------


def _reports(ctx, request, match):
    state = ctx.app.state_for(ctx.channel.channel_id)
    jobs = state.setdefault("report_jobs", {})
    rest = request.path.split(REPORTS, 1)[1]
    if rest == "/reports" and request.method == "POST":
        try:
            spec = request.json()
        except json.JSONDecodeError:
            return error(400, "InvalidInput", "Request body is not valid JSON.")
        if spec.get("reportType") != "GET_SALES_AND_TRAFFIC_REPORT":
            return error(
                400,
                "InvalidInput",
                f"Report type {spec.get('reportType')} is not "
                "served by the simulator (GET_SALES_AND_TRAFFIC_REPORT is).",
            )
        try:
            start = date.fromisoformat(spec["dataStartTime"][:10])
            end = date.fromisoformat(spec["dataEndTime"][:10])
        except (KeyError, ValueError):
            return error(400, "InvalidInput", "dataStartTime and dataEndTime are required.")
        report_id = str(50_000_000_000 + len(jobs) + 1)
        jobs[report_id] = {"spec": spec, "start": start, "end": end, "polls": 0, "created": ctx.now}
        return Response.of(202, {"reportId": report_id})
    found = re.match(r"^/reports/(?P<id>\d+)$", rest)
    if found and request.method == "GET":
        job = jobs.get(found["id"])
        if job is None:
            return error(404, "NotFound", f"Report {found['id']} not found.")
        job["polls"] += 1
        status = ("IN_QUEUE", "IN_PROGRESS", "DONE")[min(job["polls"] - 1, 2)]
        body = {
            "reportId": found["id"],
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
            "dataStartTime": job["spec"]["dataStartTime"],
            "dataEndTime": job["spec"]["dataEndTime"],
            "marketplaceIds": job["spec"].get("marketplaceIds", []),
            "createdTime": job["created"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "processingStatus": status,
        }
        if status == "DONE":
            body["reportDocumentId"] = f"amzn1.spdoc.1.4.sim.{found['id']}"
            body["processingEndTime"] = ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        return Response.of(200, body)
    found = re.match(r"^/documents/amzn1\.spdoc\.1\.4\.sim\.(?P<id>\d+)$", rest)
    if found and request.method == "GET":
        if found["id"] not in jobs:
            return error(404, "NotFound", "Report document not found.")
        base = request.headers.get("host", "127.0.0.1")
        url = f"http://{base}/amazon/{ctx.channel.channel_id}{REPORTS}/_documents/{found['id']}.json.gz"
        return Response.of(
            200,
            {
                "reportDocumentId": f"amzn1.spdoc.1.4.sim.{found['id']}",
                "compressionAlgorithm": "GZIP",
                "url": url,
            },
        )
    return error(404, "NotFound", "Resource not found.")


def _document_body(ctx, rest: str):
    found = re.match(rf"^{REPORTS}/_documents/(?P<id>\d+)\.json\.gz$", rest)
    jobs = ctx.app.state_for(ctx.channel.channel_id).get("report_jobs", {})
    if not found or found["id"] not in jobs:
        return Response(
            404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"}
        )
    job = jobs[found["id"]]
    document = sales_and_traffic(ctx, job["start"], job["end"], job["spec"])
    body = gzip.compress(json.dumps(document).encode(), mtime=0)
    return Response(200, body, {"Content-Type": "application/octet-stream"})


def sales_and_traffic(ctx, start: date, end: date, spec: dict) -> dict:
    """The report document for local days start..end (DAY / SKU granularity)."""
    world, channel = ctx.world, ctx.channel
    o, lines, cat = world.orders, world.lines, world.catalogue
    currency = channel.currency
    [point] = [p.index for p in world.points if p.channel.channel_id == channel.channel_id]
    index = world.channel_orders(channel.channel_id)
    by_date, per_sku = [], {}
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        k = world.day_index(day)
        if not 0 <= k < world.spec.days:
            continue
        ids = index[o.day[index] == k]
        line_ids = (
            np.concatenate(
                [np.arange(o.line_start[i], o.line_start[i] + o.line_count[i]) for i in ids]
            )
            if len(ids)
            else np.zeros(0, dtype=np.int64)
        )
        sales = int(lines.gross[line_ids].sum() - lines.discount[line_ids].sum())
        units = int(lines.quantity[line_ids].sum())
        refunded = index[(o.refund_at[index] < ctx.now_ts)]
        refunded = refunded[_local_day(world, channel, o.refund_at[refunded]) == day]
        units_refunded = int(o.refund_quantity[refunded].sum())
        shipped = ids[o.fulfilled[ids] < ctx.now_ts]
        sessions_sku = world.sku_sessions[point, k]
        sessions = int(sessions_sku.sum())
        page_views = int(round(sessions * 1.6))
        items = len(line_ids)
        by_date.append(
            {
                "date": day.isoformat(),
                "salesByDate": {
                    "orderedProductSales": _amount(sales, currency),
                    "unitsOrdered": units,
                    "totalOrderItems": items,
                    "averageSalesPerOrderItem": _amount(sales // max(items, 1), currency),
                    "averageUnitsPerOrderItem": round(units / items, 2) if items else 0.0,
                    "averageSellingPrice": _amount(sales // max(units, 1), currency),
                    "unitsRefunded": units_refunded,
                    "refundRate": round(100 * units_refunded / units, 2) if units else 0.0,
                    "claimsGranted": 0,
                    "claimsAmount": _amount(0, currency),
                    "shippedProductSales": _amount(
                        int(sum(o.subtotal[i] for i in shipped)), currency
                    ),
                    "unitsShipped": int(
                        sum(
                            world.lines.quantity[
                                o.line_start[i] : o.line_start[i] + o.line_count[i]
                            ].sum()
                            for i in shipped
                        )
                    ),
                    "ordersShipped": len(shipped),
                },
                "trafficByDate": {
                    "browserPageViews": int(page_views * 0.4),
                    "mobileAppPageViews": page_views - int(page_views * 0.4),
                    "pageViews": page_views,
                    "browserSessions": int(sessions * 0.45),
                    "mobileAppSessions": sessions - int(sessions * 0.45),
                    "sessions": sessions,
                    "buyBoxPercentage": 97.5,
                    "orderItemSessionPercentage": round(100 * items / sessions, 2)
                    if sessions
                    else 0.0,
                    "unitSessionPercentage": round(100 * units / sessions, 2) if sessions else 0.0,
                    "averageOfferCount": 1,
                    "averageParentItems": int(world.listings[channel.channel_id].listed.sum()),
                    "feedbackReceived": 0,
                    "negativeFeedbackReceived": 0,
                    "receivedNegativeFeedbackRate": 0.0,
                },
            }
        )
        for j in line_ids:
            s = int(lines.sku[j])
            row = per_sku.setdefault(s, [0, 0, 0, 0])
            row[0] += int(lines.quantity[j])
            row[1] += int(lines.gross[j] - lines.discount[j])
            row[2] += 1
        for s in np.flatnonzero(sessions_sku):
            per_sku.setdefault(int(s), [0, 0, 0, 0])[3] += int(sessions_sku[s])
    total_sessions = max(1, sum(v[3] for v in per_sku.values()))
    by_asin = []
    for s in sorted(per_sku):
        units, sales, items, sessions = per_sku[s]
        views = int(round(sessions * 1.6))
        by_asin.append(
            {
                "parentAsin": cat.asin[s],
                "childAsin": cat.asin[s],
                "sku": cat.seller_sku[s],
                "salesByAsin": {
                    "unitsOrdered": units,
                    "orderedProductSales": _amount(sales, currency),
                    "totalOrderItems": items,
                },
                "trafficByAsin": {
                    "browserSessions": int(sessions * 0.45),
                    "mobileAppSessions": sessions - int(sessions * 0.45),
                    "sessions": sessions,
                    "browserSessionPercentage": round(45 * sessions / total_sessions, 2),
                    "mobileAppSessionPercentage": round(55 * sessions / total_sessions, 2),
                    "sessionPercentage": round(100 * sessions / total_sessions, 2),
                    "browserPageViews": int(views * 0.4),
                    "mobileAppPageViews": views - int(views * 0.4),
                    "pageViews": views,
                    "browserPageViewsPercentage": round(40 * sessions / total_sessions, 2),
                    "mobileAppPageViewsPercentage": round(60 * sessions / total_sessions, 2),
                    "pageViewsPercentage": round(100 * sessions / total_sessions, 2),
                    "buyBoxPercentage": 97.5,
                    "unitSessionPercentage": round(100 * units / sessions, 2) if sessions else 0.0,
                },
            }
        )
    return {
        "reportSpecification": {
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
            "reportOptions": {"dateGranularity": "DAY", "asinGranularity": "SKU"},
            "dataStartTime": start.isoformat(),
            "dataEndTime": end.isoformat(),
            "marketplaceIds": spec.get("marketplaceIds") or [marketplace_id(channel)],
        },
        "salesAndTrafficByDate": by_date,
        "salesAndTrafficByAsin": by_asin,
    }


def _amount(value_cents: int, currency: str) -> dict:
    # the report document carries amounts as JSON numbers (parse them as decimals)
    return {"amount": float(cents(value_cents)), "currencyCode": currency}


def _local_day(world, channel, stamps: np.ndarray) -> list[date]:
    tz = ZoneInfo(channel.timezone)
    return np.array([datetime.fromtimestamp(int(t), tz).date() for t in stamps], dtype=object)
