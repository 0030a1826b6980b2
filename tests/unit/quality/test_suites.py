"""The suite files: one per stream, well-formed for the gate's frame."""

from __future__ import annotations

import pytest

from omnichannel.kinds import KINDS, SUITES_DIR
from omnichannel.quality.gate import frame_columns, gx_suite, load_suite

# every stream a connector extracts
STREAMS = [spec for kind in KINDS.values() for spec in kind.streams.values()]


def test_one_suite_per_stream():
    names = {p.stem for p in SUITES_DIR.glob("*.json")}
    assert names == {spec.table for spec in STREAMS}


@pytest.mark.parametrize("spec", STREAMS, ids=lambda s: s.table)
def test_expectations_name_columns_of_the_frame_once_each(spec):
    suite = load_suite(spec)
    known = set(frame_columns(spec)) | set(suite.derived)
    seen = set()
    for item in suite.expectations:
        column = item["kwargs"].get("column")
        assert column is None or column in known, f"{spec.table}: unknown column {column}"
        # GX keeps one expectation per type and column: a second one would silently replace it
        assert (item["type"], column) not in seen, f"{spec.table}: {item['type']}({column}) twice"
        seen.add((item["type"], column))
    assert len(gx_suite(suite).expectations) == len(suite.expectations)


@pytest.mark.parametrize("spec", STREAMS, ids=lambda s: s.table)
def test_keys_and_required_columns_are_checked_for_null(spec):
    suite = load_suite(spec)
    checked = {
        item["kwargs"]["column"]
        for item in suite.expectations
        if item["type"] == "expect_column_values_to_not_be_null"
    }
    required = {c.name for c in spec.columns if not c.nullable} | set(spec.key)
    assert required <= checked
