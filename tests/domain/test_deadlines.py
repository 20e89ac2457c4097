"""Deadline maths: report-in and resolution due times, check-in timing, W05 fractions, vectorised twins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from gis_enforcement.domain import deadlines as dl
from gis_enforcement.domain.calendar import WorkCalendar
from gis_enforcement.domain.deadlines import DeadlineStage
from gis_enforcement.errors import InvalidInput

DATA = Path(__file__).resolve().parents[2] / "data" / "calendar" / "cn_workdays.yaml"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.from_yaml(DATA)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


# -- due times -----------------------------------------------------------------------------------------------


def test_report_in_is_wall_clock_even_at_night_on_a_holiday() -> None:
    # 03:50 on 除夕 2025: due 04:20, holidays do not matter for the 30-minute report-in.
    assert dl.report_in_due(at(2025, 1, 28, 3, 50), 30) == at(2025, 1, 28, 4, 20)
    # Across midnight and in another zone: the instant is what counts.
    due = dl.report_in_due(datetime(2025, 6, 1, 15, 45, tzinfo=UTC), 30)
    assert due == at(2025, 6, 2, 0, 15)


def test_resolution_due_in_hours_and_in_working_days(cal: WorkCalendar) -> None:
    whistle = at(2025, 9, 26, 17)  # Friday
    assert dl.resolution_due(whistle, hours=72) == at(2025, 9, 29, 17)
    # 5 working days: Sun 09-28 (调休), Mon 29, Tue 30, [国庆 off], Thu 10-09, Fri 10-10 -> 24:00 Fri.
    assert dl.resolution_due(whistle, working_days=5, calendar=cal) == at(2025, 10, 11)
    assert dl.resolution_due(whistle) is None


def test_resolution_due_across_a_make_up_weekend(cal: WorkCalendar) -> None:
    # Thu 2026-02-12: Fri 13 (1), Sat 14 调休 (2), [春节 15..23], Tue 24 (3) -> 24:00 Tue.
    assert dl.resolution_due(at(2026, 2, 12, 9), working_days=3, calendar=cal) == at(2026, 2, 25)


def test_resolution_due_refusals(cal: WorkCalendar) -> None:
    whistle = at(2025, 9, 26, 17)
    cases = [
        ({"hours": 4, "working_days": 1, "calendar": cal}, "resolution"),
        ({"working_days": 2}, "calendar"),
        ({"working_days": 0, "calendar": cal}, "resolution_working_days"),
        ({"working_days": 1.5, "calendar": cal}, "resolution_working_days"),
        ({"hours": -1}, "resolution_hours"),
        ({"hours": float("nan")}, "resolution_hours"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidInput) as exc:
            dl.resolution_due(whistle, **kwargs)  # type: ignore[arg-type]
        assert exc.value.field == field, kwargs


def test_deadlines_for_a_rule(cal: WorkCalendar) -> None:
    d = dl.deadlines_for(at(2025, 5, 30, 16), report_in_minutes=30, resolution_hours=48)
    assert d.report_in_due == at(2025, 5, 30, 16, 30)
    assert (d.resolution_due, d.resolution_basis) == (at(2025, 6, 1, 16), "hours")
    d = dl.deadlines_for(at(2025, 5, 30, 16), report_in_minutes=20, resolution_working_days=1, calendar=cal)
    # 端午 05-31..06-02: Tue 06-03 is day 1.
    assert d.resolution_due == at(2025, 6, 4) and d.resolution_basis == "working_days"


@pytest.mark.parametrize("fn", [
    lambda: dl.report_in_due(datetime(2025, 6, 1, 9), 30),
    lambda: dl.resolution_due(datetime(2025, 6, 1, 9), hours=4),
    lambda: dl.report_in_timing(whistled_at=datetime(2025, 6, 1, 9), due=at(2025, 6, 1, 9, 30),
                                server_time=at(2025, 6, 1, 9, 10)),
    lambda: dl.elapsed_fraction(at(2025, 6, 1), at(2025, 6, 2), datetime(2025, 6, 1, 12)),
])
def test_naive_datetimes_are_refused(fn) -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        fn()


def test_report_in_minutes_must_be_positive() -> None:
    for bad in (0, -5, "30", True):
        with pytest.raises(InvalidInput) as exc:
            dl.report_in_due(at(2025, 6, 1), bad)  # type: ignore[arg-type]
        assert exc.value.field == "report_in_minutes"


# -- report-in timing ----------------------------------------------------------------------------------------


def test_check_in_late_by_server_time_not_device_time() -> None:
    whistle = at(2025, 7, 3, 22, 10)
    due = dl.report_in_due(whistle, 30)
    # The phone claims 22:39 (on time); the server received it at 22:47:30 — the server decides.
    t = dl.report_in_timing(whistled_at=whistle, due=due, server_time=at(2025, 7, 3, 22, 47, 30),
                            device_time=at(2025, 7, 3, 22, 39))
    assert not t.on_time
    assert t.minutes_late == pytest.approx(7.5)
    assert t.minutes_after_whistle == pytest.approx(37.5)
    assert t.device_skew_seconds == pytest.approx(-510.0)


def test_check_in_exactly_at_due_is_on_time_and_early_is_negative() -> None:
    whistle = at(2025, 7, 3, 22, 10)
    due = dl.report_in_due(whistle, 30)
    assert dl.report_in_timing(whistled_at=whistle, due=due, server_time=due).on_time
    early = dl.report_in_timing(whistled_at=whistle, due=due, server_time=at(2025, 7, 3, 22, 28))
    assert early.on_time and early.minutes_late == pytest.approx(-12.0) and early.device_skew_seconds is None


def test_check_in_before_the_whistle_is_refused() -> None:
    whistle = at(2025, 7, 3, 22, 10)
    with pytest.raises(InvalidInput) as exc:
        dl.report_in_timing(whistled_at=whistle, due=whistle + timedelta(minutes=30),
                            server_time=whistle - timedelta(seconds=1))
    assert exc.value.field == "server_time"


def test_queued_check_in_is_timed_at_its_fix_by_the_servers_clock() -> None:
    whistle = at(2025, 7, 3, 22, 10)
    due = dl.report_in_due(whistle, 30)
    # The phone's clock is 1 h 5 min slow; it took the fix, then waited 20 min for signal. The server received it
    # at 22:50 (10 min after the 22:40 deadline); by the phone's interval it was there at 22:30, on time.
    t = dl.report_in_timing(whistled_at=whistle, due=due, server_time=at(2025, 7, 3, 22, 50),
                            device_time=at(2025, 7, 3, 21, 45), fixed_at=at(2025, 7, 3, 21, 25))
    assert t.checked_in_at == at(2025, 7, 3, 22, 30)
    assert t.on_time and t.minutes_late == pytest.approx(-10.0) and t.minutes_after_whistle == pytest.approx(20.0)
    assert t.queued_seconds == pytest.approx(1200.0) and t.received_at == at(2025, 7, 3, 22, 50)
    assert t.device_skew_seconds == pytest.approx(-65 * 60.0)
    late = dl.report_in_timing(whistled_at=whistle, due=due, server_time=at(2025, 7, 3, 23, 0),
                               device_time=at(2025, 7, 3, 23, 0), fixed_at=at(2025, 7, 3, 22, 45))
    assert not late.on_time and late.minutes_late == pytest.approx(5.0)
    direct = dl.report_in_timing(whistled_at=whistle, due=due, server_time=at(2025, 7, 3, 22, 50),
                                 device_time=at(2025, 7, 3, 22, 50))
    assert direct.queued_seconds is None and direct.received_at is None
    assert direct.checked_in_at == at(2025, 7, 3, 22, 50)


def test_queued_check_in_waiting_exactly_the_limit_is_taken() -> None:
    whistle = at(2025, 7, 3, 8)
    received = whistle + dl.QUEUED_REPORT_IN_MAX + timedelta(minutes=5)
    t = dl.report_in_timing(whistled_at=whistle, due=whistle + timedelta(minutes=30), server_time=received,
                            device_time=received, fixed_at=received - dl.QUEUED_REPORT_IN_MAX)
    assert t.checked_in_at == whistle + timedelta(minutes=5) and t.on_time


@pytest.mark.parametrize(("device_time", "fixed_at", "field", "kind", "words"), [
    (None, at(2025, 7, 3, 22, 20), "device_time", "needs_device_time", "needs device_time"),
    (at(2025, 7, 3, 22, 20), at(2025, 7, 3, 22, 21), "fixed_at", "fixed_after_sent", "after device_time"),
    (at(2025, 7, 3, 22, 49), at(2025, 7, 3, 10, 48), "fixed_at", "queued_too_long", "within 12 h"),
    # 45 min wait before a 22:50 arrival: 22:05, before the 22:10 whistle
    (at(2025, 7, 3, 22, 50), at(2025, 7, 3, 22, 5), "fixed_at", "before_whistle", "cannot precede its whistle"),
])
def test_queued_check_in_refusals(device_time, fixed_at, field, kind, words) -> None:
    whistle = at(2025, 7, 3, 22, 10)
    with pytest.raises(InvalidInput, match=words) as exc:
        dl.report_in_timing(whistled_at=whistle, due=whistle + timedelta(minutes=30),
                            server_time=at(2025, 7, 3, 22, 50), device_time=device_time, fixed_at=fixed_at)
    assert exc.value.field == field and exc.value.detail["kind"] == kind
    if kind == "queued_too_long":
        assert exc.value.detail["max_queued_s"] == 12 * 3600.0


def test_queued_check_in_needs_an_aware_fix_time() -> None:
    whistle = at(2025, 7, 3, 22, 10)
    with pytest.raises(InvalidInput, match="time zone") as exc:
        dl.report_in_timing(whistled_at=whistle, due=whistle + timedelta(minutes=30),
                            server_time=at(2025, 7, 3, 22, 50), device_time=at(2025, 7, 3, 22, 50),
                            fixed_at=datetime(2025, 7, 3, 22, 30))
    assert exc.value.field == "fixed_at"


# -- W05 fractions -------------------------------------------------------------------------------------------


def test_elapsed_fraction_wall_clock_and_stages() -> None:
    start, due = at(2025, 6, 10, 8), at(2025, 6, 11, 8)  # 24 h
    assert dl.elapsed_fraction(start, due, at(2025, 6, 10, 7)) == 0.0
    assert dl.elapsed_fraction(start, due, at(2025, 6, 10, 20)) == pytest.approx(0.5)
    f80 = dl.elapsed_fraction(start, due, at(2025, 6, 11, 3, 12))
    assert f80 == pytest.approx(0.8) and dl.deadline_stage(f80) is DeadlineStage.YELLOW
    assert dl.deadline_stage(dl.elapsed_fraction(start, due, at(2025, 6, 11, 3, 11))) is DeadlineStage.OK
    assert dl.deadline_stage(dl.elapsed_fraction(start, due, due)) is DeadlineStage.RED
    assert dl.elapsed_fraction(start, due, at(2025, 6, 11, 20)) == pytest.approx(1.5)


def test_elapsed_fraction_counts_only_working_time_with_the_calendar(cal: WorkCalendar) -> None:
    start = at(2025, 9, 30, 12)  # Tue, last working day before 国庆
    due = cal.add_working_days(start, 2)  # Thu 10-09, Fri 10-10 -> 24:00 Fri = 10-11 00:00
    # Working time in the span: 12 h (09-30) + 48 h = 60 h. Late on 10-08 only 12 h have run: 20 %.
    now = at(2025, 10, 8, 22)
    assert dl.elapsed_fraction(start, due, now, calendar=cal) == pytest.approx(0.2)
    # Wall clock (202 h of 252 h) would already be yellow: the holiday week must not count against the lead.
    assert dl.deadline_stage(dl.elapsed_fraction(start, due, now)) is DeadlineStage.YELLOW
    assert dl.elapsed_fraction(start, due, at(2025, 10, 10, 12), calendar=cal) == pytest.approx(0.8)


def test_elapsed_fraction_refuses_an_empty_span_and_bad_thresholds() -> None:
    with pytest.raises(InvalidInput) as exc:
        dl.elapsed_fraction(at(2025, 6, 1), at(2025, 6, 1), at(2025, 6, 2))
    assert exc.value.field == "due"
    with pytest.raises(InvalidInput):
        dl.deadline_stage(0.5, yellow_at=1.0, red_at=0.8)


# -- vectorised twins ----------------------------------------------------------------------------------------


def _whistles() -> pd.Series:
    local = pd.to_datetime(["2025-09-26 17:00", "2025-09-30 12:00", "2025-01-24 23:00", "2026-02-12 09:00",
                            "2025-10-11 10:00", "2025-06-14 08:00"])
    return pd.Series(local.tz_localize("Asia/Shanghai").tz_convert("UTC"))  # stored as UTC, as from the database


def test_vectorised_due_times_match_scalars(cal: WorkCalendar) -> None:
    w = _whistles()
    days = np.array([5, 2, 3, 3, 1, 1])
    due = dl.resolution_due_working_days_array(w, days, cal)
    expected = [cal.add_working_days(t.to_pydatetime(), int(n)) for t, n in zip(w, days, strict=True)]
    assert list(due) == [pd.Timestamp(e) for e in expected]
    rin = dl.report_in_due_array(w, 30)
    assert list(rin) == [pd.Timestamp(dl.report_in_due(t.to_pydatetime(), 30)) for t in w]


def test_vectorised_fractions_and_lateness_match_scalars(cal: WorkCalendar) -> None:
    w = _whistles()
    due = dl.resolution_due_working_days_array(w, 3, cal)
    now = at(2025, 10, 10, 12)
    for calendar in (None, cal):
        got = dl.elapsed_fraction_array(w, due, now, calendar=calendar)
        want = [dl.elapsed_fraction(a.to_pydatetime(), b.to_pydatetime(), now, calendar=calendar)
                for a, b in zip(w, due, strict=True)]
        np.testing.assert_allclose(got, want)
    checked = w + pd.to_timedelta([10, 30, 31, 45, 0, 90], unit="m")
    late = dl.minutes_late_array(checked, dl.report_in_due_array(w, 30))
    np.testing.assert_allclose(late, [-20, 0, 1, 15, -30, 60])
    assert list(late <= 0) == [True, True, False, False, True, False]


def test_vectorised_inputs_must_be_aware(cal: WorkCalendar) -> None:
    naive = pd.Series(pd.to_datetime(["2025-09-26 17:00"]))
    with pytest.raises(InvalidInput) as exc:
        dl.resolution_due_working_days_array(naive, 1, cal)
    assert exc.value.field == "whistled_at"
    with pytest.raises(InvalidInput):
        dl.report_in_due_array(_whistles(), 0)
