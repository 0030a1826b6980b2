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


def test_a_run_without_parameters_makes_one_batch_of_its_data_interval(channels):
    from omnichannel.pipeline import run_intervals

    assert run_intervals(channels.get("shopify_us"), DAY, None, None) == [DAY]


def test_a_catch_up_run_makes_one_interval_per_local_day(channels):
    from omnichannel.pipeline import Interval as I
    from omnichannel.pipeline import run_intervals

    paris = channels.get("pos_fr")  # closes its day at 06:00 Paris time
    days = run_intervals(paris, DAY, "2026-10-24", "2026-10-26")
    assert [d.as_dict() for d in days] == [
        {"start": "2026-10-24T06:00:00+02:00", "end": "2026-10-25T06:00:00+01:00"},
        {"start": "2026-10-25T06:00:00+01:00", "end": "2026-10-26T06:00:00+01:00"},
        {"start": "2026-10-26T06:00:00+01:00", "end": "2026-10-27T06:00:00+01:00"},
    ]  # the first lasts 25 hours: summer time ends that night
    assert [I.from_dict(d.as_dict()) for d in days] == days


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-10-05", None, "both"),
        ("2026-10-05", "2026-10-01", "before"),
        ("5/10", "6/10", "isoformat"),
    ],
)
def test_bad_catch_up_parameters_are_rejected(channels, first, last, message):
    from omnichannel.pipeline import run_intervals

    with pytest.raises(ValueError, match=message):
        run_intervals(channels.get("shopify_us"), DAY, first, last)
