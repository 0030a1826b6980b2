"""Google Analytics 4 Data API v1beta `runReport` for a web channel's property.

Stream traffic: per property day and session default channel group: sessions, totalUsers,
addToCarts, ecommercePurchases, purchaseRevenue, paged with `limit`/`offset` until
`rowCount`. Complete days of the window only (GA4 keeps changing today's numbers); the
lookback re-reads recent days, whose numbers GA4 may still revise. Auth: a bearer token
(connection password; in production an OAuth token of a service account).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from omnichannel.channels.base import Credentials, HttpSource, iso_z
from omnichannel.streams import ExtractError, Page, load_streams

METRICS = ("sessions", "totalUsers", "addToCarts", "ecommercePurchases", "purchaseRevenue")
COLUMNS = {
    "sessions": "sessions",
    "totalUsers": "total_users",
    "addToCarts": "add_to_carts",
    "ecommercePurchases": "purchases",
    "purchaseRevenue": "purchase_revenue",
}
# columns, key and cursor of each stream: channels/streams/ga4.yml
STREAMS = load_streams("ga4")
TRAFFIC = STREAMS["traffic"]


class Ga4Client(HttpSource):
    def __init__(self, channel, credentials: Credentials, *, page_size: int = 10_000, **kwargs):
        super().__init__(
            channel.channel_id,
            headers={"Authorization": f"Bearer {credentials.secret}"},
            **kwargs,
        )
        self.channel = channel
        property_id = channel.options["property_id"]
        self.url = f"{credentials.base_url.rstrip('/')}/v1beta/properties/{property_id}:runReport"
        self.page_size = min(page_size, 250_000)

    def iter_pages(self, stream: str, since: datetime, until: datetime) -> Iterator[Page]:
        if stream != "traffic":
            raise ExtractError(self.channel_id, stream, None, "stream not supported by ga4")
        tz = self.channel.tz
        first = since.astimezone(tz).date()
        last = (until - timedelta(seconds=1)).astimezone(tz).date()
        offset, number = 0, 0
        while True:
            number += 1
            body = {
                "dateRanges": [{"startDate": first.isoformat(), "endDate": last.isoformat()}],
                "dimensions": [{"name": "date"}, {"name": "sessionDefaultChannelGroup"}],
                "metrics": [{"name": m} for m in METRICS],
                "limit": self.page_size,
                "offset": offset,
            }
            response = self.request(stream, number, "POST", self.url, json=body)
            report = self.json(stream, number, response)
            try:
                records = flatten_report(report, until)
                total = int(report.get("rowCount") or 0)
            except (KeyError, TypeError, ValueError) as exc:
                raise ExtractError(
                    self.channel_id, stream, number, f"unexpected report shape: {exc!r}"
                ) from exc
            yield Page(number, records, str(offset))
            offset += self.page_size
            if offset >= total or not records:
                return


def flatten_report(report: dict, as_of: datetime) -> list[dict]:
    dimensions = [h["name"] for h in report["dimensionHeaders"]]
    metrics = [h["name"] for h in report["metricHeaders"]]
    if dimensions != ["date", "sessionDefaultChannelGroup"] or metrics != list(METRICS):
        raise ValueError(f"headers {dimensions + metrics} are not the ones asked for")
    metadata = report.get("metadata") or {}
    records = []
    for row in report.get("rows") or []:
        day, group = (v["value"] for v in row["dimensionValues"])
        values = [v["value"] for v in row["metricValues"]]
        record = {
            "as_of": iso_z(as_of),
            "report_date": f"{day[:4]}-{day[4:6]}-{day[6:]}",
            "channel_group": group,
            **{COLUMNS[m]: v for m, v in zip(metrics, values, strict=True)},
            "currency": metadata.get("currencyCode"),
            "time_zone": metadata.get("timeZone"),
        }
        record["payload"] = {"row": row, "metadata": metadata}
        records.append(record)
    return records


def make_client(channel, credentials: Credentials) -> Ga4Client:
    return Ga4Client(channel, credentials, page_size=channel.page_size)
