"""Every fault can be switched on and observed, per channel kind, and repeats with the seed."""

import json
import time
from datetime import UTC, date, datetime

import httpx
import pytest

from omnisim.faults import FAULTS, Fault, FaultBook, FaultError
from omnisim.files import pos_files
from omnisim.server import SimulatorApp
from omnisim.spec import fault_profile
from tests.helpers.simulator_client import PROPERTY, WOO_AUTH, amazon_token, call

NOW = datetime(2026, 10, 9, 12, tzinfo=UTC)
SHOPIFY = "/shops/shopify_us/admin/api/2025-01/graphql.json"
ORDERS = """query($after: String) { orders(first: 5, after: $after, sortKey: UPDATED_AT,
  query: "updated_at:>='2026-10-02T00:00:00Z'") {
  edges { node { id updatedAt createdAt currencyCode
    subtotalPriceSet { shopMoney { amount } } totalPriceSet { shopMoney { amount } }
    lineItems(first: 5) { nodes { quantity } } } }
  pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
def app(world):
    app = SimulatorApp(world)
    app.now = NOW
    return app


def shopify(app, after=None):
    body = {"query": ORDERS, "variables": {"after": after}}
    return call(app, "POST", SHOPIFY, headers={"x-shopify-access-token": "shpat_t"}, body=body)


def woo(app, page=1, per_page=10, **query):
    return call(
        app,
        "GET",
        "/woo/woo_uk/wp-json/wc/v3/orders",
        {"page": page, "per_page": per_page, "orderby": "modified", "order": "asc", **query},
        WOO_AUTH,
    )


def amazon(app, headers, **query):
    query = {
        "MarketplaceIds": "A1PA6795UKMFR9",
        "LastUpdatedAfter": "2026-10-02T00:00:00Z",
        "MaxResultsPerPage": 10,
        **query,
    }
    return call(app, "GET", "/amazon/amazon_de/orders/v0/orders", query, headers)


def ga4(app, offset=0):
    body = {
        "dateRanges": [{"startDate": "2026-10-01", "endDate": "2026-10-05"}],
        "dimensions": [{"name": "date"}],
        "metrics": [{"name": "sessions"}],
        "limit": 2,
        "offset": offset,
    }
    return call(
        app,
        "POST",
        f"/ga4/ga4_shopify_us/v1beta/properties/{PROPERTY}:runReport",
        headers={"authorization": "Bearer ya29.test"},
        body=body,
    )


def test_rate_limit_is_announced_the_way_each_channel_does(app):
    for channel in ("shopify_us", "amazon_de", "woo_uk", "ga4_shopify_us"):
        app.faults.add(Fault(channel, "rate_limit", count=1, retry_after=2))
    throttled = shopify(app).json()
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    status = throttled["extensions"]["cost"]["throttleStatus"]
    assert status["currentlyAvailable"] == 0 and status["restoreRate"] > 0
    headers = amazon_token(app)
    answer = amazon(app, headers)
    assert answer.status == 429 and answer.headers["x-amzn-RateLimit-Limit"]
    assert answer.json()["errors"][0]["code"] == "QuotaExceeded"
    answer = woo(app)
    assert answer.status == 429 and answer.headers["Retry-After"] == "2"
    answer = ga4(app)
    assert answer.status == 429 and answer.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    time.sleep(0.3)  # the buckets refill
    assert "data" in shopify(app).json() and amazon(app, headers).status == 200


def test_real_throttling_without_a_fault(app, world):
    app.world.channels["shopify_us"].rate_limits.update(maximum=100, restore_rate=1)
    try:
        assert "data" in shopify(app).json()
        answers = [shopify(app).json() for _ in range(5)]
        assert any(
            a.get("errors", [{}])[0].get("extensions", {}).get("code") == "THROTTLED"
            for a in answers
        )
    finally:
        app.world.channels["shopify_us"].rate_limits.clear()
    too_big = {
        "query": "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id "
        "variant { id } } } } } }"
    }
    answer = call(app, "POST", SHOPIFY, headers={"x-shopify-access-token": "x"}, body=too_big)
    assert answer.json()["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_server_errors_come_in_bursts_then_stop(app):
    app.faults.add(Fault("woo_uk", "server_error", count=2))
    assert [woo(app).status for _ in range(3)] == [502, 502, 200]
    app.faults.add(Fault("shopify_us", "server_error", page=2))
    first = shopify(app).json()["data"]["orders"]
    assert shopify(app, first["pageInfo"]["endCursor"]).status == 502
    assert "data" in shopify(app).json()  # page 1 unaffected


def test_slow_responses_time_out_a_client(world):
    from omnisim.server import Simulator

    with Simulator(world) as simulator:
        simulator.set_clock(NOW)
        simulator.add_fault("woo_uk", "slow", seconds=1.0, count=1)
        url = f"{simulator.base_url('woo_uk')}/wp-json/wc/v3/orders"
        with pytest.raises(httpx.TimeoutException):
            httpx.get(url, headers=WOO_AUTH, timeout=0.3)
        assert httpx.get(url, headers=WOO_AUTH, timeout=5).status_code == 200


@pytest.mark.parametrize("channel", ["shopify_us", "woo_uk", "amazon_de", "ga4_shopify_us"])
def test_malformed_page_is_not_json(app, channel):
    app.faults.add(Fault(channel, "malformed_page"))
    headers = amazon_token(app) if channel == "amazon_de" else None
    answer = {
        "shopify_us": lambda: shopify(app),
        "woo_uk": lambda: woo(app),
        "amazon_de": lambda: amazon(app, headers),
        "ga4_shopify_us": lambda: ga4(app),
    }[channel]()
    assert answer.status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.body)


def test_duplicates_repeat_the_last_record_of_the_page_before(app):
    first = shopify(app).json()["data"]["orders"]
    app.faults.add(Fault("shopify_us", "duplicates", count=1))
    second = shopify(app, first["pageInfo"]["endCursor"]).json()["data"]["orders"]
    assert second["edges"][0]["node"]["id"] == first["edges"][-1]["node"]["id"]
    page1 = [o["id"] for o in woo(app).json()]
    app.faults.add(Fault("woo_uk", "duplicates", count=1))
    page2 = [o["id"] for o in woo(app, page=2).json()]
    assert page2[0] == page1[-1]
    headers = amazon_token(app)
    first = amazon(app, headers).json()["payload"]
    app.faults.add(Fault("amazon_de", "duplicates", count=1))
    second = amazon(app, headers, NextToken=first["NextToken"]).json()["payload"]
    assert second["Orders"][0]["AmazonOrderId"] == first["Orders"][-1]["AmazonOrderId"]


def test_updated_between_pages_makes_offset_paging_skip_a_record(app):
    def all_woo():
        ids, page = [], 1
        while True:
            answer = woo(app, page=page, modified_after="2026-10-02T00:00:00", dates_are_gmt="true")
            ids += [o["id"] for o in answer.json()]
            if page >= int(answer.headers["X-WP-TotalPages"]):
                return ids
            page += 1

    clean = all_woo()
    app.touched.clear()
    app.faults.add(Fault("woo_uk", "updated_between_pages", page=1, count=1))
    disturbed = all_woo()
    assert len(disturbed) == len(clean)  # one record skipped, the updated one served twice
    assert len(set(disturbed)) == len(clean) - 1
    # keyset paging (Shopify) still meets the moved record, at the end
    app.touched.clear()
    app.faults.add(Fault("shopify_us", "updated_between_pages", page=1, count=1))
    ids, after = [], None
    while True:
        orders = shopify(app, after).json()["data"]["orders"]
        ids += [e["node"]["id"] for e in orders["edges"]]
        if not orders["pageInfo"]["hasNextPage"]:
            break
        after = orders["pageInfo"]["endCursor"]
    assert len(ids) == len(set(ids)) + 1 > 5  # nothing lost; the updated one comes again
    moved = [e["node"] for e in orders["edges"]][-1]
    assert moved["id"] == ids[0]
    assert moved["updatedAt"] == "2026-10-09T11:59:59Z"  # updated just now


@pytest.mark.parametrize(
    ("variant", "check"),
    [
        ("unparseable_amount", lambda n: n["subtotalPriceSet"]["shopMoney"]["amount"] == "12,50"),
        ("negative_quantity", lambda n: n["lineItems"]["nodes"][0]["quantity"] < 0),
        ("unknown_currency", lambda n: n["currencyCode"] == "XXX"),
        ("null_id", lambda n: n["id"] is None),
        ("future_date", lambda n: n["createdAt"] > "2027-10-01"),
        ("totals_mismatch", lambda n: True),
    ],
)
def test_bad_rows_spoil_the_first_record_of_a_page(app, variant, check):
    clean = shopify(app).json()["data"]["orders"]["edges"][0]["node"]
    app.faults.add(Fault("shopify_us", "bad_row", variant=variant, count=1))
    edges = shopify(app).json()["data"]["orders"]["edges"]
    assert check(edges[0]["node"]) and edges[0]["node"] != clean
    assert edges[1]["node"]["currencyCode"] == "USD"  # only the first record


def test_schema_drift_variants(app):
    app.faults.add(Fault("woo_uk", "schema_drift", variant="renamed_field", count=1))
    order = woo(app).json()[0]
    assert "date_modified_utc" in order and "date_modified_gmt" not in order
    app.faults.add(Fault("woo_uk", "schema_drift", variant="type_change", count=1))
    assert isinstance(woo(app).json()[0]["total"], float)
    app.faults.add(Fault("woo_uk", "schema_drift", variant="new_field", count=1))
    assert all("is_editable" in o for o in woo(app).json())
    headers = amazon_token(app)
    app.faults.add(Fault("amazon_de", "schema_drift", variant="renamed_field", count=1))
    orders = amazon(app, headers).json()["payload"]["Orders"]
    assert all("LastUpdatedDate" in o and "LastUpdateDate" not in o for o in orders)


def test_store_file_faults(world, tmp_path):
    app = SimulatorApp(world, landing={"pos_fr": tmp_path})
    app.faults.add(Fault("pos_fr", "late_file", day="2026-10-02"))
    app.faults.add(Fault("pos_fr", "resent_file", day="2026-10-03"))
    app.faults.add(Fault("pos_fr", "corrupt_file", day="2026-10-04"))
    store = tmp_path / "paris01"
    app.set_clock(datetime(2026, 10, 3, 7, tzinfo=UTC))  # 09:00 in Paris
    names = {p.name for p in store.iterdir()}
    assert pos_files.file_name("sales", "paris01", date(2026, 10, 1)) in names
    assert pos_files.file_name("sales", "paris01", date(2026, 10, 2)) not in names  # late
    app.set_clock(datetime(2026, 10, 5, 7, tzinfo=UTC))
    names = {p.name for p in store.iterdir()}
    assert pos_files.file_name("sales", "paris01", date(2026, 10, 2)) in names  # a day late
    assert "sales_paris01_20261003_resent.csv" in names
    assert (store / "sales_paris01_20261003_resent.csv").read_bytes() == (
        store / "sales_paris01_20261003.csv"
    ).read_bytes()
    corrupt = (store / "sales_paris01_20261004.csv").read_text()
    assert not corrupt.endswith("\n")  # cut in the middle of a line
    assert not any(n.endswith(".tmp") for n in names)


def test_probabilistic_faults_repeat_with_the_seed():
    def fired(seed):
        book = FaultBook(seed)
        book.add(Fault("*", "server_error", probability=0.3))
        return [book.draw("woo_uk", "orders", 1) is not None for _ in range(200)]

    assert fired(1) == fired(1) and fired(1) != fired(2)
    assert 30 < sum(fired(1)) < 90


def test_fault_specs_are_checked_and_parsed():
    assert Fault.parse("amazon_de:rate_limit:count=3,retry_after=2").count == 3
    assert Fault.parse("*:bad_row:variant=null_id").variant == "null_id"
    with pytest.raises(FaultError, match="unknown fault"):
        Fault("x", "gremlins")
    with pytest.raises(FaultError, match="no variant"):
        Fault("x", "bad_row", variant="purple")
    assert {f.fault for f in fault_profile()} <= set(FAULTS)


def test_faults_are_switched_over_http(simulator):
    base = simulator.url
    answer = httpx.post(
        f"{base}/_simulator/faults",
        json={"channel_id": "woo_uk", "fault": "server_error", "count": 1},
    )
    assert answer.status_code == 200 and answer.json()["faults"][0]["fault"] == "server_error"
    bad = httpx.post(f"{base}/_simulator/faults", json={"channel_id": "woo_uk", "fault": "nope"})
    assert bad.status_code == 400 and "unknown fault" in bad.text
    assert httpx.delete(f"{base}/_simulator/faults").json() == {"faults": []}
    health = httpx.get(f"{base}/_simulator/health").json()
    assert set(health["channels"].values()) == {
        "shopify",
        "amazon_sp",
        "woocommerce",
        "files",
        "ga4",
    }


def test_a_refund_deleted_in_the_shop_leaves_the_order_and_the_truth(world):
    """deleted_refund changes the world: the order's `refunds` and `orders/<id>/refunds` lose
    it, date_modified moves to the deletion, the truth stops counting it; clearing undoes it."""
    from omnisim.truth import daily_truth

    day = date(2026, 10, 13)  # the seed's first WooCommerce refund
    index = world.channel_orders("woo_uk")
    refunded = [i for i in index if world.order(int(i)).refunds]
    made = {int(i) for i in refunded if world.order(int(i)).refunds[0].created_at.date() == day}
    assert made, "the world has refunds on the day"
    order = world.order(min(made))
    deleted_at = order.refunds[0].created_at.replace(microsecond=0)

    def woo_truth():
        rows = daily_truth(world, date(2026, 10, 1), date(2026, 10, 20))
        return sum(r.refunds for r in rows if r.channel_id == "woo_uk")

    before = woo_truth()
    app = SimulatorApp(world)
    app.now = datetime(2026, 10, 20, tzinfo=UTC)
    with pytest.raises(FaultError, match="kind woocommerce"):
        app.add_fault(Fault("shopify_us", "deleted_refund", day=str(day)))
    with pytest.raises(FaultError, match="needs a channel_id and a day"):
        Fault("woo_uk", "deleted_refund")
    try:
        app.add_fault(Fault("woo_uk", "deleted_refund", day=str(day), hours=6))
        path = f"/woo/woo_uk/wp-json/wc/v3/orders/{order.order_id}"
        body = json.loads(call(app, "GET", path, headers=WOO_AUTH).body)
        assert body["refunds"] == []
        gone = deleted_at.timestamp() + 6 * 3600
        assert body["date_modified_gmt"] >= datetime.fromtimestamp(gone, UTC).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
        refunds = json.loads(call(app, "GET", f"{path}/refunds", headers=WOO_AUTH).body)
        assert refunds == []
        assert woo_truth() < before
    finally:
        app.clear_faults()
    assert world.order(min(made)).refunds[0].deleted_at is None and woo_truth() == before
