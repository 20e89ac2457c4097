"""Deadline maths for the whistle chain: due times, report-in timing, and how far a deadline has run.

- **Report-in** deadlines are wall-clock minutes from the whistle (30 by default in the lists): a whistle at
  03:00 on a Sunday during the Spring Festival is due at 03:30 the same night.
- **Resolution** deadlines are either wall-clock hours (``resolution_hours`` of a responsibility rule) or
  working days counted with a :class:`~gis_enforcement.domain.calendar.WorkCalendar` (24:00 of the N-th
  working day after the whistle's date; see that module for the convention).
- **Report-in timing** is measured with the *server's* clock, which is authoritative; the device's clock is
  only reported as a skew, never used for the verdict. On time means checked in at or before the due time.
- A **queued report-in** (taken on site without signal and sent later) is timed at its fix, by the server's
  clock: the phone's absolute clock is never trusted, only the *interval* it measured between the fix
  (``fixed_at``) and the sending (``device_time``), so the fix happened at ``server_time - (device_time -
  fixed_at)``. That interval is bounded by :data:`QUEUED_REPORT_IN_MAX` and the corrected time may not precede
  the whistle.
- **Elapsed fraction** drives the W05 escalation (80 % → yellow, 100 % → red). For working-day deadlines,
  pass the calendar so that only working time counts: otherwise a five-working-day deadline spanning the
  National Day week would turn yellow on a holiday.

Every datetime must be timezone-aware (``InvalidInput`` naming the argument otherwise). Asia/Shanghai has
had no daylight saving time since 1991, so wall-clock and elapsed time agree there. The ``*_array``
variants take pandas ``Series``/``DatetimeIndex`` of tz-aware timestamps (naive ones are refused), except
the pure differences (:func:`minutes_late_array`), which accept any two comparable datetime arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from gis_enforcement.domain.calendar import WorkCalendar
from gis_enforcement.errors import InvalidInput

__all__ = [
    "CLOCK_SKEW",
    "RED_AT",
    "YELLOW_AT",
    "QUEUED_REPORT_IN_MAX",
    "DeadlineStage",
    "Deadlines",
    "ReportInTiming",
    "deadline_stage",
    "deadlines_for",
    "elapsed_fraction",
    "elapsed_fraction_array",
    "minutes_late_array",
    "queued_fix_time",
    "report_in_due",
    "report_in_due_array",
    "report_in_timing",
    "require_aware",
    "resolution_due",
    "resolution_due_working_days_array",
]

#: how far ahead of the server's clock a client-given time may be — an observation, an enforcement record (a
#: phone's clock runs a little fast); anything later is refused as in the future
CLOCK_SKEW = timedelta(minutes=10)

#: the longest a report-in may wait in the phone (taken without signal, sent once back online) and still be timed
#: at its fix: a shift in the mountains, not days — the longer the wait, the more a phone's clock may have been
#: set or drifted, and the interval is the only thing of the phone's clock the server uses
QUEUED_REPORT_IN_MAX = timedelta(hours=12)

YELLOW_AT = 0.8  # W05: share of the resolution time after which the lead is warned (黄牌)
RED_AT = 1.0     # W05: overdue (红牌)


class DeadlineStage(StrEnum):
    """Where a running deadline stands for the W05 escalation."""

    OK = "ok"
    YELLOW = "yellow"
    RED = "red"


def require_aware(value: Any, field: str) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime; ``InvalidInput`` on ``field`` otherwise."""
    if not isinstance(value, datetime):
        raise InvalidInput(f"a datetime is required, got {type(value).__name__}", field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput("a time zone is required (naive datetimes are ambiguous)", field=field)
    return value


def _positive(value: Any, field: str, *, integer: bool = False) -> float:
    what = "a whole number > 0" if integer else "a number > 0"
    whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not (whole or (not integer and isinstance(value, float | np.floating))):
        raise InvalidInput(f"{what} is required, got {value!r}", field=field)
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"{what} is required, got {value!r}", field=field)
    return number


def report_in_due(whistled_at: datetime, report_in_minutes: int | float) -> datetime:
    """When the departments must be on site: the whistle time plus ``report_in_minutes`` of wall-clock time."""
    start = require_aware(whistled_at, "whistled_at")
    return start + timedelta(minutes=_positive(report_in_minutes, "report_in_minutes"))


def resolution_due(
    whistled_at: datetime,
    *,
    hours: float | None = None,
    working_days: int | None = None,
    calendar: WorkCalendar | None = None,
) -> datetime | None:
    """The resolution deadline from wall-clock ``hours`` or from ``working_days`` on ``calendar``.

    Give at most one of the two; None when neither is set (the rule has no resolution deadline). Working-day
    deadlines need the calendar and are 24:00 of the N-th working day after the whistle's local date.
    """
    start = require_aware(whistled_at, "whistled_at")
    if hours is not None and working_days is not None:
        raise InvalidInput("give resolution hours or working days, not both", field="resolution")
    if hours is not None:
        return start + timedelta(hours=_positive(hours, "resolution_hours"))
    if working_days is None:
        return None
    _positive(working_days, "resolution_working_days", integer=True)
    if calendar is None:
        raise InvalidInput("a working-day deadline needs the working-day calendar", field="calendar")
    return calendar.add_working_days(start, int(working_days))


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The due times of one assignment; ``resolution_basis`` is ``hours``, ``working_days`` or None."""

    whistled_at: datetime
    report_in_due: datetime
    resolution_due: datetime | None
    resolution_basis: str | None


def deadlines_for(
    whistled_at: datetime,
    *,
    report_in_minutes: int | float,
    resolution_hours: float | None = None,
    resolution_working_days: int | None = None,
    calendar: WorkCalendar | None = None,
) -> Deadlines:
    """Both due times of an assignment whistled at ``whistled_at`` (:func:`report_in_due`, :func:`resolution_due`)."""
    due = resolution_due(whistled_at, hours=resolution_hours, working_days=resolution_working_days, calendar=calendar)
    basis = "hours" if resolution_hours is not None else "working_days" if resolution_working_days is not None else None
    return Deadlines(whistled_at, report_in_due(whistled_at, report_in_minutes), due, basis)


@dataclass(frozen=True, slots=True)
class ReportInTiming:
    """How a report-in measured up: minutes after the whistle, minutes late (negative = early), on time.

    ``device_skew_seconds`` is device clock minus server clock (positive: the phone runs ahead); it is kept for
    the record and never changes the verdict. ``checked_in_at`` is when the officer was there by the server's
    clock; for a queued report-in that is ``queued_seconds`` before ``received_at`` (None when sent at once).
    """

    checked_in_at: datetime
    due: datetime
    minutes_after_whistle: float
    minutes_late: float
    on_time: bool
    device_skew_seconds: float | None
    received_at: datetime | None = None
    queued_seconds: float | None = None


def report_in_timing(
    *, whistled_at: datetime, due: datetime, server_time: datetime, device_time: datetime | None = None,
    fixed_at: datetime | None = None,
) -> ReportInTiming:
    """Time a check-in by the server's clock against its due time; on time when the check-in is at or before
    ``due``.

    A check-in before the whistle is refused (``InvalidInput`` on ``server_time``): both times come from the
    server, so that can only be a bug or a replay.

    ``fixed_at`` (the phone's clock when it took the position) makes it a queued report-in, timed at
    ``server_time - (device_time - fixed_at)`` (:func:`queued_fix_time`), with the refusals named there.
    """
    start, deadline = require_aware(whistled_at, "whistled_at"), require_aware(due, "due")
    received = require_aware(server_time, "server_time")
    if received < start:
        raise InvalidInput(f"check-in at {received.isoformat()} is before the whistle at {start.isoformat()}",
                           field="server_time")
    skew = None
    if device_time is not None:
        skew = (require_aware(device_time, "device_time") - received).total_seconds()
    at, queued = received, None
    if fixed_at is not None:
        at = queued_fix_time(whistled_at=start, server_time=received, device_time=device_time, fixed_at=fixed_at)
        queued = (received - at).total_seconds()
    return ReportInTiming(
        checked_in_at=at,
        due=deadline,
        minutes_after_whistle=(at - start).total_seconds() / 60.0,
        minutes_late=(at - deadline).total_seconds() / 60.0,
        on_time=at <= deadline,
        device_skew_seconds=skew,
        received_at=None if queued is None else received,
        queued_seconds=queued,
    )


def queued_fix_time(*, whistled_at: datetime, server_time: datetime, device_time: datetime | None,
                    fixed_at: datetime) -> datetime:
    """When a queued report-in's position was taken, by the server's clock: ``server_time`` minus the wait the
    phone measured, ``device_time - fixed_at`` (both by the phone's clock, so its error cancels out).

    Refused (``InvalidInput``, ``detail.kind`` in brackets): without ``device_time`` (on ``device_time``,
    ``needs_device_time``: the wait cannot be measured without it); ``fixed_at`` after ``device_time``
    (``fixed_after_sent``), a wait longer than :data:`QUEUED_REPORT_IN_MAX` (``queued_too_long``, with
    ``queued_s`` and ``max_queued_s``), or a fix time before the whistle (``before_whistle``: a report-in cannot
    precede its whistle) — these three on ``fixed_at``.
    """
    start, received = require_aware(whistled_at, "whistled_at"), require_aware(server_time, "server_time")
    fixed = require_aware(fixed_at, "fixed_at")
    if device_time is None:
        raise InvalidInput("a queued report-in (fixed_at given) needs device_time, the phone's clock when it was "
                           "sent: the wait is measured on the phone's clock from fixed_at to device_time",
                           field="device_time", kind="needs_device_time")
    sent = require_aware(device_time, "device_time")
    wait = sent - fixed
    if wait < timedelta(0):
        raise InvalidInput(f"fixed_at {fixed.isoformat()} is after device_time {sent.isoformat()}: a position is "
                           "taken before it is sent", field="fixed_at", kind="fixed_after_sent")
    if wait > QUEUED_REPORT_IN_MAX:
        hours = QUEUED_REPORT_IN_MAX.total_seconds() / 3600
        raise InvalidInput(f"the report-in waited {wait.total_seconds() / 3600:,.1f} h in the phone; a queued "
                           f"report-in is timed at its fix only within {hours:g} h — report in again on site",
                           field="fixed_at", kind="queued_too_long", queued_s=wait.total_seconds(),
                           max_queued_s=QUEUED_REPORT_IN_MAX.total_seconds())
    at = received - wait
    if at < start:
        raise InvalidInput(f"the position was taken at {at.isoformat(timespec='seconds')} by the server's clock, "
                           f"before the whistle at {start.isoformat(timespec='seconds')}: a report-in cannot "
                           "precede its whistle", field="fixed_at", kind="before_whistle")
    return at


def elapsed_fraction(start: datetime, due: datetime, now: datetime, *, calendar: WorkCalendar | None = None) -> float:
    """Share of the time from ``start`` to ``due`` that has passed at ``now`` (0 before start, > 1 when overdue).

    With ``calendar`` only working time counts (use it for working-day deadlines); without it, wall-clock time.
    """
    a, b, t = require_aware(start, "start"), require_aware(due, "due"), require_aware(now, "now")
    if calendar is not None:
        total, elapsed = calendar.working_time_between(a, b), calendar.working_time_between(a, t)
    else:
        total, elapsed = b - a, t - a
    if total <= timedelta(0):
        raise InvalidInput(f"due {b.isoformat()} leaves no time after start {a.isoformat()}", field="due")
    return max(0.0, elapsed / total)


def deadline_stage(fraction: float, *, yellow_at: float = YELLOW_AT, red_at: float = RED_AT) -> DeadlineStage:
    """The W05 stage for an elapsed fraction: red at ``red_at`` (100 %), yellow at ``yellow_at`` (80 %)."""
    if not 0 < yellow_at < red_at:
        raise InvalidInput(f"thresholds must satisfy 0 < yellow ({yellow_at}) < red ({red_at})", field="yellow_at")
    if fraction >= red_at:
        return DeadlineStage.RED
    return DeadlineStage.YELLOW if fraction >= yellow_at else DeadlineStage.OK


# -- vectorised -------------------------------------------------------------------------------------------------


def _aware_index(values: Any, field: str) -> pd.DatetimeIndex:
    try:
        idx = pd.DatetimeIndex(values)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"timestamps are required: {exc}", field=field) from exc
    if idx.tz is None:
        raise InvalidInput("timezone-aware timestamps are required (naive ones are ambiguous)", field=field)
    if idx.hasnans:
        raise InvalidInput("missing timestamps (NaT) are not allowed", field=field)
    return idx


def _local_wall(idx: pd.DatetimeIndex, calendar: WorkCalendar) -> np.ndarray:
    wall: np.ndarray = idx.tz_convert(calendar.timezone).tz_localize(None).to_numpy()
    return wall


def report_in_due_array(whistled_at: Any, minutes: Any) -> pd.DatetimeIndex:
    """Vectorised :func:`report_in_due`: tz-aware whistle times plus wall-clock minutes (scalar or array)."""
    idx = _aware_index(whistled_at, "whistled_at")
    m = np.broadcast_to(np.asarray(minutes, dtype=np.float64), idx.shape)
    if m.size and not (np.isfinite(m).all() and (m > 0).all()):
        raise InvalidInput("report-in minutes must be numbers > 0", field="report_in_minutes")
    return idx + pd.to_timedelta(m, unit="m")


def resolution_due_working_days_array(whistled_at: Any, working_days: Any, calendar: WorkCalendar) -> pd.DatetimeIndex:
    """Vectorised working-day :func:`resolution_due`: 24:00 of the N-th working day, in the calendar's zone."""
    idx = _aware_index(whistled_at, "whistled_at")
    days = _local_wall(idx, calendar).astype("datetime64[D]")
    last = calendar.last_working_day_array(days, working_days)
    return pd.DatetimeIndex(last + np.timedelta64(1, "D")).tz_localize(calendar.timezone)


def minutes_late_array(checked_in_at: Any, due: Any) -> np.ndarray:
    """Minutes after the due time for each check-in (negative = early); ``<= 0`` is on time. NaT gives NaN."""
    a = pd.DatetimeIndex(checked_in_at) if not isinstance(checked_in_at, np.ndarray) else checked_in_at
    b = pd.DatetimeIndex(due) if not isinstance(due, np.ndarray) else due
    delta = np.asarray(a - b, dtype="timedelta64[ns]")
    out: np.ndarray = np.where(np.isnat(delta), np.nan, delta.astype(np.int64) / 6e10)
    return out


def elapsed_fraction_array(start: Any, due: Any, now: Any, *, calendar: WorkCalendar | None = None) -> np.ndarray:
    """Vectorised :func:`elapsed_fraction` over tz-aware timestamps (``now`` may be a single timestamp)."""
    a, b = _aware_index(start, "start"), _aware_index(due, "due")
    t = _aware_index([now] if isinstance(now, datetime) else now, "now")
    if calendar is not None:
        wa, wb, wt = (calendar.working_seconds_array(_local_wall(x, calendar)) for x in (a, b, t))
        total, elapsed = wb - wa, wt - wa
    else:
        na, nb, nt = (x.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[us]").astype(np.int64) / 1e6
                      for x in (a, b, t))
        total, elapsed = nb - na, nt - na
    if total.size and (total <= 0).any():
        raise InvalidInput("every due time must leave time after its start", field="due")
    fraction: np.ndarray = np.maximum(0.0, elapsed / total)
    return fraction
