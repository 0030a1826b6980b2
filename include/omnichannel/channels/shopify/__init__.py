"""Shopify, through the GraphQL Admin API (REST is legacy since 2024-10).

Incremental reads filter on `updated_at` with Shopify's search syntax and sort by
UPDATED_AT, paging with `first`/`after` until `pageInfo.hasNextPage` is false.
Money is read from `shopMoney` (the shop currency) as the decimal strings the API sends."""

from omnichannel.channels.shopify.client import ShopifyClient, make_client
from omnichannel.channels.shopify.queries import API_VERSION
from omnichannel.channels.shopify.records import flatten_order, flatten_product
from omnichannel.channels.shopify.streams import INVENTORY, ORDERS, PRODUCTS, STREAMS

__all__ = [
    "API_VERSION",
    "INVENTORY",
    "ORDERS",
    "PRODUCTS",
    "STREAMS",
    "ShopifyClient",
    "flatten_order",
    "flatten_product",
    "make_client",
]
