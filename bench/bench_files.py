"""Files kind: a till export of 1,000,000 lines through mapping → landing → raw, against a
plain COPY of the same file, in the same run.

The file is a European till export (`;`, decimal comma, space thousands, D/M/Y dates with
the time in a column of its own, no line numbers: they are numbered per receipt). Our path
is what an extract task does with it, less the quality gate (measured by bench_gate.py):
the files connector reads the file as a stream, maps every row (parses numbers, dates,
derives the line total, numbers the lines), COPYs it into the batch's landing partition,
then publish merges the batch into raw (typed, keyed, with history). The baseline is
PostgreSQL's own CSV COPY of the same bytes into a table of text columns: no parsing, no
mapping, nothing typed — the ceiling of getting the file into the database at all.

Our path runs in a child process, so its peak memory (ru_maxrss) is its own; it runs on a
quarter of the file first, then on all of it: a flat peak shows the file is streamed.

    .venv/bin/python bench/bench_files.py [--lines 1000000]

Uses the warehouse (embedded or OMNI_WAREHOUSE_URL): rows of channel `bench_files` in
raw.files__sales (removed after) and table bench.files_ceiling (dropped after).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from omnichannel import runtime, warehouse
from omnichannel.config import ChannelConfig
from omnichannel.files.location import LocalFolder
from omnichannel.load import ledger, publish, schema

CHANNEL = "bench_files"
DAY = date(2026, 10, 1)
HEADER = "Ticket;Date;Heure;EAN;Article;Qté;PU TTC;Remise;Montant TTC;TVA"
FEED = {
    "stream": "sales",
    "pattern": "caisse_{store}_{date:%Y%m%d}.csv",
    "format": {"type": "csv", "delimiter": ";", "decimal": ",", "thousands": " ",
               "date_format": "%d/%m/%Y", "datetime_format": "%d/%m/%Y %H:%M"},
    "columns": {
        "receipt_no": "Ticket", "store_id": {"from_name": "store"}, "business_date": "Date",
        "sold_at": {"source": ["Date", "Heure"]}, "line_no": {"number_within": ["receipt_no"]},
        "pos_code": "EAN", "description": "Article", "quantity": "Qté", "unit_price": "PU TTC",
        "discount": {"source": "Remise", "default": "0"}, "line_total": "Montant TTC",
        "vat_rate": {"source": "TVA", "parse": "percent"},
    },
}  # fmt: skip


def _eu(cents: int) -> str:
    whole, frac = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole:,}".replace(",", " ") + f",{frac:02d}"


def write_file(folder: Path, lines: int) -> Path:
    """`lines` sales lines of one store and day, 1–4 lines per receipt."""
    rng = random.Random(7)
    path = folder / f"caisse_store01_{DAY:%Y%m%d}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\r\n")
        receipt, left = 0, 0
        for _ in range(lines):
            if left == 0:
                receipt, left = receipt + 1, rng.randint(1, 4)
                at = f"{8 + receipt % 12:02d}:{receipt % 60:02d}"
            left -= 1
            price, qty = rng.randint(150, 250_000), rng.randint(1, 5)
            discount = rng.choice((0, 0, 0, 150))
            out.write(
                f"T{receipt:07d};{DAY:%d/%m/%Y};{at};{3770000000000 + rng.randrange(5000)};"
                f"Article {rng.randrange(5000)};{qty};{_eu(price)};"
                f"{_eu(discount) if discount else ''};{_eu(qty * price - discount)};20,0 %\r\n"
            )
    return path


def channel(folder: Path) -> ChannelConfig:
    return ChannelConfig(channel_id=CHANNEL, kind="files", timezone="Europe/Paris",
                         currency="EUR", start_date=DAY, landing_path=str(folder),
                         options={"feeds": [FEED]})  # fmt: skip


def clear(conn) -> None:
    for table in ("raw.files__sales", "raw.files__sales_history"):
        conn.execute(f"delete from {table} where channel_id = %s", (CHANNEL,))  # noqa: S608


def settle() -> None:
    """Each path starts without a checkpoint left over from the one before."""
    with psycopg.connect(warehouse.admin_url(), autocommit=True) as admin:
        admin.execute("checkpoint")


def our_path(folder: str, lines: int, result) -> None:
    """In a child process: read + map + land the file, then publish it into raw."""
    from omnichannel.channels.files import STREAMS, make_client
    from omnichannel.load.copy import land_page

    runtime.apply()
    spec = STREAMS["sales"]
    config = channel(Path(folder))
    client = make_client(config)
    assert isinstance(client.where, LocalFolder)
    start = datetime.combine(DAY, datetime.min.time(), config.tz).astimezone(UTC)
    interval = (start, start + timedelta(days=1))
    with warehouse.connect(autocommit=True) as conn:
        clear(conn)
        settle()
        began = time.perf_counter()
        batch_id = ledger.begin_batch(conn, CHANNEL, "sales", *interval, *interval, "bench",
                                      spec.table)  # fmt: skip
        rows = 0
        for page in client.iter_pages("sales", *interval):
            with conn.transaction():
                rows += land_page(conn, spec, batch_id, CHANNEL, page)
        ledger.set_status(conn, batch_id, "landed", pages=1, rows_received=rows)
        ledger.set_status(conn, batch_id, "gated")
        landed = time.perf_counter() - began
        published = publish.publish(conn, spec, batch_id)
        total = time.perf_counter() - began
        assert rows == lines and published.rows_published == lines, (rows, published)
        [(in_raw,)] = conn.execute(
            "select count(*) from raw.files__sales where channel_id = %s", (CHANNEL,)
        ).fetchall()
        assert in_raw == lines, in_raw
        clear(conn)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.put((landed, total, peak))


def run_ours(folder: Path, lines: int) -> tuple[float, float, float]:
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    child = spawn.Process(target=our_path, args=(str(folder), lines, queue))
    child.start()
    outcome = queue.get()
    child.join()
    assert child.exitcode == 0
    return outcome


def copy_ceiling(path: Path) -> float:
    columns = ", ".join(f"c{n} text" for n in range(HEADER.count(";") + 1))
    with warehouse.connect(autocommit=True) as conn:
        conn.execute("create schema if not exists bench")
        conn.execute("drop table if exists bench.files_ceiling")
        conn.execute(f"create table bench.files_ceiling ({columns})")
        settle()
        began = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "copy bench.files_ceiling from stdin (format csv, delimiter ';', header)"
            ) as copy,
            path.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - began
        conn.execute("drop table bench.files_ceiling")
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lines", type=int, default=1_000_000)
    args = p.parse_args()
    runtime.apply()
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        from omnichannel.channels.files import STREAMS

        schema.ensure_stream_tables(conn, STREAMS["sales"])
    print(f"till export, {args.lines:,} lines; {os.cpu_count()} cores; "
          f"warehouse {warehouse.status()['url']}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        small_dir, big_dir = Path(tmp, "quarter"), Path(tmp, "full")
        small_dir.mkdir()
        big_dir.mkdir()
        quarter = args.lines // 4
        write_file(small_dir, quarter)
        path = write_file(big_dir, args.lines)
        print(f"file: {path.stat().st_size / 1e6:.0f} MB")
        ceiling = copy_ceiling(path)
        _, _, small_peak = run_ours(small_dir, quarter)
        landed, total, peak = run_ours(big_dir, args.lines)
    n = args.lines
    print("\n| path | seconds | lines/s |\n| --- | ---: | ---: |")
    print(f"| COPY of the file into text columns (baseline) | {ceiling:.1f} | {n / ceiling:,.0f} |")
    print(f"| ours: read + map + land | {landed:.1f} | {n / landed:,.0f} |")
    print(f"| ours: read + map + land + publish into raw | {total:.1f} | {n / total:,.0f} |")
    print(f"\nours / COPY rate: {ceiling / total:.0%} (target ≥ 50%)")
    print(f"peak memory of our path: {small_peak:.0f} MB at {quarter:,} lines, "
          f"{peak:.0f} MB at {n:,} lines (target ≤ 300 MB)")  # fmt: skip


if __name__ == "__main__":
    main()
