"""Evaluation tables for people: console rows (:func:`render_table`) and file frames (:func:`report_frame`) with
Chinese headers. Pure; the metrics themselves are in :mod:`gis_enforcement.analysis.evaluation`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

LABELS_ZH: Mapping[str, str] = {
    "rank": "排名", "department": "部门代码", "name": "名称", "whistles": "接哨数", "expected_report_ins": "应报到",
    "reported_in": "已报到", "on_time": "按时报到", "late": "迟到", "absent": "未报到", "excused": "免报到",
    "pending": "未到报到时限", "report_in_rate": "报到率", "on_time_rate": "报到及时率",
    "report_in_minutes_median": "报到用时中位数(分钟)", "report_in_minutes_p90": "报到用时P90(分钟)",
    "lead_cases": "主责案件", "lead_pending": "办理期内", "resolved": "已解决", "resolution_rate": "解决率",
    "resolution_hours_median": "解决用时中位数(小时)", "recurrences": "反弹", "outcome_rate": "解决不反弹率",
    "warnings": "警示合计", "actions": "执法记录", "penalties": "处罚数", "penalty_amount": "罚款金额(元)",
    "officers": "执法人员", "penalties_per_officer": "人均处罚", "measures_listed": "清单职权数",
    "measures_used": "已履行职权", "duty_rate": "职权履行率", "score": "综合得分", "township_code": "乡镇代码",
    "cases": "案件数", "whistled": "吹哨案件", "share_whistled": "吹哨率", "whistles_sent": "吹哨次数",
    "summons": "召集部门次数", "resolution_pending": "办理期内", "own_warnings": "乡镇自身警示", "month": "月份",
    "ratings": "乡镇评价数", "rating_timeliness_mean": "及时性评分", "rating_adequacy_mean": "到位性评分",
    "adequate_rate": "执法到位率", "rating_score": "评价得分率",
}
_DISPLAY = {
    "department": ("rank", "department", "name", "whistles", "report_in_rate", "on_time_rate",
                   "report_in_minutes_median", "report_in_minutes_p90", "lead_cases", "resolution_rate",
                   "resolution_hours_median", "recurrences", "warnings", "penalties", "penalty_amount",
                   "penalties_per_officer", "duty_rate", "rating_adequacy_mean", "score"),
    "township": ("township_code", "name", "cases", "whistled", "share_whistled", "whistles_sent", "summons",
                 "resolution_rate", "resolution_hours_median", "recurrences", "warnings", "own_warnings"),
    "month": ("month", "rank", "department", "name", "score"),
}


#: shorter headers for the console, where a table has to fit a terminal
SHORT_ZH: Mapping[str, str] = {
    "department": "部门", "whistles": "接哨", "on_time_rate": "及时率", "report_in_minutes_median": "中位(分)",
    "report_in_minutes_p90": "P90(分)", "lead_cases": "主责", "resolution_hours_median": "解决(时)",
    "warnings": "警示", "penalties": "处罚", "penalty_amount": "罚款(元)", "duty_rate": "履职率", "score": "得分",
    "township_code": "乡镇代码", "cases": "案件", "whistled": "吹哨案件", "whistles_sent": "吹哨", "summons": "召集",
    "own_warnings": "自身警示", "rating_adequacy_mean": "评价",
}
SHORT_EN: Mapping[str, str] = {
    "department": "dept", "report_in_rate": "report-in", "on_time_rate": "on time",
    "report_in_minutes_median": "med min", "report_in_minutes_p90": "p90 min", "lead_cases": "lead",
    "resolution_rate": "resolved",
    "resolution_hours_median": "med h", "recurrences": "recur", "warnings": "warn", "penalties": "pen",
    "penalty_amount": "fines", "penalties_per_officer": "pen/officer", "duty_rate": "duty", "township_code": "township",
    "share_whistled": "whistled %", "whistles_sent": "whistles", "own_warnings": "own warn",
    "rating_adequacy_mean": "rating",
}
_NAME_CHARS = 7


def _label(column: str, lang: str, short: bool = False) -> str:
    if lang != "zh":
        return (short and SHORT_EN.get(column)) or column
    if column.startswith("warnings_"):
        return "警示" + column.removeprefix("warnings_")
    return (short and SHORT_ZH.get(column)) or LABELS_ZH.get(column, column)


def _short_name(name: str) -> str:
    bare = re.sub(r"[（(][^）)]*[）)]", "", name) or name
    return bare if len(bare) <= _NAME_CHARS else bare[: _NAME_CHARS - 1] + "…"


def _cell(column: str, value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "—"
    if column.endswith("_rate") or column == "share_whistled":
        return f"{float(value):.1%}"
    if column.endswith(("_median", "_p90", "_mean")) or column == "score":
        return f"{float(value):.1f}"
    if column == "penalty_amount":
        return f"{float(value):,.0f}"
    if column == "penalties_per_officer":
        return f"{float(value):.3f}"
    return str(value)


def render_table(table: pd.DataFrame, lang: str = "zh", *,
                 columns: Sequence[str] | None = None) -> list[tuple[str, ...]]:
    """Rows of strings for a console table, the header first: a department, township or monthly table cut to
    its main columns (or ``columns``) — townships by name in both languages (their codes are nine digits
    nobody reads), departments by name in zh and by code in en — short headers and names, rates as
    percentages, unknown values as "—". Files take :func:`report_frame` instead (every column, full headers,
    numbers)."""
    if columns is None:
        kind = "month" if "month" in table.columns else "department" if "department" in table.columns else "township"
        hidden = ({"department", "township_code"} if lang == "zh" or kind == "township"
                  else {"name"})  # zh: names; en: department codes, township names
        columns = [c for c in _DISPLAY[kind] if c in table.columns and c not in hidden]
    township_names = lang != "zh" and "township_code" in table.columns and "township_code" not in columns
    rows: list[tuple[str, ...]] = [tuple("township" if township_names and c == "name" else _label(c, lang, short=True)
                                         for c in columns)]
    for record in table[list(columns)].itertuples(index=False, name=None):
        rows.append(tuple(_short_name(str(v)) if c == "name" else _cell(c, v)
                          for c, v in zip(columns, record, strict=True)))
    return rows


def report_frame(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Every column of an evaluation table for a file: headers in ``lang`` (zh labels, en column ids), ratios
    rounded to 4 places, scores and medians to 2; values stay numbers."""
    out = table.copy()
    for column in out.columns:
        if column.endswith("_rate") or column == "share_whistled":
            out[column] = out[column].round(4)
        elif column.endswith(("_median", "_p90", "_per_officer", "_mean")) or column in ("score", "rating_score"):
            out[column] = out[column].round(2 if column != "penalties_per_officer" else 4)
    return out.rename(columns={c: _label(c, lang) for c in out.columns})
