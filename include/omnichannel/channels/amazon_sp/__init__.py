"""Amazon Selling Partner API: Orders v0, FBA Inventory v1, Sales and Traffic report.

Auth: a Login with Amazon access token from the refresh token (connection password), the
app's client id (login) and client secret (extra `client_secret`), sent as
`x-amz-access-token`; the token endpoint is extra `lwa_url` (default
https://api.amazon.com/auth/o2/token, the simulator's own under the base URL).

Streams
- orders: `getOrders` with LastUpdatedAfter/Before and NextToken (cursor LastUpdateDate).
- order_items: the same scan, then `getOrderItems` per order; one record per item.
- inventory: `getInventorySummaries` (details) as a snapshot of the moment of the run.
- sales_traffic: the Sales and Traffic report (DAY granularity) per complete local day of
  the window: create → poll → document (gzip JSON), amounts parsed as decimals.
Throttling: Amazon sends no Retry-After; a 429 waits 1 / x-amzn-RateLimit-Limit seconds
(bounded exponential backoff otherwise)."""

from omnichannel.channels.amazon_sp.client import AmazonClient, make_client
from omnichannel.channels.amazon_sp.records import flatten_item, flatten_order
from omnichannel.channels.amazon_sp.streams import (
    INVENTORY,
    ORDER_ITEMS,
    ORDERS,
    REFUNDS,
    SALES_TRAFFIC,
    STREAMS,
)

__all__ = [
    "AmazonClient",
    "INVENTORY",
    "ORDERS",
    "ORDER_ITEMS",
    "REFUNDS",
    "SALES_TRAFFIC",
    "STREAMS",
    "flatten_item",
    "flatten_order",
    "make_client",
]
