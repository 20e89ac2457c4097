"""Before/after: the seed's two metrics district-wide, computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gis_enforcement.analysis.compare import compare_periods, district_metrics


def _table(penalties: list[int], officers: list[float], used: list[int], listed: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"department": ["A", "B"], "penalties": penalties, "officers": officers,
                         "measures_used": used, "measures_listed": listed, "on_time": [3, 1],
                         "expected_report_ins": [4, 2], "whistles": [5, 2]})


def test_district_metrics_pool_the_departments() -> None:
    m = district_metrics(_table([10, 2], [100, 20], [3, 1], [6, 4]))
    assert m["penalties_per_officer"] == pytest.approx(12 / 120)
    assert m["duty_rate"] == pytest.approx(4 / 10)
    assert m["on_time_rate"] == pytest.approx(4 / 6) and m["whistles"] == 7


def test_percentage_changes_like_the_seed_reported_them() -> None:
    before = _table([10, 2], [100, 20], [3, 1], [6, 4])   # 0.1 per officer, 40 % of powers
    after = _table([25, 5], [100, 20], [4, 1], [6, 4])    # 0.25 per officer, 50 % of powers
    rows = compare_periods(before, after).set_index("metric")
    assert list(rows.index[:2]) == ["penalties_per_officer", "duty_rate"]
    assert rows.loc["penalties_per_officer", "change_pct"] == pytest.approx(150.0)
    assert rows.loc["duty_rate", "change_pct"] == pytest.approx(25.0)
    assert rows.loc["duty_rate", "zh"] == "职权履行率"
    empty = _table([0, 0], [100, 20], [0, 0], [6, 4])
    assert math.isnan(compare_periods(empty, after).set_index("metric").loc["penalties_per_officer", "change_pct"])


def test_overlapping_periods_are_refused_naming_after() -> None:
    from gis_enforcement.analysis.compare import check_periods
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.errors import InvalidInput

    with pytest.raises(InvalidInput) as overlap:
        check_periods(parse_period("2026-03..2026-05"), parse_period("2026-05..2026-08"))
    assert overlap.value.field == "after" and "overlap" in overlap.value.message
    assert "2026-05-01 00:00 – 2026-06-01 00:00" in overlap.value.message  # May, in the district's clock
    with pytest.raises(InvalidInput):
        check_periods(parse_period("2026"), parse_period("2026-06"))  # one inside the other
    check_periods(parse_period("2026-03..2026-05"), parse_period("2026-06..2026-08"))  # adjacent: fine
    check_periods(parse_period("2026-06"), parse_period("2026-03"))  # the other way round: still two periods


def test_periods_of_different_lengths_compare_counts_per_30_days() -> None:
    before = _table([10, 2], [100, 20], [3, 1], [6, 4])  # 12 penalties, 7 whistles in 30 days
    after = _table([50, 10], [100, 20], [4, 1], [6, 4])  # 60 penalties, 7 whistles in 150 days
    rows = compare_periods(before, after, days_before=30, days_after=150).set_index("metric")
    assert rows["per_30_days"].to_dict() == {"penalties_per_officer": True, "duty_rate": False,
                                             "on_time_rate": False, "whistles": True}
    assert rows.loc["penalties_per_officer", "before"] == pytest.approx(12 / 120)
    assert rows.loc["penalties_per_officer", "after"] == pytest.approx(60 / 120 * 30 / 150)  # per 30 days: 0.1
    assert rows.loc["penalties_per_officer", "change_pct"] == pytest.approx(0.0)  # not +400 %
    assert rows.loc["whistles", "after"] == pytest.approx(7 * 30 / 150)
    assert rows.loc["duty_rate", "after"] == pytest.approx(5 / 10)  # a rate stays a rate
    for similar in ((31, 31), (366, 365), (30, 31)):  # within 5 %: the periods' totals
        same = compare_periods(before, after, days_before=similar[0], days_after=similar[1]).set_index("metric")
        assert not same["per_30_days"].any() and same.loc["whistles", "after"] == 7, similar
    february = compare_periods(before, after, days_before=28, days_after=31).set_index("metric")
    assert february["per_30_days"].any()  # 28 against 31 days: 10 % apart


def test_rate_changes_come_in_percentage_points_too() -> None:
    before = _table([10, 2], [100, 20], [3, 1], [6, 4])   # duty 40 %
    after = _table([25, 5], [100, 20], [4, 1], [6, 4])    # duty 50 %
    rows = compare_periods(before, after).set_index("metric")
    assert rows.loc["duty_rate", "change_pp"] == pytest.approx(10.0)   # 40 % → 50 %: +10 pp
    assert rows.loc["duty_rate", "change_pct"] == pytest.approx(25.0)  # and +25 % relative
    assert rows.loc["on_time_rate", "change_pp"] == pytest.approx(0.0)
    assert math.isnan(rows.loc["penalties_per_officer", "change_pp"]) and math.isnan(rows.loc["whistles", "change_pp"])
