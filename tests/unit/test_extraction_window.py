from datetime import UTC, datetime, timedelta

import pytest

from omnichannel.pipeline import Interval, extraction_window

DAY = Interval(datetime(2026, 10, 5, 4, tzinfo=UTC), datetime(2026, 10, 6, 4, tzinfo=UTC))
LOOKBACK = timedelta(hours=6)


def test_first_run_reads_its_interval_plus_lookback():
    assert extraction_window(None, DAY, LOOKBACK) == (DAY.start - LOOKBACK, DAY.end)


def test_after_missed_runs_it_catches_up_from_the_watermark():
    watermark = DAY.start - timedelta(days=3)
    assert extraction_window(watermark, DAY, LOOKBACK) == (watermark - LOOKBACK, DAY.end)


def test_rerun_of_an_old_interval_reads_that_interval():
    watermark = DAY.end + timedelta(days=10)
    assert extraction_window(watermark, DAY, LOOKBACK) == (DAY.start - LOOKBACK, DAY.end)


def test_naive_or_empty_intervals_are_rejected():
    with pytest.raises(ValueError):
        Interval(datetime(2026, 10, 5), datetime(2026, 10, 6))
    with pytest.raises(ValueError):
        Interval(DAY.end, DAY.start)
