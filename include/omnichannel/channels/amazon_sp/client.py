"""The SP-API client: LWA token exchange, throttling by x-amzn-RateLimit-Limit,
Orders, Finances, FBA Inventory and the Sales and Traffic report."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx

from omnichannel.channels.amazon_sp.records import (
    flatten_inventory,
    flatten_item,
    flatten_order,
    flatten_refund,
    flatten_sales_traffic,
)
from omnichannel.channels.base import Credentials, HttpSource, iso_z, loads
from omnichannel.streams import ExtractError, Page

REPORTS = "/reports/2021-06-30"


class AmazonClient(HttpSource):
    def __init__(self, channel, credentials: Credentials, *, page_size: int = 100, **kwargs):
        super().__init__(channel.channel_id, **kwargs)
        self.channel = channel
        self.base = credentials.base_url.rstrip("/")
        self.credentials = credentials
        self.page_size = min(page_size, 100)
        self.marketplace = channel.options["marketplace_id"]
        self.token: str | None = None
        self.poll_seconds = float(credentials.extra.get("report_poll_seconds", 0.2))

    def throttle_wait(self, response: httpx.Response) -> float | None:
        try:
            return 1.0 / float(response.headers.get("x-amzn-RateLimit-Limit", ""))
        except (ValueError, ZeroDivisionError):
            return None

    def _authorise(self, stream: str) -> None:
        url = self.credentials.extra.get("lwa_url") or f"{self.base}/auth/o2/token"
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self.credentials.secret,
            "client_id": self.credentials.login,
            "client_secret": self.credentials.extra.get("client_secret", ""),
        }
        response = self.request(stream, None, "POST", url, data=form)
        self.token = self.json(stream, None, response)["access_token"]
        self.http.headers["x-amz-access-token"] = self.token

    def get(self, stream: str, page: int | None, path: str, params=None) -> dict:
        if self.token is None:
            self._authorise(stream)
        response = self.request(stream, page, "GET", f"{self.base}{path}", params=params)
        body = self.json(stream, page, response)
        if not isinstance(body, dict):
            raise ExtractError(self.channel_id, stream, page, "malformed page: not an object")
        return body

    def iter_pages(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        if stream in ("orders", "order_items"):
            yield from self._orders(stream, since, until)
        elif stream == "inventory":
            yield from self._inventory(stream, until)
        elif stream == "sales_traffic":
            yield from self._sales_traffic(stream, since, until)
        elif stream == "refunds":
            yield from self._refunds(stream, since, until)
        else:
            raise ExtractError(self.channel_id, stream, None, "stream not supported by amazon_sp")

    def _token_pages(self, stream: str, path: str, params: dict, records, keep=()):
        """Pages of a NextToken-paged operation: `records(payload, number)` reads a page;
        the next request sends the token (and the `keep` parameters) only, as SP-API asks."""
        number = 0
        while True:
            number += 1
            body = self.get(stream, number, path, params)
            try:
                payload = body["payload"]
                found = records(payload, number)
            except (KeyError, TypeError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"unexpected response shape: missing {exc}"
                ) from exc
            token = payload.get("NextToken")
            yield Page(number, found, token)
            if not token:
                return
            params = {**{k: params[k] for k in keep}, "NextToken": token}

    def _orders(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        def records(payload: dict, number: int) -> list[dict]:
            orders = payload["Orders"]
            if stream == "orders":
                return [flatten_order(o) for o in orders]
            return [r for o in orders for r in self._items(stream, number, o)]

        params = {
            "MarketplaceIds": self.marketplace,
            "LastUpdatedAfter": iso_z(since),
            "LastUpdatedBefore": iso_z(until),
            "MaxResultsPerPage": self.page_size,
        }
        path = "/orders/v0/orders"
        yield from self._token_pages(stream, path, params, records, keep=("MarketplaceIds",))

    def _items(self, stream: str, number: int, order: dict) -> list[dict]:
        order_id = order["AmazonOrderId"]
        records, token = [], None
        while True:
            params = {"NextToken": token} if token else None
            body = self.get(stream, number, f"/orders/v0/orders/{order_id}/orderItems", params)
            payload = body["payload"]
            records += [flatten_item(order, item) for item in payload["OrderItems"]]
            token = payload.get("NextToken")
            if not token:
                return records

    def _refunds(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        def records(payload: dict, number: int) -> list[dict]:
            events = (payload.get("FinancialEvents") or {}).get("RefundEventList") or []
            return [r for event in events for r in flatten_refund(event)]

        params = {
            "PostedAfter": iso_z(since),
            "PostedBefore": iso_z(until),
            "MaxResultsPerPage": self.page_size,
        }
        yield from self._token_pages(stream, "/finances/v0/financialEvents", params, records)

    def _inventory(self, stream: str, until: datetime) -> Iterator[Page]:
        # the snapshot stands for the interval's local day; snapshot_at is when the source
        # answered (its Date header), so a late read shows as one
        day = (until - timedelta(seconds=1)).astimezone(self.channel.tz).date()
        read_at = until
        params = {
            "details": "true",
            "granularityType": "Marketplace",
            "granularityId": self.marketplace,
            "marketplaceIds": self.marketplace,
        }
        number = 0
        while True:
            number += 1
            body = self.get(stream, number, "/fba/inventory/v1/summaries", params)
            try:
                summaries = body["payload"]["inventorySummaries"]
                read_at = read_at if number > 1 else (self.source_time or until)
                records = [flatten_inventory(s, day, read_at) for s in summaries]
            except (KeyError, TypeError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"unexpected response shape: missing {exc}"
                ) from exc
            token = (body.get("pagination") or {}).get("nextToken")
            yield Page(number, records, token)
            if not token:
                return
            params = {**params, "nextToken": token}

    def _sales_traffic(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        tz = self.channel.tz
        first = since.astimezone(tz).date()
        last = (until - timedelta(seconds=1)).astimezone(tz).date()
        for number, day in enumerate(_days(first, last), start=1):
            document = self._report(stream, number, day)
            try:
                records = [
                    flatten_sales_traffic(row, until) for row in document["salesAndTrafficByDate"]
                ]
            except (KeyError, TypeError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"report document lacks {exc}"
                ) from exc
            yield Page(number, records, day.isoformat())

    def _report(self, stream: str, number: int, day: date) -> dict:
        spec = {
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
            "marketplaceIds": [self.marketplace],
            "dataStartTime": day.isoformat(),
            "dataEndTime": day.isoformat(),
            "reportOptions": {"dateGranularity": "DAY", "asinGranularity": "SKU"},
        }
        if self.token is None:
            self._authorise(stream)
        created = self.request(stream, number, "POST", f"{self.base}{REPORTS}/reports", json=spec)
        report_id = self.json(stream, number, created)["reportId"]
        for _ in range(60):
            status = self.get(stream, number, f"{REPORTS}/reports/{report_id}")
            state = status.get("processingStatus")
            if state == "DONE":
                break
            if state in ("CANCELLED", "FATAL"):
                raise ExtractError(self.channel_id, stream, number, f"report {report_id} {state}")
            self.pause(self.poll_seconds)
        else:
            raise ExtractError(self.channel_id, stream, number, f"report {report_id} not done")
        document = self.get(stream, number, f"{REPORTS}/documents/{status['reportDocumentId']}")
        # a pre-signed URL on another host (S3): the SP-API access token is not sent there
        raw = self.request(stream, number, "GET", document["url"], plain=True)
        try:
            content = raw.content
            if document.get("compressionAlgorithm") == "GZIP":
                content = gzip.decompress(content)
            return loads(content, parse_float=Decimal)
        except (OSError, ValueError, EOFError) as exc:
            raise ExtractError(
                self.channel_id, stream, number, f"malformed report document: {exc}"
            ) from exc


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def make_client(channel, credentials: Credentials) -> AmazonClient:
    return AmazonClient(channel, credentials, page_size=channel.page_size)
