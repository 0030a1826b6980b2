"""The reader streams: its memory does not grow with the file."""

from __future__ import annotations

import tracemalloc

from omnichannel.files.formats import Format
from omnichannel.files.reader import rows

FORMAT = Format(type="csv", delimiter=";", decimal=",")


def _peak_reading(path, lines: int) -> int:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("Ticket;Date;EAN;Qté;Prix\r\n")
        for n in range(lines):
            out.write(f"T{n};25/10/2026;3770{n % 997:09d};{n % 7 + 1};{n % 500},{n % 100:02d}\r\n")
    tracemalloc.start()
    try:
        with path.open("rb") as handle:
            count = sum(1 for row in rows(handle, FORMAT, path.name) if row.problem is None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == lines
    return peak


def test_memory_stays_flat_as_the_file_grows(tmp_path):
    small = _peak_reading(tmp_path / "small.csv", 5_000)
    large = _peak_reading(tmp_path / "large.csv", 100_000)  # 20 times the lines
    assert large < small * 1.5 + 256 * 1024, (small, large)
