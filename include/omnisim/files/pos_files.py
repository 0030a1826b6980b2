"""Store POS exports: daily CSV files per store dropped into a landing folder.

Each store's till system exports, after closing, one file per business day and kind into
`<landing_path>/<store_id>/`:

`sales_<store_id>_<YYYYMMDD>.csv` one row per receipt line (returns are negative lines)
    receipt_no      receipt number, unique per store
    store_id        the store
    business_date   YYYY-MM-DD, the store's local day
    sold_at         local time of the sale, YYYY-MM-DD HH:MM:SS (no offset: the store's zone)
    line_no         1.. within the receipt
    pos_code        EAN-13 barcode of the item (the POS has no brand SKU)
    description     item name on the till
    quantity        units; negative on a return
    unit_price      price per unit, VAT included
    discount        discount on the line, VAT included
    line_total      quantity × unit_price - discount, VAT included
    vat_rate        e.g. 0.20
    vat_amount      VAT inside line_total
    currency        ISO 4217
    loyalty_email   member's e-mail as typed at the till, empty for anonymous buyers
    return_of       for a return: the receipt number of the original sale
`stock_<store_id>_<YYYYMMDD>.csv`  counted stock after closing: store_id, count_date,
    pos_code, on_hand
`footfall_<store_id>_<YYYYMMDD>.csv` door counter per hour: store_id, business_date,
    hour (0-23), visitors

Files use `;` as delimiter, `.` as decimal separator, UTF-8, a header line, and are written
at 06:00 local time the next morning (atomically: `.tmp` then rename). Faults:
late_file (arrives a day later), resent_file (sent again as `..._resent.csv`, same content),
corrupt_file (cut in the middle of a line).
"""

from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from omnisim.files import write_file
from omnisim.world import HOURLY, World, cents

SALES_COLUMNS = (
    "receipt_no",
    "store_id",
    "business_date",
    "sold_at",
    "line_no",
    "pos_code",
    "description",
    "quantity",
    "unit_price",
    "discount",
    "line_total",
    "vat_rate",
    "vat_amount",
    "currency",
    "loyalty_email",
    "return_of",
)
STOCK_COLUMNS = ("store_id", "count_date", "pos_code", "on_hand")
FOOTFALL_COLUMNS = ("store_id", "business_date", "hour", "visitors")
DROP_HOUR = 6
FILE_NAME = re.compile(r"^(?:sales|stock|footfall)_[A-Za-z0-9]+_\d{8}(?:_resent)?\.csv$")


def file_name(kind: str, store_id: str, day: date, resent: bool = False) -> str:
    return f"{kind}_{store_id}_{day:%Y%m%d}{'_resent' if resent else ''}.csv"


def _csv(header, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def sales_rows(world: World, store_index: int, day: date) -> list[tuple]:
    """Sales and returns processed at the store on its local `day`."""
    o, lines, cat = world.orders, world.lines, world.catalogue
    point = world.points[store_index]
    channel = point.channel
    tz = ZoneInfo(channel.timezone)
    rate = Decimal(channel.tax[0])
    k = world.day_index(day)
    index = world.channel_orders(channel.channel_id)
    mine = index[o.point[index] == store_index]
    rows = []
    for i in mine[o.day[mine] == k]:
        sold_at = datetime.fromtimestamp(int(o.created[i]), tz).strftime("%Y-%m-%d %H:%M:%S")
        email = ""
        if o.customer[i] >= 0:
            email = world.customers[int(o.customer[i])].email.upper()  # typed at the till
        for n, j in enumerate(range(int(o.line_start[i]), int(o.line_start[i] + o.line_count[i]))):
            s = int(lines.sku[j])
            total = lines.gross[j] - lines.discount[j]
            rows.append(
                (
                    str(o.number[i]),
                    point.point_id,
                    day.isoformat(),
                    sold_at,
                    n + 1,
                    cat.barcode[s],
                    cat.title[s][:30],
                    int(lines.quantity[j]),
                    f"{cents(lines.price[j])}",
                    f"{cents(lines.discount[j])}",
                    f"{cents(total)}",
                    f"{rate:.2f}",
                    f"{cents(lines.tax[j])}",
                    channel.currency,
                    email,
                    "",
                )
            )
    # returns: refunds of this store's sales that happen on this local day
    day_start = int(datetime.combine(day, time(0), tz).timestamp())
    day_end = int(datetime.combine(day + timedelta(days=1), time(0), tz).timestamp())
    returned = mine[(o.refund_at[mine] >= day_start) & (o.refund_at[mine] < day_end)]
    for i in returned:
        j = int(o.refund_line[i])
        s = int(lines.sku[j])
        at = datetime.fromtimestamp(int(o.refund_at[i]), tz)
        at = at.replace(hour=min(max(at.hour, 10), 19))  # the till is open 10-20h
        quantity = int(o.refund_quantity[i])
        rows.append(
            (
                f"R{int(o.number[i])}",
                point.point_id,
                day.isoformat(),
                at.strftime("%Y-%m-%d %H:%M:%S"),
                1,
                cat.barcode[s],
                cat.title[s][:30],
                -quantity,
                f"{cents(lines.price[j])}",
                "0.00",
                f"{-cents(o.refund_subtotal[i])}",
                f"{rate:.2f}",
                f"{-cents(o.refund_tax[i])}",
                channel.currency,
                "",
                str(o.number[i]),
            )
        )
    return rows


def stock_rows(world: World, store_index: int, day: date) -> list[tuple]:
    point = world.points[store_index]
    listed = world.listings[point.channel.channel_id].listed
    on_hand = world.on_hand[point.location, world.day_index(day)]
    return [
        (point.point_id, day.isoformat(), world.catalogue.barcode[s], int(on_hand[s]))
        for s in np.flatnonzero(listed)
    ]


def footfall_rows(world: World, store_index: int, day: date) -> list[tuple]:
    point = world.points[store_index]
    visitors = int(world.sessions[store_index, world.day_index(day)].sum())
    profile = HOURLY["files"] / HOURLY["files"].sum()
    hourly = np.floor(profile * visitors).astype(int)
    remainder = visitors - hourly.sum()
    hourly[np.argsort(-profile, kind="stable")[:remainder]] += 1  # counts add up exactly
    return [(point.point_id, day.isoformat(), h, int(hourly[h])) for h in range(24) if profile[h]]


def exports(world: World, store_index: int, day: date) -> dict[str, bytes]:
    point = world.points[store_index]
    return {
        file_name("sales", point.point_id, day): _csv(
            SALES_COLUMNS, sales_rows(world, store_index, day)
        ),
        file_name("stock", point.point_id, day): _csv(
            STOCK_COLUMNS, stock_rows(world, store_index, day)
        ),
        file_name("footfall", point.point_id, day): _csv(
            FOOTFALL_COLUMNS, footfall_rows(world, store_index, day)
        ),
    }


def drop(world: World, channel, root: Path, now: datetime, faults=()) -> list[Path]:
    """Write every export due by `now` that is not there yet; returns the files written."""
    tz = ZoneInfo(channel.timezone)
    _claim(world, root)
    written = []
    for point in world.points:
        if point.channel.channel_id != channel.channel_id:
            continue
        folder = root / point.point_id
        there = {p.name for p in folder.glob("*.csv")}
        for day in world.dates:
            if day < channel.opened_on:
                continue
            fault = _file_fault(faults, channel.channel_id, day)
            delay = timedelta(days=1) if fault == "late_file" else timedelta(0)
            due = datetime.combine(day + timedelta(days=1), time(DROP_HOUR), tz) + delay
            if due > now:
                # a clock set back (a catch-up reads each day as at its end, one stream
                # after another) withdraws the exports of its future
                stamp = f"_{point.point_id}_{day:%Y%m%d}"
                for name in [n for n in there if stamp in n]:
                    (folder / name).unlink(missing_ok=True)
                continue
            if not fault and file_name("sales", point.point_id, day) in there:
                continue  # dropped before (a served world calls this every minute)
            for name, content in exports(world, point.index, day).items():
                if fault == "corrupt_file" and name.startswith("sales_"):
                    content = content[: max(1, len(content) * 2 // 3)]
                written += write_file(folder / name, content)
                if fault == "resent_file" and due + timedelta(hours=4) <= now:
                    written += write_file(folder / name.replace(".csv", "_resent.csv"), content)
    return written


def _claim(world: World, root: Path) -> None:
    """Exports of another world (another seed or size) in this folder are removed first."""
    spec = world.spec
    channels = zlib.crc32(repr(spec.channels).encode())
    identity = (
        f"seed={spec.seed} start={spec.start} skus={spec.skus} customers={spec.customers} "
        f"channels={channels:08x}"
    )
    marker = root / ".simulator-world"
    if marker.exists() and marker.read_text() == identity:
        return
    root.mkdir(parents=True, exist_ok=True)
    for old in root.glob("*/*.csv"):
        if FILE_NAME.match(old.name):
            old.unlink()
    marker.write_text(identity)


def _file_fault(faults, channel_id: str, day: date) -> str | None:
    for fault in faults:
        if fault.channel_id in ("*", channel_id) and fault.day in (None, day.isoformat()):
            return fault.fault
    return None
