"""Evaluation tables for people: console rows (:func:`render_table`) and file frames (:func:`report_frame`) with
Chinese headers. Pure; the metrics themselves are in :mod:`gis_enforcement.analysis.evaluation`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from openpyxl import Workbook

from gis_enforcement.analysis.evaluation import MIN_RANKED_WHISTLES, Period
from gis_enforcement.domain.zone import district_zone

LABELS_ZH: Mapping[str, str] = {
    "rank": "排名", "department": "部门代码", "name": "名称", "whistles": "接哨数", "expected_report_ins": "应报到",
    "reported_in": "已报到", "on_time": "按时报到", "late": "迟到", "absent": "未报到", "excused": "免报到",
    "pending": "未到报到时限", "report_in_rate": "报到率", "on_time_rate": "报到及时率",
    "report_in_minutes_median": "报到用时中位数(分钟)", "report_in_minutes_p90": "报到用时P90(分钟)",
    "lead_cases": "主责案件", "lead_pending": "办理期内", "resolved": "已解决", "resolution_rate": "解决率",
    "resolution_hours_median": "解决用时中位数(小时)", "recurrences": "反弹预警(W08)", "outcome_rate": "解决不反弹率",
    "warnings": "警示合计", "actions": "执法记录", "penalties": "处罚数", "penalty_amount": "罚款金额(元)",
    "officers": "执法人员", "penalties_per_officer": "人均处罚", "inspections": "检查数",
    "inspections_per_officer": "人均检查", "measures_listed": "清单职权数",
    "measures_used": "已履行职权", "duty_rate": "职权履行率", "score": "综合得分", "township_code": "乡镇代码",
    "cases": "案件数", "whistled": "吹哨案件", "share_whistled": "吹哨率", "whistles_sent": "吹哨次数",
    "summons": "召集部门次数", "resolution_pending": "办理期内", "own_warnings": "自身警示(W09/W12/W13)",
    "month": "月份",
    "ratings": "乡镇评价数", "rating_timeliness_mean": "及时性评分", "rating_adequacy_mean": "到位性评分",
    "adequate_rate": "执法到位率", "rating_score": "评价得分率", "deduction": "警示扣分", "score_base": "扣分前得分",
    "small_sample": "样本少(不排名)", "ranking": "排名类别", "case_resolved_at": "案件解决时间",
    "whistle_on_time_rate": "吹哨及时率", "review_on_time_rate": "核查及时率", "follow_ups": "部门要求",
    "follow_up_on_time_rate": "部门要求按期落实率", "no_recurrence_rate": "解决不反弹率",
    "warning_points": "警示分(未折算)", "score_net": "扣分后得分(未封底)", "reports": "上报数",
    "untriaged": "未处理上报", "untriaged_share": "未处理上报占比", "triage_on_time_rate": "分拣及时率",
}
#: the township table's own words where a column means something else there
TOWNSHIP_LABELS_ZH: Mapping[str, str] = {
    "resolution_rate": "已吹哨案件解决率", "deduction": "警示扣分(每百件案件)",
}
DEPARTMENT_LABELS_ZH: Mapping[str, str] = {"deduction": "警示扣分(每百次接哨)"}
_DISPLAY = {
    "department": ("rank", "ranking", "department", "name", "whistles", "report_in_rate", "on_time_rate",
                   "report_in_minutes_median", "report_in_minutes_p90", "lead_cases", "resolution_rate",
                   "resolution_hours_median", "recurrences", "warnings", "penalties", "penalty_amount",
                   "penalties_per_officer", "duty_rate", "rating_adequacy_mean", "score_base", "warning_points",
                   "deduction", "score"),
    "township": ("rank", "township_code", "name", "score", "reports", "untriaged", "triage_on_time_rate", "cases",
                 "whistles_sent", "whistle_on_time_rate", "review_on_time_rate", "follow_up_on_time_rate",
                 "no_recurrence_rate", "resolution_rate", "recurrences", "warnings", "own_warnings", "score_base",
                 "warning_points", "deduction"),
    "month": ("month", "rank", "ranking", "department", "name", "score"),
}


#: shorter headers for the console, where a table has to fit a terminal
SHORT_ZH: Mapping[str, str] = {
    "department": "部门", "whistles": "接哨", "on_time_rate": "及时率", "report_in_minutes_median": "中位(分)",
    "report_in_minutes_p90": "P90(分)", "lead_cases": "主责", "resolution_hours_median": "解决(时)",
    "warnings": "警示", "penalties": "处罚", "penalty_amount": "罚款(元)", "duty_rate": "履职率", "score": "得分",
    "township_code": "乡镇代码", "cases": "案件", "whistled": "吹哨案件", "whistles_sent": "吹哨", "summons": "召集",
    "own_warnings": "自身警示", "rating_adequacy_mean": "评价", "deduction": "扣分", "ranking": "类别",
    "whistle_on_time_rate": "吹哨及时", "review_on_time_rate": "核查及时", "follow_up_on_time_rate": "落实按期",
    "no_recurrence_rate": "不反弹", "recurrences": "反弹(W08)", "score_base": "扣前", "warning_points": "警示分",
    "reports": "上报", "untriaged": "未处理", "triage_on_time_rate": "分拣及时",
}
SHORT_TOWNSHIP_ZH: Mapping[str, str] = {"resolution_rate": "已吹哨解决", "deduction": "扣分/百件"}
SHORT_DEPARTMENT_ZH: Mapping[str, str] = {"deduction": "扣分/百次"}
SHORT_EN: Mapping[str, str] = {
    "department": "dept", "report_in_rate": "report-in", "on_time_rate": "on time",
    "report_in_minutes_median": "med min", "report_in_minutes_p90": "p90 min", "lead_cases": "lead",
    "resolution_rate": "resolved",
    "resolution_hours_median": "med h", "recurrences": "recur", "warnings": "warn", "penalties": "pen",
    "penalty_amount": "fines", "penalties_per_officer": "pen/officer", "duty_rate": "duty", "township_code": "township",
    "share_whistled": "whistled %", "whistles_sent": "whistles", "own_warnings": "own warn",
    "rating_adequacy_mean": "rating", "deduction": "deduct", "ranking": "ranking",
    "whistle_on_time_rate": "whistle ok", "review_on_time_rate": "review ok", "follow_up_on_time_rate": "follow-up ok",
    "no_recurrence_rate": "kept", "score_base": "base", "warning_points": "points", "reports": "reports",
    "untriaged": "untriaged", "triage_on_time_rate": "triage ok",
}
SHORT_TOWNSHIP_EN: Mapping[str, str] = {"resolution_rate": "resolved (whistled)", "deduction": "deduct/100 cases"}
SHORT_DEPARTMENT_EN: Mapping[str, str] = {"deduction": "deduct/100"}
#: the ranking cell: the department's ranking (主责 / 配合)
RANKINGS = {"zh": {"lead": "主责", "assist": "配合", "township_team": "街乡执法队"},
            "en": {"lead": "lead", "assist": "assist", "township_team": "township team"}}
#: the rank cell of a department scored on too few whistles to be ranked
SMALL_SAMPLE = {"zh": "样本少", "en": "few"}
_NAME_CHARS = 10
#: a township team's name in a table: 金海湖镇综合行政执法队 → 金海湖镇执法队 (the township is what tells them apart)
_TEAM_SUFFIX = ("综合行政执法队", "执法队")


def _kind(table: pd.DataFrame) -> str:
    return "month" if "month" in table.columns else "department" if "department" in table.columns else "township"


def _label(column: str, lang: str, short: bool = False, kind: str = "") -> str:
    if column.endswith("_n") and column != "_n":  # the number a rate rests on: the rate's label and "n"
        return f"{_label(column.removesuffix('_n'), lang, short, kind)}{'·样本数' if lang == 'zh' else ' n'}"
    town, dept = kind == "township", kind == "department"
    if lang != "zh":
        own = SHORT_TOWNSHIP_EN if town else SHORT_DEPARTMENT_EN if dept else {}
        return (short and (own.get(column) or SHORT_EN.get(column))) or column
    if column.startswith("warnings_"):
        return "警示" + column.removeprefix("warnings_")
    if short and (word := (SHORT_TOWNSHIP_ZH if town else SHORT_DEPARTMENT_ZH if dept else {}).get(column)):
        return word
    own = TOWNSHIP_LABELS_ZH if town else DEPARTMENT_LABELS_ZH if dept else {}
    return (short and SHORT_ZH.get(column)) or own.get(column) or LABELS_ZH.get(column, column)


def _short_name(name: str) -> str:
    bare = re.sub(r"[（(][^）)]*[）)]", "", name) or name
    if bare.endswith(_TEAM_SUFFIX[0]) and len(bare) > len(_TEAM_SUFFIX[0]):
        bare = bare[: -len(_TEAM_SUFFIX[0])] + _TEAM_SUFFIX[1]
    return bare if len(bare) <= _NAME_CHARS else bare[: _NAME_CHARS - 1] + "…"


def _cell(column: str, value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "—"
    if column.endswith("_rate") or column in ("share_whistled", "untriaged_share"):
        return f"{float(value):.1%}"
    if column.endswith(("_median", "_p90", "_mean")) or column in ("score", "score_base", "score_net", "deduction"):
        return f"{float(value):.1f}"
    if column == "warning_points":
        return f"{float(value):g}"
    if column == "penalty_amount":
        return f"{float(value):,.0f}"
    if column in ("penalties_per_officer", "inspections_per_officer"):
        return f"{float(value):.3f}"
    return str(value)


def render_table(table: pd.DataFrame, lang: str = "zh", *,
                 columns: Sequence[str] | None = None) -> list[tuple[str, ...]]:
    """Rows of strings for a console table, the header first: a department, township or monthly table cut to
    its main columns (or ``columns``) — townships by name in both languages (their codes are nine digits
    nobody reads), departments by name in zh and by code in en — short headers and names, rates as
    percentages, unknown values as "—". Files take :func:`report_frame` instead (every column, full headers,
    numbers)."""
    kind = _kind(table)
    if columns is None:
        hidden = ({"department", "township_code"} if lang == "zh" or kind == "township"
                  else {"name"})  # zh: names; en: department codes, township names
        columns = [c for c in _DISPLAY[kind] if c in table.columns and c not in hidden]
    township_names = lang != "zh" and "township_code" in table.columns and "township_code" not in columns
    rows: list[tuple[str, ...]] = [tuple("township" if township_names and c == "name"
                                         else _label(c, lang, short=True, kind=kind) for c in columns)]
    few = (table["small_sample"].fillna(False).astype(bool) if "small_sample" in table.columns
           else pd.Series(False, index=table.index))
    for record, small in zip(table[list(columns)].itertuples(index=False, name=None), few, strict=True):
        rows.append(tuple(_short_name(str(v)) if c == "name"
                          else SMALL_SAMPLE.get(lang, SMALL_SAMPLE["en"]) if c == "rank" and small
                          else RANKINGS.get(lang, RANKINGS["en"]).get(str(v), str(v)) if c == "ranking"
                          else _cell(c, v) for c, v in zip(columns, record, strict=True)))
    return rows


def report_frame(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Every column of an evaluation table for a file: headers in ``lang`` (zh labels, en column ids), ratios
    rounded to 4 places, scores and medians to 2; values stay numbers."""
    out, kind = table.copy(), _kind(table)
    for column in out.columns:
        if column.endswith("_rate") or column in ("share_whistled", "untriaged_share"):
            out[column] = out[column].round(4)
        elif column.endswith(("_median", "_p90", "_per_officer", "_mean")) or column in (
                "score", "score_base", "score_net", "deduction", "rating_score"):
            out[column] = out[column].round(4 if column.endswith("_per_officer") else 2)
    return out.rename(columns={c: _label(c, lang, kind=kind) for c in out.columns})


# -- notes for people -------------------------------------------------------------------------------------------
def _day(t: datetime, tz: str) -> str:
    return f"{t.astimezone(district_zone(tz)):%Y-%m-%d}"


def empty_period_note(label: str, data_range: tuple[datetime, datetime] | None, *, tz: str,
                      lang: str = "zh") -> str:
    """The line that says a period holds nothing, with the stored data's range (days in the district's zone
    ``tz``), so a mistyped year does not read as a collapse of every department."""
    if lang == "zh":
        where = (f"数据范围 {_day(data_range[0], tz)} — {_day(data_range[1], tz)}" if data_range
                 else "尚无任何数据")
        return f"{label} 内没有案件、吹哨或执法记录（{where}）"
    where = (f"the data cover {_day(data_range[0], tz)} — {_day(data_range[1], tz)}" if data_range
             else "nothing is stored yet")
    return f"{label} holds no case, whistle or enforcement record ({where})"


def score_note(lang: str = "zh", *, by: str = "department", per: float = 100.0) -> str:
    """How the department (or, ``by="township"``, the township) score is made, in one line under the table;
    ``per``: the occasions the warnings' points are charged per (``catalog.deductions_per_exposure``)."""
    n = MIN_RANKED_WHISTLES
    if by == "township":
        if lang == "zh":
            return (f"街乡得分 = 吹哨及时、核查及时、部门要求按期落实、解决不反弹按权重（草案）加权（0–100）"
                    f"减扣分，最低 0；"
                    f"扣分 = 自身警示(W09/W12/W13)与反弹(W08)的警示分 × {per:g} ÷ 案件数（至少 {n}），"
                    f"即每 {per:g} 件案件"
                    f"的警示分；按扣分后得分排名（低于 0 的也分先后）；案件少于 {n} 件不排名（样本少）；"
                    f"已吹哨案件解决率只计已吹哨的案件，未处理上报见“未处理”与分拣及时率")
        return (f"township score = whistled in time, verified in time, follow-ups done in time and no recurrence, "
                f"weighted (draft weights, 0–100), less the deduction, at least 0; deduction = the points of its own "
                f"warnings (W09/W12/W13) and recurrences (W08) × {per:g} / cases (at least {n}): points per {per:g} "
                f"cases; ranked on the score before the floor at 0; fewer than {n} cases: not ranked (few); the "
                f"resolution rate is over whistled cases only: the untriaged reports are in 'untriaged' and "
                f"'triage ok'")
    if lang == "zh":
        return (f"得分 = 报到及时、职权履行、解决不反弹、乡镇评价按清单权重加权（0–100）减警示扣分，最低 0；"
                f"扣分 = 警示分 × {per:g} ÷ 接哨数（至少 {n}），即每 {per:g} 次接哨的警示分，"
                f"召集多的部门不因次数多而多扣；按扣分后得分排名（低于 0 的也分先后）；"
                f"主责部门与只配合的部门分别排名，各街乡综合行政执法队另行排名（街乡执法队）；"
                f"接哨少于 {n} 次不排名（样本少）")
    return (f"score = on time, duty, no recurrence and township rating weighted as the lists say (0–100) less "
            f"the deduction, at least 0; deduction = the warnings' points × {per:g} / whistles (at least {n}): "
            f"points per {per:g} whistles, so a department summoned more often is not charged more for the same "
            f"conduct; ranked on the score before the floor at 0; lead and assisting-only departments are ranked "
            f"apart, and the townships' own enforcement teams among themselves (township team); fewer than {n} "
            f"whistles: not ranked (few)")


def floor_notes(table: pd.DataFrame, lang: str = "zh") -> list[str]:
    """One line per unit whose deduction is larger than its score before deductions (its score shows 0): the
    deduction, the base and the net score it is ranked on, so a reader sees why the score is 0."""
    if not {"score_net", "score_base", "deduction"} <= set(table.columns):
        return []
    floored = table[table["score_net"] < 0]
    if floored.empty:
        return []
    names = floored["name"] if "name" in floored.columns else floored.iloc[:, 0]
    parts = [(str(name), float(r.deduction), float(r.warning_points) if "warning_points" in table.columns
              else float("nan"), float(r.score_base), float(r.score_net))
             for name, r in zip(names, floored.itertuples(index=False), strict=True)]
    if lang == "zh":
        return ["得分为 0：扣分大于扣分前得分，按扣分后得分排名 — " + "；".join(
            f"{n} 扣分 {d:.1f}（警示分 {p:g}）> {b:.1f}，扣分后 {x:.1f}" for n, d, p, b, x in parts)]
    return ["score 0: the deduction exceeds the score before it; ranked on the net score — " + "; ".join(
        f"{n} deduction {d:.1f} (points {p:g}) > {b:.1f}, net {x:.1f}" for n, d, p, b, x in parts)]


def comparison_notes(per_30_days: bool, days_before: float, days_after: float, lang: str = "zh") -> list[str]:
    """What a reader of a comparison must know: counts per 30 days when the periods' lengths differ, or that
    they are totals of periods a little different in length."""
    if not per_30_days:
        if abs(days_before - days_after) < 1e-9:
            return []
        if lang == "zh":
            return [f"两段时长相差不足 5%（{days_before:g} 天 / {days_after:g} 天）：计数为各时段合计，未折算"]
        return [f"the periods differ in length by less than 5 % ({days_before:g} / {days_after:g} days): counts "
                "are the periods' totals"]
    if lang == "zh":
        return [f"两段时长不同（{days_before:g} 天 / {days_after:g} 天）：接哨数、人均处罚量按每 30 天折算；"
                "职权履行率随时段变长而升高，未折算"]
    return [f"the periods differ in length ({days_before:g} / {days_after:g} days): whistles and penalties per "
            "officer are per 30 days; the duty rate grows with a longer period and is not adjusted"]


# -- files ----------------------------------------------------------------------------------------------------
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _is_ratio(column: str) -> bool:
    return column.endswith("_rate") or column in ("share_whistled", "untriaged_share", "rating_score")


def report_workbook(table: pd.DataFrame, *, what: str, period: Period, generated_at: datetime, lang: str = "zh",
                    notes: Sequence[str] = ()) -> Workbook:
    """An Excel workbook of :func:`report_frame`: the first sheet named after the table and its period
    (``部门评价 2026-05``), headers in row 1 (frozen), ratios in percentage format (the cells keep the
    fractions); a second sheet (说明 / about) with the period's bounds, the district's time zone, when the file
    was made and ``notes``; the same in the document's properties."""
    frame = report_frame(table, lang)
    zone = district_zone(period.tz)
    made = generated_at.astimezone(zone)
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = _SHEET_BAD.sub("-", f"{what} {period.label}")[:31]
    sheet.append([str(c) for c in frame.columns])
    for record in frame.itertuples(index=False, name=None):
        sheet.append([None if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                      else v.item() if hasattr(v, "item") else v for v in record])
    for index, column in enumerate(table.columns, start=1):
        if _is_ratio(str(column)):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.0%"
    sheet.freeze_panes = "A2"
    zh = lang == "zh"
    about = book.create_sheet("说明" if zh else "about")
    stamp = "%Y-%m-%d %H:%M %z"
    for key, value in (
        ("表" if zh else "table", what),
        ("时段" if zh else "period", period.label),
        ("起（含）" if zh else "from (inclusive)", period.start.astimezone(zone).strftime(stamp)),
        ("止（不含）" if zh else "to (exclusive)", period.end.astimezone(zone).strftime(stamp)),
        ("时区" if zh else "time zone", period.tz),
        ("生成时间" if zh else "generated at", made.strftime(stamp)),
        *(("说明" if zh else "note", n) for n in notes),
    ):
        about.append([key, value])
    props = book.properties
    props.title = f"{what} {period.label}"
    props.subject = f"{what} {period.label} ({period.tz})"
    props.description = (f"period {period.label}: {period.start.astimezone(zone).isoformat()} to "
                         f"{period.end.astimezone(zone).isoformat()} (exclusive); time zone {period.tz}; "
                         f"generated {made.isoformat(timespec='seconds')}")
    props.created = generated_at.astimezone(UTC).replace(tzinfo=None)
    return book


def report_csv_frame(table: pd.DataFrame, *, period: Period, generated_at: datetime,
                     lang: str = "zh") -> pd.DataFrame:
    """:func:`report_frame` with the period, the time zone and the generation time as the last columns (a
    CSV has no sheet name or properties, and a title row every reader would have to skip), ratios as
    fractions."""
    frame = report_frame(table, lang)
    made = generated_at.astimezone(district_zone(period.tz)).isoformat(timespec="seconds")
    names = ("时段", "时区", "生成时间") if lang == "zh" else ("period", "time_zone", "generated_at")
    return frame.assign(**dict(zip(names, (period.label, period.tz, made), strict=True)))
