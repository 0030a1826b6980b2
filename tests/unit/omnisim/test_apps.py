"""Each API pages through every record exactly once, and what the APIs show for a day adds
up to the simulator's ground truth."""

import csv
import gzip
import io
import json
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from omnichannel.channels.base import Credentials
from omnichannel.channels.shopify import ShopifyClient
from omnisim.files import pos_files
from omnisim.server import Request, SimulatorApp
from omnisim.truth import daily_truth, end_of_local_day
from tests.helpers.simulator_client import PROPERTY, WOO_AUTH, amazon_token
from tests.helpers.simulator_client import call as request

DAY = date(2026, 10, 3)
LAST = date(2026, 10, 20)  # refunds of DAY are known by then
ZERO = Decimal("0.00")


@pytest.fixture
def app(world):
    app = SimulatorApp(world)
    app.now = end_of_local_day(LAST, "UTC")
    return app


@pytest.fixture(scope="module")
def truth(world):
    return {r.channel_id: r for r in daily_truth(world, DAY, LAST) if r.order_date == DAY}


def call(app, method, path, query=None, headers=None, body=b""):
    for _ in range(50):  # a patient client: waits out rate limits
        response = request(app, method, path, query, headers, body)
        if response.status != 429:
            break
        time_module.sleep(0.2)
    assert response.status < 300, response.body[:300]
    return response


def visible_skus(world, now: datetime) -> set[str]:
    """SKUs whose product page exists by `now` (products appear 14 days before launch)."""
    cat = world.catalogue
    return {
        sku
        for i, sku in enumerate(cat.sku)
        if cat.launch_date(i) - timedelta(days=14) <= now.date()
    }


def local_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tz)
    return start.astimezone(UTC), datetime.combine(day + timedelta(1), time(0), tz).astimezone(UTC)


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def amazon_orders(app, headers, **query):
    orders, token = [], None
    while True:
        args = {"NextToken": token} if token else {"MarketplaceIds": "A1PA6795UKMFR9", **query}
        payload = call(app, "GET", "/amazon/amazon_de/orders/v0/orders", args, headers).json()
        orders += payload["payload"]["Orders"]
        token = payload["payload"].get("NextToken")
        if not token:
            return orders


def woo_all(app, resource, **query):
    records, page = [], 1
    while True:
        response = call(
            app, "GET", f"/woo/woo_uk/wp-json/wc/v3/{resource}", {"page": page, **query}, WOO_AUTH
        )
        records += response.json()
        if page >= int(response.headers["X-WP-TotalPages"]):
            assert len(records) == int(response.headers["X-WP-Total"])
            return records
        page += 1


# -- paging -------------------------------------------------------------------------------


def test_amazon_orders_pages_visit_every_order_once(app, world):
    headers = amazon_token(app)
    orders = amazon_orders(
        app, headers, LastUpdatedAfter="2026-10-01T00:00:00Z", MaxResultsPerPage=25
    )
    ids = [o["AmazonOrderId"] for o in orders]
    assert (
        len(ids)
        == len(set(ids))
        == len(
            world.channel_orders("amazon_de")[
                world.orders.created[world.channel_orders("amazon_de")] < app.now.timestamp()
            ]
        )
    )
    stamps = [o["LastUpdateDate"] for o in orders]
    assert stamps == sorted(stamps)
    canceled = amazon_orders(
        app, headers, LastUpdatedAfter="2026-10-01T00:00:00Z", OrderStatuses="Canceled"
    )
    assert canceled and {o["OrderStatus"] for o in canceled} == {"Canceled"}
    assert len(canceled) == sum(o["OrderStatus"] == "Canceled" for o in orders)


def test_amazon_inventory_pages_cover_every_listed_sku_once(app, world):
    headers = amazon_token(app)
    skus, token = [], None
    while True:
        query = {
            "granularityType": "Marketplace",
            "granularityId": "A1PA6795UKMFR9",
            "marketplaceIds": "A1PA6795UKMFR9",
        }
        if token:
            query["nextToken"] = token
        body = call(
            app, "GET", "/amazon/amazon_de/fba/inventory/v1/summaries", query, headers
        ).json()
        skus += [s["sellerSku"] for s in body["payload"]["inventorySummaries"]]
        token = (body.get("pagination") or {}).get("nextToken")
        if not token:
            break
    assert len(skus) == len(set(skus)) == int(world.listings["amazon_de"].listed.sum())


def test_woocommerce_offset_pages_visit_every_order_and_product_once(app, world):
    orders = woo_all(
        app,
        "orders",
        per_page=9,
        orderby="modified",
        order="asc",
        modified_after="2026-10-01T00:00:00",
        dates_are_gmt="true",
    )
    ids = [o["id"] for o in orders]
    assert len(ids) == len(set(ids)) == len(world.orders_between("woo_uk", date(2026, 10, 1), LAST))
    products = woo_all(app, "products", per_page=7)
    assert len({p["sku"] for p in products}) == len(products)
    listed = {
        sku
        for sku, on in zip(world.catalogue.sku, world.listings["woo_uk"].listed, strict=True)
        if on
    }
    assert {p["sku"] for p in products} == listed & visible_skus(world, app.now)


def test_shopify_products_and_inventory_levels_page_once(app, world):
    headers = {"x-shopify-access-token": "shpat_x"}
    url = "/shops/shopify_us/admin/api/2025-01/graphql.json"
    skus, after = [], None
    query = """query($after: String) { products(first: 7, after: $after) {
      nodes { id variants(first: 1) { nodes { sku barcode price inventoryItem { id } } } }
      pageInfo { hasNextPage endCursor } } }"""
    while True:
        data = call(
            app, "POST", url, headers=headers, body={"query": query, "variables": {"after": after}}
        ).json()["data"]
        skus += [n["variants"]["nodes"][0]["sku"] for n in data["products"]["nodes"]]
        if not data["products"]["pageInfo"]["hasNextPage"]:
            break
        after = data["products"]["pageInfo"]["endCursor"]
    assert len(skus) == len(set(skus))
    assert set(skus) == visible_skus(world, app.now)
    levels = """query($after: String) { locations(first: 1) { nodes { name
      inventoryLevels(first: 25, after: $after) {
        nodes { item { sku } quantities(names: ["available", "on_hand"]) { name quantity } }
        pageInfo { hasNextPage endCursor } } } } }"""
    seen, after = {}, None
    while True:
        data = call(
            app, "POST", url, headers=headers, body={"query": levels, "variables": {"after": after}}
        ).json()["data"]
        connection = data["locations"]["nodes"][0]["inventoryLevels"]
        for node in connection["nodes"]:
            assert node["item"]["sku"] not in seen
            seen[node["item"]["sku"]] = node["quantities"][0]["quantity"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    last_complete = app.now.astimezone(ZoneInfo("America/New_York")).date() - timedelta(days=1)
    on_hand = world.on_hand_at("wh_us", last_complete)  # stock as of the last closed day
    visible = visible_skus(world, app.now)
    assert seen == {
        sku: int(on_hand[i]) for i, sku in enumerate(world.catalogue.sku) if sku in visible
    }


def test_ga4_limit_and_offset_visit_every_row_once(app):
    rows, offset = [], 0
    path = f"/ga4/ga4_shopify_us/v1beta/properties/{PROPERTY}:runReport"
    while True:
        body = {
            "dateRanges": [{"startDate": "2026-10-01", "endDate": "2026-10-15"}],
            "dimensions": [{"name": "date"}, {"name": "sessionDefaultChannelGroup"}],
            "metrics": [{"name": "sessions"}],
            "limit": 13,
            "offset": offset,
        }
        report = call(
            app, "POST", path, headers={"authorization": "Bearer ya29.test"}, body=body
        ).json()
        rows += [tuple(v["value"] for v in r["dimensionValues"]) for r in report.get("rows", [])]
        offset += 13
        if offset >= report["rowCount"]:
            break
    assert len(rows) == len(set(rows)) == report["rowCount"] == 15 * 7


# -- the APIs add up to the truth ---------------------------------------------------------


def test_shopify_orders_of_a_day_add_up_to_the_truth(world, simulator, truth):
    simulator.set_clock(end_of_local_day(LAST, "America/New_York"))
    creds = Credentials(simulator.shop_url("shopify_us"), "shpat_test")
    start, end = local_bounds(DAY, "America/New_York")
    client = ShopifyClient("shopify_us", creds, page_size=5)
    records = [
        r
        for p in client.iter_pages("orders", start - timedelta(days=1), simulator.app.now)
        for r in p.records
    ]
    ids = [r["order_id"] for r in records]
    assert len(ids) == len(set(ids))
    day = [r for r in records if start <= _ts(r["created_at"]) < end and not r["cancelled_at"]]
    row = truth["shopify_us"]
    assert len(day) == row.orders_count
    assert sum(int(r["units"]) for r in day) == row.units
    gmv = sum(Decimal(r["subtotal"]) + Decimal(r["total_discounts"]) for r in day)
    net = sum(Decimal(r["subtotal"]) - Decimal(r["refunded_subtotal"]) for r in day)
    assert (gmv, net) == (row.gmv, row.net_revenue)


def _ts(value) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_amazon_orders_of_a_day_add_up_to_the_truth(app, truth):
    headers = amazon_token(app)
    start, end = local_bounds(DAY, "Europe/Berlin")
    orders = amazon_orders(app, headers, CreatedAfter=iso(start), CreatedBefore=iso(end))
    live = [o for o in orders if o["OrderStatus"] != "Canceled"]
    units = gmv = discounts = tax = 0
    for order in live:
        items = call(
            app,
            "GET",
            f"/amazon/amazon_de/orders/v0/orders/{order['AmazonOrderId']}/orderItems",
            headers=headers,
        ).json()
        for item in items["payload"]["OrderItems"]:
            units += item["QuantityOrdered"]
            gmv += Decimal(item["ItemPrice"]["Amount"])
            discounts += Decimal(item["PromotionDiscount"]["Amount"])
            tax += Decimal(item["ItemTax"]["Amount"])
    row = truth["amazon_de"]
    assert (len(live), units, gmv, discounts, tax) == (
        row.orders_count,
        row.units,
        row.gmv,
        row.discounts,
        row.tax,
    )


def test_amazon_report_sessions_are_the_truths(app, truth):
    headers = amazon_token(app)
    base = "/amazon/amazon_de/reports/2021-06-30"
    spec = {
        "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
        "dataStartTime": DAY.isoformat(),
        "dataEndTime": DAY.isoformat(),
        "marketplaceIds": ["A1PA6795UKMFR9"],
    }
    report_id = call(app, "POST", f"{base}/reports", headers=headers, body=spec).json()["reportId"]
    for _ in range(3):
        status = call(app, "GET", f"{base}/reports/{report_id}", headers=headers).json()
    doc = call(app, "GET", f"{base}/documents/{status['reportDocumentId']}", headers=headers)
    raw = call(app, "GET", "/" + doc.json()["url"].split("/", 3)[3])
    report = json.loads(gzip.decompress(raw.body), parse_float=Decimal)
    [by_date] = report["salesAndTrafficByDate"]
    assert by_date["trafficByDate"]["sessions"] == truth["amazon_de"].sessions
    # ordered product sales count every order placed that day, cancelled ones too
    assert by_date["salesByDate"]["orderedProductSales"]["amount"] >= (
        truth["amazon_de"].gmv - truth["amazon_de"].discounts
    )


def test_woocommerce_orders_of_a_day_add_up_to_the_truth(app, truth):
    start, end = local_bounds(DAY, "Europe/London")
    orders = woo_all(
        app,
        "orders",
        per_page=50,
        after=iso(start - timedelta(seconds=1)),
        before=iso(end),
        dates_are_gmt="true",
        orderby="id",
        order="asc",
    )
    live = [o for o in orders if o["status"] != "cancelled"]
    gmv = discounts = net = refunds = ZERO
    for order in live:
        for line in order["line_items"]:
            gross = Decimal(line["subtotal"]) + Decimal(line["subtotal_tax"])
            gmv += gross
            discounts += gross - Decimal(line["total"]) - Decimal(line["total_tax"])
            net += Decimal(line["total"])
        if order["refunds"]:
            listing = call(
                app,
                "GET",
                f"/woo/woo_uk/wp-json/wc/v3/orders/{order['id']}/refunds",
                headers=WOO_AUTH,
            ).json()
            refunds += -sum(Decimal(i["total"]) for r in listing for i in r["line_items"])
    row = truth["woo_uk"]
    assert (len(live), gmv, discounts, refunds, net - refunds) == (
        row.orders_count,
        row.gmv,
        row.discounts,
        row.refunds,
        row.net_revenue,
    )


def test_store_files_of_a_day_add_up_to_the_truth(world, truth, tmp_path):
    app = SimulatorApp(world, landing={"pos_fr": tmp_path})
    app.set_clock(end_of_local_day(LAST, "Europe/Paris") + timedelta(hours=7))
    sales, visitors = [], 0
    for store in ("paris01", "lyon01"):
        for n in range((LAST - DAY).days + 1):
            day = DAY + timedelta(days=n)
            path = tmp_path / store / pos_files.file_name("sales", store, day)
            sales += list(csv.DictReader(io.StringIO(path.read_text()), delimiter=";"))
        footfall = tmp_path / store / pos_files.file_name("footfall", store, DAY)
        visitors += sum(
            int(r["visitors"])
            for r in csv.DictReader(io.StringIO(footfall.read_text()), delimiter=";")
        )
    of_day = [r for r in sales if r["business_date"] == DAY.isoformat() and not r["return_of"]]
    receipts = {(r["store_id"], r["receipt_no"]) for r in of_day}
    returns = [r for r in sales if (r["store_id"], r["return_of"]) in receipts]
    gmv = sum(Decimal(r["unit_price"]) * int(r["quantity"]) for r in of_day)
    net = sum(Decimal(r["line_total"]) - Decimal(r["vat_amount"]) for r in of_day)
    refunds = -sum(Decimal(r["line_total"]) - Decimal(r["vat_amount"]) for r in returns)
    row = truth["pos_fr"]
    assert (len(receipts), gmv, refunds, net - refunds, visitors) == (
        row.orders_count,
        row.gmv,
        row.refunds,
        row.net_revenue,
        row.sessions,
    )


def test_ga4_sessions_and_purchases_are_the_worlds(app, world, truth):
    path = f"/ga4/ga4_shopify_us/v1beta/properties/{PROPERTY}:runReport"
    body = {
        "dateRanges": [{"startDate": DAY.isoformat(), "endDate": DAY.isoformat()}],
        "metrics": [{"name": "sessions"}, {"name": "ecommercePurchases"}],
    }
    report = call(
        app, "POST", path, headers={"authorization": "Bearer ya29.test"}, body=body
    ).json()
    [row] = report["rows"]
    sessions, purchases = (int(v["value"]) for v in row["metricValues"])
    assert sessions == truth["shopify_us"].sessions
    placed = world.orders_for_day("shopify_us", DAY)  # purchases include later cancellations
    assert purchases == len(placed) >= truth["shopify_us"].orders_count


def test_same_seed_gives_byte_identical_responses(world, channels):
    from omnisim.server import world_from_config

    twin = world_from_config(7, channels)  # the `world` fixture's seed, built again
    other = world_from_config(8, channels)
    requests = [
        ("GET", "/woo/woo_uk/wp-json/wc/v3/orders", {"per_page": 20}, WOO_AUTH, b""),
        (
            "POST",
            f"/ga4/ga4_shopify_us/v1beta/properties/{PROPERTY}:runReport",
            {},
            {"authorization": "Bearer ya29.test"},
            json.dumps(
                {
                    "dateRanges": [{"startDate": "2026-10-01", "endDate": "2026-10-09"}],
                    "dimensions": [{"name": "date"}],
                    "metrics": [{"name": "sessions"}],
                }
            ).encode(),
        ),
        (
            "POST",
            "/shops/shopify_us/admin/api/2025-01/graphql.json",
            {},
            {"x-shopify-access-token": "shpat_x"},
            json.dumps(
                {
                    "query": "{ orders(first: 5) { nodes { id name totalPriceSet "
                    "{ shopMoney { amount } } } } }"
                }
            ).encode(),
        ),
    ]
    bodies = []
    for w in (world, twin, other):
        app = SimulatorApp(w)
        app.now = datetime(2026, 10, 10, tzinfo=UTC)
        bodies.append(
            [
                app.handle(Request(m, p, {k: [str(v)] for k, v in q.items()}, h, b)).body
                for m, p, q, h, b in requests
            ]
        )
    assert bodies[0] == bodies[1]
    assert all(a != c for a, c in zip(bodies[0], bodies[2], strict=True))
