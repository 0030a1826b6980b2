"""What `omni demo` shows: a failure's errors from the log, and the logs kept off the
terminal."""

from __future__ import annotations

import os

from omnichannel.cli.progress import Output


def test_a_failure_shows_the_task_errors_then_the_logs_last_lines(tmp_path):
    log = tmp_path / "demo.log"
    lines = [f"2026-12-04T10:00:{n:02d}Z [info ] step {n}" for n in range(40)]
    lines[10:10] = [
        "Traceback (most recent call last):",
        '  File "dbt.py", line 160, in model',
        "airflow.sdk.exceptions.AirflowFailException: dbt test not_null_x failed on fct_orders",
    ]
    log.write_text("\n".join(lines) + "\n")
    tail = Output(log).tail(lines=3)
    assert tail[0].endswith("dbt test not_null_x failed on fct_orders")
    assert tail[1] == "..." and tail[2:] == lines[-3:]


def test_the_logs_go_to_the_file_and_the_terminal_comes_back(tmp_path, capfd):
    log = tmp_path / "logs" / "demo.log"
    with Output(log) as output:
        os.write(1, b"an Airflow INFO line\n")  # what a library or subprocess writes
        output.say("catch-up   shopify_us   3/3 batches")
    print("after")
    out, _ = capfd.readouterr()
    assert "an Airflow INFO line" in log.read_text()
    assert "an Airflow INFO line" not in out
    assert "catch-up   shopify_us" in out and "after" in out
    assert oct(log.stat().st_mode & 0o777) == "0o600"
