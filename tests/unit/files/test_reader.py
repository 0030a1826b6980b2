"""The reader streams: its memory does not grow with the file."""

from __future__ import annotations

import io
import re
import tracemalloc

import pytest

from omnichannel.files.formats import Format
from omnichannel.files.reader import FileProblem, Limits, rows

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


@pytest.mark.parametrize(
    ("content", "limits", "says"),
    [
        (b"a;b\n1;2\n3;", Limits(), "file f.csv, line 3: cut off (no final line end)"),
        (b"a;b\n1;" + b"x" * 500 + b"\n", Limits(max_line_bytes=400),
         "file f.csv, line 2: longer than 400 bytes (options.max_line_bytes)"),
        (b"a;b\n1;2\n", Limits(max_file_bytes=5), "8 bytes, over the limit of 5"),
        (b"a;b;A\n1;2;3\n", Limits(), "column 'a' twice"),
        (b"a;b\n\xe9;2\n", Limits(), "line 2: not utf-8"),
    ],
)  # fmt: skip
def test_what_fails_a_whole_file(content, limits, says):
    with pytest.raises(FileProblem, match=re.escape(says)):
        list(rows(io.BytesIO(content), FORMAT, "f.csv", limits))


def test_crlf_and_cr_line_ends_and_quoted_line_breaks():
    content = b'a;b\r\n1;"two\r\nlines"\r\n3;4\r\n'
    got = [(r.line, r.cells) for r in rows(io.BytesIO(content), FORMAT, "f.csv")]
    assert got == [(3, {"a": "1", "b": "two\r\nlines"}), (4, {"a": "3", "b": "4"})]
