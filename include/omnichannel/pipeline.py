"""One batch through the pipeline: extract → landing → gate → raw.

These functions are what the Airflow tasks call; they run the same without a scheduler
(tests, the CLI). A batch is one channel instance × stream × interval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from omnichannel import warehouse
from omnichannel.channels import clock as clocks
from omnichannel.channels.base import Credentials
from omnichannel.config import ChannelConfig
from omnichannel.kinds import KINDS, stream_spec
from omnichannel.load import drift, ledger, publish, quarantine, schema
from omnichannel.load.copy import land_page
from omnichannel.quality import gate as quality_gate
from omnichannel.streams import ExtractError, PageUnreadable

log = logging.getLogger(__name__)


FULL_SYNC_FROM = datetime(2000, 1, 1, tzinfo=UTC)
# a snapshot read this long after its interval's end no longer stands for that interval
SNAPSHOT_GRACE = timedelta(hours=6)


class BatchHeld(RuntimeError):
    """The quality gate held a batch back; its rows are in quarantine. `fingerprint` names
    the alert that says why (data quality, or a load-volume anomaly)."""

    def __init__(self, message: str, fingerprint: str | None = None):
        super().__init__(message)
        self.fingerprint = fingerprint


class UpstreamFailed(RuntimeError):
    """A task failed only because an earlier task of its run did (publish after a held or
    failed batch): that task's failure has the alert, this one adds none."""


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def as_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_dict(cls, value: dict[str, str]) -> Interval:
        return cls(datetime.fromisoformat(value["start"]), datetime.fromisoformat(value["end"]))

    def __post_init__(self):
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("interval bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"empty interval {self.start} .. {self.end}")


def local_day_interval(channel: ChannelConfig, day: date) -> Interval:
    """The schedule interval that closes `day` for the channel: it ends at the first tick
    of the channel's cron (in its time zone) at or after the end of that local day."""
    from croniter import croniter

    day_end = datetime.combine(day + timedelta(days=1), time(0), channel.tz)
    end = croniter(channel.schedule, day_end - timedelta(seconds=1)).get_next(datetime)
    return Interval(end - timedelta(days=1), end)


def day_intervals(channel: ChannelConfig, first: date, last: date) -> list[Interval]:
    """One interval per local day from `first` to `last` (both included)."""
    if last < first:
        raise ValueError(f"channel {channel.channel_id!r}: to_date {last} is before {first}")
    return [
        local_day_interval(channel, first + timedelta(days=n))
        for n in range((last - first).days + 1)
    ]


def run_intervals(
    channel: ChannelConfig, interval: Interval, from_date: str | None, to_date: str | None
) -> list[Interval]:
    """The batches of one DAG run: its data interval, or one per local day when the run
    asks to catch up a range of days (run parameters from_date/to_date)."""
    if not from_date and not to_date:
        return [interval]
    if not (from_date and to_date):
        raise ValueError(
            f"channel {channel.channel_id!r}: give both from_date and to_date to catch up "
            f"a range of days (got {from_date!r}, {to_date!r})"
        )
    return day_intervals(channel, date.fromisoformat(from_date), date.fromisoformat(to_date))


def extraction_window(
    watermark: datetime | None, interval: Interval, lookback: timedelta
) -> tuple[datetime, datetime]:
    """Read from the older of watermark and interval start, minus the lookback.

    Starting at the watermark catches up after missed runs; re-reading the lookback
    catches late updates; a re-run of an old interval reads that interval again.
    """
    start = interval.start if watermark is None else min(watermark, interval.start)
    return start - lookback, interval.end


def prepare(channel: ChannelConfig, stream: str) -> None:
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        schema.sync_channels(conn, [channel])
        schema.ensure_stream_tables(conn, stream_spec(channel.kind, stream))


def prepare_all(config) -> None:
    """Ledger, landing and raw tables of every stream of every configured channel, and the
    forecast tables (empty until the first forecast run) the forecast marts read."""
    from omnichannel.bi import ensure_bi_reader
    from omnichannel.forecast.run import ensure_tables as ensure_forecast_tables
    from omnichannel.kinds import extracted_streams

    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)
        ensure_forecast_tables(conn)
        schema.sync_channels(conn, list(config.channels))
        ensure_bi_reader(conn)
        for channel in config.channels:
            for stream in extracted_streams(channel):
                schema.ensure_stream_tables(conn, stream_spec(channel.kind, stream))


def extract_and_land(
    channel: ChannelConfig,
    stream: str,
    interval: Interval,
    credentials: Credentials,
    run_id: str | None = None,
    covered_until: datetime | None = None,
) -> int:
    """Extract the interval into a new batch and land it. `covered_until`: an earlier
    interval of the same task read up to there (its batch is not published yet, so the
    watermark does not say so): this one need not read before it, less the lookback."""
    spec = stream_spec(channel.kind, stream)
    prepare(channel, stream)
    with warehouse.connect(autocommit=True) as conn:
        # batches of this stream a crash left unfinished (their watermark never moved)
        swept = ledger.sweep_stale(conn, channel_id=channel.channel_id, stream=stream)
        if swept:
            log.warning("swept stale batches %s of %s/%s", swept, channel.channel_id, stream)
        watermark = ledger.get_watermark(conn, channel.channel_id, stream)
        if covered_until is not None:
            watermark = covered_until if watermark is None else max(watermark, covered_until)
        cursor_from, cursor_to = extraction_window(
            watermark, interval, timedelta(hours=channel.lookback_hours)
        )
        if watermark is None and spec.full_first_sync:
            cursor_from = FULL_SYNC_FROM
        batch_id = ledger.begin_batch(
            conn,
            channel.channel_id,
            stream,
            interval.start,
            interval.end,
            cursor_from,
            cursor_to,
            run_id,
            spec.table,
        )
        log.info(
            "batch %s: %s/%s updated in [%s, %s)",
            batch_id,
            channel.channel_id,
            stream,
            cursor_from.isoformat(),
            cursor_to.isoformat(),
        )
        if spec.snapshot and _snapshot_published(conn, channel.channel_id, stream, interval):
            # a snapshot cannot be read again for a past interval: keep what was read then
            ledger.set_status(
                conn,
                batch_id,
                "skipped",
                error="snapshot of this interval published before; kept",
                rows_published=0,
                rows_quarantined=0,
            )
            schema.drop_landing_partitions(conn, spec.table, [batch_id])
            log.info("batch %s skipped: %s/%s already has this snapshot", batch_id,
                     channel.channel_id, stream)  # fmt: skip
            return batch_id
        clock = clocks.current(channel.channel_id)
        clock.start_run(interval.end)
        client = KINDS[channel.kind].client(channel, credentials)
        client.clock = clock
        pages = rows = kept = 0
        fields = drift.FieldTracker()
        try:
            for page in client.iter_pages(stream, cursor_from, cursor_to):
                with conn.transaction():
                    if page.unreadable is None:
                        try:
                            with conn.transaction():  # a file found unreadable part-way
                                rows += land_page(conn, spec, batch_id, channel.channel_id, page)
                        except PageUnreadable as exc:  # lands none of its rows
                            page = replace(page, records=[], unreadable=exc.unreadable)
                    if page.unreadable is not None:  # one file: kept whole, the rest goes on
                        kept += 1
                        _keep_unreadable_file(conn, channel, stream, batch_id, page)
                    pages += 1
                    ledger.set_status(
                        conn,
                        batch_id,
                        "extracting",
                        pages=pages,
                        rows_received=rows,
                        pages_quarantined=kept,
                    )
                fields.add(page.records)
        except Exception as exc:
            with conn.transaction():
                ledger.set_status(
                    conn, batch_id, "failed", error=f"{type(exc).__name__}: {exc}", **_api(client)
                )
                if isinstance(exc, ExtractError) and exc.received is not None:
                    _keep_unreadable_page(conn, channel, stream, batch_id, exc)
            raise
        finally:
            client.close()
            clock.close()
        drift.record(conn, channel.channel_id, stream, batch_id, fields)
        ledger.set_status(conn, batch_id, "landed", pages=pages, rows_received=rows, **_api(client))
        read_at = getattr(client, "source_time", None)
        if spec.snapshot and read_at is not None and read_at > interval.end + SNAPSHOT_GRACE:
            _late_snapshot(conn, spec, batch_id, interval, read_at)
    log.info("batch %s landed: %s rows in %s pages", batch_id, rows, pages)
    return batch_id


def extract_chunk(
    channel: ChannelConfig,
    stream: str,
    intervals: list[Interval],
    credentials: Credentials,
    run_id: str | None = None,
) -> list[int]:
    """Extract and land the intervals in order, one batch each. A retry of the same run
    resumes: an interval this run landed but did not publish keeps its batch."""
    done = {}
    if run_id is not None:
        prepare(channel, stream)  # the ledger exists (a first run on a new warehouse)
        with warehouse.connect() as conn:
            done = ledger.batches_of_run(conn, channel.channel_id, stream, run_id)
    batches, covered = [], None
    for interval in intervals:
        batch_id = done.get(interval.start) or extract_and_land(
            channel, stream, interval, credentials, run_id, covered_until=covered
        )
        batches.append(batch_id)
        covered = interval.end
    return batches


def _api(client) -> dict:
    """What the batch cost at the channel's API (files kinds make no calls)."""
    calls = getattr(client, "calls", None)
    if calls is None:
        return {}
    return {"api_calls": calls, "api_wait_seconds": round(client.waited, 3)}


def _snapshot_published(conn, channel_id: str, stream: str, interval: Interval) -> bool:
    return bool(
        conn.execute(
            """select 1 from ops.load_batches where channel_id = %s and stream = %s
                 and interval_start = %s and status = 'published' and replay_of is null
                 and rows_received > 0 limit 1""",
            (channel_id, stream, interval.start),
        ).fetchone()
    )


def _late_snapshot(conn, spec, batch_id: int, interval: Interval, read_at: datetime) -> None:
    """A snapshot read long after its interval (a backfill, a late re-run) shows the source
    as it is now, not as it was then: kept in quarantine, not published as that day's."""
    reason = {
        "expectation": "snapshot_read_in_time",
        "column": "snapshot_at",
        "severity": "batch",
        "observed": f"read at {read_at.isoformat()}, {read_at - interval.end} after the "
        f"interval's end {interval.end.isoformat()}; a past snapshot cannot be read again",
    }
    quarantine.hold(conn, spec, batch_id, [reason], status="skipped")
    log.warning("batch %s skipped: %s", batch_id, reason["observed"])


def _keep_unreadable_file(conn, channel, stream: str, batch_id: int, page) -> None:
    unreadable = page.unreadable
    held_in = quarantine.keep_file(
        conn, channel.channel_id, stream, batch_id, page.number, unreadable
    )
    where = f"{channel.channel_id}/{stream} batch {batch_id}"
    if held_in is not None:
        log.warning("%s: %s is still in quarantine (batch %s)", where, unreadable.name, held_in)
    else:
        log.warning("%s: %s kept in quarantine: %s", where, unreadable.name, unreadable.reason)
    _unreadable_alert(
        conn,
        channel,
        stream,
        held_in or batch_id,
        f"{where}: {unreadable.reason}; the file is kept in quarantine"
        f"{f' (batch {held_in})' if held_in is not None else ''}, the other files "
        "published; fix it and replay the batch, or re-send it",
        {"file": unreadable.name, "page": page.number, "reason": unreadable.reason},
    )


def _keep_unreadable_page(conn, channel, stream: str, batch_id: int, exc: ExtractError) -> None:
    quarantine.keep_page(
        conn, channel.channel_id, stream, batch_id, exc.page, exc.reason, exc.received
    )
    _unreadable_alert(
        conn,
        channel,
        stream,
        batch_id,
        f"{exc}; the body is kept in quarantine, a re-run reads the page again",
        {"page": exc.page, "reason": exc.reason},
    )


def _unreadable_alert(conn, channel, stream: str, batch_id: int, message: str, details) -> None:
    """One data-quality alert per channel × stream for pages and files that do not read."""
    from omnichannel.alerts import Alert, fingerprint, raise_alert

    raise_alert(
        conn,
        Alert(
            kind="data_quality",
            severity="critical",
            fingerprint=fingerprint("dq", "unreadable", channel.channel_id, stream),
            message=message,
            channel_id=channel.channel_id,
            stream=stream,
            batch_id=batch_id,
            details=details,
        ),
    )


def gate(channel: ChannelConfig, stream: str, batch_id: int) -> quality_gate.GateResult | None:
    """Run the stream's suite on the landed batch. Clean: gated. Bad rows within the
    stream's max_bad_share: they move to quarantine and the rest is gated. Otherwise the
    whole batch is held in quarantine and BatchHeld is raised. Each outcome other than
    clean raises an alert record."""
    spec = stream_spec(channel.kind, stream)
    rules = channel.quality_rules(stream)
    with warehouse.connect(autocommit=True) as conn:
        batch = ledger.get_batch(conn, batch_id)
        if batch.status == "skipped":  # a snapshot kept or read too late: nothing to gate
            return None
        if batch.status == "gated":  # passed in an earlier try (see extract_chunk)
            return None
        if batch.status != "landed":
            raise RuntimeError(f"batch {batch_id} is {batch.status!r}, expected 'landed'")
        parameters = quality_gate.parameters(conn, channel, batch, rules)
        frame = quality_gate.landed_frame(conn, spec, batch_id, parameters)
        if len(frame) != batch.rows_received:
            ledger.set_status(conn, batch_id, "failed", error="landed rows missing")
            raise RuntimeError(
                f"channel {channel.channel_id!r}, stream {stream!r}, batch {batch_id}: "
                f"{len(frame)} rows in landing but {batch.rows_received} received; nothing "
                "published, the watermark stays: re-run the interval"
            )
        result = quality_gate.validate_frame(spec, frame, parameters)
        verdict = result.verdict(rules.max_bad_share)
        where = f"channel {channel.channel_id!r}, stream {stream!r}, batch {batch_id}"
        with conn.transaction():
            quality_gate.record_results(conn, batch_id, result)
            if verdict == "pass":
                ledger.set_status(conn, batch_id, "gated")
        if result.volume_high:
            quality_gate.volume_alert(conn, channel, stream, batch_id, result)
        if verdict == "quarantine":
            moved = quarantine.quarantine_rows(conn, spec, batch_id, result.bad_rows)
            log.warning("%s: %s rows quarantined: %s", where, moved, result.summary())
            quality_gate.alert(conn, channel, stream, batch_id, result, verdict, rules)
        elif verdict == "hold":
            reasons = [f.as_reason() for f in result.holding_failures]
            if result.bad_share > rules.max_bad_share:
                reasons.append(quality_gate.share_reason(result, rules))
            quarantine.hold(conn, spec, batch_id, reasons, result.bad_rows)
            fingerprint = quality_gate.alert(
                conn, channel, stream, batch_id, result, verdict, rules
            )
            raise BatchHeld(
                f"{where}: held by suite {result.suite}: {result.summary()}", fingerprint
            )
        else:
            # the next load passes: the stream's open data-quality alerts have cleared
            from omnichannel.alerts import resolve

            cleared = ["dq:hold", "dq:quarantine"]
            if not result.volume_high:
                cleared.append("volume")
            if not batch.pages_quarantined:  # else a file of this very batch is unreadable
                cleared.append("dq:unreadable")
            for prefix in cleared:
                resolve(conn, f"{prefix}:{channel.channel_id}:{stream}")
    return result


def publish_batch(channel: ChannelConfig, stream: str, batch_id: int) -> ledger.Batch:
    spec = stream_spec(channel.kind, stream)
    with warehouse.connect() as conn:
        batch = publish.publish(conn, spec, batch_id)
    log.info(
        "batch %s published: %s records (%s duplicate versions collapsed)",
        batch_id,
        batch.rows_published,
        batch.rows_duplicate,
    )
    return batch


def publish_gated(
    channel: ChannelConfig, stream: str, batch_ids: list[int]
) -> tuple[list[ledger.Batch], dict[int, str]]:
    """Publish the batches the gate passed (a skipped snapshot counts as done); returns
    them and the status of each of the others (held, or failed at the gate)."""
    with warehouse.connect() as conn:
        statuses = ledger.statuses(conn, batch_ids)
    published, refused = [], {}
    for batch_id in batch_ids:
        if statuses[batch_id] in ("gated", "published", "skipped"):
            published.append(publish_batch(channel, stream, batch_id))
        else:
            refused[batch_id] = statuses[batch_id]
    return published, refused


def replay(channel: ChannelConfig, batch_id: int, accept: bool, by: str) -> ledger.Batch:
    """Publish the open quarantined rows of a batch through a replay batch of their own:
    through the gate again (after a fix to a suite or the config), or with `accept`,
    explicitly without it. Rows the gate rejects again stay in quarantine, now under the
    replay batch."""
    with warehouse.connect(autocommit=True) as conn:
        schema.ensure_base(conn)  # the ledger's columns, on a warehouse not loaded since an upgrade
        original = ledger.get_batch(conn, batch_id)
        if original.channel_id != channel.channel_id:
            raise ValueError(f"batch {batch_id} belongs to {original.channel_id!r}")
        spec = stream_spec(channel.kind, original.stream)
        prepare(channel, original.stream)
        files = _reparse_files(conn, channel, spec, batch_id)
        replay_id = quarantine.land_replay(conn, spec, batch_id, [page for page, _ in files])
        if accept:
            ledger.set_status(conn, replay_id, "gated", error=f"accepted by {by} without the gate")
            quarantine.unpublishable(conn, spec, replay_id, by)
    log.info("batch %s replays the quarantined rows of batch %s", replay_id, batch_id)
    try:
        if not accept:
            gate(channel, original.stream, replay_id)
    except BatchHeld:  # held again: the rows are in quarantine under the replay batch
        _release(batch_id, replay_id, by, [number for _, number in files])
        raise
    batch = publish_batch(channel, original.stream, replay_id)
    _release(batch_id, replay_id, by, [number for _, number in files])
    return batch


def _reparse_files(conn, channel, spec, batch_id: int) -> list[tuple]:
    """The files the batch kept whole, read again with the channel's current config (an
    encoding named after the fact, say): (page, page number) of each that reads now. One
    that still does not read fails the replay naming it, and stays in quarantine."""
    import base64

    from omnichannel.streams import Page

    parse = KINDS[channel.kind].parser()
    pages = []
    for kept in quarantine.open_files(conn, batch_id):
        if parse is None or kept["base64"] is None:
            raise ValueError(
                f"batch {batch_id}: file {kept['file']} was not kept whole (too large, or "
                "not a regular file); put a readable copy in the landing folder and re-run "
                "the interval"
            )
        name = kept["file"].rsplit("/", 1)[-1]
        try:
            records = parse(channel, spec, name, base64.b64decode(kept["base64"]))
        except ValueError as exc:
            raise ValueError(f"batch {batch_id}: still unreadable: {exc}") from exc
        pages.append((Page(kept["page_no"], records, name), kept["page_no"]))
    return pages


def _release(batch_id: int, replay_id: int, by: str, files=()) -> None:
    with warehouse.connect(autocommit=True) as conn:
        quarantine.release(conn, batch_id, replay_id, by)
        for page_no in files:
            quarantine.release_file(conn, batch_id, page_no, replay_id, by)


def run_interval(
    channel: ChannelConfig,
    stream: str,
    interval: Interval,
    credentials: Credentials,
    run_id: str | None = None,
) -> ledger.Batch:
    batch_id = extract_and_land(channel, stream, interval, credentials, run_id)
    gate(channel, stream, batch_id)
    return publish_batch(channel, stream, batch_id)
