"""The semantic layer's metrics through MetricFlow (`omni metrics`).

MetricFlow's own CLI (`mf`) finds the semantic manifest only at `<project>/target`; ours may
live elsewhere (OMNI_DBT_TARGET_DIR, the compose stack's read-only project). So the engine is
built here from the same parts `mf` uses: the dbt profile's adapter for SQL, and the
semantic manifest `dbt parse` writes beside the manifest cosmos reads."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from decimal import Decimal

from omnichannel import paths, runtime


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str
    kind: str
    description: str
    dimensions: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    sql: str

    def text(self, decimals: int | None = None) -> str:
        """The rows as an aligned text table, numbers right-aligned. Non-integer numbers get
        `decimals` places; by default 4 in a column of small figures (rates), else 2."""
        formats = [self._format(i, decimals) for i in range(len(self.columns))]
        cells = [list(self.columns)] + [
            [fmt(value) for fmt, value in zip(formats, row, strict=True)] for row in self.rows
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = []
        for n, row in enumerate(cells):
            parts = [
                value.rjust(width) if self._numeric(i) else value.ljust(width)
                for i, (value, width) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(parts).rstrip())
            if n == 0:
                lines.append("  ".join("-" * width for width in widths))
        return "\n".join(lines)

    def _numeric(self, column: int) -> bool:
        values = [row[column] for row in self.rows if row[column] is not None]
        return bool(values) and all(isinstance(v, int | float | Decimal) for v in values)

    def _format(self, column: int, decimals: int | None):
        values = [row[column] for row in self.rows if row[column] is not None]
        if not self._numeric(column) or all(isinstance(v, int) for v in values):
            return _cell
        places = decimals if decimals is not None else 4 if max(map(abs, values)) < 10 else 2
        return lambda v: "" if v is None else f"{v:.{places}f}"


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour") and not (value.hour or value.minute):
        return value.date().isoformat()  # day and coarser grains: the date, not midnight
    return str(value)


@functools.cache
def engine():
    """A MetricFlow engine on the warehouse, one per process: loading the adapter and the
    manifest takes seconds."""
    from dbt.adapters.factory import get_adapter_by_type
    from dbt_metricflow.cli.dbt_connectors.adapter_backed_client import AdapterBackedSqlClient
    from dbt_metricflow.cli.dbt_connectors.dbt_config_accessor import dbtProjectMetadata
    from metricflow.engine.metricflow_engine import MetricFlowEngine
    from metricflow_semantics.model.dbt_manifest_parser import (
        parse_manifest_from_dbt_generated_manifest,
    )
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    for noisy in ("metricflow", "metricflow_semantics", "dbt_metricflow"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # INFO logs every plan and query
    runtime.apply()
    runtime.dbt_parse()  # the semantic manifest of the current project (no-op if unchanged)
    project = paths.dbt_project_dir()
    # loads the profile and registers its adapter (a `dbt debug` under the hood)
    metadata = dbtProjectMetadata.load_from_paths(profiles_path=project, project_path=project)
    adapter = get_adapter_by_type(metadata.profile.credentials.type)
    text = (paths.dbt_target_dir() / "semantic_manifest.json").read_text()
    manifest = parse_manifest_from_dbt_generated_manifest(manifest_json_string=text)
    return MetricFlowEngine(
        semantic_manifest_lookup=SemanticManifestLookup(manifest),
        sql_client=AdapterBackedSqlClient(adapter),
    )


def list_metrics() -> list[MetricInfo]:
    """Every metric with its label, type, description and the dimensions it can be grouped by."""
    found = []
    for metric in engine().list_metrics():
        found.append(
            MetricInfo(
                name=metric.name,
                label=metric.label or metric.name,
                kind=str(metric.type.value).lower(),
                description=" ".join((metric.description or "").split()),
                dimensions=tuple(
                    sorted({d.granularity_free_dunder_name for d in metric.dimensions})
                ),
            )
        )
    return sorted(found, key=lambda m: m.name)


def query(
    metrics: list[str],
    group_by: list[str] = (),
    where: list[str] = (),
    order_by: list[str] = (),
    limit: int | None = None,
) -> Answer:
    """The metrics grouped by `group_by` (e.g. `channel`, `metric_time__week`), filtered by
    `where`: MetricFlow's Jinja filters, e.g.
    `{{ Dimension('channel__channel_type') }} = 'marketplace'`."""
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    request = MetricFlowQueryRequest.create(
        metric_names=list(metrics),
        group_by_names=list(group_by) or None,
        where_constraints=list(where) or None,
        order_by_names=list(order_by) or list(group_by) or None,
        limit=limit,
    )
    result = engine().query(mf_request=request)
    table = result.result_df
    return Answer(
        columns=tuple(table.column_names),
        rows=tuple(tuple(row) for row in table.rows),
        sql=result.sql or "",
    )
