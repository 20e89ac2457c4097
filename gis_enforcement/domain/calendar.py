"""The working-day calendar: Chinese public holidays and make-up working days (调休), loaded from data.

A day is a **working day** when it is a Monday–Friday that is not inside a holiday range, or a Saturday/Sunday
listed as a make-up working day (调休上班). Holidays and make-up days come from the State Council General
Office's yearly notice, shipped as ``data/calendar/cn_workdays.yaml``; nothing about a year is hard-coded.
Dates outside the loaded years are refused (:class:`~gis_enforcement.errors.InvalidInput` on ``date``), never
guessed: a deadline that silently ignored next year's Spring Festival would be wrong by a week.

**Deadline convention** (:meth:`WorkCalendar.add_working_days`). A deadline of *N* working days follows the
rules for periods counted in days of the Civil Code (民法典 第二百零一条、第二百零三条), which administrative
practice applies to working-day periods (e.g. 行政处罚法 第八十五条: "日" means working days): the day on which
the period starts is not counted, the period runs from the next day, only working days count, and the last
day ends at **24:00**. So the deadline is 24:00 of the *N*-th working day after the calendar date of the
start, in the calendar's time zone (Asia/Shanghai), returned as 00:00 of the following calendar day. A start
on a non-working day (a Saturday, a holiday) is handled by the same rule: the first working day after it is
day 1. Office hours (有业务时间的，停止业务活动的时间为截止时间) are not modelled: the platform runs 24 h.

Vectorised helpers take numpy ``datetime64`` arrays of **local calendar dates** (the caller converts instants
to Asia/Shanghai first); they use one sorted array of all working days and ``searchsorted``, no Python loops.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import yaml

from gis_enforcement.errors import InvalidInput

__all__ = ["CalendarYear", "HolidayRange", "MakeupWorkday", "WorkCalendar", "YearSource"]

PROVENANCES = ("sourced", "draft")
_DAY = np.timedelta64(1, "D")
_SECONDS_PER_DAY = 86400


@dataclass(frozen=True, slots=True)
class HolidayRange:
    """A closed range of days off for one festival (weekends inside the range included)."""

    zh: str
    en: str
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class MakeupWorkday:
    """A Saturday or Sunday that is a working day (调休上班), and the festival it pays for."""

    day: date
    festival: str


@dataclass(frozen=True, slots=True)
class YearSource:
    """Where a year's dates come from: the notice's title, number, date and address."""

    title: str
    document: str | None = None
    published: date | None = None
    url: str | None = None
    read_at: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarYear:
    """One year of the calendar with its provenance (``sourced`` or ``draft``)."""

    year: int
    provenance: str
    source: YearSource
    holidays: tuple[HolidayRange, ...]
    makeup_workdays: tuple[MakeupWorkday, ...]


@dataclass(frozen=True)
class WorkCalendar:
    """Working days over a contiguous run of years; build it with :meth:`from_yaml` or :meth:`from_mapping`."""

    timezone: str
    years: Mapping[int, CalendarYear]
    tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _workdays: np.ndarray = field(init=False, repr=False, compare=False)  # sorted datetime64[D]
    _workday_set: frozenset[date] = field(init=False, repr=False, compare=False)
    _holidays64: np.ndarray = field(init=False, repr=False, compare=False)
    _makeup64: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", ZoneInfo(self.timezone))
        holidays = [
            np.arange(np.datetime64(h.start, "D"), np.datetime64(h.end, "D") + _DAY)
            for y in self.years.values()
            for h in y.holidays
        ]
        hol = np.unique(np.concatenate(holidays)) if holidays else np.array([], dtype="datetime64[D]")
        makeup = np.array(
            sorted(m.day for y in self.years.values() for m in y.makeup_workdays), dtype="datetime64[D]"
        )
        days = np.arange(np.datetime64(self.first_day, "D"), np.datetime64(self.last_day, "D") + _DAY)
        mask = np.is_busday(days, holidays=hol) | np.isin(days, makeup)
        workdays = days[mask]
        object.__setattr__(self, "_holidays64", hol)
        object.__setattr__(self, "_makeup64", makeup)
        object.__setattr__(self, "_workdays", workdays)
        object.__setattr__(self, "_workday_set", frozenset(workdays.astype(date).tolist()))

    # -- loading ---------------------------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, path: str | Path) -> WorkCalendar:
        """Read a calendar YAML file (see ``data/calendar/README.md``) and validate it with :meth:`from_mapping`."""
        with Path(path).open(encoding="utf-8") as fh:
            return cls.from_mapping(yaml.safe_load(fh))

    @classmethod
    def from_mapping(cls, data: Any) -> WorkCalendar:
        """Build a calendar from its mapping form, refusing bad data with ``InvalidInput`` naming the entry.

        Checks: a valid time zone; contiguous years; every date inside its year; holiday ranges with start <= end
        that do not overlap; make-up workdays on a Saturday or Sunday, never inside a holiday, never repeated.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput("the calendar must be a mapping with 'timezone' and 'years'", field="calendar")
        timezone = _check_zone(data.get("timezone"))
        raw_years = data.get("years")
        if not isinstance(raw_years, Mapping) or not raw_years:
            raise InvalidInput("at least one year is required", field="years")
        years: dict[int, CalendarYear] = {}
        for key, body in raw_years.items():
            year = _year_key(key)
            if year in years:
                raise InvalidInput(f"year {year} is given twice", field=f"years.{year}")
            years[year] = _parse_year(year, body)
        ordered = sorted(years)
        gaps = sorted(set(range(ordered[0], ordered[-1] + 1)) - set(ordered))
        if gaps:
            raise InvalidInput(f"years must be contiguous; missing {gaps}", field="years")
        return cls(timezone=timezone, years=MappingProxyType({y: years[y] for y in ordered}))

    # -- coverage --------------------------------------------------------------------------------------------

    @property
    def first_day(self) -> date:
        return date(min(self.years), 1, 1)

    @property
    def last_day(self) -> date:
        return date(max(self.years), 12, 31)

    @property
    def draft_years(self) -> tuple[int, ...]:
        """Years whose dates were inferred, not read in the notice: deadlines in them are provisional."""
        return tuple(y for y, cy in self.years.items() if cy.provenance != "sourced")

    def covers(self, day: date) -> bool:
        """Whether the calendar has data for this day."""
        return self.first_day <= day <= self.last_day

    def _refuse(self, day: object, field: str = "date") -> InvalidInput:
        return InvalidInput(
            f"{day} is outside the working-day calendar, which covers {min(self.years)}–{max(self.years)} "
            f"({self.first_day} to {self.last_day}); add the year's holiday notice to the calendar data",
            field=field,
            covered=[min(self.years), max(self.years)],
        )

    def local_date(self, value: date | datetime, field: str = "date") -> date:
        """The calendar date of a value in the calendar's time zone; naive datetimes are refused."""
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise InvalidInput("a time zone is required (naive datetimes are ambiguous)", field=field)
            value = value.astimezone(self.tz).date()
        if not self.covers(value):
            raise self._refuse(value, field)
        return value

    # -- scalar queries --------------------------------------------------------------------------------------

    def is_workday(self, day: date | datetime) -> bool:
        """Whether ``day`` (a date, or an aware datetime taken in the calendar's zone) is a working day."""
        return self.local_date(day) in self._workday_set

    def holiday(self, day: date | datetime) -> HolidayRange | None:
        """The holiday range containing ``day``, or None."""
        d = self.local_date(day)
        return next((h for h in self.years[d.year].holidays if d in h), None)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The deadline ``days`` working days after ``start``: 24:00 of the N-th working day (module docstring).

        ``start`` must be timezone-aware; the result is in the calendar's zone, as 00:00 of the day after the
        N-th working day. ``days`` must be at least 1. A deadline past the calendar's last day is refused.
        """
        if not isinstance(start, datetime):
            raise InvalidInput("a datetime is required", field="start")
        last = self._nth_workday_after(self.local_date(start, "start"), days)
        return datetime.combine(last + timedelta(days=1), time(0), tzinfo=self.tz)

    def last_working_day(self, start: date | datetime, days: int) -> date:
        """The N-th working day after the calendar date of ``start`` (the day whose 24:00 is the deadline)."""
        return self._nth_workday_after(self.local_date(start, "start"), days)

    def _nth_workday_after(self, day: date, days: int) -> date:
        if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
            raise InvalidInput(f"working days must be a whole number >= 1, got {days!r}", field="days")
        idx = int(np.searchsorted(self._workdays, np.datetime64(day, "D"), side="right")) + int(days) - 1
        if idx >= len(self._workdays):
            raise self._refuse(f"the deadline {days} working days after {day}", "date")
        result: date = self._workdays[idx].astype(date)
        return result

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days ``d`` with ``date(a) < d <= date(b)`` (negative when ``b`` is before ``a``).

        It inverts the deadline rule: ``working_days_between(start, last_working_day(start, n)) == n``.
        """
        da, db = self.local_date(a, "a"), self.local_date(b, "b")
        ia, ib = np.searchsorted(self._workdays, np.array([da, db], dtype="datetime64[D]"), side="right")
        return int(ib) - int(ia)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Time from ``a`` to ``b`` counting only working days (each a full 24 h); negative when ``b < a``."""
        return timedelta(seconds=self._working_seconds(b, "b") - self._working_seconds(a, "a"))

    def _working_seconds(self, instant: datetime, field: str) -> float:
        d = self.local_date(instant, field)
        local = instant.astimezone(self.tz)
        before = int(np.searchsorted(self._workdays, np.datetime64(d, "D"), side="left"))
        into = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return before * _SECONDS_PER_DAY + (into if d in self._workday_set else 0.0)

    # -- vectorised ------------------------------------------------------------------------------------------

    def _as_days(self, dates: Any, field: str = "date") -> np.ndarray:
        arr = np.asarray(dates).astype("datetime64[D]")
        if arr.size:
            if np.isnat(arr).any():
                raise InvalidInput("missing dates (NaT) are not allowed", field=field)
            lo, hi = arr.min(), arr.max()
            for bound in (lo, hi):
                if not self.covers(bound.astype(date)):
                    raise self._refuse(bound.astype(date), field)
        return arr

    def is_workday_array(self, dates: Any) -> np.ndarray:
        """Vectorised :meth:`is_workday` over local calendar dates (``datetime64`` or ISO strings)."""
        d = self._as_days(dates)
        return np.is_busday(d, holidays=self._holidays64) | np.isin(d, self._makeup64)

    def last_working_day_array(self, dates: Any, days: Any) -> np.ndarray:
        """Vectorised :meth:`last_working_day`: ``datetime64[D]`` of the N-th working day after each date."""
        d = self._as_days(dates)
        n = np.broadcast_to(np.asarray(days), d.shape)
        if n.size and (not np.issubdtype(n.dtype, np.integer) or n.min() < 1):
            raise InvalidInput("working days must be whole numbers >= 1", field="days")
        idx = np.searchsorted(self._workdays, d, side="right") + n - 1
        if idx.size and idx.max() >= len(self._workdays):
            raise self._refuse("a deadline", "date")
        result: np.ndarray = self._workdays[idx]
        return result

    def working_days_between_array(self, a: Any, b: Any) -> np.ndarray:
        """Vectorised :meth:`working_days_between` over local calendar dates."""
        da, db = self._as_days(a, "a"), self._as_days(b, "b")
        count: np.ndarray = np.searchsorted(self._workdays, db, side="right") - np.searchsorted(
            self._workdays, da, side="right"
        )
        return count

    def working_seconds_array(self, local_times: Any) -> np.ndarray:
        """Working seconds from the calendar's first day to each local wall time (``datetime64``, no zone).

        Differences of two results give working time between instants, as :meth:`working_time_between` does.
        """
        t = np.asarray(local_times).astype("datetime64[us]")
        d = self._as_days(t.astype("datetime64[D]"))
        before = np.searchsorted(self._workdays, d, side="left").astype(np.float64)
        into = (t - d.astype("datetime64[us]")).astype(np.int64) / 1e6
        working = np.is_busday(d, holidays=self._holidays64) | np.isin(d, self._makeup64)
        seconds: np.ndarray = before * _SECONDS_PER_DAY + np.where(working, into, 0.0)
        return seconds


# -- parsing (private) -------------------------------------------------------------------------------------


def _check_zone(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInput("a time zone name such as Asia/Shanghai is required", field="timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone") from exc
    return name


def _year_key(key: Any) -> int:
    try:
        year = int(key)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"year keys must be integers, got {key!r}", field="years") from exc
    if not 1900 <= year <= 2200:
        raise InvalidInput(f"implausible year {year}", field="years")
    return year


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("a non-empty text is required", field=where)
    return value.strip()


def _optional_text(value: Any, where: str) -> str | None:
    return None if value is None else _text(value, where)


def _day(value: Any, where: str, year: int | None = None) -> date:
    if isinstance(value, datetime):
        raise InvalidInput(f"a date (YYYY-MM-DD) is required, not a datetime: {value}", field=where)
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError as exc:
            raise InvalidInput(f"not a date (YYYY-MM-DD): {value!r}", field=where) from exc
    if not isinstance(value, date):
        raise InvalidInput(f"a date (YYYY-MM-DD) is required, got {value!r}", field=where)
    if year is not None and value.year != year:
        raise InvalidInput(f"{value} is not in {year}", field=where)
    return value


def _entries(body: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    items = body.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise InvalidInput("a list of mappings is required", field=f"{where}.{key}")
    return items


def _parse_year(year: int, body: Any) -> CalendarYear:
    where = f"years.{year}"
    if not isinstance(body, Mapping):
        raise InvalidInput("a mapping with provenance, source, holidays and makeup_workdays is required", field=where)
    provenance = body.get("provenance")
    if provenance not in PROVENANCES:
        raise InvalidInput(f"provenance must be one of {PROVENANCES}, got {provenance!r}", field=f"{where}.provenance")
    src = body.get("source")
    if not isinstance(src, Mapping):
        raise InvalidInput("a source mapping with at least a title is required", field=f"{where}.source")
    published = src.get("published")
    source = YearSource(
        title=_text(src.get("title"), f"{where}.source.title"),
        published=None if published is None else _day(published, f"{where}.source.published"),
        **{k: _optional_text(src.get(k), f"{where}.source.{k}") for k in ("document", "url", "read_at", "note")},
    )
    holidays: list[HolidayRange] = []
    for i, item in enumerate(_entries(body, "holidays", where)):
        at = f"{where}.holidays[{i}]"
        h = HolidayRange(
            zh=_text(item.get("zh"), f"{at}.zh"),
            en=_text(item.get("en"), f"{at}.en"),
            start=_day(item.get("start"), f"{at}.start", year),
            end=_day(item.get("end"), f"{at}.end", year),
        )
        if h.end < h.start:
            raise InvalidInput(f"{h.zh}: end {h.end} is before start {h.start}", field=f"{at}.end")
        clash = next((o for o in holidays if h.start <= o.end and o.start <= h.end), None)
        if clash is not None:
            raise InvalidInput(f"{h.zh} {h.start}..{h.end} overlaps {clash.zh} {clash.start}..{clash.end}", field=at)
        holidays.append(h)
    makeup: list[MakeupWorkday] = []
    for i, item in enumerate(_entries(body, "makeup_workdays", where)):
        at = f"{where}.makeup_workdays[{i}]"
        m = MakeupWorkday(_day(item.get("date"), f"{at}.date", year), _text(item.get("for"), f"{at}.for"))
        if m.day.weekday() < 5:
            raise InvalidInput(
                f"{m.day} is a {m.day.strftime('%A')}; a make-up workday (调休上班) must be a Saturday or Sunday",
                field=f"{at}.date",
            )
        inside = next((h for h in holidays if m.day in h), None)
        if inside is not None:
            raise InvalidInput(f"{m.day} is both a make-up workday and inside holiday {inside.zh}", field=f"{at}.date")
        if any(o.day == m.day for o in makeup):
            raise InvalidInput(f"{m.day} is listed twice", field=f"{at}.date")
        makeup.append(m)
    return CalendarYear(
        year=year,
        provenance=str(provenance),
        source=source,
        holidays=tuple(sorted(holidays, key=lambda h: h.start)),
        makeup_workdays=tuple(sorted(makeup, key=lambda m: m.day)),
    )
