"""The test warehouse: queries, checksums of raw, a reset."""

from __future__ import annotations

from omnichannel import warehouse

RAW_TABLES = (
    "shopify__orders",
    "amazon_sp__orders",
    "amazon_sp__order_items",
    "amazon_sp__inventory",
    "amazon_sp__sales_traffic",
    "woocommerce__orders",
    "woocommerce__refunds",
    "woocommerce__products",
    "files__sales",
    "files__stock",
    "files__footfall",
    "ga4__traffic",
)


def query(statement: str, *args):
    with warehouse.connect() as conn:
        return conn.execute(statement, args).fetchall()


def checksums() -> dict[str, str]:
    out = {}
    for table in RAW_TABLES:
        [(value,)] = query(
            f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from "  # noqa: S608
            f"(select r.* from raw.{table} r) t"
        )
        out[table] = value
    return out


def content_checksums() -> dict[str, str]:
    """Raw tables without the load bookkeeping (batch ids, publish times)."""
    out = {}
    for table in RAW_TABLES:
        if query("select to_regclass(%s)", f"raw.{table}")[0][0] is None:
            continue
        [(value,)] = query(
            f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from "  # noqa: S608
            f"(select r.payload, r.channel_id from raw.{table} r) t"
        )
        out[table] = value
    return out


def reset_warehouse() -> None:
    """Drop the library tables and marts of the test database."""
    from omnichannel import warehouse

    warehouse.reset()
