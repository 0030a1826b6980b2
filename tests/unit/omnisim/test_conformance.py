"""The simulators answer in the channels' real shapes (shared/conformance/ is the reference).

Amazon responses are validated against the official models with every object closed
(no property the model does not declare); Shopify, WooCommerce and GA4 responses are
compared field by field with the example payloads and schemas."""

import copy
import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from omnisim.server import SimulatorApp
from tests.helpers.simulator_client import PROPERTY, WOO_AUTH, amazon_token, call

CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance"  # copies, see SOURCES.md
NOW = datetime(2026, 10, 9, 12, tzinfo=UTC)
MONEY = re.compile(r"^-?\d+\.\d{2}$")


def load(*parts):
    return json.loads((CONFORMANCE.joinpath(*parts)).read_text())


@pytest.fixture
def app(world):
    app = SimulatorApp(world)
    app.now = NOW
    return app


def closed(definitions: dict) -> dict:
    """The model with every object that declares properties closed to others."""
    definitions = copy.deepcopy(definitions)

    def walk(node):
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definitions)
    return definitions


def validate_swagger(model: dict, definition: str, instance) -> None:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": closed(model["definitions"])}
    jsonschema.Draft4Validator(schema).validate(instance)


def test_amazon_orders_and_items_validate_against_the_official_model(app):
    model = load("amazon_sp_api", "ordersV0.json")
    headers = amazon_token(app)
    query = {
        "MarketplaceIds": "A1PA6795UKMFR9",
        "LastUpdatedAfter": "2026-10-01T00:00:00Z",
        "MaxResultsPerPage": 50,
    }
    response = call(app, "GET", "/amazon/amazon_de/orders/v0/orders", query, headers)
    body = response.json()
    assert response.status == 200 and body["payload"]["NextToken"]
    validate_swagger(model, "GetOrdersResponse", body)
    statuses = {order["OrderStatus"] for order in body["payload"]["Orders"]}
    assert {"Shipped"} <= statuses <= {"Pending", "Unshipped", "Shipped", "Canceled"}
    for n, order in enumerate(body["payload"]["Orders"]):
        assert re.match(r"^\d{3}-\d{7}-\d{7}$", order["AmazonOrderId"])
        assert MONEY.match(order.get("OrderTotal", {"Amount": "0.00"})["Amount"])
        if n >= 20:
            continue  # getOrderItems has a burst of 30 requests (then 429)
        items = call(
            app,
            "GET",
            f"/amazon/amazon_de/orders/v0/orders/{order['AmazonOrderId']}/orderItems",
            headers=headers,
        ).json()
        validate_swagger(model, "GetOrderItemsResponse", items)
        for item in items["payload"]["OrderItems"]:
            assert MONEY.match(item["ItemPrice"]["Amount"]) and item["IsGift"] == "false"
    example = load("amazon_sp_api", "examples", "getOrderItems_200_TEST_CASE_200.json")
    ours = items["payload"]["OrderItems"][0]
    for key in ("ASIN", "SellerSKU", "OrderItemId", "QuantityOrdered", "ItemPrice", "ItemTax"):
        assert type(ours[key]) is type(example["payload"]["OrderItems"][0][key]), key


def test_amazon_errors_validate_against_the_model(app):
    model = load("amazon_sp_api", "ordersV0.json")
    response = call(app, "GET", "/amazon/amazon_de/orders/v0/orders", {"MarketplaceIds": "x"})
    assert response.status == 403
    validate_swagger(model, "GetOrdersResponse", response.json())
    bad = call(
        app, "GET", "/amazon/amazon_de/orders/v0/orders", {"MarketplaceIds": "x"}, amazon_token(app)
    )
    assert bad.status == 400 and "CreatedAfter" in bad.json()["errors"][0]["message"]
    validate_swagger(model, "GetOrdersResponse", bad.json())


def test_amazon_inventory_validates_against_the_official_model(app):
    model = load("amazon_sp_api", "fbaInventory.json")
    query = {
        "details": "true",
        "granularityType": "Marketplace",
        "granularityId": "A1PA6795UKMFR9",
        "marketplaceIds": "A1PA6795UKMFR9",
    }
    body = call(
        app, "GET", "/amazon/amazon_de/fba/inventory/v1/summaries", query, amazon_token(app)
    ).json()
    validate_swagger(model, "GetInventorySummariesResponse", body)
    assert body["payload"]["inventorySummaries"][0]["inventoryDetails"]["fulfillableQuantity"] >= 0


def test_amazon_sales_and_traffic_report_follows_the_report_schema(app):
    headers = amazon_token(app)
    base = "/amazon/amazon_de/reports/2021-06-30"
    spec = {
        "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
        "dataStartTime": "2026-10-02",
        "dataEndTime": "2026-10-03",
        "marketplaceIds": ["A1PA6795UKMFR9"],
        "reportOptions": {"dateGranularity": "DAY", "asinGranularity": "SKU"},
    }
    created = call(app, "POST", f"{base}/reports", headers=headers, body=spec)
    assert created.status == 202
    report_id = created.json()["reportId"]
    statuses = [
        call(app, "GET", f"{base}/reports/{report_id}", headers=headers).json() for _ in range(3)
    ]
    assert [s["processingStatus"] for s in statuses] == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    document = call(
        app, "GET", f"{base}/documents/{statuses[-1]['reportDocumentId']}", headers=headers
    ).json()
    assert document["compressionAlgorithm"] == "GZIP"
    path = "/" + document["url"].split("/", 3)[3]
    raw = call(app, "GET", path)  # a pre-signed URL: no token needed
    report = json.loads(gzip.decompress(raw.body))
    schema = load("amazon_sp_api", "sellerSalesAndTrafficReport.json")
    strict = {k: v for k, v in closed(schema).items() if k != "examples"}
    jsonschema.Draft7Validator(strict).validate(report)
    assert [d["date"] for d in report["salesAndTrafficByDate"]] == ["2026-10-02", "2026-10-03"]
    example = load("amazon_sp_api", "examples", "sellerSalesAndTrafficReport_example1.json")
    assert set(report["salesAndTrafficByDate"][0]["salesByDate"]) == set(
        example["salesAndTrafficByDate"][0]["salesByDate"]
    )
    assert set(report["salesAndTrafficByAsin"][0]["trafficByAsin"]) == set(
        example["salesAndTrafficByAsin"][0]["trafficByAsin"]
    )


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


ORDER_QUERY = """{ orders(first: 5, sortKey: UPDATED_AT) { nodes {
  id name email createdAt updatedAt processedAt cancelledAt closedAt note sourceName
  currencyCode taxesIncluded
  subtotalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
  totalTaxSet { shopMoney { amount currencyCode } }
  totalDiscountsSet { shopMoney { amount currencyCode } }
  totalShippingPriceSet { shopMoney { amount currencyCode } }
  customer { id email firstName lastName createdAt }
  lineItems(first: 10) { nodes { id sku name title quantity
    originalUnitPriceSet { shopMoney { amount currencyCode } }
    taxLines { priceSet { shopMoney { amount } } rate title } } }
  refunds { id createdAt totalRefundedSet { shopMoney { amount } } }
} } }"""
# GraphQL names with no REST twin of the same (snake_cased) name
GRAPHQL_ONLY = {"currency_code", "total_discounts_set", "line_items", "processed_at", "refunds"}


def test_shopify_orders_use_shopifys_field_names_and_formats(app):
    response = call(
        app,
        "POST",
        "/shops/shopify_us/admin/api/2025-01/graphql.json",
        headers={"x-shopify-access-token": "shpat_x"},
        body={"query": ORDER_QUERY},
    )
    nodes = response.json()["data"]["orders"]["nodes"]
    rest = load("shopify", "orders.json")["orders"][0] | load("shopify", "order.json")["order"]
    for node in nodes:
        for key in node:
            name = snake(key)
            if name in ("id", "line_items"):
                continue
            twin = {"currency_code": "currency", "sku": "sku"}.get(name, name)
            assert twin in rest or name in GRAPHQL_ONLY, f"{key} has no REST twin {twin}"
        bag, rest_bag = node["totalPriceSet"], rest["total_price_set"]
        assert {snake(k) for k in bag} == set(rest_bag)
        assert {snake(k) for k in bag["shopMoney"]} == set(rest_bag["shop_money"])
        for money in (bag["shopMoney"]["amount"], rest_bag["shop_money"]["amount"]):
            assert MONEY.match(money)
        for stamp in (node["createdAt"], rest["created_at"]):
            assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None
        assert node["id"].startswith("gid://shopify/Order/")
        rest_refund = load("shopify", "refund.json")["refund"]
        for refund in node["refunds"]:
            assert {snake(k) for k in refund} - {"total_refunded_set"} <= set(rest_refund)
        line = node["lineItems"]["nodes"][0]
        rest_line = rest["line_items"][0]
        for key in ("sku", "name", "title", "quantity"):
            assert type(line[key]) is type(rest_line[key])
        assert set(node["customer"]) - {"id"} <= {
            k.replace("_", "") for k in map(lambda k: snake(k), rest["customer"])
        } | {"firstName", "lastName", "createdAt"}


def woo_get(app, resource, **query):
    return call(app, "GET", f"/woo/woo_uk/wp-json/wc/v3/{resource}", query, WOO_AUTH)


def same_shape(ours: dict, theirs: dict, where: str) -> None:
    """Every field we send exists in the example, with the same JSON type."""
    for key, value in ours.items():
        assert key in theirs, f"{where}.{key} is not a WooCommerce field"
        if value is None or theirs[key] is None:
            continue
        if isinstance(theirs[key], bool | int | float) and isinstance(value, bool | int | float):
            assert isinstance(value, bool) == isinstance(theirs[key], bool), f"{where}.{key}"
            continue
        assert type(value) is type(theirs[key]), f"{where}.{key}: {value!r} vs {theirs[key]!r}"


def test_woocommerce_orders_and_products_match_the_documented_payloads(app):
    example = load("woocommerce", "order_retrieve.json")
    orders = woo_get(app, "orders", per_page=20, orderby="modified", order="asc").json()
    assert orders
    for order in orders:
        same_shape(order, example, "order")
        for line in order["line_items"]:
            same_shape(line, example["line_items"][0], "line_item")
        for refund in order["refunds"]:
            assert MONEY.match(refund["total"]) and refund["total"].startswith("-")
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", order["date_created_gmt"])
        for key in ("total", "discount_total", "shipping_total", "total_tax"):
            assert MONEY.match(order[key])
    product_example = load("woocommerce", "product_retrieve.json")
    for product in woo_get(app, "products", per_page=5).json():
        same_shape(product, product_example, "product")
        assert MONEY.match(product["price"])


def test_ga4_report_follows_the_response_schema(app):
    schema = load("ga4", "analyticsdata_v1beta_response_schemas_excerpt.json")["schemas"]
    request = load("ga4", "runReport_request_pagination_page1.json")
    body = {
        "dateRanges": [{"startDate": "2026-10-01", "endDate": "yesterday"}],
        "dimensions": [{"name": "date"}, {"name": "sessionDefaultChannelGroup"}],
        "metrics": [
            {"name": m}
            for m in (
                "sessions",
                "totalUsers",
                "addToCarts",
                "ecommercePurchases",
                "purchaseRevenue",
            )
        ],
        "limit": request["limit"],
        "offset": request["offset"],
    }
    response = call(
        app,
        "POST",
        f"/ga4/ga4_shopify_us/v1beta/properties/{PROPERTY}:runReport",
        headers={"authorization": "Bearer ya29.test"},
        body=body,
    )
    report = response.json()
    assert set(report) <= set(schema["RunReportResponse"]["properties"])
    example = load("ga4", "runReport_response_basics_example.json")
    assert set(example) <= set(report)
    for row in report["rows"]:
        assert set(row) == set(example["rows"][0])
        assert all(isinstance(v["value"], str) for v in row["metricValues"])
        assert re.match(r"^\d{8}$", row["dimensionValues"][0]["value"])
    assert report["metadata"] == {"currencyCode": "USD", "timeZone": "America/New_York"}
    assert report["rowCount"] == len(report["rows"])
    types = {h["name"]: h["type"] for h in report["metricHeaders"]}
    assert types["purchaseRevenue"] == "TYPE_CURRENCY" and types["sessions"] == "TYPE_INTEGER"
    assert "20261009" not in {r["dimensionValues"][0]["value"] for r in report["rows"]}  # today


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/shops/shopify_us/admin/api/2025-01/graphql.json", {}, 401),
        ("/woo/woo_uk/wp-json/wc/v3/orders", {}, 401),
        ("/amazon/amazon_de/orders/v0/orders", {"x-amz-access-token": "Atza|forged"}, 403),
        ("/ga4/ga4_shopify_us/v1beta/properties/1:runReport", {}, 401),
    ],
)
def test_every_api_checks_credentials(app, path, headers, status):
    method = "GET" if "woo" in path or "amazon" in path else "POST"
    assert call(app, method, path, headers=headers, body={"query": "{}"}).status == status
