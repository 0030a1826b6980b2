"""What each Shopify stream lands as: columns, key, cursor."""

from __future__ import annotations

from omnichannel.streams import load_streams

# columns, key and cursor of each stream: channels/streams/shopify.yml
STREAMS = load_streams("shopify")
ORDERS, PRODUCTS, INVENTORY = (STREAMS[s] for s in ("orders", "products", "inventory"))
