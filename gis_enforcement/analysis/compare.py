"""Before and after: the seed's two outcome metrics for the whole district in two periods, as percentage changes.

Pinggu reported its mechanism by two figures, 2018 against 2016: penalties per enforcement officer (+157.56 %)
and the duty-performance rate (职权履行率, +30.07 %). :func:`compare_periods` computes the same two for any two
periods from the department evaluation tables (:func:`gis_enforcement.analysis.evaluation.evaluate_departments`),
district-wide:

- ``penalties_per_officer`` = penalty decisions of every department / the officers of every department of the
  lists (the roster is the lists' — one roster for both periods unless the caller passes different tables);
- ``duty_rate`` = listed powers (职权) exercised at least once in the period, summed over departments / listed
  powers summed over departments;
- and, for context, ``on_time_rate`` (on-time check-ins / expected check-ins) and ``whistles``.

A period without data — no whistle and no enforcement record in it (an empty past or a future period) —
has every rate unknown (NaN, shown "—"), not 0: the roster alone does not make a penalty rate of 0, nor
the lists a duty rate of 0; its ``whistles`` count is 0, and every change from or to it is unknown.
``duty_rate`` is also unknown when no department had an occasion to use its powers (its department
``duty_rate`` is unknown everywhere).

``change_pct`` = (after − before) / before × 100; unknown (NaN) when either value is unknown or the before
value is 0, or when either period is without data. For a rate, ``change_pp`` is the change in percentage
points (百分点): (after − before) × 100 — 81.1 % → 77.8 % is −3.3 pp, a relative change of −4.1 %.

Two periods are compared only if they do not overlap (:func:`check_periods`; a month counted on both sides
says nothing about a change). When their lengths differ by more than :data:`LENGTH_TOLERANCE` (5 %: a
February against a March, a month against a quarter — not a leap year against a year, nor a 30-day month
against a 31-day one), the counts (``whistles``, ``penalties_per_officer``) are given per 30 days of each
period (``per_30_days`` true on those rows), so a longer window is not read as an improvement; the rates stay
rates, though ``duty_rate`` (powers used at least once) still grows with the window's length.
"""

from __future__ import annotations

import pandas as pd

from gis_enforcement.analysis.evaluation import Period
from gis_enforcement.domain.zone import district_zone
from gis_enforcement.errors import InvalidInput

NAN = float("nan")
SEED_METRICS = ("penalties_per_officer", "duty_rate")
#: counts that grow with a period's length, given per this many days when the two lengths differ
NORMAL_DAYS = 30
COUNT_METRICS = ("penalties_per_officer", "whistles")
#: lengths differing by more than this share of the longer one are compared per 30 days
LENGTH_TOLERANCE = 0.05
LABELS = {
    "penalties_per_officer": ("人均处罚量", "Penalties per officer"),
    "duty_rate": ("职权履行率", "Duty-performance rate"),
    "on_time_rate": ("报到及时率", "On-time report-in rate"),
    "whistles": ("接哨数", "Whistles received"),
}


def has_data(departments: pd.DataFrame) -> bool:
    """Whether the period of a department evaluation table saw a whistle or an enforcement record."""
    actions = departments["actions"].fillna(0).sum() if "actions" in departments else 0
    return bool(departments["whistles"].fillna(0).sum() > 0 or actions > 0)


def district_metrics(departments: pd.DataFrame) -> dict[str, float]:
    """The district-wide metrics of the module docstring from one department evaluation table."""
    def ratio(num: str, den: str) -> float:
        d = float(departments[den].fillna(0).sum())
        return float(departments[num].fillna(0).sum()) / d if d > 0 else NAN

    if not has_data(departments):
        return {**dict.fromkeys(LABELS, NAN), "whistles": 0.0}  # nothing happened: nothing to measure
    no_occasion = "duty_rate" in departments and bool(departments["duty_rate"].isna().all())
    return {
        "penalties_per_officer": ratio("penalties", "officers"),
        "duty_rate": NAN if no_occasion else ratio("measures_used", "measures_listed"),
        "on_time_rate": ratio("on_time", "expected_report_ins"),
        "whistles": float(departments["whistles"].sum()),
    }


def days(period: Period) -> float:
    """The length of ``period`` in days."""
    return (period.end - period.start).total_seconds() / 86400.0


def differ(days_before: float, days_after: float) -> bool:
    """Whether two periods' lengths differ enough (:data:`LENGTH_TOLERANCE`) to compare counts per 30 days."""
    return abs(days_before - days_after) > LENGTH_TOLERANCE * max(days_before, days_after)


def check_periods(before: Period, after: Period) -> None:
    """Refuse (``InvalidInput`` on ``after``) two periods that overlap."""
    if before.start < after.end and after.start < before.end:
        shared = Period(max(before.start, after.start), min(before.end, after.end), tz=after.tz)
        raise InvalidInput(
            f"the periods overlap: {after.label!r} and the period before ({before.label!r}) share "
            f"{_span(shared)}; compare two periods that do not overlap (e.g. --before 2026-03..2026-05 "
            "--after 2026-06..2026-08)", field="after")


def _span(period: Period) -> str:
    zone = district_zone(period.tz)
    start, end = period.start.astimezone(zone), period.end.astimezone(zone)
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def compare_periods(before: pd.DataFrame, after: pd.DataFrame, *, days_before: float | None = None,
                    days_after: float | None = None) -> pd.DataFrame:
    """One row per metric (the seed's two first): ``metric``, ``zh``, ``en``, ``before``, ``after``,
    ``change_pct``, ``change_pp`` (rates only) and ``per_30_days``: true on the counts when the periods'
    lengths (``days_before``, ``days_after``) :func:`differ`, their values then being per :data:`NORMAL_DAYS`
    days."""
    b, a = district_metrics(before), district_metrics(after)
    comparable = has_data(before) and has_data(after)
    scale = bool(days_before and days_after and differ(days_before, days_after))
    rows = []
    for metric in LABELS:
        x, y = b[metric], a[metric]
        per_30 = scale and metric in COUNT_METRICS
        if per_30:
            x, y = x * NORMAL_DAYS / float(days_before or 1), y * NORMAL_DAYS / float(days_after or 1)
        known = comparable and x == x and y == y
        change = (y - x) / x * 100.0 if known and x != 0 else NAN
        points = (y - x) * 100.0 if known and metric.endswith("_rate") else NAN
        rows.append({"metric": metric, "zh": LABELS[metric][0], "en": LABELS[metric][1], "before": x, "after": y,
                     "change_pct": change, "change_pp": points, "per_30_days": per_30})
    return pd.DataFrame(rows)
