"""What `omni demo` shows while it works: a line (or a live bar) per stage and channel, with
the logs of Airflow, dbt and GX in a file instead of on the terminal.

`Output` sends everything this process and its children write to stdout and stderr into
the log file (file descriptors 1 and 2, so subprocesses and C libraries follow), and keeps
the terminal for the progress lines. `Progress.extract` watches the ledger
(ops.load_batches) from a thread while a DAG run goes on, which is how it counts intervals,
rows and held batches without hooking into Airflow.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path

from omnichannel import warehouse

FINISHED = ("published", "held", "failed", "skipped")
# the last line of a traceback: `package.module.SomeError: what went wrong`
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")


class Output:
    """The terminal and the log file of one demo run (`verbose`: everything on the
    terminal, as before)."""

    def __init__(self, log_path: Path | None, verbose: bool = False):
        self.log_path = log_path
        self.verbose = verbose or log_path is None
        self.terminal = sys.stdout
        self._saved: tuple[int, int] | None = None

    def __enter__(self) -> Output:
        if self.verbose:
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = (os.dup(1), os.dup(2))
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        self.terminal = os.fdopen(os.dup(self._saved[0]), "w", buffering=1)
        return self

    def __exit__(self, *exc) -> None:
        if self._saved is None:
            return
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in self._saved:
            os.close(fd)
        self.terminal.close()
        self.terminal = sys.stdout
        self._saved = None

    def say(self, text: str) -> None:
        print(text, file=self.terminal, flush=True)

    def tail(self, lines: int = 8, errors: int = 3) -> list[str]:
        """What a failure left in the log: its last exception lines (a task's error names
        what failed), then its last lines."""
        if self.log_path is None or not self.log_path.exists():
            return []
        last, raised = deque(maxlen=lines), deque(maxlen=errors)
        with open(self.log_path, errors="replace") as log:
            for line in log:
                line = line.rstrip("\n")
                last.append(line)
                if EXCEPTION_LINE.match(line):
                    raised.append(line)
        return [*raised, "...", *last] if raised else list(last)


class Progress:
    """Progress lines of the demo's stages, on an Output's terminal."""

    def __init__(self, output: Output | None = None, poll_seconds: float = 0.5):
        self.output = output
        self.poll_seconds = poll_seconds
        self.live = bool(output and _is_tty(output.terminal))

    def say(self, text: str) -> None:
        if self.output is not None:
            self.output.say(text)

    @contextmanager
    def step(self, label: str):
        started = time.monotonic()
        self._status(f"{label} ...")
        yield
        self._status(f"{label} done in {time.monotonic() - started:.0f}s", end=True)

    @contextmanager
    def extract(self, label: str, channel_id: str, batches: int, since: int | None = None):
        """A DAG run of one channel's extracts: intervals done, rows, held batches, counted
        from the ledger while it runs (its batches after `since`: by default, from now)."""
        since = last_batch_id() if since is None else since
        started = time.monotonic()
        done = threading.Event()

        def line() -> str:
            finished, rows, held, waited = _ledger_counts(channel_id, since)
            text = f"{label:<11}{channel_id:<17}{finished:>4}/{batches} batches {rows:>9,} rows"
            text += f"  {held} held" if held else ""
            return text + f"  (API waits {_short(waited)} simulated)" if waited else text

        def watch() -> None:
            while not done.wait(self.poll_seconds):
                self._status(line())

        watcher = threading.Thread(target=watch, daemon=True) if self.live else None
        if watcher:
            watcher.start()
        try:
            yield
        finally:
            done.set()
            if watcher:
                watcher.join()
            self._status(f"{line()}  {time.monotonic() - started:.0f}s", end=True)

    def _status(self, text: str, end: bool = False) -> None:
        if self.output is None:
            return
        if self.live:
            self.output.terminal.write("\r\033[K" + text + ("\n" if end else ""))
            self.output.terminal.flush()
        elif end:
            self.say(text)


def _is_tty(stream) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def _short(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def last_batch_id() -> int:
    with warehouse.connect() as conn:
        [(latest,)] = conn.execute(
            "select coalesce(max(batch_id), 0) from ops.load_batches"
        ).fetchall()
    return latest


def _ledger_counts(channel_id: str, since: int) -> tuple[int, int, int, float]:
    with warehouse.connect() as conn:
        [row] = conn.execute(
            """select count(*) filter (where status = any(%s)),
                      coalesce(sum(rows_published), 0),
                      count(*) filter (where status = 'held'),
                      coalesce(sum(api_wait_seconds), 0)
               from ops.load_batches where channel_id = %s and batch_id > %s""",
            (list(FINISHED), channel_id, since),
        ).fetchall()
    return int(row[0]), int(row[1]), int(row[2]), float(row[3])
