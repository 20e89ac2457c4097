"""A plan's targets carry the dates their cases were reported, so that a dispatcher can tell two targets at one
village apart by what was reported there, not by a grid number."""

from __future__ import annotations

import pandas as pd

from gis_enforcement.analysis.plan_targets import dated_names, report_dates
from gis_enforcement.operations.plans import distinct_names

ZONE = "Asia/Shanghai"


def _observed(times: dict[str, str]) -> pd.Series:
    return pd.Series(pd.to_datetime(list(times.values()), utc=True, format="ISO8601"), index=list(times))


def test_a_day_a_span_and_none() -> None:
    observed = _observed({
        "a": "2026-11-20T02:00:00Z",
        "b": "2026-11-18T01:00:00Z", "c": "2026-11-19T17:30:00Z",  # 11-20 01:30 in Beijing, not 11-19
        "d": "2026-11-20T03:00:00Z", "e": "2026-11-20T09:00:00Z",
    })
    case_ids = pd.Series([["a"], ["c", "b"], [], ["d", "e"], ["nowhere"]], index=[10, 11, 12, 13, 14])
    got = report_dates(case_ids, observed, tz=ZONE)
    assert got.tolist() == ["11-20", "11-18～11-20", None, "11-20", None]
    assert got.index.tolist() == [10, 11, 12, 13, 14]


def test_another_year_is_written_out() -> None:
    observed = _observed({"old": "2025-12-30T04:00:00Z", "new": "2026-01-02T04:00:00Z",
                          "older": "2025-11-03T04:00:00Z"})
    got = report_dates(pd.Series([["old", "new"], ["older"], ["new"]]), observed, tz=ZONE)
    assert got.tolist() == ["2025-12-30～01-02", "2025-11-03", "01-02"]


def test_no_case_known_anywhere() -> None:
    got = report_dates(pd.Series([[], []]), _observed({}), tz=ZONE)
    assert got.tolist() == [None, None]


def test_targets_at_one_village_differ_by_their_dates_not_a_grid_cell() -> None:
    names = pd.Series(["苏子峪村·案件点", "苏子峪村·案件点", "黄草洼·热点"])
    dates = pd.Series(["11-20", "11-12～11-14", None])
    dated = dated_names(names, dates)
    assert dated.tolist() == ["苏子峪村·案件点·11-20", "苏子峪村·案件点·11-12～11-14", "黄草洼·热点"]
    cells = pd.Series(["110117003202022", "110117003202012", None])
    assert distinct_names(dated, cells).tolist() == dated.tolist()  # apart already: no （网格…）
    same_day = dated_names(names.iloc[:2], pd.Series(["11-20", "11-20"]))
    assert distinct_names(same_day, cells.iloc[:2]).tolist() == ["苏子峪村·案件点·11-20（网格022）",
                                                                 "苏子峪村·案件点·11-20（网格012）"]
