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

``change_pct`` = (after − before) / before × 100; unknown (NaN) when the before value is 0 or unknown.
"""

from __future__ import annotations

import pandas as pd

SEED_METRICS = ("penalties_per_officer", "duty_rate")
LABELS = {
    "penalties_per_officer": ("人均处罚量", "Penalties per officer"),
    "duty_rate": ("职权履行率", "Duty-performance rate"),
    "on_time_rate": ("报到及时率", "On-time report-in rate"),
    "whistles": ("接哨数", "Whistles received"),
}


def district_metrics(departments: pd.DataFrame) -> dict[str, float]:
    """The district-wide metrics of the module docstring from one department evaluation table."""
    def ratio(num: str, den: str) -> float:
        d = float(departments[den].fillna(0).sum())
        return float(departments[num].fillna(0).sum()) / d if d > 0 else float("nan")

    return {
        "penalties_per_officer": ratio("penalties", "officers"),
        "duty_rate": ratio("measures_used", "measures_listed"),
        "on_time_rate": ratio("on_time", "expected_report_ins"),
        "whistles": float(departments["whistles"].sum()),
    }


def compare_periods(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per metric (the seed's two first): ``metric``, ``zh``, ``en``, ``before``, ``after``,
    ``change_pct``."""
    b, a = district_metrics(before), district_metrics(after)
    rows = []
    for metric in LABELS:
        x, y = b[metric], a[metric]
        change = (y - x) / x * 100.0 if x == x and x != 0 and y == y else float("nan")
        rows.append({"metric": metric, "zh": LABELS[metric][0], "en": LABELS[metric][1], "before": x, "after": y,
                     "change_pct": change})
    return pd.DataFrame(rows)
