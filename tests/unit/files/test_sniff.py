"""`omni files sniff`: a proposal for an unseen export that, with the columns it could not
know added, maps the file."""

from __future__ import annotations

import io

import yaml

from omnichannel.channels.files import STREAMS
from omnichannel.cli import main
from omnichannel.files.formats import Feed
from omnichannel.files.mapping import DERIVED, Mapper, check_feed
from omnichannel.files.reader import rows

SALES = STREAMS["sales"]
TILL = (
    "\ufeffTicket;Date;Heure;Ligne;EAN;Libellé;Qté;PU TTC;Remise;TVA\r\n"
    "T1;25/10/2026;14:05;1;3770001;Pull laine;2;1 049,90;;20 %\r\n"
    "T2;26/10/2026;10:00;1;3770002;Écharpe;1;19,50;2,00;20%\r\n"
)


def test_sniff_proposes_a_feed_that_maps_the_file(tmp_path, capsys):
    path = tmp_path / "items_20261025.csv"
    path.write_bytes(TILL.encode())
    assert main(["files", "sniff", str(path)]) == 0
    proposal = capsys.readouterr().out
    assert "dates read as %d/%m/%Y" in proposal  # the ambiguity is said
    [feed] = yaml.safe_load(proposal)["feeds"]
    assert feed["format"] == {
        "type": "csv", "encoding": "utf-8", "delimiter": ";", "decimal": ",",
        "thousands": " ", "date_format": "%d/%m/%Y", "datetime_format": "%d/%m/%Y %H:%M",
    }  # fmt: skip
    assert feed["columns"]["sold_at"] == {"source": ["date", "heure"]}
    assert feed["columns"]["vat_rate"] == {"source": "tva", "parse": "percent"}
    # what it could not know: the store (here a constant); the rest is derived
    feed["columns"]["store_id"] = {"constant": "paris01"}
    parsed = Feed.model_validate(feed)
    check_feed(parsed, SALES, "feeds[0]")
    mapper = Mapper(parsed, SALES, timezone="Europe/Paris", currency="EUR", name=path.name,
                    name_values={})  # fmt: skip
    mapped = [mapper.map(r) for r in rows(io.BytesIO(path.read_bytes()), parsed.format, "x")]
    assert all(m.ok for m in mapped)
    assert [m.record["line_total"] for m in mapped] == ["2099.80", "17.50"]
    assert mapped[0].record["sold_at"] == "2026-10-25T14:05:00"


def test_sniff_of_an_erp_export_in_cp1252_with_us_numbers(tmp_path, capsys):
    path = tmp_path / "invoices.csv"
    path.write_bytes(
        "Document No,Posting Date,Item No,Description,Quantity,Amount\r\n"
        'INV-1,3/17/2026,A-1,Caf\xe9 cr\xe8me,2,"1,706.00"\r\n'.encode("latin-1")
    )
    assert main(["files", "sniff", str(path)]) == 0
    [feed] = yaml.safe_load(capsys.readouterr().out.split("\n", 0)[0])["feeds"]
    assert feed["format"]["encoding"] == "cp1252"
    assert feed["format"]["thousands"] == "," and feed["format"]["date_format"] == "%m/%d/%Y"
    assert feed["columns"]["receipt_no"] == "document no"
    assert feed["columns"]["line_total"] == "amount"
    assert [c for c in SALES.columns if c.name not in DERIVED]  # the stream has columns
