"""What each Amazon SP-API stream lands as: columns, key, cursor."""

from __future__ import annotations

from omnichannel.streams import load_streams

# columns, key and cursor of each stream: channels/streams/amazon_sp.yml
STREAMS = load_streams("amazon_sp")
ORDERS, ORDER_ITEMS, INVENTORY, SALES_TRAFFIC, REFUNDS = (
    STREAMS[s] for s in ("orders", "order_items", "inventory", "sales_traffic", "refunds")
)
