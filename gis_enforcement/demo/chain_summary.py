"""What the played season looks like in the database: the summary, its tables and the first-whistle story.

Everything here is read back from the database for the season's cases (never from what the player did), so a
second run over the same season prints the same tables.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pandas as pd

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import Role
from gis_enforcement.domain.escalation import ABSENT_AFTER_MIN
from gis_enforcement.domain.names import short_township as township_short
from gis_enforcement.storage import Session, dispatch_repo, evaluation_repo, incident_repo, season_repo

__all__ = ["ChainSummary", "DepartmentRow", "TownshipRow", "read_back", "short_name", "tell_first_whistle",
           "township_short"]


# -- the summary ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DepartmentRow:
    """How one department answered the whistles of the season."""

    code: str
    name: str
    summoned: int
    led: int
    reported_in: int
    on_time: int
    late: int
    absent: int
    declined: int
    median_minutes: float | None
    p90_minutes: float | None
    penalties: int
    penalty_yuan: float
    warnings: int

    @property
    def on_time_rate(self) -> float | None:
        """On-time check-ins over summons (绩效清单 P01 报到及时率)."""
        return self.on_time / self.summoned if self.summoned else None


@dataclass(frozen=True, slots=True)
class TownshipRow:
    """How one township used the chain: whistles, cases and how they ended, follow-up tasks."""

    code: str
    name: str
    whistles: int
    joint_whistles: int
    cases: int
    closed: int
    reopened: int
    median_hours_to_close: float | None
    follow_ups: int
    follow_ups_late: int
    recurrences: int  # W08: a problem came back at a place in it
    own_warnings: int  # warnings about the township itself (W09, W12, W13), as the evaluation's own_warnings
    reports: int = 0  # reports that reached its desk (分拣)
    triaged_on_time: int = 0  # of them, triaged within the lists' triage_within_hours of their receipt
    untriaged: int = 0  # of them, still untriaged
    triage_warnings: int = 0  # W13: reports it left untriaged past triage_within_hours

    @property
    def triage_on_time_rate(self) -> float | None:
        """分拣及时率 over its reports (once the season is over every one of them is due, and the township
        evaluation's rate is the same)."""
        return self.triaged_on_time / self.reports if self.reports else None


@dataclass
class ChainSummary:
    """What the season's chain looks like in the database after :func:`play_season`.

    Counts are read back from the database for the season's cases (so a second run reports the same
    season); ``played``, ``skipped`` and ``reclassified`` say what this run did, ``refused_check_ins`` and
    ``seconds`` are of this run only. ``anomalies`` lists service refusals the simulator did not expect (none,
    normally). The townships' desks (分拣): ``reports`` that reached a desk (in a township), of them
    ``triaged`` (whistled, marked ``duplicates``, ``not_accepted`` — 不予受理 — or named and waiting for a
    whistle), ``triaged_on_time`` (within the lists' ``triage_hours`` of their receipt) and ``untriaged``.
    """

    seed: int
    played: int = 0
    skipped: int = 0
    revisits: int = 0
    reclassified: int = 0
    refused_check_ins: int = 0
    seconds: float = 0.0
    whistled: int = 0
    whistles: int = 0
    joint_whistles: int = 0
    summoned: int = 0
    on_time: int = 0
    late: int = 0
    absent: int = 0
    declined: int = 0
    resolved: int = 0
    closed: int = 0
    reopened: int = 0
    released: int = 0
    follow_ups: int = 0
    follow_ups_late: int = 0
    penalties: int = 0
    penalty_yuan: float = 0.0
    reports: int = 0
    triaged: int = 0
    triaged_on_time: int = 0
    duplicates: int = 0
    not_accepted: int = 0
    untriaged: int = 0
    triage_hours: float = 0.0
    warnings: dict[str, int] = field(default_factory=dict)
    warning_levels: dict[str, dict[str, int]] = field(default_factory=dict)
    story: list[str] = field(default_factory=list)
    story_incident: UUID | None = None
    story_departments: list[str] = field(default_factory=list)
    departments: list[DepartmentRow] = field(default_factory=list)
    townships: list[TownshipRow] = field(default_factory=list)
    anomalies: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        """The figures that do not depend on the run (for comparing two plays of the same season)."""
        keys = ("whistled", "whistles", "joint_whistles", "summoned", "on_time", "late", "absent", "declined",
                "resolved", "closed", "reopened", "released", "follow_ups", "follow_ups_late", "penalties",
                "penalty_yuan", "reports", "triaged", "triaged_on_time", "duplicates", "not_accepted", "untriaged")
        return {**{k: getattr(self, k) for k in keys}, "warnings": dict(sorted(self.warnings.items()))}

    def desk_lines(self) -> list[str]:
        """The townships' triage (分拣) in a line or two, for the demo's console (none when no report reached a
        desk)."""
        if not self.reports:
            return []
        late = self.warnings.get("W13", 0)
        rate = f"{100.0 * self.triaged_on_time / self.reports:.1f} %"
        return [
            f"  分拣 triage: {self.reports:,} reports reached the townships' desks: {self.whistled:,} whistled, "
            f"{self.duplicates:,} marked 重复 (duplicate), {self.not_accepted:,} 不予受理 with a reason (a truck long "
            f"gone, nothing found on site, a permit shown), {self.untriaged:,} still untriaged",
            f"  分拣及时率 {rate} triaged within {self.triage_hours:g} h of their receipt; {late:,} reports left "
            "longer raised W13 分拣超时 against their township",
        ]


# -- names -------------------------------------------------------------------------------------------
def short_name(catalog: Catalog, code: str) -> str:
    """A department's Chinese name without the parenthesised part; the township team by its job."""
    if code == "TOWN":
        return "街乡综合执法队"
    dep = catalog.departments.get(code)
    if dep is None:
        return code
    return dep.zh.split("（")[0].split("(")[0]


# -- reading the season back --------------------------------------------------------------------------------
def read_back(session: Session, catalog: Catalog, summary: ChainSummary, ids: list[UUID], *, tz: ZoneInfo,
              observed: tuple[datetime, datetime] | None = None) -> None:
    """Fill ``summary``'s counts and its department and township tables from the stored records of the cases
    ``ids`` (and the warnings on them, or on no case); the townships' triage from those of them observed in
    ``observed`` (``[start, end)``; none without it)."""
    facts = season_repo.season_frames(session, incident_ids=ids)
    a, events, whistles = facts["assignments"], facts["events"], facts["whistles"]
    cases = facts["cases"][facts["cases"]["whistled_at"].notna()].copy()  # not the reports declined or repeated
    fines, tasks, warns = facts["fines"], facts["tasks"], facts["warnings"]
    towns = season_repo.township_names(session)

    for col in ("summoned_at", "report_in_due", "reported_in_at"):
        a[col] = pd.to_datetime(a[col], utc=True)
    after = (a["reported_in_at"] - a["summoned_at"]).dt.total_seconds() / 60.0
    # every summoned department is counted once: on time, late, absent, or declined — a decline that stands (the
    # township did not overrule it) without a check-in. A decline overruled, then a check-in, counts by the
    # check-in; no check-in after an overruled decline is absent.
    moves = Counter(zip(events["incident_id"], events["department"], events["kind"], strict=True))
    keys = list(zip(a["incident_id"], a["department"], strict=True))
    stands = pd.Series([moves[(i, d, "decline")] > moves[(i, d, "overrule")] for i, d in keys], index=a.index,
                       dtype=bool)
    a["on_time"] = a["reported_in_at"].notna() & (a["reported_in_at"] <= a["report_in_due"])
    a["late"] = a["reported_in_at"].notna() & ~a["on_time"] & (after <= ABSENT_AFTER_MIN)
    a["absent"] = (a["reported_in_at"].isna() & ~stands) | (after > ABSENT_AFTER_MIN)
    a["declined"] = a["reported_in_at"].isna() & stands
    a["after"] = after

    summary.whistled = len(cases)
    summary.whistles = len(whistles)
    summary.joint_whistles = int((whistles["n"] > 1).sum()) if len(whistles) else 0
    summary.summoned = len(a)
    summary.on_time, summary.late = int(a["on_time"].sum()), int(a["late"].sum())
    summary.absent, summary.declined = int(a["absent"].sum()), int(a["declined"].sum())
    kinds = Counter(events["kind"])
    summary.resolved = int(events.loc[events["kind"] == "resolve", "incident_id"].nunique())
    summary.released = kinds["release"]
    summary.closed = int((cases["status"] == "closed").sum())
    summary.reopened = int(events.loc[events["kind"] == "reopen", "incident_id"].nunique())
    summary.follow_ups = len(tasks)
    late_task = pd.Series(False, index=tasks.index)
    if len(tasks):
        due = pd.to_datetime(tasks["due_at"], utc=True)
        done = pd.to_datetime(tasks["done_at"], utc=True)
        late_task = (done > due) | (tasks["status"] == "open")
    summary.follow_ups_late = int(late_task.sum())
    summary.penalties = int(fines["n"].sum()) if len(fines) else 0
    summary.penalty_yuan = float(fines["yuan"].astype(float).sum()) if len(fines) else 0.0
    summary.warnings = {str(k): int(v) for k, v in Counter(warns["rule"]).items()}
    levels: dict[str, dict[str, int]] = defaultdict(dict)
    for (rule, level), n in Counter(zip(warns["rule"], warns["level"], strict=True)).items():
        levels[str(rule)][str(level)] = int(n)
    summary.warning_levels = dict(levels)

    dep_warn = Counter(warns.loc[warns["subject_kind"] == "department", "subject"])
    fine_by = {r.department: (int(r.n), float(r.yuan)) for r in fines.itertuples(index=False)}
    rows = []
    for dep, g in a.groupby("department", sort=False):
        reported = g["after"].dropna()
        n_fines, yuan = fine_by.get(str(dep), (0, 0.0))
        rows.append(DepartmentRow(
            code=str(dep), name=short_name(catalog, str(dep)), summoned=len(g), led=int((g["role"] == "lead").sum()),
            reported_in=len(reported), on_time=int(g["on_time"].sum()), late=int(g["late"].sum()),
            absent=int(g["absent"].sum()), declined=int(g["declined"].sum()),
            median_minutes=float(reported.median()) if len(reported) else None,
            p90_minutes=float(reported.quantile(0.9)) if len(reported) else None,
            penalties=n_fines, penalty_yuan=yuan, warnings=int(dep_warn.get(dep, 0))))
    summary.departments = sorted(rows, key=lambda r: (-r.summoned, r.code))

    cases["hours"] = (pd.to_datetime(cases["closed_at"], utc=True)
                      - pd.to_datetime(cases["whistled_at"], utc=True)).dt.total_seconds() / 3600.0
    reopened_ids = set(events.loc[events["kind"] == "reopen", "incident_id"])
    town_warn = Counter(warns.loc[warns["subject_kind"] == "township", "subject"])
    town_back = Counter(warns.loc[warns["rule"] == "W08", "township_code"].dropna())
    town_late = Counter(warns.loc[warns["rule"] == "W13", "subject"])
    desk = _triage(session, catalog, summary, ids, observed)
    trows = []
    for code in sorted(set(cases["township_code"].dropna()) | set(desk["township_code"])):
        g = cases[cases["township_code"] == code]
        w = whistles[whistles["township_code"] == code]
        t = tasks[tasks["township_code"] == code]
        d = desk[desk["township_code"] == code]
        closed_h = g["hours"].dropna()
        trows.append(TownshipRow(
            code=str(code), name=township_short(towns.get(code, str(code))), whistles=len(w),
            joint_whistles=int((w["n"] > 1).sum()), cases=len(g), closed=int((g["status"] == "closed").sum()),
            reopened=int(g["id"].isin(reopened_ids).sum()),
            median_hours_to_close=float(closed_h.median()) if len(closed_h) else None,
            follow_ups=len(t), follow_ups_late=int(late_task[t.index].sum()) if len(t) else 0,
            recurrences=int(town_back.get(code, 0)), own_warnings=int(town_warn.get(code, 0)),
            reports=len(d), triaged_on_time=int(d["on_time"].sum()), untriaged=int(d["untriaged"].sum()),
            triage_warnings=int(town_late.get(code, 0))))
    summary.townships = sorted(trows, key=lambda r: (-r.cases, -r.reports, r.code))


def _triage(session: Session, catalog: Catalog, summary: ChainSummary, ids: list[UUID],
            observed: tuple[datetime, datetime] | None) -> pd.DataFrame:
    """The townships' triage of the reports ``ids`` observed in ``observed``, as the township evaluation reads it
    (status, receipt and first triage): fills ``summary``'s desk counts and returns one row per report that
    reached a desk (``township_code``, ``on_time``, ``untriaged``)."""
    columns = ["township_code", "on_time", "untriaged"]
    summary.triage_hours = catalog.triage_within_hours
    if observed is None or not ids:
        return pd.DataFrame(columns=columns)
    f = evaluation_repo.cases_frame(session, start=observed[0], end=observed[1])
    f = f[f["incident_id"].isin({str(i) for i in ids}) & f["township_code"].notna()].copy()
    received = f["received_at"].fillna(f["observed_at"])
    f["untriaged"] = f["status"] == "reported"
    f["on_time"] = ~f["untriaged"] & (f["triaged_at"] <= received + pd.Timedelta(hours=catalog.triage_within_hours))
    summary.reports, summary.untriaged = len(f), int(f["untriaged"].sum())
    summary.triaged, summary.triaged_on_time = len(f) - summary.untriaged, int(f["on_time"].sum())
    summary.duplicates = int((f["status"] == "duplicate").sum())
    summary.not_accepted = int((f["status"] == "rejected").sum())
    return f[columns]


# -- the first whistle ------------------------------------------------------------------------------------
def tell_first_whistle(session: Session, catalog: Catalog, summary: ChainSummary, incident_id: UUID, *,
                       tz: ZoneInfo) -> None:
    """The first-whistle story, told from the record: who was whistled, who came and when, what was done."""
    inc = incident_repo.get_incident(session, incident_id=incident_id)
    first = season_repo.first_whistle(session, incident_id=incident_id)
    if inc is None or first is None:
        return
    summary.story_incident = incident_id
    w_at: datetime = first[0]
    assignments = dispatch_repo.assignments_of(session, incident_id=incident_id)
    summary.story_departments = [a.department for a in assignments]

    def hm(t: datetime) -> str:
        return t.astimezone(tz).strftime("%m-%d %H:%M")

    town = township_short(inc.township_name or "")
    place = f"{town}{inc.village_name or ''}"
    cat = catalog.categories[inc.category]
    lines = [
        f"{hm(inc.observed_at)}  {inc.reporter or 'a patrol'} reports {cat.zh.split('（')[0]} ({inc.category}) "
        f"near {place}",
        f"{hm(w_at)}  {town} whistles all {len(assignments)} departments the lists name for {inc.category}, "
        f"{(w_at - inc.observed_at).total_seconds() / 60:.0f} min after the report",
    ]
    came = sorted((a for a in assignments if a.reported_in_at is not None), key=lambda a: (a.reported_in_at, a.id))
    for a in came:
        assert a.reported_in_at is not None
        mins = (a.reported_in_at - a.summoned_at).total_seconds() / 60.0
        verdict = "on time" if a.on_time else f"{a.minutes_late:.0f} min late"
        role = "主责" if a.role is Role.LEAD else "配合"
        lines.append(f"   +{mins:4.0f} min  {short_name(catalog, a.department)} ({role}) reports in "
                     f"{a.report_in_distance_m or 0:,.0f} m from the site — {verdict}")
    for a in assignments:
        if a.reported_in_at is None:
            lines.append(f"   never    {short_name(catalog, a.department)} did not come")
    records = season_repo.records_of(session, incident_id=incident_id)
    for dep, acted, measures, amount, seized in records:
        if not measures:
            continue
        what = "、".join(measures)
        if amount:
            what += f", fine ¥{float(amount):,.0f}"
        if seized:
            what += f", seized {seized}"
        lines.append(f"{hm(acted)}  {short_name(catalog, dep)}: {what}")
    on_time = sum(1 for a in came if a.on_time)
    status = inc.status.value
    closed_at = season_repo.closed_at(session, incident_id=incident_id)
    end = f"closed {hm(closed_at)} after the township's check on site" if closed_at else f"case is {status}"
    lines.append(f"{'':11s} {len(came)} of {len(assignments)} departments came, {on_time} within the "
                 f"{int((assignments[0].report_in_due - assignments[0].summoned_at).total_seconds() // 60)} "
                 f"minutes; {end}")
    summary.story = lines
