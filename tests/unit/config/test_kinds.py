"""The registry of kinds is the one place a kind is declared: what derives from it agrees."""

import re
from pathlib import Path

from omnichannel.kinds import KINDS, extracted_streams, markdown_table, suite_path
from omnisim.kinds import ROUTE, SIMULATED, airflow_connections

DOC = Path(__file__).parents[3] / "docs" / "adding-a-channel-kind.md"


def test_the_docs_table_is_the_registry():
    text = DOC.read_text()
    table = text.split("<!-- kinds-table:start -->\n", 1)[1].split("\n<!-- kinds-table:end -->")[0]
    assert table == markdown_table()


def test_a_connector_extracts_only_what_its_kind_offers_under_its_name():
    for kind in KINDS.values():
        assert kind.streams, kind.name
        assert set(kind.streams) <= set(kind.offers), kind.name
        for name, spec in kind.streams.items():
            assert (spec.channel_kind, spec.stream) == (kind.name, name)
            assert suite_path(kind.name, name).is_file(), spec.table


def test_the_simulator_serves_every_simulated_kind_and_no_other():
    assert set(SIMULATED) == {k.name for k in KINDS.values() if k.simulated}
    for kind in SIMULATED.values():
        api = KINDS[kind.kind].source == "api"
        assert (kind.app is not None) == api and (kind.drop is not None) == (not api)
        if api:
            assert ROUTE.match(f"/{kind.prefix}/some_channel/x")["prefix"] == kind.prefix


def test_simulator_connections_cover_the_api_channels(channels):
    connections = airflow_connections(channels.channels, "http://127.0.0.1:1")
    api = [c for c in channels.channels if KINDS[c.kind].source == "api"]
    assert sorted(connections) == sorted(f"AIRFLOW_CONN_{c.connection_id.upper()}" for c in api)
    assert all(extracted_streams(c) for c in channels.channels)


def test_kind_names_appear_in_the_library_only_in_the_registry():
    """The library's top-level modules are kind-agnostic: what is per kind is the
    registry's entry or the kind's own connector. A kind named in code is a string
    (`"shopify"`); prose may say files or a shop."""
    library = DOC.parents[1] / "include" / "omnichannel"
    for path in library.glob("*.py"):
        if path.name != "kinds.py":
            text = path.read_text()
            named = [k for k in KINDS if re.search(rf"[\"']{k}[\"']", text)]
            assert named == [], path.name
