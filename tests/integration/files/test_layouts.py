"""Three export layouts of different shape, each a `files` channel declared in channels.yml
with only a mapping, through the real extract DAGs and the real transform DAG into the
marts; the marts equal totals computed here from the generated lines, independently of
the mapper:

- a till export (till_eu): one file per store and day, UTF-8 with a byte-order mark and
  CRLF, `;`, decimal comma and space thousands (`1 049,90`), D/M/Y dates with the time in a
  column of its own, no line numbers, returns as positive lines marked `Retour`, a
  `20,0 %` VAT rate; a row whose quantity does not parse, and a day whose file from one
  store lacks a mapped column;
- an ERP's invoice lines (erp_us, channel_type wholesale): one file holding many days,
  `$1,706.00`, credit notes whose amounts are written `(12.50)` and whose documents start
  `CN-`, M/D/YYYY dates, items by the brand's SKU (no barcode), and a corrected re-send that
  drops an invoice and changes a quantity;
- a wholesale partner's order sheet (partner_de): XLSX with a title row, typed date and
  number cells, on an S3-compatible server (moto), read through ObjectStoragePath with an
  Airflow connection.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from omnichannel import paths, warehouse
from omnichannel.airflow.runs import load_dags, local_midnight, run_dag
from omnichannel.config import load_channels
from omnichannel.load.ledger import every_batch_balances
from omnichannel.pipeline import prepare_all
from omnisim.world import cents
from tests.helpers.dbt import load_world_reference
from tests.helpers.warehouse import reset_warehouse

pytestmark = pytest.mark.dags

DAYS = [date(2026, 10, 1) + timedelta(days=n) for n in range(3)]
CENT = Decimal("0.01")


@dataclass
class Line:
    order: str  # receipt, invoice or order number
    day: date
    at: time
    item: int  # catalogue index
    qty: int  # negative on a return
    price: Decimal
    discount: Decimal = Decimal("0.00")
    return_of: str | None = None
    email: str | None = None

    @property
    def total(self) -> Decimal:
        return (self.qty * self.price - (self.discount if self.qty > 0 else 0)).quantize(CENT)


@dataclass
class Channel:
    """A channel's lines as its files state them, and the lines expected in raw."""

    channel_id: str
    store_of: dict[str, str] = field(default_factory=dict)  # order → store
    lines: list[Line] = field(default_factory=list)

    def expected(self) -> dict[date, tuple[int, Decimal, Decimal]]:
        """(orders, gmv, net revenue) per day of the sale, as the marts define them:
        a return counts against its sale's day, prices include VAT (none mapped)."""
        sales = [x for x in self.lines if x.return_of is None]
        day_of = {x.order: x.day for x in sales}
        out: dict[date, list] = defaultdict(lambda: [set(), Decimal(0), Decimal(0)])
        for x in sales:
            row = out[x.day]
            row[0].add(x.order)
            row[1] += x.qty * x.price
            row[2] += x.total
        for x in self.lines:
            if x.return_of is not None and x.return_of in day_of:
                out[day_of[x.return_of]][2] += x.total
        return {d: (len(o), g.quantize(CENT), n.quantize(CENT)) for d, (o, g, n) in out.items()}


def _lines(rng: random.Random, world, prefix: str, day: date, orders: int, first: int) -> list:
    cat = world.catalogue
    out = []
    for n in range(first, first + orders):
        at = time(9 + rng.randrange(10), rng.randrange(60))
        for _ in range(rng.randint(1, 3)):
            item = rng.randrange(len(cat))
            price = cents(int(cat.list_price_cents[item]))
            discount = Decimal(rng.choice(["0.00", "0.00", "1.50"]))
            out.append(Line(f"{prefix}{n}", day, at, item, rng.randint(1, 4), price, discount))
    return out


# --- till_eu: a till's export, one file per store and day --------------------------------

TILL_HEADER = ["N° ticket", "Date", "Heure", "Code EAN", "Article", "Qté", "Prix unitaire",
               "Remise", "Montant TTC", "TVA", "Type", "Ticket origine"]  # fmt: skip


def _eu(amount: Decimal) -> str:
    """`1 049,90`: space thousands, decimal comma."""
    whole, frac = f"{abs(amount):.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", " ")
    return f"{'-' if amount < 0 else ''}{groups},{frac}"


def till_file(world, lines: list[Line], bad_row: int | None = None, drop: str | None = None):
    cat = world.catalogue
    header = [h for h in TILL_HEADER if h != drop]
    rows = [header]
    for n, x in enumerate(lines):
        retour = x.return_of is not None
        cells = {
            "N° ticket": x.order, "Date": x.day.strftime("%d/%m/%Y"),
            "Heure": x.at.strftime("%H:%M"), "Code EAN": cat.barcode[x.item],
            "Article": cat.title[x.item], "Qté": "douze" if n == bad_row else str(abs(x.qty)),
            "Prix unitaire": _eu(x.price), "Remise": "" if not x.discount else _eu(x.discount),
            "Montant TTC": _eu(abs(x.total)), "TVA": "20,0 %",
            "Type": "Retour" if retour else "Vente", "Ticket origine": x.return_of or "",
        }  # fmt: skip
        rows.append([cells[h] for h in header])
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator="\r\n").writerows(rows)
    return b"\xef\xbb\xbf" + text.getvalue().encode()


def till_channel(world, folder: Path) -> tuple[Channel, dict]:
    """Two stores, three days; a return on day 2 of a day-1 sale; on day 2 one row's
    quantity is `douze` (quarantined) and on day 3 one store's file lacks `Code EAN` (the
    file is quarantined, the other store's publishes)."""
    rng = random.Random(11)
    channel = Channel("till_eu")
    notes = {}
    for k, day in enumerate(DAYS):
        for store in ("paris02", "nantes01"):
            lines = _lines(rng, world, f"{store[:3].upper()}{day:%d}-", day, 14, 1)
            if k == 1 and store == "paris02":  # a return of yesterday's first receipt
                sold = next(x for x in channel.lines if x.order.startswith("PAR01-"))
                lines.append(Line("R-PAR02-1", day, time(17, 5), sold.item, -1, sold.price,
                                  return_of=sold.order))  # fmt: skip
            bad = drop = None
            if k == 1 and store == "nantes01":
                bad = 3
                notes["bad_line"] = (f"caisse_{store}_{day:%d%m%Y}.csv", bad + 2)
            if k == 2 and store == "nantes01":
                drop = "Code EAN"
                notes["missing"] = f"caisse_{store}_{day:%d%m%Y}.csv"
            (folder / f"caisse_{store}_{day:%d%m%Y}.csv").write_bytes(
                till_file(world, lines, bad, drop)
            )
            if drop:
                continue  # nothing of this file reaches raw
            if bad is not None:  # the bad row's receipt keeps its other lines
                lines = lines[:bad] + lines[bad + 1 :]
            channel.lines += lines
    return channel, notes


TILL = {
    "stream": "sales",
    "pattern": "caisse_{store}_{date:%d%m%Y}.csv",
    "format": {"type": "csv", "delimiter": ";", "decimal": ",", "thousands": " ",
               "date_format": "%d/%m/%Y", "datetime_format": "%d/%m/%Y %H:%M"},
    "columns": {
        "receipt_no": "N° ticket",
        "store_id": {"from_name": "store"},
        "business_date": "Date",
        "sold_at": {"source": ["Date", "Heure"]},
        "line_no": {"number_within": ["receipt_no"]},
        "pos_code": "code ean",  # headers match case- and space-insensitively
        "description": "Article",
        "quantity": {"source": "Qté", "negate_when": {"source": "Type", "equals": "Retour"}},
        "unit_price": "Prix unitaire",
        "discount": {"source": "Remise", "default": "0"},
        "line_total": {"source": "Montant TTC",
                       "negate_when": {"source": "Type", "equals": "Retour"}},
        "vat_rate": {"source": "TVA", "parse": "percent"},
        "return_of": "Ticket origine",
    },
}  # fmt: skip


# --- erp_us: invoice lines, one file holding many days, a corrected re-send ------------------

ERP_HEADER = ["Document No", "Posting Date", "Customer E-Mail", "Item No", "Description",
              "Quantity", "Unit Price", "Line Amount", "Applies-to Doc No"]  # fmt: skip


def _us(amount: Decimal) -> str:
    """`$1,706.00`, a negative amount as `(12.50)`."""
    text = f"${abs(amount):,.2f}"
    return f"({text[1:]})" if amount < 0 else text


def erp_file(world, lines: list[Line]) -> bytes:
    cat = world.catalogue
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(ERP_HEADER)
    for x in lines:
        writer.writerow([
            x.order, f"{x.day.month}/{x.day.day}/{x.day.year}", x.email or "",
            cat.sku[x.item], cat.title[x.item], abs(x.qty), _us(x.price), _us(x.total),
            x.return_of or "",
        ])  # fmt: skip
    return text.getvalue().encode()


def erp_channel(world, folder: Path) -> tuple[Channel, dict]:
    """Sent on day 2: the invoices of days 1 and 2. Sent on day 3: day 3's, and then a
    corrected file of days 2 and 3 (an invoice of day 2 dropped, a quantity changed, a
    credit note on a day-1 invoice)."""
    rng = random.Random(12)
    day1 = _lines(rng, world, "INV-", DAYS[0], 6, 100)
    day2 = _lines(rng, world, "INV-", DAYS[1], 6, 200)
    day3 = _lines(rng, world, "INV-", DAYS[2], 6, 300)
    for x in (*day1, *day2, *day3):
        x.discount = Decimal("0.00")  # an invoice line states its net amount
        x.email = f"buyer{x.order[-1]}@example.com"
    (folder / "exports").mkdir()
    (folder / f"exports/invoice_lines_{DAYS[1]:%Y%m%d}.csv").write_bytes(
        erp_file(world, day1 + day2)
    )
    (folder / f"exports/invoice_lines_{DAYS[2]:%Y%m%d}.csv").write_bytes(erp_file(world, day3))
    dropped = day2[0].order
    corrected2 = [x for x in day2 if x.order != dropped]
    changed = corrected2[0]
    changed.qty += 5
    credit = Line("CN-1", DAYS[2], time(0), day1[0].item, -1, day1[0].price,
                  return_of=day1[0].order, email=day1[0].email)  # fmt: skip
    corrected3 = [*day3, credit]
    (folder / f"exports/invoice_lines_{DAYS[2]:%Y%m%d}_corrected.csv").write_bytes(
        erp_file(world, corrected2 + corrected3)
    )
    channel = Channel("erp_us", lines=day1 + corrected2 + corrected3)
    return channel, {"dropped": dropped, "changed": (changed.order, changed.qty)}


ERP = {
    "stream": "sales",
    "period": "many_days",
    "pattern": "exports/invoice_lines_{date:%Y%m%d}*.csv",
    "format": {"type": "csv", "thousands": ",", "date_format": "%m/%d/%Y"},
    "columns": {
        "receipt_no": "Document No",
        "store_id": {"constant": "wholesale"},
        "business_date": "Posting Date",
        "sold_at": {"source": "Posting Date", "parse": "datetime", "format": "%m/%d/%Y"},
        "line_no": {"number_within": ["receipt_no"]},
        "sku": "Item No",
        "description": "Description",
        "quantity": {"source": "Quantity",
                     "negate_when": {"source": "Document No", "prefix": "CN-"}},
        "unit_price": "Unit Price",
        "line_total": "Line Amount",
        "return_of": "Applies-to Doc No",
        "loyalty_email": "Customer E-Mail",
    },
}  # fmt: skip


# --- partner_de: an XLSX order sheet on object storage ----------------------------------------


def partner_file(world, lines: list[Line]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["Partner order export"])
    sheet.append([])
    sheet.append(["Order", "Line", "Order date", "EAN", "Units", "Unit price", "Discount"])
    numbers: dict[str, int] = defaultdict(int)
    for x in lines:
        numbers[x.order] += 1
        sheet.append([x.order, numbers[x.order], datetime.combine(x.day, x.at),
                      world.catalogue.barcode[x.item], x.qty, float(x.price),
                      float(x.discount)])  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


PARTNER = {
    "stream": "sales",
    "pattern": "orders_{date:%Y-%m-%d}.xlsx",
    "format": {"type": "xlsx", "sheet": "Orders", "skip_rows": 2},
    "columns": {
        "receipt_no": "Order",
        "store_id": {"constant": "partner_de"},
        "business_date": "Order date",
        "sold_at": "Order date",
        "line_no": "Line",
        "pos_code": "EAN",
        "quantity": "Units",
        "unit_price": "Unit price",
        "discount": "Discount",
    },
}


@pytest.fixture(scope="module")
def s3():
    """A local S3-compatible server (moto) with a bucket `drops`; yields (url, client)."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    keys = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret"}
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", **keys)
    client.create_bucket(Bucket="drops")
    yield url, client
    server.stop()


def _config(tmp: Path, till: Path, erp: Path) -> dict:
    common = {"kind": "files", "start_date": DAYS[0].isoformat(), "lookback_hours": 48,
              "schedule": "0 6 * * *"}  # fmt: skip
    return {
        "reference_path": ".local/landing/reference",
        "channels": [
            {**common, "channel_id": "till_eu", "landing_path": str(till),
             "timezone": "Europe/Paris", "currency": "EUR", "options": {"feeds": [TILL]}},
            {**common, "channel_id": "erp_us", "channel_type": "wholesale",
             "landing_path": str(erp), "timezone": "America/Chicago", "currency": "USD",
             "options": {"feeds": [ERP]}},
            {**common, "channel_id": "partner_de", "channel_type": "wholesale",
             "landing_path": "s3://drops/partner_de/", "connection_id": "partner_de_s3",
             "timezone": "Europe/Berlin", "currency": "EUR", "options": {"feeds": [PARTNER]}},
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def loaded(world, s3, tmp_path_factory):
    """The three channels' files written, each channel's extract DAG run day by day, then
    the transform DAG. Yields {channel_id: (Channel, notes)}."""
    tmp = tmp_path_factory.mktemp("layouts")
    till_dir, erp_dir = tmp / "till", tmp / "erp"
    till_dir.mkdir()
    erp_dir.mkdir()
    till, till_notes = till_channel(world, till_dir)
    erp, erp_notes = erp_channel(world, erp_dir)
    rng = random.Random(13)
    partner = Channel("partner_de")
    url, client = s3
    for k, day in enumerate(DAYS):
        lines = _lines(rng, world, "PO-", day, 5, 10 * k)
        partner.lines += lines
        client.put_object(Bucket="drops", Key=f"partner_de/orders_{day:%Y-%m-%d}.xlsx",
                          Body=partner_file(world, lines))  # fmt: skip

    reset_warehouse()
    prepare_all(load_channels())  # raw tables of the default kinds the marts read
    config_dir = tmp / "config"
    config_dir.mkdir()
    for name in ("simulator.yml", "alerts.yml"):
        shutil.copy(paths.config_dir() / name, config_dir / name)
    (config_dir / "channels.yml").write_text(yaml.safe_dump(_config(tmp, till_dir, erp_dir)))
    connection = {"conn_type": "aws", "login": "test-key", "password": "test-secret",
                  "extra": {"endpoint_url": url, "region_name": "us-east-1"}}  # fmt: skip
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OMNI_CONFIG_DIR", str(config_dir))
        env.setenv("AIRFLOW_CONN_PARTNER_DE_S3", json.dumps(connection))
        config = load_channels()
        prepare_all(config)
        load_world_reference(world)
        dags = load_dags()
        for day in DAYS:
            for channel in config.channels:
                end = local_midnight(day + timedelta(days=1), channel)
                run_dag(dags[f"extract_{channel.channel_id}"], end,
                        conf={"from_date": None, "to_date": None})  # fmt: skip
        run_dag(dags["transform_dbt"], None)
    yield {"till_eu": (till, till_notes), "erp_us": (erp, erp_notes),
           "partner_de": (partner, {})}  # fmt: skip


def query(statement: str, *args) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(statement, args).fetchall()


def mart(channel_id: str) -> dict[date, tuple[int, Decimal, Decimal]]:
    rows = query(
        "select order_date, orders_count, gmv, net_revenue from marts.mart_channel_daily_kpis "
        "where channel_id = %s and orders_count > 0",
        channel_id,
    )
    return {d: (n, g, r) for d, n, g, r in rows}


@pytest.mark.parametrize("channel_id", ["till_eu", "erp_us", "partner_de"])
def test_each_layout_reaches_the_daily_kpis_equal_to_the_files_totals(loaded, channel_id):
    channel, _ = loaded[channel_id]
    assert mart(channel_id) == channel.expected()
    [(missing_rate,)] = query(
        "select count(*) filter (where gmv_reporting is null) from "
        "marts.mart_channel_daily_kpis where channel_id = %s",
        channel_id,
    )
    assert missing_rate == 0  # every day has its reporting-currency twin


@pytest.mark.parametrize("channel_id", ["till_eu", "erp_us", "partner_de"])
def test_every_sold_line_reaches_fct_order_lines_with_its_sku(loaded, world, channel_id):
    channel, _ = loaded[channel_id]
    sold = sorted(
        (x.order, world.catalogue.sku[x.item], x.qty) for x in channel.lines if x.return_of is None
    )
    rows = query(
        "select split_part(order_id, '/', 2), sku, units from marts.fct_order_lines "
        "where channel_id = %s",
        channel_id,
    )
    assert sorted(rows) == sold


def test_channel_type_comes_from_the_entry_or_the_kind(loaded):
    types = dict(
        query(
            "select channel_id, channel_type from marts.dim_channels where channel_id = any(%s)",
            ["till_eu", "erp_us", "partner_de"],
        )
    )
    assert types == {"till_eu": "physical_store", "erp_us": "wholesale", "partner_de": "wholesale"}


def test_a_bad_value_is_quarantined_with_file_line_column_and_value(loaded):
    _, notes = loaded["till_eu"]
    name, line = notes["bad_line"]
    rows = query(
        "select q.record->>'source_file', q.record->>'source_line', q.reasons::text "
        "from quarantine.records as q where q.channel_id = 'till_eu' and q.record is not null"
    )
    # the row, in each batch whose window reads its file (the day's, the next day's lookback)
    assert [(r[0], r[1]) for r in rows] == [(name, str(line))] * 2
    assert all("quantity" in r[2] and "douze" in r[2] for r in rows)


def test_a_missing_column_fails_only_its_file(loaded):
    _, notes = loaded["till_eu"]
    [(key, reason)] = query(
        "select record_key, reasons->0->>'observed' from quarantine.records "
        "where channel_id = 'till_eu' and record is null"
    )
    assert notes["missing"] in key
    assert "no column 'code ean' (mapped to pos_code)" in reason
    # the other store's file of that day published
    [(stores,)] = query(
        "select array_agg(distinct store_id) from raw.files__sales "
        "where channel_id = 'till_eu' and business_date = %s",
        DAYS[2],
    )
    assert stores == ["paris02"]
    assert every_batch_balances()


def test_a_corrected_resend_replaces_its_days_with_history(loaded):
    _, notes = loaded["erp_us"]
    dropped, (changed, quantity) = notes["dropped"], notes["changed"]
    [(live, deleted)] = query(
        "select count(*) filter (where deleted_at is null), "
        "count(*) filter (where deleted_at is not null) from raw.files__sales "
        "where channel_id = 'erp_us' and receipt_no = %s",
        dropped,
    )
    assert live == 0 and deleted > 0
    [(now,)] = query(
        "select quantity from raw.files__sales where channel_id = 'erp_us' "
        "and receipt_no = %s and line_no = 1",
        changed,
    )
    assert now == quantity
    [(earlier,)] = query(
        "select array_agg(quantity) from raw.files__sales_history where channel_id = 'erp_us' "
        "and receipt_no = %s and line_no = 1",
        changed,
    )
    assert earlier == [quantity - 5]
    # a changed line names the file that changed it; a line the re-send states unchanged
    # keeps the file it was first read from (the same version, not a new one)
    [(source,)] = query(
        "select source_file from raw.files__sales where channel_id = 'erp_us' "
        "and receipt_no = %s and line_no = 1",
        changed,
    )
    assert source == f"exports/invoice_lines_{DAYS[2]:%Y%m%d}_corrected.csv"


def test_object_storage_files_are_read_through_the_connection(loaded):
    [(files,)] = query(
        "select array_agg(distinct source_file order by source_file) from raw.files__sales "
        "where channel_id = 'partner_de'"
    )
    assert files == [f"orders_{d:%Y-%m-%d}.xlsx" for d in DAYS]
