"""The quality gate: run a stream's Great Expectations suite on one landed batch.

GX Core is called from the library (the Airflow GX provider cannot be installed beside
Airflow 3.3). Suites are JSON files under quality/suites/, one per <channel>__<stream>.

The frame a suite sees, per landed row:
- `page_no`, `record_no`: where the row was received (its identity in the batch);
- every column of the stream as received (text);
- for every column of another type, `<column>__typed` (the value, parsed exactly as
  publish will cast it, numbers as floats) and `<column>__unparsed` (the text when it does
  not parse, else null);
- `version_conflict`: true when the batch holds the same version (key and cursor) of the
  record with another content (an exact copy is not a conflict: it collapses on publish;
  for file streams only inside one file, since a later file replaces an earlier one);
- the suite's derived columns: SQL expressions in the suite's `meta.derived`, over the
  row, its typed columns and its `payload`, with the gate parameters as %(name)s.

Expectations on table shape or size (`expect_table_*`, or `meta.severity: batch`) are
batch-level: a failure holds the whole batch. Every other expectation is row-level: the
rows it flags go to quarantine with the expectation and the observed value, and the rest
publishes unless the bad rows exceed the stream's `max_bad_share`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

import pandas as pd
import psycopg
from psycopg import sql

from omnichannel.alerts.record import fingerprint
from omnichannel.kinds import suite_path
from omnichannel.load.schema import landing_partition
from omnichannel.streams import StreamSpec

IDENTITY = ("page_no", "record_no")
EXAMPLES = 20  # observed values kept per failed expectation


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    expectations: list[dict]
    derived: dict[str, str]


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    severity: str  # "row" or "batch"
    unexpected_count: int | None
    observed: object
    element_count: int | None = None

    @property
    def label(self) -> str:
        return f"{self.expectation}({self.column or 'table'})"

    def as_reason(self) -> dict:
        return {
            "expectation": self.expectation,
            "column": self.column,
            "severity": self.severity,
            "unexpected_count": self.unexpected_count,
            "observed": self.observed,
        }


@dataclass
class GateResult:
    suite: str
    evaluated: int
    rows: int
    failures: list[Failure] = field(default_factory=list)
    # (page_no, record_no) → the row-level failures of that row
    bad_rows: dict[tuple[int, int], list[dict]] = field(default_factory=dict)
    seconds: float = 0.0
    volume_band: tuple[int | None, int | None] = (None, None)  # rows expected (None: no band)
    document: dict = field(default_factory=dict)  # the GX result, for Data Docs (trimmed)

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def batch_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "batch"]

    @property
    def bad_share(self) -> float:
        return len(self.bad_rows) / self.rows if self.rows else 0.0

    @property
    def volume_high(self) -> bool:
        """More rows than the volume band: a spike of data is data (duplicates collapse by
        key), so it publishes with a volume alert. Fewer rows than the band holds: the
        source may have answered in part, and the kept watermark reads the window again."""
        high = self.volume_band[1]
        return (
            high is not None
            and self.rows > high
            and any(f.expectation == VOLUME_EXPECTATION for f in self.batch_failures)
        )

    @property
    def holding_failures(self) -> list[Failure]:
        if self.volume_high:
            return [f for f in self.batch_failures if f.expectation != VOLUME_EXPECTATION]
        return self.batch_failures

    def verdict(self, max_bad_share: float) -> str:
        """ "pass", "quarantine" (bad rows out, the rest publishes) or "hold"."""
        if self.holding_failures or self.bad_share > max_bad_share:
            return "hold"
        return "quarantine" if self.bad_rows else "pass"

    def summary(self) -> str:
        return "; ".join(
            f"{f.label}: {f.unexpected_count if f.unexpected_count is not None else 'failed'}"
            f" unexpected, e.g. {_short(f.observed)}"
            for f in self.failures
        )


def _short(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


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


@cache
def load_suite(spec: StreamSpec) -> Suite:
    """The suite of a stream (one stream, one suite: the registry says where it is)."""
    path = suite_path(spec.channel_kind, spec.stream)
    document = json.loads(path.read_text())
    meta = document.get("meta") or {}
    return Suite(
        name=document["name"],
        description=meta.get("description", ""),
        expectations=document["expectations"],
        derived=meta.get("derived") or {},
    )


def gx_suite(suite: Suite):
    gx = _gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    built = gx.ExpectationSuite(name=suite.name, meta={"description": suite.description})
    for item in suite.expectations:
        built.add_expectation_configuration(
            ExpectationConfiguration(
                type=item["type"], kwargs=item["kwargs"], meta=item.get("meta") or {}
            )
        )
    return built


def severity(item: dict) -> str:
    meta = item.get("meta") or {}
    if "severity" in meta:
        return meta["severity"]
    return "batch" if item["type"].startswith("expect_table_") else "row"


def typed_columns(spec: StreamSpec) -> list:
    return [c for c in spec.columns if c.sql_type != "text"]


def frame_query(spec: StreamSpec, batch_id: int, suite: Suite) -> sql.Composable:
    """The landed rows with typed and derived columns (see the module docstring)."""
    typed = []
    for column in typed_columns(spec):
        name, kind = sql.Identifier(column.name), sql.Literal(column.sql_type)
        cast = sql.SQL(column.sql_type)
        value = sql.SQL("{n}::{t}").format(n=name, t=cast)
        valid = sql.SQL("pg_input_is_valid({n}, {k})").format(n=name, k=kind)
        if column.sql_type.startswith(("numeric", "integer", "bigint")):
            value = sql.SQL("{v}::float8").format(v=value)
        elif column.sql_type == "timestamp":  # UTC without a zone (WooCommerce *_gmt)
            value = sql.SQL("{v} at time zone 'UTC'").format(v=value)
        if column.sql_type.startswith("numeric"):  # NaN would reach GX as a missing value
            valid = sql.SQL("{v} and not {f}").format(v=valid, f=_non_finite(name))
        typed.append(
            sql.SQL("case when {ok} then {v} end as {a}").format(
                ok=valid, v=value, a=sql.Identifier(f"{column.name}__typed")
            )
        )
    typed.append(_non_finite_columns(spec))
    source = landing_partition(spec.table, batch_id)
    inner = sql.SQL("select page_no, record_no, payload, {cols}{typed} from {source}").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in spec.column_names),
        typed=sql.SQL("").join(sql.SQL(", ") + t for t in typed),
        source=source,
    )
    # one version (key and cursor) received with two contents: compared on a narrow
    # projection (a hash of the payload), not by sorting the whole rows
    versioned = sql.SQL(", ").join(sql.Identifier(c) for c in spec.version_key)
    # a later file restates an earlier one: file streams compare versions within a file
    within = sql.SQL(", page_no" if spec.later_page_replaces else "")
    conflicts = sql.SQL(
        "select page_no, record_no, min(h) over w <> max(h) over w as version_conflict "
        "from (select page_no, record_no, {versioned}, jsonb_hash_extended(payload, 0) as h "
        "      from {source}) as v window w as (partition by {versioned}{within})"
    ).format(versioned=versioned, within=within, source=source)
    outer = [
        sql.Identifier(c) for c in (*IDENTITY, *spec.column_names, "version_conflict", "non_finite")
    ]
    for column in typed_columns(spec):  # parsed once: unparsed is "text but no value"
        name = sql.Identifier(column.name)
        value = sql.Identifier(f"{column.name}__typed")
        outer += [
            value,
            sql.SQL("case when {n} is not null and {v} is null then {n} end as {a}").format(
                n=name, v=value, a=sql.Identifier(f"{column.name}__unparsed")
            ),
        ]
    outer += [
        sql.SQL("({}) as {}").format(sql.SQL(expression), sql.Identifier(name))
        for name, expression in suite.derived.items()
    ]
    return sql.SQL(
        "select {} from ({}) as t join ({}) as c using (page_no, record_no) "
        "order by page_no, record_no"
    ).format(sql.SQL(", ").join(outer), inner, conflicts)


NON_FINITE = ("nan", "infinity", "+infinity", "-infinity", "inf", "+inf", "-inf")


def _non_finite(name: sql.Identifier) -> sql.Composable:
    """The text is NaN or an infinity (valid numeric input in PostgreSQL 14+)."""
    return sql.SQL("coalesce(lower(btrim({n})) = any({v}), false)").format(
        n=name, v=sql.Literal(list(NON_FINITE))
    )


def _non_finite_columns(spec: StreamSpec) -> sql.Composable:
    """`non_finite`: the number columns of the row that hold NaN or an infinity, or null."""
    numbers = [c for c in spec.columns if c.sql_type.startswith(("numeric", "real", "double"))]
    if not numbers:
        return sql.SQL("null::text as non_finite")
    return sql.SQL("nullif(concat_ws(',', {}), '') as non_finite").format(
        sql.SQL(", ").join(
            sql.SQL("case when {f} then {c} end").format(
                f=_non_finite(sql.Identifier(c.name)), c=sql.Literal(c.name)
            )
            for c in numbers
        )
    )


def frame_columns(spec: StreamSpec) -> list[str]:
    names = [*spec.column_names, "version_conflict", "non_finite"]
    for column in typed_columns(spec):
        names += [f"{column.name}__typed", f"{column.name}__unparsed"]
    return names


def landed_frame(
    conn: psycopg.Connection, spec: StreamSpec, batch_id: int, parameters: dict
) -> pd.DataFrame:
    suite = load_suite(spec)
    with conn.cursor() as cur:
        cur.execute(frame_query(spec, batch_id, suite), parameters)
        names = [d.name for d in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=names)
    for column in typed_columns(spec):  # all-null columns come back as object
        if column.sql_type in ("timestamptz", "timestamp"):
            typed = f"{column.name}__typed"
            frame[typed] = pd.to_datetime(frame[typed], utc=True)
    return frame


@cache
def _validation(spec: StreamSpec):
    """The stream's GX suite and a whole-dataframe batch definition, built once per process
    (building them costs a quarter of a small batch's validation)."""
    context = _context()
    built = context.suites.add(gx_suite(load_suite(spec)))
    asset = context.data_sources.add_pandas(f"landing_{spec.table}").add_dataframe_asset(spec.table)
    return context, built, asset.add_batch_definition_whole_dataframe("batch")


# Every expectation is first checked for a verdict only (GX's BOOLEAN_ONLY is about 2.5×
# cheaper than COMPLETE on a day's batch); only those that fail run again for their
# unexpected rows and observed values. A passing expectation is kept without them.
VERDICT_ONLY = {"result_format": "BOOLEAN_ONLY"}
DETAILED = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": list(IDENTITY),
    "partial_unexpected_count": EXAMPLES,
}


def validate_frame(spec: StreamSpec, frame: pd.DataFrame, parameters: dict) -> GateResult:
    started = time.perf_counter()
    context, built, definition = _validation(spec)
    batch = definition.get_batch(batch_parameters={"dataframe": frame})
    validation = batch.validate(
        built, result_format=VERDICT_ONLY, expectation_parameters=parameters
    )
    failed = [n for n, item in enumerate(validation.results) if not item.success]
    if failed:
        again = _gx().ExpectationSuite(name=f"{built.name}.failed")
        for n in failed:
            again.add_expectation_configuration(validation.results[n].expectation_config)
        detailed = batch.validate(again, result_format=DETAILED, expectation_parameters=parameters)
        for n, item in zip(failed, detailed.results, strict=True):
            validation.results[n] = item
    outcome = GateResult(spec.table, len(validation.results), len(frame))
    outcome.volume_band = (parameters.get("volume_min"), parameters.get("volume_max"))
    for item in validation.results:
        if item.success:
            continue
        config = item.expectation_config
        details = item.result or {}
        level = severity({"type": config.type, "meta": config.meta})
        column = config.kwargs.get("column") or _joined(config.kwargs.get("column_list"))
        observed = details.get("partial_unexpected_list", details.get("observed_value"))
        if item.exception_info and item.exception_info.get("raised_exception"):
            observed, level = item.exception_info.get("exception_message"), "batch"
        failure = Failure(
            config.type,
            column,
            level,
            details.get("unexpected_count"),
            _jsonable(observed),
            details.get("element_count"),
        )
        outcome.failures.append(failure)
        if level == "row":
            _mark_rows(outcome.bad_rows, failure, details.get("unexpected_index_list") or [])
    outcome.document = _trimmed(validation.to_json_dict())
    outcome.seconds = time.perf_counter() - started
    return outcome


def _trimmed(document: dict) -> dict:
    """The result without per-row lists (quarantine has the rows), to keep it small."""
    for item in document.get("results", []):
        details = item.get("result") or {}
        for key in ("unexpected_index_list", "unexpected_list", "unexpected_index_query"):
            details.pop(key, None)
    return _jsonable(document)


def _joined(columns) -> str | None:
    return ",".join(columns) if columns else None


def _mark_rows(bad_rows: dict, failure: Failure, unexpected: list[dict]) -> None:
    for entry in unexpected:
        row = (int(entry["page_no"]), int(entry["record_no"]))
        observed = {k: v for k, v in entry.items() if k not in IDENTITY}
        bad_rows.setdefault(row, []).append(
            {
                "expectation": failure.expectation,
                "column": failure.column,
                "observed": _jsonable(observed.get(failure.column, observed)),
            }
        )


def _jsonable(value):
    if value is None:
        return None
    # NaN / NaT (a missing value in pandas) become null
    return json.loads(json.dumps(value, default=_plain), parse_constant=lambda _: None)


def _plain(value):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def record_results(conn: psycopg.Connection, batch_id: int, result: GateResult) -> None:
    """One row for the suite run, one per failed expectation (ops.dq_results)."""
    rows = [
        (
            batch_id,
            result.suite,
            "suite",
            None,
            "batch",
            result.success,
            result.rows,
            len(result.bad_rows),
            json.dumps(
                {
                    "evaluated": result.evaluated,
                    "failed": len(result.failures),
                    "bad_share": round(result.bad_share, 6),
                    "volume_band": result.volume_band,
                }
            ),
            result.seconds,
        )
    ]
    rows += [
        (
            batch_id,
            result.suite,
            f.expectation,
            f.column,
            f.severity,
            False,
            f.element_count,
            f.unexpected_count,
            json.dumps(f.observed),
            None,
        )
        for f in result.failures
    ]
    conn.execute(
        "insert into ops.dq_validations (batch_id, suite, result) values (%s, %s, %s) "
        "on conflict (batch_id) do update set result = excluded.result, validated_at = now()",
        (batch_id, result.suite, json.dumps(result.document)),
    )
    with conn.cursor() as cur:
        cur.executemany(
            """insert into ops.dq_results (batch_id, suite, expectation, column_name, severity,
                   success, element_count, unexpected_count, observed, seconds)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            rows,
        )


# -- parameters of one batch's validation --------------------------------------------------

CLOCK_SKEW = timedelta(minutes=5)  # a source's clock may run this far ahead of ours
VOLUME_WINDOW = 28  # trailing published batches the volume band is computed from


def parameters(conn: psycopg.Connection, channel, batch, rules) -> dict:
    """$PARAMETER values of the suites (and %(name)s of their derived columns)."""
    low, high = volume_band(conn, batch, rules)
    fresh_after = None
    if batch.replay_of is not None:  # a few rows taken back from quarantine
        low = high = None
    elif rules.freshness_hours is not None:
        fresh_after = batch.interval_end - timedelta(hours=rules.freshness_hours)
    return {
        "shop_currencies": [channel.currency],  # an ISO 4217 code (checked with the config)
        # nothing can happen after the window it was read in (nor after our clock: a
        # simulated world runs ahead of it)
        "now": max(datetime.now(UTC), batch.cursor_to) + CLOCK_SKEW,
        "cursor_from": batch.cursor_from,
        "cursor_to": batch.cursor_to,
        "volume_min": low,
        "volume_max": high,
        "fresh_after": fresh_after,
    }


# The volume band is a two-sided interval of a count model fitted to the stream's trailing
# batches: each side is crossed by chance once in a million clean batches, and widened by
# a fixed slack so that a stream of a handful of rows a day never trips it.
VOLUME_TAIL = 1e-6
VOLUME_SLACK = 10


def volume_band(conn: psycopg.Connection, batch, rules) -> tuple[int | None, int | None]:
    """Rows expected in this batch, from the stream's trailing published batches (each
    scaled to this interval's hours): see count_band. No band before `volume_history`
    batches."""
    history = conn.execute(
        """select rows_received, greatest(extract(epoch from interval_end - interval_start)
                                          / 3600, 1)
           from ops.load_batches
           where channel_id = %s and stream = %s and status = 'published'
             and batch_id <> %s and replay_of is null  -- a replay is a handful of rows
           order by interval_start desc limit %s""",
        (batch.channel_id, batch.stream, batch.batch_id, VOLUME_WINDOW),
    ).fetchall()
    if len(history) < rules.volume_history:
        return None, None
    hours = max((batch.interval_end - batch.interval_start).total_seconds() / 3600, 1)
    counts = [float(rows) * hours / float(spent) for rows, spent in history]
    return count_band(counts, rules.volume_factor)


def count_band(counts: list[float], factor: float) -> tuple[int, int]:
    """The band a clean batch's row count falls in, given the counts of earlier batches.

    Counts are over-dispersed (weekdays, promotions): a negative binomial with the
    history's mean and variance (a Poisson when the variance is not above the mean), its
    VOLUME_TAIL quantiles on each side, widened to at least mean ÷ and × `factor`, plus
    VOLUME_SLACK rows. A median × factor band held genuine days of a stream of six
    refunds a day; this one does not (tests: 50 seeds × 90 days of the world's counts)."""
    from scipy import stats

    mean = sum(counts) / len(counts)
    if mean <= 0:
        return 0, VOLUME_SLACK
    variance = sum((c - mean) ** 2 for c in counts) / max(len(counts) - 1, 1)
    if variance <= mean:
        model = stats.poisson(mean)
    else:
        size = mean * mean / (variance - mean)
        model = stats.nbinom(size, size / (size + mean))
    low = min(float(model.ppf(VOLUME_TAIL)), mean / factor)
    high = max(float(model.isf(VOLUME_TAIL)), mean * factor)
    return max(0, math.floor(low) - VOLUME_SLACK), math.ceil(high) + VOLUME_SLACK


def share_reason(result: GateResult, rules) -> dict:
    return {
        "expectation": "bad_row_share_at_most",
        "column": None,
        "severity": "batch",
        "unexpected_count": len(result.bad_rows),
        "observed": {"bad_share": round(result.bad_share, 4), "max": rules.max_bad_share},
    }


VOLUME_EXPECTATION = "expect_table_row_count_to_be_between"


def alert_fingerprint(channel_id: str, stream: str, result: GateResult, verdict: str) -> str:
    """A batch held only for its row count is a load-volume anomaly (`volume:`), anything
    else the gate finds is data quality (`dq:<verdict>:`)."""
    if verdict == "hold" and is_volume_anomaly(result):
        return fingerprint("volume", channel_id, stream)
    return fingerprint("dq", verdict, channel_id, stream)


def is_volume_anomaly(result: GateResult) -> bool:
    return bool(result.failures) and all(
        f.expectation == VOLUME_EXPECTATION for f in result.failures
    )


def volume_alert(conn: psycopg.Connection, channel, stream: str, batch_id: int, result) -> str:
    """A batch above its volume band published: a warning, not a hold."""
    from omnichannel.alerts import Alert, raise_alert

    low, high = result.volume_band
    recorded = fingerprint("volume", channel.channel_id, stream)
    raise_alert(
        conn,
        Alert(
            kind="volume",
            severity="warning",
            fingerprint=recorded,
            message=(
                f"{channel.channel_id}/{stream} batch {batch_id}: published {result.rows} rows,"
                f" above the {low}–{high} expected from the stream's last {VOLUME_WINDOW} "
                "published batches (a spike of data publishes; duplicates collapse by key)"
            ),
            channel_id=channel.channel_id,
            stream=stream,
            batch_id=batch_id,
            details={"verdict": "published", "rows": result.rows, "volume_band": [low, high]},
        ),
    )
    return recorded


def alert(conn: psycopg.Connection, channel, stream, batch_id, result, verdict, rules) -> str:
    """One alert per channel × stream × outcome; a repeat counts on the open one.
    Returns the alert's fingerprint."""
    from omnichannel.alerts import Alert, raise_alert

    held = verdict == "hold"
    volume = held and is_volume_anomaly(result)
    recorded = alert_fingerprint(channel.channel_id, stream, result, verdict)
    details = {
        "verdict": verdict,
        "rows": result.rows,
        "failures": [f.as_reason() for f in result.failures],
    }
    where = f"{channel.channel_id}/{stream} batch {batch_id}"
    if volume:
        low, high = result.volume_band
        expected = f"{low}–{high if high is not None else '∞'}"
        kind = "volume"
        message = (
            f"{where}: held: {result.rows} rows received, {expected} expected"
            f" from the stream's last {VOLUME_WINDOW} published batches"
        )
        details["volume_band"] = [low, high]
    else:
        expectations = ", ".join(sorted({f.label for f in result.failures}))
        rows = result.rows if held else len(result.bad_rows)
        kind = "data_quality"
        message = (
            f"{where}: "
            + ("held" if held else f"{rows} of {result.rows} rows quarantined")
            + f" by {expectations}"
        )
        details |= {
            "rows_quarantined": rows,
            "bad_share": round(result.bad_share, 4),
            "max_bad_share": rules.max_bad_share,
        }
    raise_alert(
        conn,
        Alert(
            kind=kind,
            severity="critical" if held else "warning",
            fingerprint=recorded,
            message=message,
            channel_id=channel.channel_id,
            stream=stream,
            batch_id=batch_id,
            details=details,
        ),
    )
    return recorded
