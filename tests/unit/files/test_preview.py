"""`omni files preview`: how a file maps for a configured channel, before any run."""

from __future__ import annotations

from omnichannel.cli import main

HEADER = (
    "receipt_no;store_id;business_date;sold_at;line_no;pos_code;description;quantity;"
    "unit_price;discount;line_total;vat_rate;vat_amount;currency;loyalty_email;return_of\n"
)
GOOD = "R1;paris01;2026-10-25;2026-10-25 14:05:00;1;3770001;Pull;2;49.90;0;99.80;0.20;16.63;EUR;;\n"
BAD = (
    "R2;paris01;2026-10-25;2026-10-25 15:00:00;1;3770002;Echarpe;two;19.50;0;NaN;0.20;3.25;EUR;;\n"
)


def test_preview_shows_the_mapped_rows_and_what_would_be_quarantined(tmp_path, capsys):
    path = tmp_path / "sales_paris01_20261025.csv"
    path.write_text(HEADER + GOOD + BAD)
    assert main(["files", "preview", "pos_fr", str(path), "--rows", "1"]) == 0
    out = capsys.readouterr().out
    assert "feed 0 (stream sales): 2 rows" in out
    assert "sold_at          2026-10-25T14:05:00" in out  # the store's wall time, typed
    assert "line 3, quantity (from quantity): 'two': not a number" in out
    assert "line 3, line_total (from line_total): 'NaN': not a number" in out
    assert "R2" not in out.split("would send")[0]  # one row shown, as asked


def test_preview_of_a_file_no_feed_reads_or_that_cannot_be_read(tmp_path, capsys):
    other = tmp_path / "inventory.csv"
    other.write_text("a;b\n1;2\n")
    assert main(["files", "preview", "pos_fr", str(other)]) == 1
    assert "matches no feed's pattern" in capsys.readouterr().out
    cut = tmp_path / "sales_paris01_20261025.csv"
    cut.write_text(HEADER + GOOD[:30])
    assert main(["files", "preview", "pos_fr", str(cut)]) == 1
    assert "cut off (no final line end)" in capsys.readouterr().out
