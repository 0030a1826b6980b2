"""Files of three layouts mapped onto the store sales stream: a till's item export (BOM,
CRLF, `;`, decimal comma), an ERP's invoice lines (US money styles, M/D/YYYY, credit notes
by prefix, no line numbers) and a wholesale order file as XLSX and JSON lines."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from pydantic import ValidationError

from omnichannel.channels.files import STREAMS
from omnichannel.files.formats import Feed
from omnichannel.files.mapping import FeedError, Mapper, check_feed
from omnichannel.files.reader import FileProblem, normalise, rows

SALES = STREAMS["sales"]

TILL = Feed.model_validate(
    {
        "stream": "sales",
        "pattern": "{store}/items_{date:%Y%m%d}.csv",
        "format": {"type": "csv", "delimiter": ";", "decimal": ",", "thousands": " ",
                   "date_format": "%d/%m/%Y", "datetime_format": "%d/%m/%Y %H:%M"},
        "columns": {
            "receipt_no": "Ticket",
            "store_id": {"from_name": "store"},
            "business_date": "Date",
            "sold_at": {"source": ["Date", "Heure"]},
            "line_no": "Ligne",
            "pos_code": "EAN",
            "description": "Libellé",
            "quantity": "Qté",
            "unit_price": "PU TTC",
            "discount": {"source": "Remise", "default": "0"},
            "vat_rate": {"source": "TVA", "parse": "percent"},
        },
    }
)  # fmt: skip

ERP = Feed.model_validate(
    {
        "stream": "sales",
        "pattern": "invoices_*.csv",
        "format": {"type": "csv", "thousands": ",", "date_format": "%m/%d/%Y",
                   "datetime_format": "%m/%d/%Y", "currency": "USD"},
        "columns": {
            "receipt_no": {"source": "Document No"},
            "store_id": {"constant": "wholesale_us"},
            "business_date": "Posting Date",
            "sold_at": "Posting Date",
            "line_no": {"number_within": ["receipt_no"]},
            "pos_code": "Item No",
            "quantity": {"source": "Quantity",
                         "negate_when": {"source": "Document No", "prefix": "C"}},
            "line_total": {"source": "Amount",
                           "negate_when": {"source": "Document No", "prefix": "C"}},
            "return_of": {"source": "Applies-to Doc", "strip_prefix": ""},
        },
    }
)  # fmt: skip


def _map(feed: Feed, content: bytes, name: str = "f.csv", **name_values) -> tuple[list, list]:
    mapper = Mapper(feed, SALES, timezone="Europe/Paris", currency="EUR", name=name,
                    name_values=name_values)  # fmt: skip
    good, bad, header_checked = [], [], False
    for row in rows(io.BytesIO(content), feed.format, name):
        if not header_checked:
            mapper.check_header(set(row.cells) if not row.problem else set())
            header_checked = True
        mapped = mapper.map(row)
        (good if mapped.ok else bad).append(mapped)
    return good, bad


def test_a_tills_export_with_bom_crlf_and_decimal_comma():
    content = (
        "\ufeffTicket;Date;Heure;Ligne;EAN;Libellé;Qté;PU TTC;Remise;TVA\r\n"
        "T1;25/10/2026;14:05;1;3770001;Pull laine;2;1 049,90;;20 %\r\n"
        "T1;25/10/2026;14:05;2;3770002;Écharpe;-1;19,50;2,00;20%\r\n"
    ).encode()
    good, bad = _map(TILL, content, store="paris01")
    assert bad == []
    first, second = (m.record for m in good)
    assert first["store_id"] == "paris01" and first["business_date"] == "2026-10-25"
    assert first["sold_at"] == "2026-10-25T14:05:00"  # the store's wall time
    assert first["unit_price"] == "1049.90" and first["discount"] == "0"
    assert first["line_total"] == "2099.80" and first["currency"] == "EUR"
    assert first["vat_rate"] == "0.2" and first["description"] == "Pull laine"
    assert second["quantity"] == "-1" and second["line_total"] == "-21.50"
    assert [m.line for m in good] == [2, 3]


def test_an_erp_export_with_us_money_credit_notes_and_no_line_numbers():
    content = (
        b"Document No,Posting Date,Item No,Quantity,Amount,Applies-to Doc\n"
        b'INV-1,3/7/2026,A-1,2,"$1,706.00",\n'
        b"INV-1,3/7/2026,A-2,1,(12.50),\n"
        b"C-77,3/9/2026,A-1,1,$853.00,INV-1\n"
    )
    good, bad = _map(ERP, content)
    assert bad == []
    records = [m.record for m in good]
    assert [r["line_no"] for r in records] == ["1", "2", "1"]
    assert records[0]["line_total"] == "1706.00" and records[0]["unit_price"] == "853.00"
    assert records[1]["line_total"] == "-12.50"
    assert records[0]["business_date"] == "2026-03-07" and records[0]["currency"] == "USD"
    credit = records[2]
    assert credit["quantity"] == "-1" and credit["line_total"] == "-853.00"
    assert credit["return_of"] == "INV-1"


def test_a_bad_value_marks_its_row_with_file_line_column_and_value():
    content = (
        "Document No,Posting Date,Item No,Quantity,Amount,Applies-to Doc\n"
        "INV-1,13/45/2026,A-1,2,$10.00,\n"
        "INV-2,3/7/2026,A-1,two,€10.00,\n"
        "INV-3,3/7/2026,A-1,1,$10.00\n"
    ).encode()
    good, bad = _map(ERP, content, name="invoices_0307.csv")
    assert good == []
    problems = [(p["line"], p["column"], p["value"]) for m in bad for p in m.problems]
    assert (2, "business_date", "13/45/2026") in problems
    assert (3, "quantity", "two") in problems and (3, "line_total", "€10.00") in problems
    assert bad[1].problems[-1]["reason"].endswith("the file's currency is USD")
    assert bad[2].problems == [
        {"file": "invoices_0307.csv", "line": 4, "column": None, "source": None, "value": None,
         "reason": "5 fields, the header has 6"}
    ]  # fmt: skip


def test_a_missing_column_fails_the_file_naming_it():
    content = b"Document No,Posting Date,Item No,Qty,Amount,Applies-to Doc\nINV-1,3/7/2026,A,1,1,\n"
    with pytest.raises(FileProblem, match=r"no column 'Quantity' \(mapped to quantity\)"):
        _map(ERP, content)


def test_a_wholesale_order_file_as_xlsx_and_as_json_lines():
    from openpyxl import Workbook

    feed = {
        "stream": "sales", "pattern": "orders_{date:%Y-%m-%d}.xlsx",
        "format": {"type": "xlsx", "sheet": "Lines", "skip_rows": 2, "currency": "GBP",
                   "timezone": "Europe/London"},
        "columns": {
            "receipt_no": "Order", "store_id": {"constant": "wholesale_uk"},
            "business_date": "Order date", "sold_at": "Order date",
            "line_no": "Line", "pos_code": "Barcode", "quantity": "Units",
            "unit_price": "Unit price",
        },
    }  # fmt: skip
    book = Workbook()
    sheet = book.active
    sheet.title = "Lines"
    sheet.append(["Wholesale orders export"])
    sheet.append([])
    sheet.append(["Order", "Order date", "Line", "Barcode", "Units", "Unit price"])
    sheet.append(["W-1", datetime(2026, 10, 2, 9, 30), 1, "3770001", 12, 8.5])
    buffer = io.BytesIO()
    book.save(buffer)
    good, bad = _map(Feed.model_validate(feed), buffer.getvalue(), name="orders.xlsx")
    assert bad == [] and len(good) == 1
    record = good[0].record
    assert record["business_date"] == "2026-10-02" and record["sold_at"] == "2026-10-02T09:30:00"
    assert record["line_total"] == "102.00" and record["currency"] == "GBP"
    assert good[0].line == 4  # the sheet's row

    feed["format"] = {"type": "jsonl", "currency": "GBP", "timezone": "Europe/London"}
    lines = [
        {"Order": "W-1", "Order date": "2026-10-02T09:30:00+00:00", "Line": 1,
         "Barcode": "3770001", "Units": 12, "Unit price": 8.5},
        "not json",
    ]  # fmt: skip
    content = "".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines).encode()
    good, bad = _map(Feed.model_validate(feed), content, name="orders.jsonl")
    assert good[0].record["line_total"] == "102.00"
    assert good[0].record["sold_at"] == "2026-10-02T10:30:00"  # UTC moved to London's BST
    assert bad[0].problems[0]["reason"].startswith("not JSON")


def test_config_errors_name_the_feed_and_key():
    with pytest.raises(FeedError, match=r"feeds\[0\].columns.qty: not a column of stream sales"):
        extra = {**TILL.columns, "qty": TILL.columns["quantity"]}
        check_feed(TILL.model_copy(update={"columns": extra}), SALES, "feeds[0]")
    without = {k: v for k, v in TILL.columns.items() if k != "pos_code"}
    with pytest.raises(FeedError, match=r"feeds\[1\]: stream sales needs one of pos_code, sku"):
        check_feed(TILL.model_copy(update={"columns": without}), SALES, "feeds[1]")
    by_sku = {**without, "sku": TILL.columns["pos_code"]}
    check_feed(TILL.model_copy(update={"columns": by_sku}), SALES, "feeds[1]")
    without = {k: v for k, v in TILL.columns.items() if k != "quantity"}
    with pytest.raises(FeedError, match=r"needs quantity, line_total mapped"):
        check_feed(TILL.model_copy(update={"columns": without}), SALES, "feeds[1]")
    # a file of many days: its rows give the day, the date in its name is when it was sent
    spec = TILL.model_dump(exclude_none=True)
    dated = {**spec["columns"], "business_date": {"from_name": "date"}}
    many = Feed.model_validate({**spec, "columns": dated, "period": "many_days"})
    with pytest.raises(FeedError, match=r"columns.business_date: a file of period many_days"):
        check_feed(many, SALES, "feeds[2]")
    check_feed(TILL, SALES, "feeds[0]")
    check_feed(ERP, SALES, "feeds[1]")
    bad_format = {**TILL.model_dump(), "format": {"type": "csv", "date_format": "%Y-%m-%"}}
    with pytest.raises(ValidationError, match="not a date format that round-trips"):
        Feed.model_validate(bad_format)
    with pytest.raises(ValidationError, match="exactly one of source, constant"):
        Feed.model_validate({**ERP.model_dump(), "columns": {"receipt_no": {"constant": "x",
                             "source": "y"}}})  # fmt: skip


def test_a_line_by_sku_maps_and_a_line_naming_no_item_is_a_problem():
    spec = ERP.model_dump(exclude_none=True)
    columns = {k: v for k, v in spec["columns"].items() if k != "pos_code"}
    by_sku = Feed.model_validate({**spec, "columns": {**columns, "sku": "Item No"}})
    content = (
        b"Document No,Posting Date,Item No,Quantity,Amount,Applies-to Doc\n"
        b"INV-1,3/7/2026,SKU-1,2,$10.00,\n"
        b"INV-1,3/7/2026,,1,$5.00,\n"
    )
    good, bad = _map(by_sku, content)
    assert good[0].record["sku"] == "SKU-1" and "pos_code" not in good[0].record
    [problem] = bad[0].problems
    assert problem["line"] == 3 and problem["column"] == "pos_code"
    assert problem["reason"] == "empty: a row needs one of pos_code, sku"


def test_file_name_patterns():
    pattern = TILL.name_pattern()
    match = pattern.match("paris01/items_20261025.csv")
    assert match["store"] == "paris01" and match["date"] == "20261025"
    assert pattern.match("paris01/items_2026102.csv") is None
    assert normalise("  Unit   PRICE ") == "unit price"
