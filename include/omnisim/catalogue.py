"""The brand's catalogue and the ids each channel gives the same SKU.

A SKU is listed under channel-specific ids (Shopify product/variant/inventory item ids,
an Amazon ASIN and a seller SKU that differs from ours, a WooCommerce product id, a store
POS code that is the EAN-13 barcode), so reports need a SKU crosswalk to be joined.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

CATEGORIES = ("Apparel", "Footwear", "Accessories", "Home", "Beauty")
BRANDS = ("Northwind", "Kestrel", "Alder & Co", "Lumen", "Tidewater")
NOUNS = {
    "Apparel": ("Tee", "Hoodie", "Jacket", "Chino", "Sweater", "Shirt"),
    "Footwear": ("Sneaker", "Boot", "Sandal", "Loafer"),
    "Accessories": ("Cap", "Tote", "Belt", "Wallet", "Scarf", "Sock"),
    "Home": ("Mug", "Candle", "Throw", "Vase", "Cushion"),
    "Beauty": ("Balm", "Serum", "Soap", "Cream"),
}
COLOURS = ("Black", "White", "Olive", "Navy", "Sand", "Rust", "Grey", "Teal")
PRICE_POINTS = {
    "Apparel": (19, 29, 39, 49, 69, 89, 129),
    "Footwear": (59, 79, 99, 129, 159),
    "Accessories": (9, 12, 19, 24, 29, 39),
    "Home": (12, 19, 29, 39, 59),
    "Beauty": (9, 14, 19, 24, 32),
}


def stable_hash(text: str) -> int:
    return zlib.crc32(text.encode())


@dataclass(frozen=True)
class Catalogue:
    """Column arrays, one row per SKU (index = position)."""

    sku: tuple[str, ...]
    title: tuple[str, ...]
    category: tuple[str, ...]
    brand: tuple[str, ...]
    list_price_cents: np.ndarray  # in USD, the brand's reference price list
    unit_cost_cents: np.ndarray  # in USD
    launch_day: np.ndarray  # ordinal of the launch date
    popularity: np.ndarray  # relative demand weight
    elasticity: np.ndarray  # demand uplift = (1 - discount) ** -elasticity
    long_tail: np.ndarray  # bool: intermittent demand
    barcode: tuple[str, ...]  # EAN-13, also the store POS code
    asin: tuple[str, ...]
    seller_sku: tuple[str, ...]  # the Amazon seller SKU (not ours)

    def __len__(self) -> int:
        return len(self.sku)

    def launch_date(self, i: int) -> date:
        return date.fromordinal(int(self.launch_day[i]))


def make_catalogue(seed: int, size: int, start: date) -> Catalogue:
    rng = np.random.default_rng([seed, 1])
    cat_idx = rng.integers(0, len(CATEGORIES), size)
    brand_idx = rng.integers(0, len(BRANDS), size)
    categories = tuple(CATEGORIES[i] for i in cat_idx)
    titles, prices = [], np.zeros(size, dtype=np.int64)
    for i, category in enumerate(categories):
        noun = NOUNS[category][int(rng.integers(len(NOUNS[category])))]
        colour = COLOURS[int(rng.integers(len(COLOURS)))]
        titles.append(f"{BRANDS[brand_idx[i]]} {noun} {colour} {i + 1:03d}")
        prices[i] = PRICE_POINTS[category][int(rng.integers(len(PRICE_POINTS[category])))] * 100 - 1
    margin = rng.uniform(0.35, 0.7, size)
    cost = np.round(prices * (1 - margin)).astype(np.int64)
    # Zipf-like popularity: a few bestsellers and a long, intermittent tail.
    rank = rng.permutation(size) + 1
    long_tail = rank > int(size * 0.6)
    popularity = 1.0 / rank**0.9 * rng.lognormal(0, 0.3, size) * np.where(long_tail, 0.3, 1.0)
    # Most SKUs exist before the world starts; about 15% launch in its first year (a fixed
    # window, so that a longer world keeps the catalogue of a shorter one).
    launched_later = rng.random(size) < 0.15
    offsets = np.where(launched_later, rng.integers(0, 365, size), -rng.integers(30, 900, size))
    launch = np.array([(start + timedelta(days=int(o))).toordinal() for o in offsets])
    skus = tuple(f"SKU-{i + 1:05d}" for i in range(size))
    return Catalogue(
        sku=skus,
        title=tuple(titles),
        category=categories,
        brand=tuple(BRANDS[i] for i in brand_idx),
        list_price_cents=prices,
        unit_cost_cents=cost,
        launch_day=launch,
        popularity=popularity,
        elasticity=rng.uniform(1.2, 3.0, size),
        long_tail=long_tail,
        barcode=tuple(ean13(400638 * 10**6 + seed % 1000 * 10**3 + i) for i in range(size)),
        asin=tuple(asin(seed, i) for i in range(size)),
        seller_sku=tuple(
            f"{BRANDS[b][:3].upper()}-{i + 1:05d}-{'FBA' if i % 3 else 'NEW'}"
            for i, b in enumerate(brand_idx)
        ),
    )


def ean13(body12: int) -> str:
    digits = f"{body12 % 10**12:012d}"
    total = sum(int(d) * (3 if n % 2 else 1) for n, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def asin(seed: int, i: int) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    value = stable_hash(f"{seed}:asin:{i}") * 7919 + i
    chars = []
    for _ in range(8):
        value, r = divmod(value, len(alphabet))
        chars.append(alphabet[r])
    return "B0" + "".join(chars)


@dataclass(frozen=True)
class Listing:
    """How one channel instance lists the catalogue."""

    listed: np.ndarray  # bool per SKU
    price_cents: np.ndarray  # in the channel's currency
    product_id: np.ndarray  # channel's product id per SKU (Shopify product, Woo post id)
    variant_id: np.ndarray  # Shopify variant id (0 elsewhere)
    inventory_item_id: np.ndarray  # Shopify inventory item id (0 elsewhere)


def make_listing(
    seed: int, channel_id: str, kind: str, share: float, catalogue: Catalogue, fx0: float
) -> Listing:
    """`fx0`: units of the channel currency per USD when the price list was set."""
    size = len(catalogue)
    rng = np.random.default_rng([seed, 2, stable_hash(channel_id)])
    listed = rng.random(size) < share
    listed[: max(1, size // 10)] = True  # bestsellers are everywhere
    local = catalogue.list_price_cents / 100 * fx0 * rng.uniform(0.97, 1.08)
    if kind == "files":
        price = np.maximum(1, np.round(local)) * 100  # round store prices
    else:
        price = np.maximum(1, np.ceil(local)) * 100 - 1  # x.99 price points
    base = 10**9 * (1 + stable_hash(channel_id) % 8)
    ids = np.arange(size, dtype=np.int64)
    if kind == "shopify":
        product_id = base + 1_000 + ids * 7
        variant_id = base * 4 + 5_000 + ids * 11
        item_id = base * 5 + 9_000 + ids * 13
    elif kind == "woocommerce":
        product_id, variant_id, item_id = 100 + ids * 3, ids * 0, ids * 0
    else:
        product_id, variant_id, item_id = ids * 0, ids * 0, ids * 0
    return Listing(listed, price.astype(np.int64), product_id, variant_id, item_id)
