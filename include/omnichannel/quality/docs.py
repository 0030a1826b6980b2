"""GX Data Docs, as static HTML, from the validation results the gate kept
(ops.dq_validations): the latest batch of every channel × stream, and every batch that
failed among the most recent ones."""

from __future__ import annotations

from pathlib import Path

import psycopg

from omnichannel.quality.gate import _context

RECENT = 200  # batches looked at for failures


def latest_results(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        """with recent as (
               select v.batch_id, b.channel_id, b.stream, v.suite, v.result,
                      row_number() over (partition by b.channel_id, b.stream
                                         order by v.batch_id desc) as n,
                      row_number() over (order by v.batch_id desc) as age
               from ops.dq_validations as v join ops.load_batches as b using (batch_id))
           select batch_id, channel_id, stream, suite, result from recent
           where n = 1 or (age <= %s and not (result->>'success')::boolean)
           order by channel_id, stream, batch_id""",
        (RECENT,),
    ).fetchall()


def build(conn: psycopg.Connection, out_dir: Path) -> Path:
    """Render the kept results into out_dir; returns the index page."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    context = _context()
    context.add_data_docs_site(
        site_name="dq",
        site_config={
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(out_dir),
            },
        },
    )
    schema = ExpectationSuiteValidationResultSchema()
    for batch_id, channel_id, stream, suite, result in latest_results(conn):
        name = f"{channel_id}-{stream}-batch-{batch_id}"
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite),
            run_id=name,
            batch_identifier=name,
        )
        context.validation_results_store.set(key, schema.load(result))
    context.build_data_docs(site_names=["dq"])
    return out_dir / "index.html"
