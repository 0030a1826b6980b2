"""The brand's reference files: the product master and daily FX rates.

Channels do not share ids for a product (Amazon's seller SKU is not ours, a till knows only
the barcode), and none of them sells in the reporting currency. Brands keep both in files
(a PIM or ERP export, a central bank's reference rates); `reference_path` in channels.yml
names the folder. Each load replaces the tables whole, in one transaction: the files are
the current truth, small, and a half-loaded master would map sales to the wrong SKU.

products.csv  sku, title, category, brand, barcode, asin, amazon_seller_sku, unit_cost,
              cost_currency, launch_date
fx_rates.csv  rate_date, currency, usd_per_unit
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from omnichannel import paths, warehouse
from omnichannel.currencies import iso_currencies
from omnichannel.load import schema

PRODUCT_COLUMNS = (
    "sku",
    "title",
    "category",
    "brand",
    "barcode",
    "asin",
    "amazon_seller_sku",
    "unit_cost",
    "cost_currency",
    "launch_date",
)
FX_COLUMNS = ("rate_date", "currency", "usd_per_unit")


class ReferenceError(ValueError):
    """A reference file that cannot be loaded; the message names file, line and field."""


@dataclass(frozen=True)
class ReferenceLoad:
    products: int
    fx_rates: int


def reference_dir(config) -> Path:
    """reference_path of channels.yml; OMNI_REFERENCE_PATH overrides it (the tests' own)."""
    override = os.environ.get("OMNI_REFERENCE_PATH")
    return Path(override) if override else (paths.project_root() / config.reference_path).resolve()


def load_reference(folder: Path) -> ReferenceLoad:
    """Replace reference.products and reference.fx_rates with the folder's files. A file
    that is missing leaves its table as it is; a bad line fails the load and changes nothing."""
    products = _read(folder / "products.csv", PRODUCT_COLUMNS, _product)
    rates = _read(folder / "fx_rates.csv", FX_COLUMNS, _rate)
    with warehouse.connect() as conn:
        schema.ensure_base(conn)
        with conn.transaction():
            if products is not None:
                _replace(conn, "products", PRODUCT_COLUMNS, products)
            if rates is not None:
                _replace(conn, "fx_rates", FX_COLUMNS, rates)
    return ReferenceLoad(len(products or ()), len(rates or ()))


def _replace(conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """The table holds the rows, loaded now; the same rows again leave it (and its load
    time, which tells transform_dbt that nothing changed) as it is."""
    held = conn.execute(f"select {', '.join(columns)} from reference.{table}").fetchall()
    if set(held) == set(rows) and len(held) == len(rows):
        return
    conn.execute(f"delete from reference.{table}")
    with conn.cursor().copy(f"copy reference.{table} ({', '.join(columns)}) from stdin") as copy:
        for row in rows:
            copy.write_row(row)


def _read(path: Path, columns: tuple[str, ...], parse) -> list[tuple] | None:
    if not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise ReferenceError(f"{path}: missing columns {', '.join(missing)}")
        rows, keys = [], set()
        for line, record in enumerate(reader, start=2):
            try:
                row = parse(record)
            except (ValueError, InvalidOperation) as exc:
                raise ReferenceError(f"{path}, line {line}: {exc}") from exc
            key = row[:2] if path.name == "fx_rates.csv" else row[:1]
            if key in keys:
                raise ReferenceError(f"{path}, line {line}: {key} appears twice")
            keys.add(key)
            rows.append(row)
    return rows


def _product(record: dict) -> tuple:
    sku = (record["sku"] or "").strip()
    if not sku:
        raise ValueError("sku is empty")
    if not (record["title"] or "").strip():
        raise ValueError(f"sku {sku}: title is empty")
    cost = _decimal(record["unit_cost"], "unit_cost") if record["unit_cost"] else None
    currency = (record["cost_currency"] or "").strip() or None
    if cost is not None and currency not in iso_currencies():
        raise ValueError(f"sku {sku}: cost_currency {currency!r} is not an ISO 4217 code")
    launch = date.fromisoformat(record["launch_date"]) if record["launch_date"] else None
    return (
        sku,
        record["title"].strip(),
        *(((record[c] or "").strip() or None) for c in PRODUCT_COLUMNS[2:7]),
        cost,
        currency,
        launch,
    )


def _rate(record: dict) -> tuple:
    currency = (record["currency"] or "").strip()
    if currency not in iso_currencies():
        raise ValueError(f"currency {currency!r} is not an ISO 4217 code")
    rate = _decimal(record["usd_per_unit"], "usd_per_unit")
    if rate <= 0:
        raise ValueError(f"usd_per_unit must be positive, got {rate}")
    return date.fromisoformat(record["rate_date"]), currency, rate


def _decimal(text: str, field: str) -> Decimal:
    try:
        return Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"{field} {text!r} is not a number") from exc
