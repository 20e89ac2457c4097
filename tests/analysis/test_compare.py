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
