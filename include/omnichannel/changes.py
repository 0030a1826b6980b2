"""What a transform run builds: the dbt models downstream of what changed since the last
build that passed, or everything.

A run triggered by raw publications need not rebuild the models of streams that published
nothing: with 15 streams publishing at their own times, most runs follow one of them. What
changed comes from the warehouse, not from dbt's state files: the ledger's publications,
the reference tables' load times (a reference load that changes nothing keeps them), and
the channels' sync times. Everything is built when the dbt project changed since that
build (a deploy), when there is no build to compare with, or when the run tests every row
(the weekly run).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

# models whose content depends on the day they are built (dim_date reaches 90 days past
# today), built by every run
EVERY_RUN = "tag:every_run"


@dataclass(frozen=True)
class Plan:
    select: list[str] | None  # None: everything of the group's selection
    reason: str


def last_passed(conn: psycopg.Connection) -> tuple[datetime, str] | None:
    """Start and project checksum of the last build that passed."""
    return conn.execute(
        """select started_at, project_checksum from ops.transform_builds
           where status = 'success' order by build_id desc limit 1"""
    ).fetchone()


def changed_sources(conn: psycopg.Connection, since: datetime) -> list[str]:
    """dbt source selectors of what changed after `since`: raw tables with a publication,
    reference tables reloaded with other content, the channels' mirror re-synced."""
    rows = conn.execute(
        """select distinct c.kind || '.' || c.kind || '__' || b.stream
           from ops.load_batches as b join ops.channels as c using (channel_id)
           where b.status = 'published' and b.finished_at > %(since)s
           union
           select 'reference.products' from reference.products
           where loaded_at > %(since)s
           union
           select 'reference.fx_rates' from reference.fx_rates
           where loaded_at > %(since)s
           union
           select 'ops.channels' from ops.channels where synced_at > %(since)s""",
        {"since": since},
    ).fetchall()
    return sorted(f"source:{name}" for (name,) in rows)


def plan(conn: psycopg.Connection, checksum: str, every_row: bool) -> Plan:
    if every_row:
        return Plan(None, "every model: this run tests every row")
    last = last_passed(conn)
    if last is None:
        return Plan(None, "every model: no earlier build passed")
    started, built_checksum = last
    if built_checksum != checksum:
        return Plan(None, "every model: the dbt project changed since the last build")
    changed = changed_sources(conn, started)
    reason = f"what changed since the build of {started:%Y-%m-%d %H:%M:%S} UTC: " + (
        ", ".join(name.removeprefix("source:") for name in changed) or "nothing"
    )
    return Plan([f"{name}+" for name in changed] + [EVERY_RUN], reason)


def begin(conn: psycopg.Connection, run_key: str, checksum: str, chosen: Plan) -> int:
    [(build_id,)] = conn.execute(
        """insert into ops.transform_builds (run_key, project_checksum, selection, reason)
           values (%s, %s, %s, %s) returning build_id""",
        (run_key, checksum, chosen.select, chosen.reason),
    ).fetchall()
    return build_id


def finish(conn: psycopg.Connection, build_id: int, passed: bool) -> None:
    conn.execute(
        """update ops.transform_builds set finished_at = now(), status = %s
           where build_id = %s""",
        ("success" if passed else "failed", build_id),
    )
