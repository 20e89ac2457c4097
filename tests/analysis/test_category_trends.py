"""Rising and falling problem categories: Mann-Kendall on weekly counts laid back from the end of the period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gis_enforcement.analysis.category_trends import TREND_COLUMNS, category_trends, sen_slopes
from gis_enforcement.analysis.mann_kendall import mann_kendall
from gis_enforcement.errors import InvalidInput

TZ = "Asia/Shanghai"
START = pd.Timestamp("2026-03-01", tz=TZ)


def _season(weekly: dict[str, list[int]], seed: int = 0) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Incidents at random moments inside each week, ``weekly[code][k]`` of them in week k."""
    rng = np.random.default_rng(seed)
    codes, times = [], []
    for code, counts in weekly.items():
        for k, n in enumerate(counts):
            codes += [code] * n
            times += list(START + pd.to_timedelta(7 * k + rng.uniform(0, 7, n), unit="D"))
    return np.array(codes, dtype=object), pd.DatetimeIndex(times)


def test_rising_falling_and_steady_categories() -> None:
    weeks = 12
    codes, times = _season({"ENV-03": [20 - k for k in range(weeks)], "MIN-02": [2 + k for k in range(weeks)],
                            "TRK-01": [5, 7, 5, 7, 5, 7, 5, 7, 5, 7, 5, 7]})
    t = category_trends(codes, times, end=START + pd.Timedelta(weeks=weeks))
    assert list(t.columns) == list(TREND_COLUMNS)
    assert list(t["category"]) == ["MIN-02", "TRK-01", "ENV-03"]  # most clearly rising first
    assert list(t["trend"]) == [1, 0, -1]
    rising = t.iloc[0]
    assert rising["n_bins"] == weeks and rising["bin_days"] == 7 and rising["window_bins"] == 3
    assert rising["series"] == [2 + k for k in range(weeks)]
    assert rising["first"] == 2 + 3 + 4 and rising["last"] == 11 + 12 + 13
    assert rising["change"] == pytest.approx(36 / 9 - 1) and rising["slope"] == pytest.approx(1.0)
    mk = mann_kendall(np.array([rising["series"]]), alpha=0.10)
    assert rising["z"] == pytest.approx(mk.z[0]) and rising["p"] == pytest.approx(mk.p[0])


def test_bins_end_at_the_end_and_an_incomplete_first_week_is_left_out() -> None:
    codes, times = _season({"ENV-01": [3] * 10})
    end = START + pd.Timedelta(days=7 * 10 - 3)  # 9 whole weeks and 4 days before them
    t = category_trends(codes, times, end=end, min_incidents=1)
    assert t.iloc[0]["n_bins"] == 9
    inside = (times >= end - pd.Timedelta(weeks=9)) & (times < end)
    assert t.iloc[0]["n"] == int(inside.sum())
    # default end: the local midnight after the last incident
    t = category_trends(codes, times)
    assert sum(t.iloc[0]["series"]) == t.iloc[0]["n"] and t.iloc[0]["n_bins"] == 10


def test_small_categories_left_out_and_nothing_in_nothing_out() -> None:
    codes, times = _season({"FOR-01": [1, 0, 1, 0, 1, 0], "ENV-01": [4] * 6})
    assert list(category_trends(codes, times)["category"]) == ["ENV-01"]
    empty = category_trends(np.array([], dtype=object), pd.DatetimeIndex([], tz=TZ))
    assert empty.empty and list(empty.columns) == list(TREND_COLUMNS)


def test_a_change_from_nothing_is_not_a_number() -> None:
    codes, times = _season({"ENV-03": [0, 0, 0, 2, 4, 6, 8, 10], "ENV-01": [4] * 8})
    t = category_trends(codes, times, end=START + pd.Timedelta(weeks=8)).set_index("category")
    assert t.loc["ENV-03", "first"] == 0 and np.isnan(t.loc["ENV-03", "change"])
    assert t.loc["ENV-01", "change"] == 0


def test_refuses_too_short_a_period_and_bad_parameters() -> None:
    codes, times = _season({"ENV-01": [5, 5, 5]})
    with pytest.raises(InvalidInput) as err:
        category_trends(codes, times)
    assert err.value.field == "width_days"
    with pytest.raises(InvalidInput):
        category_trends(codes, times, width_days=0)
    with pytest.raises(InvalidInput):
        category_trends(codes[:2], times)
    with pytest.raises(InvalidInput):
        category_trends(codes, times, end=pd.Timestamp("2026-06-01"))  # naive end, aware times


def test_sen_slope_is_theil_sen() -> None:
    rng = np.random.default_rng(7)
    x = rng.poisson(5, size=(4, 15)).astype(float)
    want = [stats.theilslopes(row, np.arange(15)).slope for row in x]
    np.testing.assert_allclose(sen_slopes(x), want)
    with pytest.raises(InvalidInput):
        sen_slopes(np.ones(5))


def test_bins_from_the_start_cover_the_period_and_a_short_last_bin_is_a_rate() -> None:
    """Given the period's start, the bins start there and cover the period whole: 6 weeks and 4 days make a
    short seventh bin of 4 days, counted per 7 days for the trend, so a steady category does not read as
    falling; 6 weeks and 2 days lengthen the sixth bin instead. Every incident is binned, and the categories
    under the minimum are counted."""
    days = 7 * 6 + 4
    steady = START + pd.to_timedelta((np.arange(3 * days) + 0.5) / 3, unit="D")  # three a day
    few = START + pd.to_timedelta([1.5, 20.5], unit="D")
    codes = np.array(["ENV-01"] * len(steady) + ["FOR-01"] * len(few), dtype=object)
    times = pd.DatetimeIndex(list(steady) + list(few))
    end = START + pd.Timedelta(days=days)
    t = category_trends(codes, times, start=START, end=end)
    row = t.iloc[0]
    assert row["category"] == "ENV-01" and row["n_bins"] == 7 and len(row["series"]) == 7
    assert t.attrs["bin_start"] == START and t.attrs["bin_end"] == end and t.attrs["last_bin_days"] == 4
    assert row["n"] == len(steady) and t.attrs["incidents"] == len(times)
    assert t.attrs["left_out_categories"] == 1 and t.attrs["left_out_incidents"] == 2
    assert row["series"] == [21] * 6 + [12]  # fewer days, fewer reports …
    assert row["trend"] == 0 and row["slope"] == 0 and row["change"] == pytest.approx(0)  # … but no fall
    longer = category_trends(codes, times, start=START, end=START + pd.Timedelta(days=7 * 6 + 2))
    assert longer.attrs["n_bins"] == 6 and longer.attrs["last_bin_days"] == 9
    assert longer.attrs["incidents"] == int((times < START + pd.Timedelta(days=44)).sum())


def test_a_stray_old_report_does_not_stretch_the_weeks_laid_back_from_the_end() -> None:
    """Without a start, the bins go back to the first incident of the 12 months before the end: one report
    observed two years before the season is left out and counted, not 100 empty weeks before it."""
    codes, times = _season({"ENV-01": [3] * 10, "MIN-02": [2 + k for k in range(10)]})
    stray_codes = np.append(codes, "MIN-02")
    stray_times = times.append(pd.DatetimeIndex([START - pd.Timedelta(days=730)]))
    season = category_trends(codes, times)
    t = category_trends(stray_codes, stray_times)
    assert t.attrs["older"] == 1 and season.attrs["older"] == 0
    assert t.attrs["bin_start"] == season.attrs["bin_start"] and t.attrs["n_bins"] == season.attrs["n_bins"] == 10
    assert list(t["series"]) == list(season["series"])
    # every incident when asked to (the window is the default, not a rule)
    wide = category_trends(stray_codes, stray_times, months=None)
    assert wide.attrs["n_bins"] > 100 and wide.attrs["older"] == 0
    with pytest.raises(InvalidInput) as bad:
        category_trends(codes, times, months=0)
    assert bad.value.field == "months"
