"""Evaluation (效果可评价) per department and per township for any period. Pure: DataFrames in, DataFrame out.

The facts (:class:`EvaluationFacts`) are one row per assignment, enforcement record, warning and case, as
:mod:`gis_enforcement.storage.evaluation_repo` returns them. A period is ``[start, end)``; calendar months are
those of the district's zone (``Period.tz``, default Asia/Shanghai); statuses are read as they stand at
``facts.as_of``. Counts of nothing are 0; every ratio whose denominator is 0 is NaN, never 0 — a department
nobody whistled has no report-in rate.

**Department view** (every department of the lists), over the assignments *summoned in the period*:

- ``whistles`` (接哨数): assignments received. ``excused``: never reported in and stood down — a decline the
  township accepted, or a release — at or before the report-in deadline; or never reported in on a case the
  lead resolved (and nobody reopened since, ``case_resolved_at``) before the no-show rule W02 found it absent:
  the rule of :func:`gis_enforcement.domain.escalation.escalate` (the wait ends at the resolution) decides,
  so an assist on a case resolved within the hour is excused exactly when no W02 is raised on it.
  ``pending``: not reported in, not excused, no no-show warning (W02) raised on it by ``as_of``, and its
  report-in deadline still ahead at the evaluation's *now*: the end of the period or ``as_of``, whichever is
  earlier. A pending attendance is neither on time, late nor absent, and no occasion for any rate: a
  department whistled minutes ago is not judged yet. A W02 makes an attendance absent whatever the deadline
  says, so a department found absent is always judged. ``expected_report_ins`` = whistles − excused − pending.
- ``report_in_rate`` = reported in / expected. ``on_time_rate`` (报到及时率, P01) = reported in at or before
  the deadline / expected, so a no-show counts against both. ``late``; ``absent`` = expected − reported in.
- ``report_in_minutes_median`` / ``_p90``: minutes from the whistle (``summoned_at``) to the check-in, over the
  check-ins; p90 interpolates linearly between order statistics (numpy's default).
- ``lead_cases``: its lead assignments not excused; ``lead_pending``: those not resolved whose resolution
  deadline is still ahead at ``as_of``. ``resolution_rate`` = lead cases resolved, verified or closed /
  (lead cases − pending). ``resolution_hours_median``: case whistle (``whistled_at``) → ``closed_at`` in hours,
  over its closed lead cases.
- ``recurrences``: lead cases named (``incident_id``) by a recurrence warning (W08) raised from the period's
  start on — also after its end, since a problem may come back later. ``outcome_rate`` (解决不反弹) = lead
  cases resolved and not recurred / (lead cases − pending).
- ``warnings_<rule>`` / ``warnings``: warnings raised in the period about it: subject ``department`` with
  its code, or subject ``location`` (W08) on a case it is lead department of.
- ``actions``: its enforcement records acted in the period; ``penalties``: penalty decisions — records of a
  kind the lists count by 人均处罚量 (P05: ``PENALTY`` 行政处罚, a warning with no fine included) or with a penalty
  amount > 0; ``penalty_amount``: their sum (元); ``penalties_per_officer`` = penalties / ``officers`` of the
  lists. ``inspections``: records of a kind counted by 人均检查量 (P06: ``INSPECT`` 现场检查);
  ``inspections_per_officer`` likewise.
- ``measures_listed``: distinct measures (职权) of every rule where it is lead; ``measures_used``: those in its
  records of the period. ``duty_rate`` (职权履行率, P07) = used / listed; NaN when it leads no rule, or had
  neither an expected report-in (reported in or absent; not excused, not pending) nor a record in the
  period (no occasion to use its powers yet).
- ``ratings``: its assignments of the period the township rated (评价权, 1–5 for timeliness and adequacy);
  ``rating_timeliness_mean`` / ``rating_adequacy_mean`` over them; ``adequate_rate`` (执法到位率, P02) = rated
  adequacy 4 or 5 (满意/基本满意) / rated; ``rating_score`` = (mean of the two means − 1) / 4, in 0–1.
- ``score_base`` (0–100) = 100 · Σ wₖ·xₖ / Σ wₖ over the dimensions of ``mechanism.evaluation_dimensions``
  whose x is known: ON_TIME_ARRIVAL → on_time_rate, DUTY_PERFORMED → duty_rate, OUTCOME → outcome_rate,
  TOWNSHIP_RATING → rating_score (the township's 评价权; weights in the shipped lists: 0.3, 0.3, 0.2, 0.2,
  draft). A dimension the department had no occasion for (NaN, e.g. OUTCOME for a department that led no
  case, TOWNSHIP_RATING for one nobody rated) is left out and the others re-weighted; NaN when none is
  known — a department with only pending (or excused) attendances has no score, not 0, and an absent one is
  scored (its on-time rate and duty rate are 0).
- ``warning_points``: the points of the period's warnings about it (the warnings counted in ``warnings``): Σ
  over them of their rule's ``deduction`` at the warning's level (W01 1, W02 3, W04 2, W05 red 1 … in the
  shipped lists, draft). ``deduction`` = ``warning_points`` × ``catalog.deductions_per_exposure`` (100, draft)
  / whistles, the whistles counted as at least :data:`MIN_RANKED_WHISTLES`: the points per 100 whistles, so a
  department summoned ten times as often is not charged ten times for the same conduct.
- ``score_net`` = ``score_base`` − ``deduction`` (below 0 when the deduction is larger); ``score`` =
  max(0, ``score_net``); NaN when ``score_base`` is. The rank is on ``score_net``, so two scores of 0 are
  still told apart.
- ``small_sample``: scored on fewer than :data:`MIN_RANKED_WHISTLES` whistles — the score is shown but
  not ranked (a department with 3 whistles all on time is not "1st").
- ``ranking``: ``lead`` (主责) for a department that leads at least one responsibility rule of the lists,
  ``assist`` (配合) for one that only ever assists. The two are ranked apart: a department that never leads
  has no occasion for DUTY_PERFORMED or OUTCOME, so its score rests on report-in and the township's rating
  alone and would otherwise outrank the leads, who answer for the result as well.
  ``rank``: within its ranking, 1 = best, ties share the better rank; no score, or a small sample: no rank.
  Rows: the lead ranking by rank, then the assist ranking by rank, then small samples by score, then the rest
  in the lists' order.

**Township view** (every township), over the cases *observed in the period* in it:

- ``cases``: cases, not duplicate, rejected or flagged as a likely duplicate; ``whistled``: those whistled;
  ``share_whistled`` = whistled / cases. ``whistles_sent``: township-mode whistles it blew in the period
  (a joint whistle counts once); ``summons``: the assignments they created.
- ``whistle_on_time_rate`` (吹哨及时率) = cases whistled within :data:`WHISTLE_WITHIN_HOURS` of their
  observation / (cases whistled + cases not whistled whose time is up at ``as_of``): a case left unwhistled
  past that time counts against it, one whose time is still running is not judged yet.
- ``resolution_rate`` = whistled cases resolved/verified/closed / (whistled − ``resolution_pending``);
  ``resolution_hours_median``: whistle → close over closed cases (the lead's work: shown, not scored).
- ``review_on_time_rate`` (核查及时率) = cases the township verified or reopened within
  :data:`REVIEW_WITHIN_HOURS` of the lead's last resolution (``resolved_at`` → ``reviewed_at``) / (cases
  resolved whose review came, or whose time is up at ``as_of``).
- ``follow_ups``: follow-up tasks (部门要求、街乡落实) departments handed it in the period;
  ``follow_up_on_time_rate`` = done by their due time / (done + still open past it at ``as_of``).
- ``recurrences``: cases named by a recurrence warning (W08) raised from the period's start on;
  ``no_recurrence_rate`` (解决不反弹率) = resolved cases that did not come back / resolved cases.
- ``warnings_<rule>`` / ``warnings``: warnings raised in the period about departments' conduct (subject
  ``department``) on its cases — shown for context, not charged to the township.
- ``own_warnings`` (自身警示): warnings raised in the period whose subject is the township itself — the rules
  of the warning list with subject ``township`` (W09 街乡落实超期, W12 吹哨异常, W13 分拣超时 in the shipped
  lists). W08 has a place as subject and is counted in ``recurrences``, not here.
- ``warning_points``: the points of the township's own warnings and its recurrences (W08, a location in it:
  "主责部门与属地乡镇各扣1分") at their rules' ``deduction``; ``deduction`` = those points per 100 cases (as
  for departments, with ``cases`` as the exposure).
- ``reports``: every report observed in the period in it (declined and duplicates too); ``untriaged``: those
  still untouched at ``as_of`` (status ``reported``, or first triaged after ``as_of``); ``untriaged_share``.
  ``triage_on_time_rate`` (分拣及时率) = reports triaged — whistled, declined, marked duplicate or reclassified
  (``triaged_at``) — within ``catalog.triage_within_hours`` (24, draft) of their receipt (``received_at``, else
  the observation) / (reports triaged + reports untriaged whose time is up). The resolution rate is over
  whistled cases only and says nothing of this backlog.
- ``<rate>_n``: for every township rate, the number it rests on (its denominator).
- ``score_base`` (0–100) = 100 · Σ wₖ·xₖ / Σ wₖ over the township dimensions whose x is known:
  WHISTLE_IN_TIME → whistle_on_time_rate, REVIEW_IN_TIME → review_on_time_rate, FOLLOW_UP_IN_TIME →
  follow_up_on_time_rate, NO_RECURRENCE → no_recurrence_rate; the weights are
  ``mechanism.township_evaluation_dimensions`` of the lists, or :data:`TOWNSHIP_DIMENSIONS` (0.3, 0.3, 0.2,
  0.2, draft) when the lists give none (the lists may also weight TRIAGE_IN_TIME → triage_on_time_rate). Rates
  only, so a busy township is not ranked above a quiet one for its volume. ``score_net``, ``score`` and the
  rank on ``score_net`` as for departments.
- ``small_sample``: scored on fewer than :data:`MIN_RANKED_WHISTLES` cases; ``rank`` as for departments (one
  ranking). Rows: ranked, then small samples by score, then the rest busiest first (most cases, then most
  whistles sent), then by code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.escalation import ESCALATION_COLUMNS, escalate
from gis_enforcement.domain.names import short_township
from gis_enforcement.domain.teams import team_name, team_unit, unit_parts
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE, district_zone
from gis_enforcement.errors import CatalogInvalid, InvalidInput

TZ = district_zone()  # the default district zone; callers with settings pass theirs (``tz``)
RESOLVED = ("resolved", "verified", "closed")
NOT_A_CASE = ("duplicate", "rejected")
STOOD_DOWN = ("declined", "released")
RECURRENCE_RULE = "W08"
NO_SHOW_RULE = "W02"  # 未报到: raised on an assignment whose department did not come
#: evaluation dimension of the lists → the metric that measures it
DIMENSION_METRICS: Mapping[str, str] = {
    "ON_TIME_ARRIVAL": "on_time_rate", "DUTY_PERFORMED": "duty_rate", "OUTCOME": "outcome_rate",
    "TOWNSHIP_RATING": "rating_score",
}

ASSIGNMENT_COLUMNS = ("assignment_id", "incident_id", "whistle_id", "whistle_mode", "whistler_unit", "department",
                      "role", "status", "summoned_at", "report_in_due", "resolution_due", "reported_in_at",
                      "stood_down_at", "category", "township_code", "case_status", "whistled_at", "closed_at",
                      "rating_timeliness", "rating_adequacy", "case_resolved_at", "declined_s", "team_township")
RECORD_COLUMNS = ("record_id", "assignment_id", "incident_id", "department", "action_type", "measures",
                  "penalty_amount", "officer", "acted_at", "team_township")
WARNING_COLUMNS = ("warning_id", "rule_code", "level", "subject_kind", "subject_code", "incident_id",
                   "assignment_id", "raised_at", "township_code", "lead_department", "team_township")
CASE_COLUMNS = ("incident_id", "category", "township_code", "status", "observed_at", "whistled_at", "closed_at",
                "likely_duplicate_of", "resolution_due", "resolved_at", "reviewed_at", "received_at", "triaged_at")
TOWNSHIP_COLUMNS = ("township_code", "name")
FOLLOW_UP_COLUMNS = ("task_id", "township_code", "requested_at", "due_at", "done_at")
_IDS = frozenset({"incident_id", "likely_duplicate_of"})
#: columns a caller may leave out (read as unknown): facts gathered before ratings existed have none, nor
#: those gathered before the resolution, review, receipt and triage times were read
_OPTIONAL = frozenset({"rating_timeliness", "rating_adequacy", "case_resolved_at", "resolved_at", "reviewed_at",
                       "received_at", "triaged_at", "declined_s", "team_township"})
ADEQUATE = 4  # a rating of 4 or 5 is 满意/基本满意 (P02)
#: a department scored on fewer whistles (a township on fewer cases) than this in the period is shown but not
#: ranked (样本少)
MIN_RANKED_WHISTLES = 5
#: the performance indicators of the lists that count penalty decisions and inspections per officer
PENALTIES_INDICATOR, INSPECTIONS_INDICATOR = "P05", "P06"
#: the two department rankings: departments that lead a rule of the lists (主责), and those that only assist (配合)
LEAD_RANKING, ASSIST_RANKING, TEAM_RANKING = "lead", "assist", "township_team"

#: township dimension of the lists → the metric that measures it
TOWNSHIP_DIMENSION_METRICS: Mapping[str, str] = {
    "WHISTLE_IN_TIME": "whistle_on_time_rate", "REVIEW_IN_TIME": "review_on_time_rate",
    "FOLLOW_UP_IN_TIME": "follow_up_on_time_rate", "NO_RECURRENCE": "no_recurrence_rate",
    "TRIAGE_IN_TIME": "triage_on_time_rate",
}
#: a report not yet triaged: the status a report has until the township whistles, declines, marks or reclassifies it
UNTRIAGED = "reported"
#: the township score's dimensions when the lists give none (``mechanism.township_evaluation_dimensions``);
#: the dimensions follow the township's part of the chain, the weights are draft
TOWNSHIP_DIMENSIONS: tuple[Mapping[str, Any], ...] = (
    {"code": "WHISTLE_IN_TIME", "zh": "吹哨是否及时", "weight": 0.3, "provenance": "draft"},
    {"code": "REVIEW_IN_TIME", "zh": "核查是否及时", "weight": 0.3, "provenance": "draft"},
    {"code": "FOLLOW_UP_IN_TIME", "zh": "部门要求是否按期落实", "weight": 0.2, "provenance": "draft"},
    {"code": "NO_RECURRENCE", "zh": "解决后是否不反弹", "weight": 0.2, "provenance": "draft"},
)
#: hours a township has to whistle a case after it is observed, and to verify (or reopen) it after the lead
#: resolved it (draft: the lists give no such deadline)
WHISTLE_WITHIN_HOURS = 24.0
REVIEW_WITHIN_HOURS = 72.0


# -- periods --------------------------------------------------------------------------------------------------
def _add_month(d: datetime) -> datetime:
    return d.replace(year=d.year + d.month // 12, month=d.month % 12 + 1, day=1)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open time span ``[start, end)`` of aware datetimes, with a label for reports; ``tz`` is the
    district's zone, whose calendar months :meth:`months` counts."""

    start: datetime
    end: datetime
    label: str = ""
    tz: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
                raise InvalidInput("a timezone-aware datetime is required", field=f"period.{name}")
        if self.start >= self.end:
            raise InvalidInput(f"the period is empty: {self.start.isoformat()} is not before {self.end.isoformat()}",
                               field="period")
        if not self.label:
            object.__setattr__(self, "label", f"{self.start.isoformat()}..{self.end.isoformat()}")

    def months(self) -> list[Period]:
        """The calendar months (of the period's zone ``tz``) the period touches, each clipped to the period."""
        zone = district_zone(self.tz)
        local = self.start.astimezone(zone)
        first = datetime(local.year, local.month, 1, tzinfo=zone)
        out = []
        while first < self.end:
            after = _add_month(first)
            out.append(Period(max(self.start, first), min(self.end, after), f"{first:%Y-%m}", self.tz))
            first = after
        return out


FIRST_YEAR = 2000  # intake refuses observations before 2000; before 1901 Asia/Shanghai is local mean time
NOT_A_PERIOD = "not a period: use YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Www or START..END"


def _unit(text: str, *, instant_ok: bool, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The start and the end of a year, month, ISO week (Monday to Monday) or day in ``zone``; an instant
    for an ISO time with a time of day (only where ``instant_ok``: a side of ``START..END``; naive: ``zone``)."""
    s = text.strip()
    try:
        if re.fullmatch(r"\d{4}", s):
            start = datetime(int(s), 1, 1, tzinfo=zone)
            return start, start.replace(year=start.year + 1)
        if re.fullmatch(r"\d{4}-\d{1,2}", s):  # 2026-08 or 2026-8
            start = datetime(int(s[:4]), int(s[5:]), 1, tzinfo=zone)
            return start, _add_month(start)
        if re.fullmatch(r"\d{4}-W\d{2}", s):
            day = date.fromisocalendar(int(s[:4]), int(s[6:]), 1)
            start = datetime(day.year, day.month, day.day, tzinfo=zone)
            return start, start + timedelta(days=7)
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", s):  # 2026-08-05 or 2026-8-5
            day = date(*(int(part) for part in s.split("-")))
            start = datetime(day.year, day.month, day.day, tzinfo=zone)
            return start, start + timedelta(days=1)
        if not instant_ok or not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", s):
            raise ValueError(s)
        instant = datetime.fromisoformat(s)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"{text.strip()!r} is {NOT_A_PERIOD}", field="period") from exc
    instant = instant if instant.tzinfo is not None else instant.replace(tzinfo=zone)
    return instant, instant


def parse_period(text: str, *, tz: str | None = None, field: str = "period") -> Period:
    """A period from ``2026`` (a year), ``2026-05`` (a month), ``2026-W33`` (an ISO week, Monday to Monday),
    ``2026-05-12`` (a day) or ``START..END``.

    Calendar units (and a time without UTC offset) are those of the district's zone ``tz`` (``settings.timezone``;
    default Asia/Shanghai): ``2026-05`` starts at that zone's midnight of 1 May. In ``START..END`` each side is a
    year, month, week, day or ISO time (with a time of day); START is where its unit begins, END where its unit
    ends (``2026-01..2026-06`` is the first half of 2026, ``2026-05-01..2026-05-31`` the whole of May); an ISO
    time as END is exclusive. ``InvalidInput`` on ``field`` (``period``, or the parameter that gave the text, such
    as ``before``) for anything else and for a period that starts before 2000.
    """
    try:
        return _parse_period(text, tz=tz)
    except InvalidInput as exc:
        if exc.field != "period" or field == "period":
            raise
        raise InvalidInput(exc.message, field=field, **exc.detail) from None


def _parse_period(text: str, *, tz: str | None) -> Period:
    zone = district_zone(tz)
    if ".." in text:
        first, _, last = text.partition("..")
        start, end = _unit(first, instant_ok=True, zone=zone)[0], _unit(last, instant_ok=True, zone=zone)[1]
        if end <= start:  # said in the user's words, not as the exclusive end the parser computed
            raise InvalidInput(f"the period {text.strip()!r} ends before it starts: its end {last.strip()!r} is not "
                               f"after its start {first.strip()!r}", field="period")
    else:
        start, end = _unit(text, instant_ok=False, zone=zone)
    if start < datetime(FIRST_YEAR, 1, 1, tzinfo=zone):
        raise InvalidInput(f"periods before {FIRST_YEAR} are not evaluated (there is no data before "
                           f"{FIRST_YEAR}): {text.strip()!r}", field="period")
    return Period(start, end, text.strip(), zone.key)


# -- facts ----------------------------------------------------------------------------------------------------
def _normalise(frame: pd.DataFrame | None, columns: Sequence[str], times: Sequence[str], name: str) -> pd.DataFrame:
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[us, UTC]" if c in times else object) for c in columns})
    missing = [c for c in columns if c not in frame.columns and c not in _OPTIONAL]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")
    out = frame.reset_index(drop=True).copy()
    for c in _OPTIONAL.intersection(columns).difference(out.columns):
        out[c] = float("nan")
    for c in times:
        out[c] = pd.to_datetime(out[c], utc=True)
    for c in _IDS.intersection(columns):
        out[c] = out[c].astype("str")  # uuid objects hash and compare slowly; their text is the same key
    return out


@dataclass(frozen=True, kw_only=True)
class EvaluationFacts:
    """The rows an evaluation reads (columns: ``*_COLUMNS`` of this module; times made UTC on the way in).

    ``as_of`` is when the statuses were read: deadlines still ahead of it are pending, not missed. A frame
    left out is empty.
    """

    as_of: datetime
    assignments: pd.DataFrame | None = None
    records: pd.DataFrame | None = None
    warnings: pd.DataFrame | None = None
    cases: pd.DataFrame | None = None
    townships: pd.DataFrame | None = None
    follow_ups: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.as_of.tzinfo is None:
            raise InvalidInput("a time zone is required", field="as_of")
        for name, columns, times in (
            ("assignments", ASSIGNMENT_COLUMNS, ("summoned_at", "report_in_due", "resolution_due", "reported_in_at",
                                                 "stood_down_at", "whistled_at", "closed_at", "case_resolved_at")),
            ("records", RECORD_COLUMNS, ("acted_at",)),
            ("warnings", WARNING_COLUMNS, ("raised_at",)),
            ("cases", CASE_COLUMNS, ("observed_at", "whistled_at", "closed_at", "resolution_due", "resolved_at",
                                     "reviewed_at", "received_at", "triaged_at")),
            ("townships", TOWNSHIP_COLUMNS, ()),
            ("follow_ups", FOLLOW_UP_COLUMNS, ("requested_at", "due_at", "done_at")),
        ):
            object.__setattr__(self, name, _normalise(getattr(self, name), columns, times, name))

    def frame(self, name: str) -> pd.DataFrame:
        value = getattr(self, name)
        assert isinstance(value, pd.DataFrame)  # __post_init__ made every frame a DataFrame
        return value


def _within(frame: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    t = frame[column]
    return frame[(t >= pd.Timestamp(period.start)) & (t < pd.Timestamp(period.end))]


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(float)
    return (num.astype(float) / den).where(den > 0)


def _units(first: Iterable[str], *seen: pd.Series) -> list[str]:
    units = list(dict.fromkeys(first))
    known = set(units)
    extra = sorted({str(u) for s in seen for u in s.dropna().unique()} - known)
    return units + extra


def _recurred(facts: EvaluationFacts, period: Period) -> list[object]:
    w = facts.frame("warnings")
    hit = ((w["rule_code"] == RECURRENCE_RULE) & (w["raised_at"] >= pd.Timestamp(period.start))
           & w["incident_id"].notna())
    return list(w.loc[hit, "incident_id"].unique())


def _no_shows(facts: EvaluationFacts) -> list[int]:
    """Assignments a no-show warning (W02) was raised on by ``as_of``."""
    w = facts.frame("warnings")
    hit = (w["rule_code"] == NO_SHOW_RULE) & (w["raised_at"] <= pd.Timestamp(facts.as_of))
    ids = pd.to_numeric(w.loc[hit, "assignment_id"], errors="coerce").dropna()
    return [int(i) for i in ids.unique()]


def _rule_columns(catalog: Catalog, rules: pd.Series) -> list[str]:
    listed = list(catalog.warning_rules)
    return listed + sorted({str(r) for r in rules.dropna().unique()} - set(listed))


def _count_table(keys: pd.Series, rules: pd.Series, index: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    """Warnings per unit (rows) and rule (``warnings_<rule>`` columns), zeros where none, plus ``warnings``."""
    ok = keys.notna()
    table = pd.crosstab(keys[ok], rules[ok]) if ok.any() else pd.DataFrame()
    table = table.reindex(index=list(index), columns=list(columns), fill_value=0).fillna(0).astype("int64")
    table.columns = [f"warnings_{c}" for c in columns]
    table.index.name = None
    table["warnings"] = table.sum(axis=1)
    return table


def _sum_by(flags: dict[str, pd.Series | int], keys: pd.Series, units: Sequence[str],
            amounts: Sequence[str] = ()) -> pd.DataFrame:
    """Per unit sums of boolean/count columns (int64) and of ``amounts`` (float), 0 for units without rows."""
    frame = pd.DataFrame(flags, index=keys.index)
    sums = frame.groupby(keys).sum().reindex(list(units), fill_value=0).fillna(0)
    return sums.astype({c: float if c in amounts else "int64" for c in sums.columns})


# -- department view ------------------------------------------------------------------------------------------
def composite_score(table: pd.DataFrame, catalog: Catalog, *, key: str = "evaluation_dimensions",
                    metrics: Mapping[str, str] = DIMENSION_METRICS,
                    default: Sequence[Mapping[str, Any]] = ()) -> pd.Series:
    """``score`` (0–100) from the metrics in ``table`` and the weights of ``mechanism.<key>`` of the lists
    (``default`` when the lists give none; the department dimensions have no default)."""
    dims = catalog.mechanism.get(key) or default
    if not dims:
        raise CatalogInvalid("the lists give no evaluation dimensions", field=f"mechanism.{key}")
    num = pd.Series(0.0, index=table.index)
    den = pd.Series(0.0, index=table.index)
    for dim in dims:
        metric = metrics.get(str(dim["code"]))
        if metric is None:
            raise CatalogInvalid(f"unknown evaluation dimension {dim['code']!r}; known: {', '.join(metrics)}",
                                 field=f"mechanism.{key}")
        x = table[metric].astype(float)
        weight = float(dim["weight"])
        num += x.fillna(0.0) * weight
        den += x.notna() * weight
    return (100.0 * num / den).where(den > 0)


def evaluate_departments(facts: EvaluationFacts, catalog: Catalog, *, period: Period) -> pd.DataFrame:
    """One row per department (the lists' order, then by rank): the department metrics of the module docstring
    for ``period``, its composite ``score`` and ``rank``."""
    a = _within(facts.frame("assignments"), "summoned_at", period)
    r = _within(facts.frame("records"), "acted_at", period)
    w = _within(facts.frame("warnings"), "raised_at", period)
    a = a.assign(department=unit_keys(a["department"], a["team_township"], catalog))
    r = r.assign(department=unit_keys(r["department"], r["team_township"], catalog))
    towns = facts.frame("townships")
    town_names = dict(zip(towns["township_code"], towns["name"], strict=True))
    # a township team is listed once per township (once, as a whole, when the facts name no township)
    listed_units = [u for d in catalog.departments
                    for u in ([team_unit(d, t) for t in town_names] if d in catalog.township_teams and town_names
                              else [d])]
    subject = w["subject_kind"]
    about = w["subject_code"].where(subject == "department", w["lead_department"].where(subject == "location"))
    about = unit_keys(about, w["team_township"].where(subject == "department", w["township_code"]), catalog)
    units = _units(listed_units, a["department"], r["department"], about)
    base = [unit_parts(u)[0] for u in units]
    as_of = pd.Timestamp(facts.as_of)
    now = min(as_of, pd.Timestamp(period.end))

    reported = a["reported_in_at"].notna()
    stood_down = ~reported & a["status"].isin(STOOD_DOWN) & (a["stood_down_at"] <= a["report_in_due"])
    no_shows = _no_shows(facts)
    excused = stood_down | (~reported & _resolved_before_absent(a, as_of) & ~a["assignment_id"].isin(no_shows))
    pending = ~reported & ~excused & (a["report_in_due"] > now) & ~a["assignment_id"].isin(no_shows)
    on_time = reported & (a["reported_in_at"] <= a["report_in_due"])
    lead = (a["role"] == "lead") & ~stood_down
    resolved = lead & a["case_status"].isin(RESOLVED)
    recurred = lead & a["incident_id"].isin(_recurred(facts, period))
    counts = _sum_by({
        "whistles": 1, "excused": excused, "pending": pending, "reported_in": reported, "on_time": on_time,
        "lead_cases": lead, "lead_pending": lead & ~resolved & (a["resolution_due"] > as_of), "resolved": resolved,
        "recurrences": recurred, "kept": resolved & ~recurred,
    }, a["department"], units)
    out = pd.DataFrame(index=units)
    out["department"] = units
    out["team_township"] = [unit_parts(u)[1] for u in units]
    out["name"] = [_unit_name(u, catalog, town_names) for u in units]
    out["whistles"] = counts["whistles"]
    out["expected_report_ins"] = counts["whistles"] - counts["excused"] - counts["pending"]
    for col in ("reported_in", "on_time"):
        out[col] = counts[col]
    out["late"] = counts["reported_in"] - counts["on_time"]
    out["absent"] = out["expected_report_ins"] - counts["reported_in"]
    out["excused"], out["pending"] = counts["excused"], counts["pending"]
    out["report_in_rate"] = _ratio(out["reported_in"], out["expected_report_ins"])
    out["on_time_rate"] = _ratio(out["on_time"], out["expected_report_ins"])
    minutes = (a["reported_in_at"] - a["summoned_at"]).dt.total_seconds() / 60.0
    by_dep = minutes.groupby(a["department"])
    out["report_in_minutes_median"] = by_dep.median().reindex(units)
    out["report_in_minutes_p90"] = by_dep.quantile(0.9).reindex(units)

    for col in ("lead_cases", "lead_pending", "resolved"):
        out[col] = counts[col]
    decided = counts["lead_cases"] - counts["lead_pending"]
    out["resolution_rate"] = _ratio(counts["resolved"], decided)
    hours = ((a["closed_at"] - a["whistled_at"]).dt.total_seconds() / 3600.0).where(lead & a["closed_at"].notna())
    out["resolution_hours_median"] = hours.groupby(a["department"]).median().reindex(units)
    out["recurrences"] = counts["recurrences"]
    out["outcome_rate"] = _ratio(counts["kept"], decided)

    out = out.join(_count_table(about, w["rule_code"], units, _rule_columns(catalog, w["rule_code"])))

    amount = pd.to_numeric(r["penalty_amount"], errors="coerce").fillna(0.0)
    kind = r["action_type"].astype(str)
    penalised = kind.isin(catalog.action_kinds_counted_by(PENALTIES_INDICATOR)) | (amount > 0)
    inspected = kind.isin(catalog.action_kinds_counted_by(INSPECTIONS_INDICATOR))
    rec = _sum_by({"actions": 1, "penalties": penalised, "penalty_amount": amount.where(penalised, 0.0),
                   "inspections": inspected}, r["department"], units, amounts=("penalty_amount",))
    out["actions"], out["penalties"], out["penalty_amount"] = rec["actions"], rec["penalties"], rec["penalty_amount"]
    out["inspections"] = rec["inspections"]
    out["officers"] = [_officers(u, catalog) for u in units]
    out["penalties_per_officer"] = _ratio(out["penalties"], out["officers"])
    out["inspections_per_officer"] = _ratio(out["inspections"], out["officers"])

    listed = pd.DataFrame([(rule.lead, m) for rule in catalog.rules for m in rule.measures],
                          columns=["department", "measure"]).drop_duplicates()
    # a unit's records against its department's listed measures (a township team's: TOWN's)
    used = (r[["department", "measures"]].rename(columns={"department": "unit", "measures": "measure"})
            .explode("measure").dropna().astype(str).drop_duplicates())
    used["department"] = [unit_parts(u)[0] for u in used["unit"]]
    used = used.merge(listed, on=["department", "measure"])
    out["measures_listed"] = listed.groupby("department").size().reindex(base, fill_value=0).to_numpy("int64")
    out["measures_used"] = used.groupby("unit").size().reindex(units, fill_value=0).astype("int64")
    active = (out["expected_report_ins"] > 0) | (out["actions"] > 0)  # an occasion to use its powers
    out["duty_rate"] = _ratio(out["measures_used"], out["measures_listed"]).where(active)

    timeliness = pd.to_numeric(a["rating_timeliness"], errors="coerce")
    adequacy = pd.to_numeric(a["rating_adequacy"], errors="coerce")
    rated = timeliness.notna() & adequacy.notna()
    rates = _sum_by({"ratings": rated, "adequate": rated & (adequacy >= ADEQUATE)}, a["department"], units)
    out["ratings"] = rates["ratings"]
    out["rating_timeliness_mean"] = timeliness.where(rated).groupby(a["department"]).mean().reindex(units)
    out["rating_adequacy_mean"] = adequacy.where(rated).groupby(a["department"]).mean().reindex(units)
    out["adequate_rate"] = _ratio(rates["adequate"], rates["ratings"])
    out["rating_score"] = ((out["rating_timeliness_mean"] + out["rating_adequacy_mean"]) / 2.0 - 1.0) / 4.0

    points = _deductions(about, w, catalog).groupby(about).sum().reindex(units, fill_value=0.0)
    out["warning_points"] = points.fillna(0.0).astype(float)
    out["deduction"] = _per_exposure(out["warning_points"], out["whistles"], catalog)
    _score(out, composite_score(out, catalog), occasions=out["whistles"])
    leads = {rule.lead for rule in catalog.rules}
    out["ranking"] = [TEAM_RANKING if b in catalog.township_teams else LEAD_RANKING if b in leads
                      else ASSIST_RANKING for b in base]
    ranked = out["score_net"].where(~out["small_sample"])
    out["rank"] = ranked.groupby(out["ranking"]).rank(ascending=False, method="min").astype("Int64")
    order = {LEAD_RANKING: 0, ASSIST_RANKING: 1, TEAM_RANKING: 2}
    return _ranked_order(out, within=out["ranking"].map(order).astype(int))


def unit_keys(departments: pd.Series, townships: pd.Series, catalog: Catalog) -> pd.Series:
    """The unit each row is about: its department, or for a township team (``catalog.township_teams``) the team
    of the township it was summoned for, ``TOWN@110117104`` (:func:`~gis_enforcement.domain.teams.team_unit`);
    a team's row with no township stays ``TOWN``."""
    team = departments.isin(catalog.township_teams) & townships.notna()
    if not team.any():
        return departments
    keyed = departments.astype(object).copy()
    keyed[team] = [team_unit(d, t) for d, t in zip(departments[team], townships[team], strict=True)]
    return keyed


def _officers(unit: str, catalog: Catalog) -> float:
    """The unit's officers: one township's team counts its own (``officers_per_township``); a team's row with no
    township (summons from before the teams were told apart) stands for all of them."""
    department, township = unit_parts(unit)
    listed = catalog.departments.get(department)
    if listed is None:
        return float("nan")
    per_town = listed.officers_per_township
    return float(per_town if township is not None and per_town is not None else listed.officers)


def _unit_name(unit: str, catalog: Catalog, towns: Mapping[str, str]) -> str:
    department, township = unit_parts(unit)
    listed = catalog.departments.get(department)
    if listed is None:
        return unit
    return listed.zh if township is None else team_name(short_township(towns.get(township, township)), listed.zh)


def _ranked_order(out: pd.DataFrame, *, within: pd.Series | int = 0,
                  then: Sequence[tuple[str, bool]] = ()) -> pd.DataFrame:
    """Rows ranked (by ``within``, then rank), then scored small samples (best net score first), then the unscored (by
    ``then``: (column, ascending) pairs), each group in the table's order where nothing else tells them apart."""
    net = out["score_net"] if "score_net" in out.columns else out["score"]  # below the floor at 0 too
    out = out.assign(_group=out["rank"].isna().astype(int) + out["score"].isna().astype(int),
                     _within=within, _score=-net.fillna(0.0), _order=range(len(out)))
    keys = [("_group", True), ("_within", True), ("rank", True), ("_score", True), *then, ("_order", True)]
    out = out.sort_values([k for k, _ in keys], ascending=[a for _, a in keys], na_position="last", kind="stable")
    return out.drop(columns=["_group", "_within", "_score", "_order"]).reset_index(drop=True)


def _per_exposure(points: pd.Series, occasions: pd.Series, catalog: Catalog) -> pd.Series:
    """The warnings' ``points`` charged per ``catalog.deductions_per_exposure`` occasions (100 in the shipped
    lists, draft): points × 100 / occasions, the occasions counted as at least :data:`MIN_RANKED_WHISTLES` (below
    that the unit is not ranked, and one warning on one summons would be worth 100 times its points)."""
    exposure = occasions.astype(float).clip(lower=MIN_RANKED_WHISTLES)
    return (points.astype(float) * catalog.deductions_per_exposure / exposure).astype(float)


def _score(out: pd.DataFrame, base: pd.Series, *, occasions: pd.Series) -> None:
    """``score_base``, ``score_net`` (base less the deduction, may be below 0), ``score`` (net floored at 0)
    and ``small_sample`` (scored on fewer than :data:`MIN_RANKED_WHISTLES` occasions), in place."""
    out["score_base"] = base
    out["score_net"] = out["score_base"] - out["deduction"]
    out["score"] = out["score_net"].clip(lower=0.0)
    out["small_sample"] = out["score"].notna() & (occasions < MIN_RANKED_WHISTLES)


def _resolved_before_absent(a: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Assignments on a case resolved (and not reopened since) before the no-show rule (W02) found them absent:
    the rule of :func:`gis_enforcement.domain.escalation.escalate` (the wait ends at the resolution), applied at
    ``as_of`` to the never-reported ones; True where the case is resolved and it raises no W02."""
    candidates = a["reported_in_at"].isna() & a["case_resolved_at"].notna() & (a["case_resolved_at"] <= as_of)
    if not candidates.any():
        return candidates
    frame = a.loc[candidates].assign(resolution_due=pd.NaT, lead_paused_s=0.0)  # W02 only: no W05 on a lead
    # the time an overruled decline stood is added to the wait (as the escalation pass reads it)
    frame["declined_s"] = pd.to_numeric(frame["declined_s"], errors="coerce").fillna(0.0)
    absent = {d.assignment_id for d in escalate(frame[list(ESCALATION_COLUMNS)], now=as_of.to_pydatetime())
              if d.rule_code == NO_SHOW_RULE}
    return candidates & ~a["assignment_id"].isin(absent)


def _deductions(about: pd.Series, warnings: pd.DataFrame, catalog: Catalog) -> pd.Series:
    """The points each warning takes off (its rule's ``deduction`` at its level; 0 for a rule the lists do not
    have or a warning about nobody)."""
    points = [catalog.warning_rules[rule].points(str(level)) if rule in catalog.warning_rules else 0.0
              for rule, level in zip(warnings["rule_code"], warnings["level"], strict=True)]
    return pd.Series(points, index=warnings.index, dtype=float).where(about.notna(), 0.0)


# -- township view --------------------------------------------------------------------------------------------
def evaluate_townships(facts: EvaluationFacts, catalog: Catalog, *, period: Period) -> pd.DataFrame:
    """One row per township (ranked, then small samples, then the rest busiest first): the township metrics of
    the module docstring for ``period``, its composite ``score`` and ``rank``."""
    c = _within(facts.frame("cases"), "observed_at", period)
    c = c[c["township_code"].notna()]
    triage_within = pd.Timedelta(hours=catalog.triage_within_hours)
    a = _within(facts.frame("assignments"), "summoned_at", period)
    own = a[a["whistle_mode"] == "township"]
    w = _within(facts.frame("warnings"), "raised_at", period)
    f = _within(facts.frame("follow_ups"), "requested_at", period)
    towns = facts.frame("townships")
    units = _units(towns["township_code"].astype(str), c["township_code"], own["whistler_unit"], f["township_code"])
    as_of = pd.Timestamp(facts.as_of)

    counted = ~c["status"].isin(NOT_A_CASE) & c["likely_duplicate_of"].isna()
    whistled = counted & c["whistled_at"].notna()
    resolved = whistled & c["status"].isin(RESOLVED)
    recurred = counted & c["incident_id"].isin(_recurred(facts, period))
    whistle_due = c["observed_at"] + pd.Timedelta(hours=WHISTLE_WITHIN_HOURS)
    review_due = c["resolved_at"] + pd.Timedelta(hours=REVIEW_WITHIN_HOURS)
    came = counted & c["resolved_at"].notna() & (c["resolved_at"] <= as_of)
    # triage: the first whistle, decline, duplicate mark or reclassification, from the report's receipt
    untriaged = (c["status"] == UNTRIAGED) | (c["triaged_at"] > as_of)  # not yet triaged at as_of
    received = c["received_at"].fillna(c["observed_at"])
    triage_timed = ~untriaged & c["triaged_at"].notna()
    counts = _sum_by({
        "cases": counted, "whistled": whistled, "resolved": resolved,
        "resolution_pending": whistled & ~resolved & (c["resolution_due"] > as_of),
        "recurrences": recurred, "kept": resolved & ~recurred,
        "whistle_on_time": whistled & (c["whistled_at"] <= whistle_due),
        "whistle_decided": whistled | (counted & (whistle_due <= as_of)),
        "review_on_time": came & (c["reviewed_at"] <= review_due),
        "review_decided": came & (c["reviewed_at"].notna() | (review_due <= as_of)),
        "reports": 1, "untriaged": untriaged,
        "triage_on_time": triage_timed & (c["triaged_at"] <= received + triage_within),
        "triage_decided": triage_timed | (untriaged & (received + triage_within <= as_of)),
    }, c["township_code"], units)
    out = pd.DataFrame(index=units)
    out["township_code"] = units
    names = dict(zip(towns["township_code"].astype(str), towns["name"], strict=True))
    out["name"] = [names.get(u, u) for u in units]
    out["reports"], out["untriaged"] = counts["reports"], counts["untriaged"]
    out["untriaged_share"], out["untriaged_share_n"] = _ratio(counts["untriaged"], counts["reports"]), counts["reports"]
    out["triage_on_time_rate"] = _ratio(counts["triage_on_time"], counts["triage_decided"])
    out["triage_on_time_rate_n"] = counts["triage_decided"]
    for col in ("cases", "whistled"):
        out[col] = counts[col]
    out["share_whistled"], out["share_whistled_n"] = _ratio(counts["whistled"], counts["cases"]), counts["cases"]
    out["whistle_on_time_rate"] = _ratio(counts["whistle_on_time"], counts["whistle_decided"])
    out["whistle_on_time_rate_n"] = counts["whistle_decided"]
    out["whistles_sent"] = own.groupby("whistler_unit")["whistle_id"].nunique().reindex(units, fill_value=0)
    out["summons"] = own.groupby("whistler_unit").size().reindex(units, fill_value=0)
    for col in ("resolved", "resolution_pending"):
        out[col] = counts[col]
    out["resolution_rate"] = _ratio(counts["resolved"], counts["whistled"] - counts["resolution_pending"])
    out["resolution_rate_n"] = counts["whistled"] - counts["resolution_pending"]
    hours = ((c["closed_at"] - c["whistled_at"]).dt.total_seconds() / 3600.0).where(whistled & c["closed_at"].notna())
    out["resolution_hours_median"] = hours.groupby(c["township_code"]).median().reindex(units)
    out["review_on_time_rate"] = _ratio(counts["review_on_time"], counts["review_decided"])
    out["review_on_time_rate_n"] = counts["review_decided"]
    out["recurrences"] = counts["recurrences"]
    out["no_recurrence_rate"] = _ratio(counts["kept"], counts["resolved"])
    out["no_recurrence_rate_n"] = counts["resolved"]
    done = f["done_at"].notna()
    tasks = _sum_by({"follow_ups": 1, "follow_ups_on_time": done & (f["done_at"] <= f["due_at"]),
                     "follow_ups_decided": done | (f["due_at"] <= as_of)}, f["township_code"], units)
    out["follow_ups"] = tasks["follow_ups"]
    out["follow_up_on_time_rate"] = _ratio(tasks["follow_ups_on_time"], tasks["follow_ups_decided"])
    out["follow_up_on_time_rate_n"] = tasks["follow_ups_decided"]
    conduct = w[w["subject_kind"] == "department"]
    out = out.join(_count_table(conduct["township_code"], conduct["rule_code"], units,
                                _rule_columns(catalog, conduct["rule_code"])))
    itself = w[w["subject_kind"] == "township"]
    out["own_warnings"] = itself.groupby("subject_code").size().reindex(units, fill_value=0)
    charged = w["subject_code"].where(w["subject_kind"] == "township",
                                      w["township_code"].where(w["subject_kind"] == "location"))
    out["warning_points"] = (_deductions(charged, w, catalog).groupby(charged).sum().reindex(units, fill_value=0.0)
                             .fillna(0.0).astype(float))
    out["deduction"] = _per_exposure(out["warning_points"], out["cases"], catalog)
    for col in ("cases", "whistled", "whistles_sent", "summons", "resolved", "resolution_pending", "recurrences",
                "follow_ups", "own_warnings", "reports", "untriaged", *(c for c in out.columns if c.endswith("_n"))):
        out[col] = out[col].astype("int64")
    _score(out, composite_score(out, catalog, key="township_evaluation_dimensions",
                                metrics=TOWNSHIP_DIMENSION_METRICS, default=TOWNSHIP_DIMENSIONS),
           occasions=out["cases"])
    out["rank"] = out["score_net"].where(~out["small_sample"]).rank(ascending=False, method="min").astype("Int64")
    return _ranked_order(out, then=(("cases", False), ("whistles_sent", False)))


def monthly_ranking(facts: EvaluationFacts, catalog: Catalog, *, period: Period) -> pd.DataFrame:
    """The departments' score and rank in each calendar month (of ``period.tz``) of ``period``: columns
    ``month`` (``2026-05``), ``department``, ``name``, ``score``, ``ranking`` (``lead`` or ``assist``: the
    ranking the rank is in), ``rank``, ``small_sample`` (scored but not ranked: fewer than
    :data:`MIN_RANKED_WHISTLES` whistles that month); departments without a score that month are left out."""
    parts = []
    columns = ["month", "department", "name", "score", "ranking", "rank", "small_sample"]
    for month in period.months():
        table = evaluate_departments(facts, catalog, period=month)
        scored = table.loc[table["score"].notna(), columns[1:]]
        parts.append(scored.assign(month=month.label))
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]
