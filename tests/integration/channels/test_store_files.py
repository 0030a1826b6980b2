"""One store file is the unit of failure: a bad file is quarantined whole with its reason, the
other stores' files of that interval and of later intervals publish, and nothing of a file's
content leaks into the ledger, alerts or quarantine reasons (real PostgreSQL, GX)."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import date, timedelta

import pytest

from omnichannel import pipeline, warehouse
from omnichannel.channels.base import Credentials
from omnichannel.pipeline import local_day_interval, run_interval
from omnisim.faults import Fault
from omnisim.files import pos_files as exports
from tests.helpers.warehouse import reset_warehouse

DAY = date(2026, 10, 2)
NO_CREDENTIALS = Credentials("")


@pytest.fixture
def store(channels, world, tmp_path):
    """pos_fr with its landing folder in tmp_path; the stores' ids; an empty warehouse."""
    reset_warehouse()
    channel = dataclasses.replace(channels.get("pos_fr"), landing_path=str(tmp_path))
    stores = [p for p in world.points if p.channel.channel_id == "pos_fr"]
    assert len(stores) >= 2
    return channel, stores


def write(channel, point, world, day: date, kind: str = "sales", change=None) -> bytes:
    """The simulator's export of one store, day and kind, changed by `change(bytes)`."""
    name = exports.file_name(kind, point.point_id, day)
    content = exports.exports(world, point.index, day)[name]
    if change:
        content = change(content)
    folder = os.path.join(channel.landing_path, point.point_id)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(content)
    return content


def run(channel, day: date, stream: str = "sales"):
    return run_interval(channel, stream, local_day_interval(channel, day), NO_CREDENTIALS)


def query(statement: str, *args):
    with warehouse.connect() as conn:
        return conn.execute(statement, args).fetchall()


def published_stores(stream: str = "sales") -> dict[str, int]:
    rows = query(f"select store_id, count(*) from raw.files__{stream} group by 1")  # noqa: S608
    return dict(rows)


def lines(content: bytes) -> int:
    return content.count(b"\n") - 1  # without the header


def quarantined_files() -> list[tuple]:
    return query(
        "select batch_id, record_key, reasons->0->>'observed' from quarantine.records "
        "where record is null order by batch_id"
    )


def balanced(batch) -> bool:
    return batch.rows_received == batch.rows_published + batch.rows_quarantined


def test_a_utf8_file_with_a_byte_order_mark_publishes(store, world):
    channel, (first, second, *_) = store
    bom = write(channel, first, world, DAY, change=lambda c: b"\xef\xbb\xbf" + c)
    plain = write(channel, second, world, DAY)
    batch = run(channel, DAY)
    assert published_stores() == {first.point_id: lines(bom), second.point_id: lines(plain)}
    assert batch.pages_quarantined == 0 and quarantined_files() == []


def test_a_cp1252_file_is_quarantined_whole_the_others_publish_and_replay_after_a_fix(store, world):
    channel, (first, second, *_) = store
    bad = write(channel, first, world, DAY, change=_cp1252_description)
    good = write(channel, second, world, DAY)
    batch = run(channel, DAY)
    assert batch.status == "published" and balanced(batch)
    assert batch.pages_quarantined == 1
    assert published_stores() == {second.point_id: lines(good)}
    [(held_in, key, reason)] = quarantined_files()
    assert held_in == batch.batch_id and first.point_id in key
    assert "line 2: not utf-8 (byte 0xe9" in reason and "format.encoding" in reason
    [(message,)] = query("select message from ops.alerts where fingerprint like 'dq:unreadable:%%'")
    assert exports.file_name("sales", first.point_id, DAY) in message

    # a later interval is not blocked (its lookback reads the old file again, not kept twice)
    later = [write(channel, p, world, DAY + timedelta(days=1)) for p in (first, second)]
    next_batch = run(channel, DAY + timedelta(days=1))
    assert next_batch.status == "published" and next_batch.pages_quarantined == 1
    assert len(quarantined_files()) == 1
    assert published_stores()[first.point_id] == lines(later[0])

    # the fix: the sales feed names the store's encoding; the replay reads the kept file again
    feeds = [
        {**f, "format": {**f["format"], "encoding": "cp1252"}} if f["stream"] == "sales" else f
        for f in channel.options["feeds"]
    ]
    fixed = dataclasses.replace(channel, options={**channel.options, "feeds": feeds})
    replayed = pipeline.replay(fixed, batch.batch_id, accept=False, by="test")
    assert replayed.rows_published == lines(bad)
    assert published_stores()[first.point_id] == lines(bad) + lines(later[0])
    assert query("select count(*) from quarantine.records where released_at is null") == [(0,)]
    [(description,)] = query(
        "select description from raw.files__sales where store_id = %s and source_line = 2 "
        "and business_date = %s",
        first.point_id,
        DAY,
    )
    assert description.startswith("caf\u00e9")


def _cp1252_description(content: bytes) -> bytes:
    header, first, rest = content.split(b"\n", 2)
    fields = first.split(b";")
    fields[6] = "caf\u00e9 ".encode("cp1252") + fields[6]
    return b"\n".join((header, b";".join(fields), rest))


def test_an_identical_resent_file_loads_once_and_a_corrected_file_replaces_with_history(
    store, world, tmp_path
):
    channel, (first, second, *_) = store
    # the simulator's resent_file fault: the same export again as ..._resent.csv
    written = exports.drop(
        world,
        first.channel,
        tmp_path,
        local_day_interval(channel, DAY).end + timedelta(hours=6),
        [Fault("pos_fr", "resent_file", day=DAY.isoformat())],
    )
    resent = [p for p in written if p.name.startswith("sales_") and p.name.endswith("_resent.csv")]
    assert resent
    batch = run(channel, DAY)
    assert batch.status == "published" and balanced(batch) and batch.rows_quarantined == 0
    assert batch.rows_duplicate == sum(lines(p.read_bytes()) for p in resent)  # loaded once
    before = query("select count(*) from raw.files__sales_history")
    assert before == [(0,)]

    # a corrected export of one store: one line's description changed
    def corrected(content: bytes) -> bytes:
        header, line, rest = content.split(b"\n", 2)
        fields = line.split(b";")
        fields[6] = b"Corrected title"
        return b"\n".join((header, b";".join(fields), rest))

    fixed = write(channel, first, world, DAY, change=corrected)
    os.remove(os.path.join(channel.landing_path, first.point_id, exports.file_name(
        "sales", first.point_id, DAY, resent=True
    )))  # fmt: skip
    again = run(channel, DAY)
    assert again.status == "published" and again.rows_quarantined == 0
    line = fixed.split(b"\n")[1].split(b";")
    [(title,)] = query(
        "select description from raw.files__sales where store_id = %s "
        "and receipt_no = %s and line_no = %s",
        first.point_id,
        line[0].decode(),
        int(line[4]),
    )
    assert title == "Corrected title"
    assert query("select count(*) from raw.files__sales_history") == [(1,)]


def test_a_footfall_file_of_the_day_clocks_go_back_keeps_both_hours_2(store, world):
    channel, (first, *_) = store
    fall_back = date(2026, 10, 25)  # Europe/Paris: 03:00 CEST → 02:00 CET
    rows = [f"{first.point_id};{fall_back};{h};{10 + h}" for h in (0, 1, 2, 2, 3)]
    content = ("store_id;business_date;hour;visitors\n" + "\n".join(rows) + "\n").encode()
    folder = os.path.join(channel.landing_path, first.point_id)
    os.makedirs(folder)
    with open(
        os.path.join(folder, exports.file_name("footfall", first.point_id, fall_back)), "wb"
    ) as f:
        f.write(content)
    batch = run(channel, fall_back, "footfall")
    assert batch.status == "published" and batch.rows_quarantined == 0
    assert query(
        "select hour, fold, visitors from raw.files__footfall where hour = 2 order by fold"
    ) == [(2, 0, 12), (2, 1, 12)]


def test_an_over_long_line_and_a_cut_off_file_are_quarantined_with_file_and_line(store, world):
    channel, (first, second, *_) = store
    small = dataclasses.replace(channel, options={**channel.options, "max_line_bytes": "400"})

    def long_line(content: bytes) -> bytes:
        header, line, rest = content.split(b"\n", 2)
        fields = line.split(b";")
        fields[6] = b"x" * 500
        return b"\n".join((header, rest, b";".join(fields))) + b"\n"

    write(channel, first, world, DAY, change=lambda c: long_line(c).rstrip(b"\n") + b"\n")
    write(channel, second, world, DAY, change=lambda c: c[: len(c) * 2 // 3])  # corrupt_file
    batch = run(small, DAY)
    assert batch.status == "published" and batch.pages_quarantined == 2
    reasons = sorted(r for _, _, r in quarantined_files())
    assert any("cut off (no final line end)" in r for r in reasons)
    assert any("longer than 400 bytes" in r and "line " in r for r in reasons)


def test_a_symlink_is_not_followed_and_no_content_leaks(store, world, tmp_path_factory):
    channel, (first, second, *_) = store
    secret = tmp_path_factory.mktemp("secrets") / "warehouse-password"
    secret.write_text("store_id;hunter2-SECRET\n")
    os.makedirs(os.path.join(channel.landing_path, first.point_id))
    link = os.path.join(channel.landing_path, first.point_id, exports.file_name(
        "sales", first.point_id, DAY
    ))  # fmt: skip
    os.symlink(secret, link)
    good = write(channel, second, world, DAY)
    batch = run(channel, DAY)
    assert batch.status == "published" and batch.pages_quarantined == 1
    assert published_stores() == {second.point_id: lines(good)}
    [(_, _, reason)] = quarantined_files()
    assert "not opened" in reason or "symbolic link" in reason or "not a regular file" in reason
    everything = json.dumps(
        query("select to_jsonb(q) from quarantine.records q")
        + query("select to_jsonb(a) from ops.alerts a")
        + query("select to_jsonb(b) from ops.load_batches b")
        + query("select to_jsonb(r) from ops.dq_results r"),
        default=str,
    )
    assert "hunter2" not in everything


def test_wrong_columns_name_what_is_missing_with_only_an_escaped_excerpt(store, world):
    channel, (first, *_) = store
    write(
        channel,
        first,
        world,
        DAY,
        change=lambda c: (
            b"root:x:0:0:root:/root:/bin/bash\x1b[31m" * 3 + b"\n" + c.split(b"\n", 1)[1]
        ),
    )
    run(channel, DAY)
    [(_, _, reason)] = quarantined_files()
    assert "header: no column 'receipt_no' (mapped to receipt_no)" in reason
    assert "/bin/bash" not in reason and "\x1b" not in reason  # cut at 20 characters, escaped


def test_nan_in_a_csv_amount_is_quarantined_by_a_named_expectation(store, world):
    channel, (first, *_) = store

    def nan_price(content: bytes) -> bytes:
        header, line, rest = content.split(b"\n", 2)
        fields = line.split(b";")
        fields[8] = b"NaN"
        return b"\n".join((header, b";".join(fields), rest))

    content = write(channel, first, world, DAY, change=nan_price)
    batch = run(channel, DAY)
    assert batch.rows_quarantined == 1 and batch.rows_published == lines(content) - 1
    [(reasons,)] = query("select reasons from quarantine.records")
    named = [r for r in reasons if r["column"] == "unit_price__unparsed"]
    assert named and named[0]["observed"] == "'NaN': not a number"
    assert query("select count(*) from raw.files__sales where unit_price = 'NaN'") == [(0,)]


def test_a_line_dropped_from_a_corrected_export_is_marked_deleted(store, world):
    channel, (first, second, *_) = store
    content = write(channel, first, world, DAY)
    write(channel, second, world, DAY)
    run(channel, DAY)
    header, dropped, rest = content.split(b"\n", 2)
    receipt, line_no = dropped.split(b";")[0].decode(), int(dropped.split(b";")[4])

    def deleted() -> list:
        return query(
            "select deleted_at is not null from raw.files__sales "
            "where store_id = %s and receipt_no = %s and line_no = %s",
            first.point_id,
            receipt,
            line_no,
        )

    # the store re-sends its day without that line: in the same batch as the original
    resent = os.path.join(channel.landing_path, first.point_id, exports.file_name(
        "sales", first.point_id, DAY, resent=True
    ))  # fmt: skip
    with open(resent, "wb") as handle:
        handle.write(header + b"\n" + rest)
    batch = run(channel, DAY)
    assert batch.rows_deleted == 1 and deleted() == [(True,)]
    # the first store's other lines and the other store's day stay live
    live = dict(
        query("select store_id, count(*) from raw.files__sales where deleted_at is null group by 1")
    )
    assert live == {first.point_id: lines(content) - 1, second.point_id: live[second.point_id]}
    assert query("select count(*) from raw.files__sales where deleted_at is not null") == [(1,)]
