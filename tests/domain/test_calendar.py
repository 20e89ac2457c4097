"""Working-day calendar: the shipped data against the notices, the deadline rule, refusals, vectorised twins."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import yaml

from gis_enforcement.domain.calendar import WorkCalendar
from gis_enforcement.errors import InvalidInput

DATA = Path(__file__).resolve().parents[2] / "data" / "calendar" / "cn_workdays.yaml"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.from_yaml(DATA)


@pytest.fixture()
def raw() -> dict:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


# -- the shipped data --------------------------------------------------------------------------------------


def test_shipped_years_and_provenance(cal: WorkCalendar) -> None:
    assert sorted(cal.years) == [2025, 2026, 2027]
    assert cal.years[2025].provenance == "sourced"
    assert cal.years[2025].source.document == "国办发明电〔2024〕12号"
    assert cal.years[2026].provenance == "sourced"
    assert cal.draft_years == (2027,)


@pytest.mark.parametrize(
    "day, workday",
    [
        # 国办发明电〔2024〕12号: 国庆节、中秋节 10-01..08, make-up Sun 09-28 and Sat 10-11.
        (date(2025, 9, 27), False),  # Saturday
        (date(2025, 9, 28), True),  # Sunday, make-up
        (date(2025, 9, 30), True),
        *((date(2025, 10, d), False) for d in range(1, 9)),
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday, make-up
        (date(2025, 10, 12), False),  # Sunday
        # 春节 01-28 (除夕) .. 02-04, make-up Sun 01-26 and Sat 02-08.
        (date(2025, 1, 26), True),
        (date(2025, 1, 27), True),
        (date(2025, 1, 28), False),
        (date(2025, 2, 4), False),
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),
        # 劳动节 05-01..05 with make-up Sun 04-27: the 2025 extra day (05-02) is off.
        (date(2025, 4, 27), True),
        (date(2025, 5, 2), False),
        (date(2025, 5, 5), False),
        (date(2025, 5, 6), True),
        (date(2025, 1, 1), False),
        (date(2025, 1, 2), True),
        # 2026 (国办发明电〔2025〕7号): 元旦 make-up Sun 01-04, 春节 02-15..23, 国庆 make-up Sun 09-20.
        (date(2026, 1, 2), False),
        (date(2026, 1, 4), True),
        (date(2026, 2, 14), True),
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 9, 20), True),
        (date(2026, 9, 25), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),
    ],
)
def test_workdays_match_the_notices(cal: WorkCalendar, day: date, workday: bool) -> None:
    assert cal.is_workday(day) is workday


def test_each_year_has_13_statutory_days_balanced_by_make_up_days(cal: WorkCalendar) -> None:
    # Since 2025: 13 statutory days. Every borrowed weekday is paid back by a make-up weekend day, so the
    # number of working days is (Mon–Fri count) - 13 — a check that each year's ranges and make-ups balance.
    for year in cal.years:
        days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
        weekdays = int(np.is_busday(days).sum())
        assert int(cal.is_workday_array(days).sum()) == weekdays - 13, year


def test_holiday_lookup(cal: WorkCalendar) -> None:
    h = cal.holiday(date(2025, 10, 6))
    assert h is not None and h.zh == "国庆节、中秋节" and h.start == date(2025, 10, 1)
    assert cal.holiday(date(2025, 9, 28)) is None


# -- deadlines ---------------------------------------------------------------------------------------------


def test_deadline_is_24h_of_nth_working_day_and_start_day_not_counted(cal: WorkCalendar) -> None:
    # Tuesday 2025-09-16 15:20 + 1 working day -> end of Wednesday 09-17.
    assert cal.add_working_days(at(2025, 9, 16, 15, 20), 1) == at(2025, 9, 18)
    # A start at 00:00 still does not count its own day.
    assert cal.add_working_days(at(2025, 9, 16), 1) == at(2025, 9, 18)


def test_deadline_across_a_weekend(cal: WorkCalendar) -> None:
    # Thursday 2025-06-12 + 3 working days: Fri 13, Mon 16, Tue 17 -> 24:00 Tue.
    assert cal.add_working_days(at(2025, 6, 12, 9), 3) == at(2025, 6, 18)


def test_deadline_across_national_day_uses_both_make_up_days(cal: WorkCalendar) -> None:
    # Fri 2025-09-26: Sun 09-28 (make-up) 1, Mon 29 2, Tue 30 3, [10-01..08 off], Thu 10-09 4, Fri 10 5,
    # Sat 10-11 (make-up) 6, Mon 13 7.
    start = at(2025, 9, 26, 17)
    expected = {1: date(2025, 9, 28), 3: date(2025, 9, 30), 4: date(2025, 10, 9), 6: date(2025, 10, 11),
                7: date(2025, 10, 13)}
    for n, last in expected.items():
        assert cal.last_working_day(start, n) == last
        assert cal.add_working_days(start, n) == datetime.combine(last + timedelta(days=1), datetime.min.time(), SH)


def test_deadline_across_spring_festival(cal: WorkCalendar) -> None:
    # Fri 2025-01-24 + 3: Sun 01-26 (make-up) 1, Mon 27 2, [01-28..02-04 off], Wed 02-05 3.
    assert cal.add_working_days(at(2025, 1, 24, 11), 3) == at(2025, 2, 6)
    # 2026: whistle Thu 02-12; Fri 13 1, Sat 14 (make-up) 2, [02-15..23 off], Tue 24 3.
    assert cal.add_working_days(at(2026, 2, 12, 20), 3) == at(2026, 2, 25)


def test_deadline_starting_on_a_make_up_saturday(cal: WorkCalendar) -> None:
    # Sat 2025-10-11 is a working day, but the start day is never counted: Mon 13 is day 1.
    assert cal.add_working_days(at(2025, 10, 11, 10), 1) == at(2025, 10, 14)


def test_deadline_starting_on_a_holiday_or_weekend(cal: WorkCalendar) -> None:
    assert cal.add_working_days(at(2025, 10, 3, 2), 1) == at(2025, 10, 10)  # holiday -> Thu 10-09 is day 1
    assert cal.add_working_days(at(2025, 6, 14, 8), 1) == at(2025, 6, 17)  # Saturday -> Monday


def test_start_in_another_zone_is_taken_in_shanghai(cal: WorkCalendar) -> None:
    # 2025-09-30 17:00 UTC is 10-01 01:00 in Beijing: a holiday, so day 1 is 10-09.
    start = datetime(2025, 9, 30, 17, tzinfo=ZoneInfo("UTC"))
    assert cal.add_working_days(start, 1) == at(2025, 10, 10)


def test_deadline_across_the_year_end(cal: WorkCalendar) -> None:
    # Wed 2025-12-31 + 1: 2026-01-01..03 off, Sun 01-04 make-up is day 1.
    assert cal.add_working_days(at(2025, 12, 31, 16), 1) == at(2026, 1, 5)


def test_working_days_between_inverts_the_deadline(cal: WorkCalendar) -> None:
    start = at(2025, 9, 26, 17)
    for n in range(1, 30):
        assert cal.working_days_between(start, cal.last_working_day(start, n)) == n
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 8)) == 0
    assert cal.working_days_between(date(2025, 10, 9), date(2025, 9, 30)) == -1


def test_working_time_between_skips_holidays(cal: WorkCalendar) -> None:
    assert cal.working_time_between(at(2025, 9, 30, 12), at(2025, 10, 9, 6)) == timedelta(hours=18)
    assert cal.working_time_between(at(2025, 10, 2), at(2025, 10, 5)) == timedelta(0)


# -- refusals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2024, 12, 31), date(2028, 1, 1)])
def test_outside_the_loaded_years_is_refused(cal: WorkCalendar, day: date) -> None:
    with pytest.raises(InvalidInput) as exc:
        cal.is_workday(day)
    assert exc.value.field == "date" and "2025–2027" in exc.value.message


def test_deadline_beyond_the_calendar_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(InvalidInput) as exc:
        cal.add_working_days(at(2027, 12, 28), 5)
    assert exc.value.field == "date" and "2027-12-31" in exc.value.message


def test_naive_datetimes_and_bad_day_counts_are_refused(cal: WorkCalendar) -> None:
    with pytest.raises(InvalidInput) as exc:
        cal.add_working_days(datetime(2025, 6, 12, 9), 1)
    assert exc.value.field == "start"
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidInput) as exc:
            cal.add_working_days(at(2025, 6, 12), bad)  # type: ignore[arg-type]
        assert exc.value.field == "days"


def _refusal(raw: dict) -> InvalidInput:
    with pytest.raises(InvalidInput) as exc:
        WorkCalendar.from_mapping(raw)
    return exc.value


def test_from_mapping_refuses_a_date_outside_its_year(raw: dict) -> None:
    raw["years"][2025]["holidays"][0]["end"] = date(2026, 1, 1)
    assert _refusal(raw).field == "years.2025.holidays[0].end"


def test_from_mapping_refuses_a_weekday_make_up(raw: dict) -> None:
    raw["years"][2025]["makeup_workdays"][1]["date"] = date(2025, 2, 7)  # a Friday
    err = _refusal(raw)
    assert err.field == "years.2025.makeup_workdays[1].date" and "Saturday or Sunday" in err.message


def test_from_mapping_refuses_a_day_both_holiday_and_make_up(raw: dict) -> None:
    raw["years"][2025]["makeup_workdays"].append({"date": date(2025, 10, 4), "for": "国庆节"})  # Sat in holiday
    err = _refusal(raw)
    assert err.field == "years.2025.makeup_workdays[5].date" and "国庆节、中秋节" in err.message


def test_from_mapping_refuses_overlaps_gaps_bad_provenance_and_zone(raw: dict) -> None:
    bad = copy.deepcopy(raw)
    bad["years"][2026]["holidays"][1]["start"] = date(2026, 1, 2)
    assert _refusal(bad).field == "years.2026.holidays[1]"
    bad = copy.deepcopy(raw)
    del bad["years"][2026]
    assert _refusal(bad).field == "years"
    bad = copy.deepcopy(raw)
    bad["years"][2027]["provenance"] = "guessed"
    assert _refusal(bad).field == "years.2027.provenance"
    bad = copy.deepcopy(raw)
    bad["timezone"] = "Mars/Olympus"
    assert _refusal(bad).field == "timezone"
    bad = copy.deepcopy(raw)
    bad["years"][2025]["makeup_workdays"][0]["date"] = "2025-13-01"
    assert _refusal(bad).field == "years.2025.makeup_workdays[0].date"


def test_from_mapping_accepts_iso_strings() -> None:
    text = {"timezone": "Asia/Shanghai", "years": {"2025": {
        "provenance": "sourced", "source": {"title": "t"},
        "holidays": [{"zh": "国庆节", "en": "National Day", "start": "2025-10-01", "end": "2025-10-08"}],
        "makeup_workdays": [{"date": "2025-10-11", "for": "国庆节"}],
    }}}
    cal = WorkCalendar.from_mapping(text)
    assert cal.is_workday(date(2025, 10, 11)) and not cal.is_workday(date(2025, 10, 8))


# -- vectorised twins --------------------------------------------------------------------------------------


def test_vectorised_helpers_agree_with_scalars(cal: WorkCalendar) -> None:
    days = np.arange(np.datetime64("2025-01-01"), np.datetime64("2027-12-01"))
    flags = cal.is_workday_array(days)
    sample = range(0, len(days), 7)
    assert all(bool(flags[i]) == cal.is_workday(days[i].astype(date)) for i in sample)
    n = (np.arange(len(days)) % 9) + 1
    last = cal.last_working_day_array(days, n)
    assert all(last[i].astype(date) == cal.last_working_day(days[i].astype(date), int(n[i])) for i in sample)
    between = cal.working_days_between_array(days, last)
    assert (between == n).all()


def test_vectorised_refusals(cal: WorkCalendar) -> None:
    with pytest.raises(InvalidInput):
        cal.is_workday_array(np.array(["2025-01-01", "2028-01-01"], dtype="datetime64[D]"))
    with pytest.raises(InvalidInput):
        cal.is_workday_array(np.array(["2025-01-01", "NaT"], dtype="datetime64[D]"))
    with pytest.raises(InvalidInput):
        cal.last_working_day_array(np.array(["2025-01-01"], dtype="datetime64[D]"), 0)
