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
value is 0, or when either period is without data.
"""

from __future__ import annotations

import pandas as pd

NAN = float("nan")
SEED_METRICS = ("penalties_per_officer", "duty_rate")
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


def compare_periods(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per metric (the seed's two first): ``metric``, ``zh``, ``en``, ``before``, ``after``,
    ``change_pct``."""
    b, a = district_metrics(before), district_metrics(after)
    comparable = has_data(before) and has_data(after)
    rows = []
    for metric in LABELS:
        x, y = b[metric], a[metric]
        change = (y - x) / x * 100.0 if comparable and x == x and x != 0 and y == y else NAN
        rows.append({"metric": metric, "zh": LABELS[metric][0], "en": LABELS[metric][1], "before": x, "after": y,
                     "change_pct": change})
    return pd.DataFrame(rows)
