"""The dbt project as its manifest describes it: conventions a reviewer would check by hand."""

import json

import pytest

from omnichannel import runtime


@pytest.fixture(scope="module")
def manifest():
    return json.loads(runtime.dbt_parse().read_text())


def models(manifest):
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_every_model_and_column_is_described(manifest):
    for model in models(manifest):
        assert model["description"].strip(), model["name"]
        assert model["columns"], f"{model['name']}: no columns documented"
        for name, column in model["columns"].items():
            assert column["description"].strip(), f"{model['name']}.{name}"


def test_models_follow_the_layer_naming_and_schemas(manifest):
    # health_: views of the ops tables in marts, for bi_reader (the Data health dashboard)
    prefixes = {
        "staging": ("stg_",),
        "intermediate": ("int_",),
        "marts": ("fct_", "dim_", "mart_", "health_"),
    }
    for model in models(manifest):
        layer = model["fqn"][1]
        assert model["name"].startswith(prefixes[layer]), model["name"]
        assert model["schema"] == layer, model["name"]
        if model["name"].startswith("health_"):
            assert model["fqn"][2] == "health", model["name"]
            assert model["config"]["materialized"] == "view", model["name"]


def test_only_staging_reads_sources_and_staging_reads_nothing_else(manifest):
    # staging renames and casts one source; joins (the channel's time zone, which store a
    # web analytics property measures) belong to the intermediate areas
    for model in models(manifest):
        upstream = model["depends_on"]["nodes"]
        reads = {node.split(".")[0] for node in upstream}
        if model["fqn"][1] == "staging":
            assert reads <= {"source"}, f"{model['name']} reads {sorted(upstream)}"
        else:
            assert "source" not in reads, f"{model['name']} reads a source: {sorted(upstream)}"


def test_the_large_facts_are_incremental_and_the_kpis_have_known_answer_tests(manifest):
    config = {m["name"]: m["config"]["materialized"] for m in models(manifest)}
    assert config["fct_order_lines"] == config["fct_inventory_daily"] == "incremental"
    assert {k for k, v in config.items() if k.startswith("mart_")} <= {
        k for k, v in config.items() if v == "table"
    }
    tested = {u["model"] for u in manifest["unit_tests"].values()}
    assert {
        "mart_customer_rfm",
        "mart_customer_cohorts",
        "mart_inventory_health",
        "mart_channel_daily_kpis",
        "mart_promotion_effect",
        "mart_replenishment_plan",
        "fct_sales_daily",
    } <= tested


def test_the_semantic_layer_defines_the_headline_kpis(manifest):
    metrics = {m["name"] for m in manifest["metrics"].values()}
    assert {"gmv", "net_revenue", "orders", "aov", "sessions", "conversion_rate"} <= metrics
    semantic = {m["name"] for m in manifest["semantic_models"].values()}
    assert {"orders", "traffic"} <= semantic
