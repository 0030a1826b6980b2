"""Google Analytics 4 Data API v1beta `runReport`, for the web channel a property measures.

`POST /v1beta/properties/<property>:runReport` with `Authorization: Bearer …`.
Dimensions: date, sessionDefaultChannelGroup; metrics: sessions, totalUsers, addToCarts,
ecommercePurchases, purchaseRevenue. `dateRanges` take YYYY-MM-DD, `today`, `yesterday`
or `NdaysAgo` in the property's time zone; `limit` (≤ 250,000) and `offset` page through
rows; `rowCount` is the total. Metric values are strings; `metadata` carries the property's
`currencyCode` and `timeZone`. Only complete days are reported (today's data is not
final in GA4 either). purchaseRevenue is the value of the purchase events of that day:
order totals including tax and shipping, with no refunds taken off.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from omnisim.catalogue import stable_hash
from omnisim.protocol import Response
from omnisim.world import SOURCE_GROUPS, cents

DIMENSIONS = ("date", "sessionDefaultChannelGroup")
METRICS = {
    "sessions": "TYPE_INTEGER",
    "totalUsers": "TYPE_INTEGER",
    "addToCarts": "TYPE_INTEGER",
    "ecommercePurchases": "TYPE_INTEGER",
    "purchaseRevenue": "TYPE_CURRENCY",
}
MAX_LIMIT = 250_000


def _error(status: int, code: str, message: str, headers=None):
    return Response.of(
        status, {"error": {"code": status, "message": message, "status": code}}, headers
    )


def property_id(channel_id: str) -> str:
    return str(300_000_000 + stable_hash(channel_id) % 100_000_000)


def handle(ctx, request, rest: str):
    match = re.match(r"^/v1beta/properties/(?P<property>\d+):runReport$", rest)
    if not match or request.method != "POST":
        return _error(404, "NOT_FOUND", "Requested entity was not found.")
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or len(auth) < 12:
        return _error(
            401,
            "UNAUTHENTICATED",
            "Request is missing required authentication "
            "credential. Expected OAuth 2 access token, login cookie or other valid "
            "authentication credential.",
        )
    if match["property"] != (ctx.channel.property_id or property_id(ctx.channel.channel_id)):
        return _error(
            403,
            "PERMISSION_DENIED",
            "User does not have sufficient permissions for "
            f"this property: properties/{match['property']}.",
        )
    try:
        body = request.json()
    except json.JSONDecodeError:
        return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
    offset = int(body.get("offset") or 0)
    fault = ctx.app.draw_fault(ctx, "traffic", 1 + (offset > 0))
    if fault and fault.fault == "rate_limit":
        return _error(
            429,
            "RESOURCE_EXHAUSTED",
            "Exhausted property tokens per hour for a property.",
            {"Retry-After": str(fault.retry_after)},
        )
    if fault and fault.fault == "server_error":
        return _error(503, "UNAVAILABLE", "The service is currently unavailable.")
    ctx.fault = fault
    try:
        report = run_report(ctx, body)
    except ValueError as exc:
        return _error(400, "INVALID_ARGUMENT", str(exc))
    fault = ctx.fault
    if fault and fault.fault == "schema_drift" and report.get("rows"):
        report["metricHeaders"][0]["name"] += "_v2"
    if fault and fault.fault == "bad_row" and report.get("rows"):
        report["rows"][0]["metricValues"][0]["value"] = "-1"
    if fault and fault.fault == "duplicates" and offset and report.get("rows"):
        report["rows"].insert(0, report["rows"][0])
    response = Response.of(200, report)
    if fault and fault.fault == "malformed_page":
        response.body = response.body[: max(1, len(response.body) // 2)]
    return response


def _resolve_date(value: str, today: date) -> date:
    if value == "today":
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    found = re.match(r"^(\d+)daysAgo$", value or "")
    if found:
        return today - timedelta(days=int(found[1]))
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"Invalid date: {value!r}. Use YYYY-MM-DD, today, yesterday or NdaysAgo."
        ) from exc


def run_report(ctx, body: dict) -> dict:
    world = ctx.world
    web = world.channels[ctx.channel.traffic_of]
    tz = ZoneInfo(web.timezone)
    today = ctx.now.astimezone(tz).date()
    dimensions = [d.get("name") for d in body.get("dimensions") or []]
    metrics = [m.get("name") for m in body.get("metrics") or []]
    for name in dimensions:
        if name not in DIMENSIONS:
            raise ValueError(
                f"Field {name} is not a valid dimension. For a list of valid "
                "dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
            )
    for name in metrics:
        if name not in METRICS:
            raise ValueError(
                f"Field {name} is not a valid metric. For a list of valid "
                "dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"
            )
    if not metrics:
        raise ValueError("At least one metric is required.")
    ranges = body.get("dateRanges") or []
    if not ranges:
        raise ValueError("A dateRange is required.")
    limit = int(body.get("limit") or 10_000)
    if not 0 < limit <= MAX_LIMIT:
        raise ValueError(f"limit must be positive and at most {MAX_LIMIT}.")
    offset = int(body.get("offset") or 0)
    days: set[date] = set()
    for r in ranges:
        start = _resolve_date(r.get("startDate"), today)
        end = _resolve_date(r.get("endDate"), today)
        if end < start:
            raise ValueError("The start date must be on or before the end date.")
        days |= {start + timedelta(n) for n in range((end - start).days + 1)}
    rows = {}
    [point] = [p.index for p in world.points if p.channel.channel_id == web.channel_id]
    o = world.orders
    index = world.channel_orders(web.channel_id)
    for day in sorted(days):
        k = world.day_index(day)
        if day >= today or not 0 <= k < world.spec.days or day < web.opened_on:
            continue  # only complete days
        ids = index[o.day[index] == k]
        sessions = world.sessions[point, k]
        carts = world.add_to_carts[point, k]
        users_total = int(world.users[point, k])
        for g, group in enumerate(SOURCE_GROUPS):
            in_group = ids[o.source[ids] == g]
            values = {
                "sessions": int(sessions[g]),
                "totalUsers": int(round(users_total * sessions[g] / max(1, sessions.sum()))),
                "addToCarts": int(carts[g]),
                "ecommercePurchases": len(in_group),
                "purchaseRevenue": int(o.total[in_group].sum()),
            }
            key = tuple(day.strftime("%Y%m%d") if d == "date" else group for d in dimensions)
            acc = rows.setdefault(key, dict.fromkeys(METRICS, 0))
            for name, value in values.items():
                acc[name] += value
    ordered = sorted(rows.items())
    ordered = [(k, v) for k, v in ordered if any(v[m] for m in metrics)]  # no empty rows
    page = ordered[offset : offset + limit]
    report = {
        "dimensionHeaders": [{"name": d} for d in dimensions],
        "metricHeaders": [{"name": m, "type": METRICS[m]} for m in metrics],
        "rows": [
            {
                "dimensionValues": [{"value": v} for v in key],
                "metricValues": [{"value": _metric(m, values[m])} for m in metrics],
            }
            for key, values in page
        ],
        "rowCount": len(ordered),
        "metadata": {"currencyCode": web.currency, "timeZone": web.timezone},
        "kind": "analyticsData#runReport",
    }
    if not report["rows"]:
        del report["rows"]
    return report


def _metric(name: str, value: int) -> str:
    if METRICS[name] == "TYPE_CURRENCY":
        amount: Decimal = cents(value)
        return format(amount.normalize(), "f") if amount else "0"
    return str(int(value))
