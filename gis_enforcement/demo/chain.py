"""The simulator plays the chain: townships whistle, departments report in, act, resolve; townships verify.

:func:`play_season` takes a stored patrol season (the incidents frame) and plays a share of its cases
through the **real** dispatch services — the same calls the HTTP API makes — in time order, running the
escalation pass (``tick``) at the end of every simulated day, so the warnings the lists promise appear
exactly as they would in production. Everything is drawn from ``numpy`` generators seeded from ``seed``
(one per case, keyed by the case id), so the same season and seed always play the same way; nothing reads
the clock except the stopwatch that times the play.

Habits played (every share and distribution is invented for the demo, tuned to look plausible)
----------------------------------------------------------------------------------------------
Which cases
  About ``share`` of the eligible incidents (inside the district, not a likely duplicate), drawn with
  weights by severity (critical 4 : high 2.5 : medium 1.2 : low 0.6). Incidents already whistled (case
  status other than ``reported``) are skipped: playing the same season twice plays nothing twice.
The whistle
  The township whistles a few minutes to a few hours after the report (log-normal, median 18 min). Night
  cases of one township within 6 h and 10 km of each other are often whistled together (a joint whistle).
  The lists' plan is whistled as proposed, except that dispatchers narrow it to the lead, the township team
  and the first one or two assists of the lists for about a third of the critical cases, half of the high
  and 70-80 % of the medium and low ones (a routine case does not need every department).
Report-in
  Most departments arrive on time (well inside 30 minutes); about 13 % by day and 22 % at night arrive
  late (within the hour: W01); about 3 % do not come within the hour (W02) — assists mostly never come, a
  lead always comes in the end. Each department has its own punctuality (the township's own team is
  fastest). Positions lie inside the category's geofence with phone-GPS noise; about 2.5 % of check-ins are
  first tried from too far away — refused with the distance — and retried on site. About 1 % of assists
  decline the summons with a reason; the township releases or overrules them.
Enforcement
  The lead records its action with measures from the rule (a fine where the lists allow one, in a range
  plausible for the category, e.g. river sand 10k-100k yuan), before/after photo hashes and seized items;
  some assists record their part. The lead completes after a share of its resolution time (log-normal,
  median 35 %: about 8 % pass 80 % — W05 yellow — and 4 % overrun — W05 red) and resolves.
Closing the loop
  The township verifies on site the next day or later, in working hours, releases assists that never came,
  and closes; about 3 % of cases are reopened on verification instead (not fixed on site). About 30 % of the
  cases of categories that need daily management end with a follow-up task for the township (部门要求、
  街乡落实), due in 3-10 working days; most are done in time, about 12 % late and 3 % never (W09).
Recurrences
  At a few closed cases (more for sand, mines, workshops and dumping) the problem comes back twice within
  30 days: two patrol reports go through the real intake, are linked to the closed case, are whistled like
  any case, and the place lands on the warning list (W08).
The first whistle
  One illegal-mining case (MIN-01) in 金海湖镇 — where the 2016 gold-mine accident happened — is whistled
  with every department the lists allow for MIN-01, and all of them come.

The summary is read back from the database for the season's cases, so a second run prints the same tables.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import time as stopwatch
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import text

from gis_enforcement.dispatch import follow_up, on_site, resolution
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.whistle import TOWNSHIP, departments_allowed, whistle
from gis_enforcement.domain.calendar import WorkCalendar
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import CaseStatus, Role
from gis_enforcement.domain.escalation import ABSENT_AFTER_MIN
from gis_enforcement.domain.records import Assignment
from gis_enforcement.errors import EnforcementError, InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.storage import Session, dispatch_repo, incident_repo

__all__ = ["ChainSummary", "DepartmentRow", "TownshipRow", "play_season"]

METRE = 1 / 111_320
STORY_TOWNSHIP = "金海湖镇"
STORY_CATEGORY = "MIN-01"
REVISIT_TAG = "回头看"
_NS = uuid.UUID("6f1d3f7e-27a4-4b5e-9a51-5c0e1f2b2017")

SEVERITY_WEIGHT = {"critical": 4.0, "high": 2.5, "medium": 1.2, "low": 0.6}
P_ABSENT = 0.03
P_LATE_DAY, P_LATE_NIGHT = 0.13, 0.22
P_REFUSED_FIRST = 0.025
P_DECLINE = 0.01
P_REOPEN = 0.03
P_NARROW = {"critical": 0.35, "high": 0.5, "medium": 0.7, "low": 0.8}
P_JOINT = 0.7
P_FOLLOW_UP = 0.30
P_ASSIST_RECORD = 0.15

#: Fine ranges in yuan (log-uniform), where the rule's measures include a fine — plausible orders of
#: magnitude for the laws the lists cite, invented for the demo.
FINE_YUAN: dict[str, tuple[float, float]] = {
    "MIN-01": (20_000, 300_000), "MIN-02": (10_000, 100_000), "ENV-01": (10_000, 100_000),
    "ENV-02": (20_000, 200_000), "ENV-03": (500, 2_000), "ENV-04": (3_000, 30_000), "ENV-05": (5_000, 100_000),
    "TRK-01": (500, 30_000), "TRK-02": (2_000, 20_000), "TRK-03": (100, 200), "CON-01": (20_000, 200_000),
    "LAND-01": (10_000, 200_000), "CON-03": (10_000, 100_000), "WATER-01": (10_000, 50_000),
    "SAFE-01": (20_000, 200_000), "MKT-01": (1_000, 10_000), "FOR-01": (5_000, 100_000),
}
P_FINE = {"MIN-01": 0.75, "MIN-02": 0.75, "TRK-01": 0.8, "TRK-03": 0.9}
SEIZED = {"MIN-01": "挖掘机{n}台", "MIN-02": "抽砂泵{n}套、运砂车1辆", "TRK-01": "超限货车1辆", "ENV-05": "渣土车1辆",
          "SAFE-01": "危化品{n}桶", "MKT-01": "货物{n}箱"}
#: Follow-up tasks departments hand to townships, by category (部门要求、街乡落实).
FOLLOW_UP_TASKS = {
    "MIN-01": "纳入网格巡查，夜间重点盯守，防止盗采复工", "MIN-02": "河长制巡河每日巡查，砂坑回填后复查",
    "ENV-01": "断电后纳入网格日常巡查，防止散乱污复产", "ENV-03": "村级巡查员每日巡查，做好禁烧宣传",
    "ENV-04": "督促养殖户按期清运粪污，村委会每周检查", "ENV-05": "倾倒点围挡并纳入视频监控，村委会每日巡查",
    "CON-01": "社区每日巡查，防止违建复建", "CON-02": "村委会每日巡查，防止违建复建",
    "LAND-01": "督促复垦复绿，村委会每周巡查", "WATER-01": "河长制巡河，防止再次倾倒",
    "MKT-01": "纳入街乡日常管理，定期回访", "TRK-02": "路段保洁并盯守渣土车出入口",
}
REVISIT_P = {"MIN-01": 0.025, "MIN-02": 0.03, "ENV-01": 0.025, "ENV-05": 0.025}
REVISIT_P_OTHER = 0.004
DECLINE_REASONS = ("非本部门职责范围", "执法人员正在其他现场，无法到场", "该点位不在本部门管辖范围")
REOPEN_REASONS = ("现场复核发现仍在生产", "违法设施未拆除到位", "现场复核发现机具仍在现场", "整改不到位，群众再次反映")
RELEASE_NO_SHOW = "未到场，街乡解除召集"
RELEASE_DECLINED = "退单经审核同意，街乡解除召集"
OVERRULE_REASON = "经核实属本部门职责，维持召集"
_SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林郑谢罗梁宋唐韩冯于董程曹袁邓许沈曾彭吕苏蒋蔡贾丁魏薛叶")
_GIVEN = ("强", "伟", "军", "勇", "杰", "磊", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "静", "敏", "建国",
          "志强", "海燕", "国庆", "立新", "春生", "永刚", "红梅", "振华", "德明")


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
    warnings: int


@dataclass
class ChainSummary:
    """What the season's chain looks like in the database after :func:`play_season`.

    Counts are read back from the database for the season's cases (so a second run reports the same
    season); ``played`` and ``skipped`` say what this run did, ``refused_check_ins`` and ``seconds`` are of
    this run only. ``anomalies`` lists service refusals the simulator did not expect (none, normally).
    """

    seed: int
    played: int = 0
    skipped: int = 0
    revisits: int = 0
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
                "penalty_yuan")
        return {**{k: getattr(self, k) for k in keys}, "warnings": dict(sorted(self.warnings.items()))}


# -- the cases ------------------------------------------------------------------------------------------
@dataclass
class _Case:
    id: UUID
    category: str
    rule_code: str
    severity: str
    township: str
    township_name: str
    lon: float
    lat: float
    observed: datetime
    rng: np.random.Generator
    story: bool = False
    revisit: bool = False
    broken: bool = False


def short_name(catalog: Catalog, code: str) -> str:
    """A department's Chinese name without the parenthesised part; the township team by its job."""
    if code == "TOWN":
        return "街乡综合执法队"
    dep = catalog.departments.get(code)
    if dep is None:
        return code
    return dep.zh.split("（")[0].split("(")[0]


def _township_short(name: str) -> str:
    return name.split("(")[0].split("（")[0]


def _case_rng(seed: int, case_id: UUID) -> np.random.Generator:
    n = case_id.int
    return np.random.default_rng([seed, n & 0xFFFFFFFF, (n >> 32) & 0xFFFFFFFF, (n >> 64) & 0xFFFFFFFF])


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _minutes(m: float) -> timedelta:
    return timedelta(minutes=float(m))


def _offset(lon: float, lat: float, metres: float, bearing: float) -> tuple[float, float]:
    dy = metres * math.cos(bearing) * METRE
    dx = metres * math.sin(bearing) * METRE / math.cos(math.radians(lat))
    return lon + dx, lat + dy


def _sha(*parts: object) -> str:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()


class _Player:
    """The discrete-event loop: steps in time order, the escalation pass at every local midnight."""

    def __init__(self, session: Session, *, catalog: Catalog, calendar: WorkCalendar, locator: Locator | None,
                 seed: int, tz: ZoneInfo, summary: ChainSummary) -> None:
        self.session = session
        self.catalog = catalog
        self.calendar = calendar
        self.locator = locator
        self.seed = seed
        self.tz = tz
        self.summary = summary
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._n = 0
        self.case_ids: list[UUID] = []
        drng = np.random.default_rng([seed, 7])
        self.punctuality = {code: float(np.clip(np.exp(drng.normal(0.0, 0.35)), 0.6, 1.5))
                            for code in sorted(catalog.departments)}
        self.punctuality["TOWN"] = 0.5  # the township's own team is on the spot

    # scheduling
    def at(self, when: datetime, fn: Callable[[], None]) -> None:
        self._n += 1
        heapq.heappush(self._heap, (when.timestamp(), self._n, fn))

    def step(self, case: _Case, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], None]:
        """A step of one case: skipped once the case went wrong; an unexpected refusal is kept as an anomaly."""

        def run() -> None:
            if case.broken:
                return
            try:
                fn(*args, **kwargs)
            except EnforcementError as exc:
                case.broken = True
                self.summary.anomalies.append(f"{case.id} {getattr(fn, '__name__', fn)}: {exc}")
        return run

    def run(self) -> None:
        if not self._heap:
            return
        midnight = self._next_midnight(datetime.fromtimestamp(self._heap[0][0], self.tz))
        while self._heap:
            t, _, fn = self._heap[0]
            while midnight.timestamp() <= t:
                tick(self.session, catalog=self.catalog, now=midnight)
                midnight += timedelta(days=1)
            heapq.heappop(self._heap)
            fn()
        tick(self.session, catalog=self.catalog, now=midnight)

    def _next_midnight(self, t: datetime) -> datetime:
        local = t.astimezone(self.tz)
        return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=self.tz)

    def _working_hours(self, t: datetime, rng: np.random.Generator) -> datetime:
        """Move ``t`` forward into 08:00-18:00 local time (a township's site visit)."""
        local = t.astimezone(self.tz)
        if local.hour < 8:
            return datetime.combine(local.date(), time(8), tzinfo=self.tz) + _minutes(_u(rng, 0, 180))
        if local.hour >= 18:
            return datetime.combine(local.date() + timedelta(days=1), time(8), tzinfo=self.tz) + _minutes(
                _u(rng, 0, 180))
        return t

    def _night(self, t: datetime) -> bool:
        h = t.astimezone(self.tz).hour
        return h >= 20 or h <= 5

    def officer(self, rng: np.random.Generator, department: str) -> str:
        name = _SURNAMES[int(rng.integers(len(_SURNAMES)))] + _GIVEN[int(rng.integers(len(_GIVEN)))]
        return f"{short_name(self.catalog, department)}-{name}"

    # the whistle
    def schedule_whistle(self, cases: Sequence[_Case], *, only: Sequence[str] | None = None,
                         add: Sequence[str] = ()) -> None:
        first = cases[0]
        delay = float(np.clip(first.rng.lognormal(math.log(18.0), 0.9), 3.0, 360.0))
        when = max(c.observed for c in cases) + _minutes(delay)
        whistler = first.township
        if any(c.township != whistler for c in cases):
            raise ValueError("a joint whistle is for cases of one township")

        def do() -> None:
            live = [c for c in cases if not c.broken]
            if not live:
                return
            try:
                result = whistle(self.session, catalog=self.catalog, incident_ids=[c.id for c in live],
                                 mode=TOWNSHIP, whistler=whistler, at=when,
                                 actor=f"{_township_short(first.township_name)}指挥中心-值班员",
                                 add_departments=add, only_departments=only,
                                 note="联合吹哨" if len(live) > 1 else None)
            except EnforcementError as exc:
                for c in live:
                    c.broken = True
                self.summary.anomalies.append(f"whistle {[str(c.id) for c in live]}: {exc}")
                return
            by_case: dict[UUID, list[Assignment]] = defaultdict(list)
            for a in result.assignments:
                by_case[a.incident_id].append(a)
            for c in live:
                self.case_ids.append(c.id)
                self.summary.played += 1
                self.schedule_case(c, by_case[c.id], when)
        self.at(when, do)

    # one case after its whistle
    def schedule_case(self, case: _Case, assignments: list[Assignment], whistled: datetime) -> None:
        rng, s = case.rng, self.session
        night = self._night(whistled)
        lead = next((a for a in assignments if a.role is Role.LEAD), None)
        if lead is None:
            return
        rule = self.catalog.rules_by_code.get(case.rule_code)
        fence = self.catalog.categories[case.category].geofence_m
        ends: list[datetime] = []  # when each department's part ends
        lead_start: datetime | None = None

        for a in assignments:
            is_lead = a.role is Role.LEAD
            due_min = (a.report_in_due - a.summoned_at).total_seconds() / 60.0
            summoned_at = whistled
            if not is_lead and not case.story and rng.random() < P_DECLINE:
                t_decline = whistled + _minutes(_u(rng, 2, 10))
                self.at(t_decline, self.step(case, on_site.decline, s, catalog=self.catalog, incident_id=case.id,
                                             department=a.department, ground=None, at=t_decline,
                                             reason=DECLINE_REASONS[int(rng.integers(len(DECLINE_REASONS)))]))
                t_review = t_decline + _minutes(_u(rng, 5, 20))
                if rng.random() < 0.5:
                    self.at(t_review, self.step(case, on_site.release, s, incident_id=case.id,
                                                department=a.department, reason=RELEASE_DECLINED, at=t_review))
                    continue
                self.at(t_review, self.step(case, on_site.overrule, s, incident_id=case.id,
                                            department=a.department, reason=OVERRULE_REASON, at=t_review))
                summoned_at = t_review
            minutes = self._arrival(rng, due_min, night, a.department, is_lead, case.story)
            if minutes is None:
                continue  # a no-show: released by the township when it verifies
            arrive = summoned_at + _minutes(minutes)
            if not case.story and rng.random() < P_REFUSED_FIRST:
                too_far = max(summoned_at + _minutes(1), arrive - _minutes(_u(rng, 3, 12)))
                self.at(too_far, self._refused_check_in(case, a.department, too_far, fence))
            lon, lat, acc = self._position(case, fence, night)
            skew = rng.normal(0.0, 15.0) if rng.random() > 0.03 else _u(rng, -1800, 1800)
            self.at(arrive, self.step(case, on_site.report_in, s, catalog=self.catalog, incident_id=case.id,
                                      department=a.department, lon=lon, lat=lat, accuracy_m=acc, server_time=arrive,
                                      device_time=arrive + timedelta(seconds=float(skew))))
            start = arrive + _minutes(_u(rng, 1, 8))
            self.at(start, self.step(case, on_site.start_action, s, incident_id=case.id, department=a.department,
                                     at=start))
            if is_lead:
                lead_start = start
                continue
            done = start + _minutes(_u(rng, 15, 90))
            if rng.random() < P_ASSIST_RECORD and rule is not None:
                acted = start + _minutes(_u(rng, 3, 12))
                self.at(acted, self.step(case, on_site.record_action, s, catalog=self.catalog, incident_id=case.id,
                                         department=a.department, action_type="协助执法", acted_at=acted,
                                         officer=self.officer(rng, a.department), measures=(), lon=lon, lat=lat,
                                         photos=[{"slot": "evidence", "sha256": _sha(case.id, a.department, "e")}]))
            ends.append(done)
            self.at(done, self.step(case, on_site.complete, s, incident_id=case.id, department=a.department, at=done))

        assert lead_start is not None  # a lead always comes in the end
        acted = lead_start + _minutes(_u(rng, 5, 40))
        self.at(acted, self.step(case, self._lead_action, case, lead.department, acted))
        hours = ((lead.resolution_due - whistled).total_seconds() / 3600.0) if lead.resolution_due else 72.0
        share = 0.3 if case.story else float(np.clip(rng.lognormal(math.log(0.35), 0.6), 0.05, 2.5))
        complete = max(whistled + timedelta(hours=hours * share), acted + _minutes(_u(rng, 10, 30)))
        self.at(complete, self.step(case, on_site.complete, s, incident_id=case.id, department=lead.department,
                                    at=complete))
        resolved = complete + _minutes(_u(rng, 1, 10))
        self.at(resolved, self.step(case, resolution.resolve, s, incident_id=case.id, department=lead.department,
                                    at=resolved, summary="现场已处置完毕"))
        task = FOLLOW_UP_TASKS.get(case.category)
        if task is not None and not case.story and rng.random() < P_FOLLOW_UP:
            asked = complete + _minutes(_u(rng, 2, 40))
            days = int(rng.integers(3, 11))
            self.at(asked, self.step(case, self._follow_up, case, lead.department, task, days, asked))
        ends.append(resolved)

        # the township verifies on site: after the next day's first escalation pass, in working hours
        wait = timedelta(hours=float(np.clip(rng.lognormal(math.log(18.0), 0.7), 2.0, 96.0)))
        earliest = self._next_midnight(whistled + _minutes(ABSENT_AFTER_MIN + 1)) + timedelta(hours=8)
        verify_at = self._working_hours(max(resolved + wait, earliest, max(ends) + _minutes(10)), rng)
        reopen = not case.story and not case.revisit and rng.random() < P_REOPEN
        self.at(verify_at, self.step(case, self._verify, case, verify_at, reopen))

    def _arrival(self, rng: np.random.Generator, due_min: float, night: bool, department: str, lead: bool,
                 story: bool) -> float | None:
        """Minutes from the summons to the check-in; None for a department that never comes."""
        f = self.punctuality.get(department, 1.0)
        p_absent = 0.0 if story else min(P_ABSENT * f, 0.1)
        p_late = min((P_LATE_NIGHT if night else P_LATE_DAY) * f, 0.5)
        u = rng.random()
        if u < p_absent:
            if lead:
                return ABSENT_AFTER_MIN + 2 + float(rng.gamma(2.0, 40.0))
            return ABSENT_AFTER_MIN + 2 + float(rng.gamma(2.0, 30.0)) if rng.random() < 0.35 else None
        if u < p_absent + p_late:
            return min(due_min + 0.5 + float(rng.exponential(11.0 if night else 8.0)), ABSENT_AFTER_MIN - 0.5)
        x = float(rng.beta(5.0, 2.0) if night else rng.beta(4.0, 2.4))
        return max(3.0, x * (due_min - 0.3))

    def _position(self, case: _Case, fence: float, night: bool) -> tuple[float, float, float]:
        rng = case.rng
        u = rng.random()
        acc = _u(rng, 3, 12) if u < 0.7 else _u(rng, 12, 35) if u < 0.95 else _u(rng, 35, 80)
        acc *= 1.3 if night else 1.0
        dist = min(abs(float(rng.normal(0.0, 0.18 * fence))) + 5.0, 0.75 * fence)
        lon, lat = _offset(case.lon, case.lat, dist, _u(rng, 0, 2 * math.pi))
        lon, lat = _offset(lon, lat, min(abs(float(rng.normal(0.0, acc / 2))), acc), _u(rng, 0, 2 * math.pi))
        return lon, lat, round(acc, 1)

    def _refused_check_in(self, case: _Case, department: str, when: datetime, fence: float) -> Callable[[], None]:
        lon, lat = _offset(case.lon, case.lat, fence + _u(case.rng, 150, 2500), _u(case.rng, 0, 2 * math.pi))

        def attempt() -> None:
            if case.broken:
                return
            try:
                on_site.report_in(self.session, catalog=self.catalog, incident_id=case.id, department=department,
                                  lon=lon, lat=lat, accuracy_m=8.0, server_time=when, device_time=when)
            except InvalidInput as exc:
                if exc.field != "position":
                    case.broken = True
                    self.summary.anomalies.append(f"{case.id} far check-in: {exc}")
                    return
                self.summary.refused_check_ins += 1
                return
            case.broken = True
            self.summary.anomalies.append(f"{case.id}: a check-in {fence:.0f}+ m away was accepted")
        return attempt

    def _lead_action(self, case: _Case, department: str, acted: datetime) -> None:
        rng = case.rng
        rule = self.catalog.rules_by_code.get(case.rule_code)
        measures: list[str] = []
        amount: float | None = None
        seized: str | None = None
        if rule is not None and rule.measures:
            listed = list(rule.measures)
            measures.append(listed[0])
            fines = [m for m in listed if "罚款" in m]
            others = [m for m in listed[1:] if m not in fines]
            if fines and rng.random() < P_FINE.get(case.category, 0.55):
                measures.append(fines[0])
                lo, hi = FINE_YUAN.get(case.category, (1_000, 50_000))
                raw = math.exp(_u(rng, math.log(lo), math.log(hi)))
                step = 10 if hi <= 1_000 else 100 if hi <= 20_000 else 1_000
                amount = float(max(lo, round(raw / step) * step))
            if others and rng.random() < 0.5:
                extra = others[int(rng.integers(len(others)))]
                measures.insert(1, extra)
                if any(k in extra for k in ("扣押", "扣留", "查封")) and case.category in SEIZED:
                    seized = SEIZED[case.category].format(n=int(rng.integers(1, 4)))
        kind = ("行政处罚" if amount else "查封扣押" if seized else
                "移送公安" if any("移送" in m for m in measures) else "责令改正")
        on_site.record_action(
            self.session, catalog=self.catalog, incident_id=case.id, department=department, action_type=kind,
            officer=self.officer(rng, department), acted_at=acted, measures=measures, penalty_amount=amount,
            seized_items=seized, lon=case.lon, lat=case.lat,
            photos=[{"slot": "before", "sha256": _sha(case.id, department, "before")},
                    {"slot": "after", "sha256": _sha(case.id, department, "after")}])

    def _follow_up(self, case: _Case, department: str, task: str, days: int, asked: datetime) -> None:
        rng = case.rng
        task_id = follow_up.request_follow_up(self.session, calendar=self.calendar, incident_id=case.id,
                                              department=department, task=task, working_days=days, at=asked)
        due = self.calendar.add_working_days(asked, days)
        u = rng.random()
        if u < 0.03:
            return  # never reported done: W09 at the next passes
        if u < 0.15:
            done = due + timedelta(days=_u(rng, 0.5, 6.0))
        else:
            done = asked + (due - asked) * _u(rng, 0.2, 0.9)
        self.at(done, self.step(case, follow_up.complete_follow_up, self.session, task_id=task_id,
                                township=case.township, at=done, note="已落实"))

    def _verify(self, case: _Case, at: datetime, reopen: bool) -> None:
        s = self.session
        if reopen:
            reason = REOPEN_REASONS[int(case.rng.integers(len(REOPEN_REASONS)))]
            resolution.reopen(s, incident_id=case.id, township=case.township, reason=reason, at=at)
            return
        status, _ = resolution.verify(s, incident_id=case.id, township=case.township, at=at, note="现场核查属实")
        if status is not CaseStatus.CLOSED:
            for a in dispatch_repo.assignments_of(s, incident_id=case.id):
                if a.status in ("summoned", "declined"):
                    reason = RELEASE_NO_SHOW if a.status == "summoned" else RELEASE_DECLINED
                    on_site.release(s, incident_id=case.id, department=a.department, reason=reason, at=at)
            resolution.close(s, incident_id=case.id, township=case.township, at=at)
        if self.locator is not None and not case.story and not case.revisit:
            p = REVISIT_P.get(case.category, REVISIT_P_OTHER)
            if case.rng.random() < p:
                self._schedule_revisits(case, at)

    # recurrences: the problem comes back twice within 30 days of the closure
    def _schedule_revisits(self, case: _Case, closed: datetime) -> None:
        rng = case.rng
        cat = self.catalog.categories[case.category]
        first = closed + timedelta(days=_u(rng, 2, 8))
        second = first + timedelta(days=_u(rng, 9, 18))
        for k, when in enumerate((first, second)):
            if (when - closed).days >= min(29, cat.recurrence_days):
                continue
            lon, lat = _offset(case.lon, case.lat, _u(rng, 20, min(0.3 * cat.recurrence_radius_m, 150)),
                               _u(rng, 0, 2 * math.pi))
            self.at(when, self._revisit(case, k, when, lon, lat))

    def _revisit(self, origin: _Case, k: int, when: datetime, lon: float, lat: float) -> Callable[[], None]:
        def report() -> None:
            assert self.locator is not None
            rid = uuid.uuid5(_NS, f"revisit:{self.seed}:{origin.id}:{k}")
            local = when.astimezone(self.tz).replace(microsecond=0)
            feature = {"type": "Feature", "id": str(rid), "geometry": {"type": "Point", "coordinates": [lon, lat]},
                       "properties": {"category": origin.category, "observed_at": local.isoformat(),
                                      "accuracy_m": round(_u(origin.rng, 4, 15), 1),
                                      "reporter": f"{_township_short(origin.township_name)}巡查队（{REVISIT_TAG}）",
                                      "description": f"{REVISIT_TAG}：原处置点位问题反弹"}}
            try:
                report = ingest(self.session, parse_geojson(feature), locator=self.locator, catalog=self.catalog,
                                tz=str(self.tz), now=when + timedelta(minutes=5))
            except EnforcementError as exc:
                self.summary.anomalies.append(f"revisit of {origin.id}: {exc}")
                return
            if not report.accepted_ids:
                return  # stored on an earlier run
            inc = incident_repo.get_incident(self.session, incident_id=rid)
            if inc is None or inc.township_code is None or inc.rule_code is None:
                return
            self.summary.revisits += 1
            case = _Case(id=rid, category=inc.category, rule_code=inc.rule_code,
                         severity=self.catalog.categories[inc.category].severity, township=inc.township_code,
                         township_name=inc.township_name or origin.township_name, lon=inc.lon, lat=inc.lat,
                         observed=inc.observed_at, rng=_case_rng(self.seed, rid), revisit=True)
            self.schedule_whistle([case])
        return report


# -- choosing the cases -----------------------------------------------------------------------------------
def _eligible(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents a township would whistle for: inside a township, not a likely duplicate, not a revisit the
    simulator itself reported (those are whistled when they come in)."""
    f = incidents
    keep = f["township_code"].notna() & f["likely_duplicate_of"].isna() & f["rule_code"].notna()
    keep &= ~f["reporter"].fillna("").str.contains(REVISIT_TAG, regex=False)
    out = f[keep].copy()
    out["observed_at"] = pd.to_datetime(out["observed_at"], utc=True)
    return out.sort_values(["observed_at", "id"], kind="mergesort").reset_index(drop=True)


def _story_index(pool: pd.DataFrame) -> int | None:
    """The first-whistle case: the season's first MIN-01 in 金海湖镇 (any MIN-01 when there is none)."""
    mining = pool["category"] == STORY_CATEGORY
    town = pool["township_name"].fillna("").str.startswith(STORY_TOWNSHIP)
    for sel in (mining & town, mining):
        idx = np.flatnonzero(sel.to_numpy())
        if len(idx):
            return int(idx[0])
    return None


def _make_case(row: pd.Series, catalog: Catalog, seed: int, tz: ZoneInfo) -> _Case:
    cid = UUID(str(row["id"]))
    name = row["township_name"] if pd.notna(row["township_name"]) else row["township_code"]
    return _Case(id=cid, category=str(row["category"]), rule_code=str(row["rule_code"]),
                 severity=catalog.categories[row["category"]].severity, township=str(row["township_code"]),
                 township_name=str(name), lon=float(row["lon"]), lat=float(row["lat"]),
                 observed=pd.Timestamp(row["observed_at"]).to_pydatetime().astimezone(tz), rng=_case_rng(seed, cid))


def _narrowed(plan: Sequence[str], rng: np.random.Generator) -> list[str]:
    """A dispatcher's narrower whistle: the lead, the township team and the first one or two assists of the
    lists (they name the most relevant first)."""
    lead, assists = plan[0], [d for d in plan[1:] if d != "TOWN"]
    k = int(rng.choice(3, p=[0.15, 0.6, 0.25]))
    return [lead, *(["TOWN"] if "TOWN" in plan[1:] else []), *assists[:k]]


def _joint_groups(cases: list[_Case], rng: np.random.Generator, tz: ZoneInfo) -> list[list[_Case]]:
    """Night cases of one township within 6 h and 10 km of each other (one night): often whistled together."""
    groups: list[list[_Case]] = []
    by_town: dict[str, list[_Case]] = defaultdict(list)
    for c in cases:
        by_town[c.township].append(c)
    for town in sorted(by_town):
        run: list[_Case] = []
        for c in sorted(by_town[town], key=lambda c: (c.observed, str(c.id))):
            h = c.observed.astimezone(tz).hour
            night = h >= 20 or h <= 5
            head = run[0] if run else None
            if (head is not None and night and len(run) < 3
                    and c.observed - run[-1].observed <= timedelta(hours=6)
                    and math.hypot((c.lon - head.lon) * math.cos(math.radians(c.lat)), c.lat - head.lat) / METRE
                    <= 10_000):
                run.append(c)
                continue
            if run:
                groups.append(run)
            run = [c] if night else []
            if not night:
                groups.append([c])
        if run:
            groups.append(run)
    out: list[list[_Case]] = []
    for g in groups:
        if len(g) > 1 and rng.random() >= P_JOINT:
            out.extend([c] for c in g)
        else:
            out.append(g)
    return out


def play_season(
    session: Session,
    *,
    catalog: Catalog,
    calendar: WorkCalendar,
    incidents: pd.DataFrame,
    seed: int,
    share: float = 0.35,
    locator: Locator | None = None,
    tz: str = "Asia/Shanghai",
) -> ChainSummary:
    """Play about ``share`` of the eligible incidents of ``incidents`` (the frame of
    :func:`~gis_enforcement.storage.incident_repo.incidents_frame`) through the whistle chain; see the module
    docstring for the habits played.

    Reproducible: the same stored season and ``seed`` play the same way. Idempotent: incidents already
    whistled are skipped, so a second call plays nothing and reports the stored chain again. With a
    ``locator``, problems that come back at closed cases are reported through the real intake (W08).
    Never commits.
    """
    if not 0.0 <= share <= 1.0:
        raise InvalidInput("share must lie between 0 and 1", field="share")
    began = stopwatch.perf_counter()
    zone = ZoneInfo(tz)
    summary = ChainSummary(seed=seed)
    player = _Player(session, catalog=catalog, calendar=calendar, locator=locator, seed=seed, tz=zone,
                     summary=summary)
    pool = _eligible(incidents)
    story_i = _story_index(pool)
    rng = np.random.default_rng([seed, 2017])
    chosen: set[int] = set()
    if len(pool):
        weights = pool["category"].map(lambda c: SEVERITY_WEIGHT.get(catalog.categories[c].severity, 1.0))
        w = weights.to_numpy(dtype=float)
        n = min(len(pool), int(round(share * len(pool))))
        chosen = set(rng.choice(len(pool), size=n, replace=False, p=w / w.sum()).tolist()) if n else set()
    if story_i is not None:
        chosen.add(story_i)
    story_case: _Case | None = None
    cases: list[_Case] = []
    for i in sorted(chosen):
        row = pool.iloc[i]
        if row["status"] != CaseStatus.REPORTED.value:
            summary.skipped += 1
            continue
        case = _make_case(row, catalog, seed, zone)
        if i == story_i:
            case.story = True
            story_case = case
        else:
            cases.append(case)
    story_id = UUID(str(pool.iloc[story_i]["id"])) if story_i is not None else None

    if story_case is not None:
        allowed = departments_allowed(catalog, story_case.category)
        planned = set(catalog.rule(story_case.rule_code).departments)
        player.schedule_whistle([story_case], add=sorted(allowed - planned))
    for group in _joint_groups(cases, rng, zone):
        c = group[0]
        only: list[str] | None = None
        if len(group) == 1 and c.rng.random() < P_NARROW.get(c.severity, 0.0):
            only = _narrowed(catalog.rule(c.rule_code).departments, c.rng)
        player.schedule_whistle(group, only=only)
    player.run()

    ids = [UUID(str(i)) for i in incidents["id"]] + player.case_ids
    _read_back(session, catalog, summary, list(dict.fromkeys(ids)), tz=zone)
    if story_id is not None:
        _story(session, catalog, summary, story_id, tz=zone)
    summary.seconds = stopwatch.perf_counter() - began
    return summary


# -- reading the season back --------------------------------------------------------------------------------
def _frame(session: Session, sql: str, params: dict[str, Any], columns: Sequence[str]) -> pd.DataFrame:
    rows = session.execute(text(sql), params).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


def _read_back(session: Session, catalog: Catalog, summary: ChainSummary, ids: list[UUID], *, tz: ZoneInfo) -> None:
    p = {"ids": ids}
    a = _frame(session,
               "SELECT a.id, a.incident_id, a.department, a.role, a.status, a.summoned_at, a.report_in_due, "
               "a.reported_in_at, i.township_code FROM assignment a JOIN incident i ON i.id = a.incident_id "
               "WHERE a.incident_id = ANY(:ids)", p,
               ("id", "incident_id", "department", "role", "status", "summoned_at", "report_in_due",
                "reported_in_at", "township_code"))
    events = _frame(session,
                    "SELECT incident_id, kind, payload->>'department' FROM case_event WHERE incident_id = ANY(:ids) "
                    "AND kind IN ('decline', 'overrule', 'resolve', 'release', 'reopen')", p,
                    ("incident_id", "kind", "department"))
    cases = _frame(session,
                   "SELECT id, status, township_code, whistled_at, closed_at FROM incident "
                   "WHERE id = ANY(:ids) AND status <> 'reported'", p,
                   ("id", "status", "township_code", "whistled_at", "closed_at"))
    whistles = _frame(session,
                      "SELECT id, whistler_unit, cardinality(incident_ids) FROM whistle "
                      "WHERE incident_ids && CAST(:ids AS uuid[])", p, ("id", "township_code", "n"))
    fines = _frame(session,
                   "SELECT a.department, count(*) FILTER (WHERE e.penalty_amount > 0), "
                   "COALESCE(sum(e.penalty_amount), 0) FROM enforcement_record e "
                   "JOIN assignment a ON a.id = e.assignment_id WHERE e.incident_id = ANY(:ids) GROUP BY 1", p,
                   ("department", "n", "yuan"))
    tasks = _frame(session,
                   "SELECT township_code, status, due_at, done_at FROM follow_up_task WHERE incident_id = ANY(:ids)",
                   p, ("township_code", "status", "due_at", "done_at"))
    warns = _frame(session,
                   "SELECT w.rule_code, w.level, w.subject_kind, w.subject_code, i.township_code FROM warning w "
                   "LEFT JOIN incident i ON i.id = w.incident_id "
                   "WHERE w.incident_id = ANY(:ids) OR w.incident_id IS NULL", p,
                   ("rule", "level", "subject_kind", "subject", "township_code"))
    towns: dict[str, str] = {str(c): str(n) for c, n in session.execute(text("SELECT code, name FROM township")).all()}

    for col in ("summoned_at", "report_in_due", "reported_in_at"):
        a[col] = pd.to_datetime(a[col], utc=True)
    after = (a["reported_in_at"] - a["summoned_at"]).dt.total_seconds() / 60.0
    # a decline stands unless the township overruled it; a department whose decline stands is not absent
    moves = Counter(zip(events["incident_id"], events["department"], events["kind"], strict=True))
    keys = list(zip(a["incident_id"], a["department"], strict=True))
    a["declined"] = [moves[(i, d, "decline")] > 0 for i, d in keys]
    stands = pd.Series([moves[(i, d, "decline")] > moves[(i, d, "overrule")] for i, d in keys], index=a.index,
                       dtype=bool)
    a["on_time"] = a["reported_in_at"].notna() & (a["reported_in_at"] <= a["report_in_due"])
    a["late"] = a["reported_in_at"].notna() & ~a["on_time"] & (after <= ABSENT_AFTER_MIN)
    a["absent"] = (a["reported_in_at"].isna() & ~stands) | (after > ABSENT_AFTER_MIN)
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
    town_warn.update(warns.loc[warns["rule"] == "W08", "township_code"].dropna())
    trows = []
    for code, g in cases.groupby("township_code", sort=False):
        w = whistles[whistles["township_code"] == code]
        t = tasks[tasks["township_code"] == code]
        closed_h = g["hours"].dropna()
        trows.append(TownshipRow(
            code=str(code), name=_township_short(towns.get(code, str(code))), whistles=len(w),
            joint_whistles=int((w["n"] > 1).sum()), cases=len(g), closed=int((g["status"] == "closed").sum()),
            reopened=int(g["id"].isin(reopened_ids).sum()),
            median_hours_to_close=float(closed_h.median()) if len(closed_h) else None,
            follow_ups=len(t), follow_ups_late=int(late_task[t.index].sum()) if len(t) else 0,
            warnings=int(town_warn.get(code, 0))))
    summary.townships = sorted(trows, key=lambda r: (-r.cases, r.code))


def _story(session: Session, catalog: Catalog, summary: ChainSummary, incident_id: UUID, *, tz: ZoneInfo) -> None:
    """The first-whistle story, told from the record: who was whistled, who came and when, what was done."""
    inc = incident_repo.get_incident(session, incident_id=incident_id)
    first = session.execute(text("SELECT whistled_at, whistler_unit FROM whistle WHERE :id = ANY(incident_ids) "
                                 "ORDER BY whistled_at, id LIMIT 1"), {"id": incident_id}).first()
    if inc is None or first is None:
        return
    summary.story_incident = incident_id
    w_at: datetime = first[0]
    assignments = dispatch_repo.assignments_of(session, incident_id=incident_id)
    summary.story_departments = [a.department for a in assignments]

    def hm(t: datetime) -> str:
        return t.astimezone(tz).strftime("%m-%d %H:%M")

    town = _township_short(inc.township_name or "")
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
    records = session.execute(text(
        "SELECT a.department, e.acted_at, e.measures, e.penalty_amount, e.seized_items FROM enforcement_record e "
        "JOIN assignment a ON a.id = e.assignment_id WHERE e.incident_id = :id ORDER BY e.acted_at, e.id"),
        {"id": incident_id}).all()
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
    row = session.execute(text("SELECT closed_at FROM incident WHERE id = :id"), {"id": incident_id}).first()
    closed_at = row[0] if row is not None else None
    end = f"closed {hm(closed_at)} after the township's check on site" if closed_at else f"case is {status}"
    lines.append(f"{'':11s} {len(came)} of {len(assignments)} departments came, {on_time} within the "
                 f"{int((assignments[0].report_in_due - assignments[0].summoned_at).total_seconds() // 60)} "
                 f"minutes; {end}")
    summary.story = lines
