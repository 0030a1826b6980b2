"""The quality gate: run a stream's Great Expectations suite on one landed batch.

GX Core is called from the library (the Airflow GX provider cannot be installed beside
Airflow 3.3). Suites are JSON files under quality/suites/, one per <channel>__<stream>;
values that depend on the channel instance come in as suite parameters.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import psycopg
from psycopg import sql

from omnichannel.load.schema import landing_partition
from omnichannel.streams import StreamSpec

SUITES_DIR = Path(__file__).with_name("suites")


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    unexpected_count: int | None
    observed: object

    def as_reason(self) -> dict:
        return {
            "expectation": self.expectation,
            "column": self.column,
            "unexpected_count": self.unexpected_count,
            "observed": self.observed,
        }


@dataclass(frozen=True)
class GateResult:
    suite: str
    success: bool
    evaluated: int
    failures: list[Failure] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{f.expectation}({f.column or 'table'}): {f.unexpected_count} unexpected, "
            f"e.g. {f.observed!r}"
            for f in self.failures
        ]
        return "; ".join(parts)


@cache
def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


def _context():
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # metric progress bars flood task logs
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def load_suite(name: str):
    gx = _gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    path = SUITES_DIR / f"{name}.json"
    document = json.loads(path.read_text())
    suite = gx.ExpectationSuite(name=document["name"], meta=document.get("meta") or {})
    for item in document["expectations"]:
        suite.add_expectation_configuration(
            ExpectationConfiguration(type=item["type"], kwargs=item["kwargs"])
        )
    return suite


def validate_frame(spec: StreamSpec, frame: pd.DataFrame, parameters: dict) -> GateResult:
    context = _context()
    suite = context.suites.add(load_suite(spec.table))
    asset = context.data_sources.add_pandas("landing").add_dataframe_asset(spec.table)
    batch = asset.add_batch_definition_whole_dataframe("batch").get_batch(
        batch_parameters={"dataframe": frame}
    )
    result = batch.validate(suite, result_format="SUMMARY", expectation_parameters=parameters)
    failures = []
    for item in result.results:
        if item.success:
            continue
        details = item.result or {}
        observed = details.get("partial_unexpected_list", details.get("observed_value"))
        if item.exception_info and item.exception_info.get("raised_exception"):
            observed = item.exception_info.get("exception_message")
        failures.append(
            Failure(
                item.expectation_config.type,
                item.expectation_config.kwargs.get("column"),
                details.get("unexpected_count"),
                _jsonable(observed),
            )
        )
    return GateResult(spec.table, bool(result.success), len(result.results), failures)


def _jsonable(value):
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def landed_frame(conn: psycopg.Connection, spec: StreamSpec, batch_id: int) -> pd.DataFrame:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in spec.column_names)
    rows = conn.execute(
        sql.SQL("select {} from {}").format(columns, landing_partition(spec.table, batch_id))
    ).fetchall()
    return pd.DataFrame(rows, columns=list(spec.column_names), dtype="object")


def record_results(conn: psycopg.Connection, batch_id: int, result: GateResult) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(
            "copy ops.dq_results (batch_id, suite, expectation, column_name, success, "
            "unexpected_count, observed) from stdin"
        ) as copy,
    ):
        copy.write_row(
            (
                batch_id,
                result.suite,
                "suite",
                None,
                result.success,
                None,
                json.dumps({"evaluated": result.evaluated, "failed": len(result.failures)}),
            )
        )
        for failure in result.failures:
            copy.write_row(
                (
                    batch_id,
                    result.suite,
                    failure.expectation,
                    failure.column,
                    False,
                    failure.unexpected_count,
                    json.dumps(failure.observed),
                )
            )
