"""The simulator speaks Shopify's GraphQL Admin API: paging, search, errors, faults."""

from datetime import UTC, datetime

import httpx
import pytest

QUERY = """query($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges { cursor node { id updatedAt createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
TOKEN = {"X-Shopify-Access-Token": "shpat_test"}


def post(simulator, body, headers=TOKEN, version="2025-01"):
    url = f"{simulator.shop_url('shopify_us')}/admin/api/{version}/graphql.json"
    return httpx.post(url, json=body, headers=headers)


def all_pages(simulator, search, first=10):
    ids, after, pages = [], None, 0
    while True:
        variables = {"first": first, "after": after, "query": search}
        body = post(simulator, {"query": QUERY, "variables": variables}).json()
        connection = body["data"]["orders"]
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            return ids, pages
        after = connection["pageInfo"]["endCursor"]


def test_cursor_pagination_returns_each_matching_order_once(simulator, world):
    now = datetime(2026, 10, 4, 4, tzinfo=UTC)
    simulator.set_clock(now)
    search = "updated_at:>='2026-10-02T04:00:00Z' AND updated_at:<'2026-10-03T04:00:00Z'"
    ids, pages = all_pages(simulator, search, first=7)
    expected = {
        f"gid://shopify/Order/{o.order_id}"
        for o in world.orders_between(
            "shopify_us", world.channels["shopify_us"].opened_on, datetime(2026, 10, 3).date()
        )
        if (s := o.state_at(now)) is not None
        and datetime(2026, 10, 2, 4, tzinfo=UTC)
        <= s.updated_at
        < datetime(2026, 10, 3, 4, tzinfo=UTC)
    }
    assert len(ids) == len(set(ids)) == len(expected) > 7
    assert set(ids) == expected
    assert pages == -(-len(expected) // 7)


def test_response_carries_only_requested_fields_and_cost(simulator):
    simulator.set_clock(datetime(2026, 10, 3, tzinfo=UTC))
    body = post(simulator, {"query": "{ orders(first: 1) { nodes { name } } }"}).json()
    assert list(body["data"]["orders"]["nodes"][0]) == ["name"]
    assert body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 10000.0
    assert body["extensions"]["cost"]["requestedQueryCost"] == 3  # connection 2 + 1 node


def test_clock_hides_orders_not_yet_placed(simulator):
    simulator.set_clock(datetime(2026, 10, 1, 4, tzinfo=UTC))  # local midnight: store opens
    body = post(simulator, {"query": QUERY, "variables": {"first": 5}}).json()
    assert body["data"]["orders"]["edges"] == []


def test_unknown_field_is_a_graphql_error(simulator):
    body = post(simulator, {"query": "{ orders(first: 1) { nodes { totalPrice } } }"}).json()
    assert "data" not in body
    assert "Cannot query field 'totalPrice' on type 'Order'" in body["errors"][0]["message"]


def test_page_size_limit_is_250(simulator):
    body = post(simulator, {"query": QUERY, "variables": {"first": 251}}).json()
    assert "250" in body["errors"][0]["message"]


def test_missing_access_token_is_401(simulator):
    response = post(simulator, {"query": QUERY, "variables": {"first": 1}}, headers={})
    assert response.status_code == 401
    assert "Invalid API key or access token" in response.json()["errors"]


def test_unknown_api_version_is_404(simulator):
    assert post(simulator, {"query": QUERY}, version="2019-01").status_code == 404


@pytest.mark.parametrize("page", [1, 2])
def test_malformed_page_fault_truncates_that_page_only(simulator, page):
    simulator.set_clock(datetime(2026, 10, 5, tzinfo=UTC))
    simulator.add_fault("shopify_us", "malformed_page", page=page)
    after = None
    for number in range(1, 4):
        response = post(simulator, {"query": QUERY, "variables": {"first": 5, "after": after}})
        if number == page:
            with pytest.raises(ValueError):
                response.json()
            return
        after = response.json()["data"]["orders"]["pageInfo"]["endCursor"]
