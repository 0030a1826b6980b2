"""The brand's reference files as the simulated brand keeps them: the product master (its
PIM export: our SKU with every id channels use for it, and the unit cost) and daily FX
reference rates published up to the simulator's clock."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

from omnichannel.reference import PRODUCT_COLUMNS
from omnisim.files import write_file
from omnisim.world import World, cents


def products_csv(world: World) -> bytes:
    cat = world.catalogue
    rows = [
        (
            cat.sku[s],
            cat.title[s],
            cat.category[s],
            cat.brand[s],
            cat.barcode[s],
            cat.asin[s],
            cat.seller_sku[s],
            f"{cents(cat.unit_cost_cents[s])}",
            "USD",
            cat.launch_date(s).isoformat(),
        )
        for s in range(len(cat))
    ]
    return _csv(PRODUCT_COLUMNS, rows)


def fx_rates_csv(world: World, now: datetime) -> bytes:
    """A day's rate is published once the day has begun (UTC)."""
    today = now.date()
    rows = [
        (day.isoformat(), currency, f"{world.fx[currency][k]:.6f}")
        for k, day in enumerate(world.dates)
        if day <= today
        for currency in world.currencies
    ]
    return _csv(("rate_date", "currency", "usd_per_unit"), rows)


def drop(world: World, folder: Path, now: datetime) -> list[Path]:
    return write_file(folder / "products.csv", products_csv(world)) + write_file(
        folder / "fx_rates.csv", fx_rates_csv(world, now)
    )


def _csv(header, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()
