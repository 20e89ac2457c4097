"""The player of the simulated whistle chain: a discrete-event loop over the real dispatch services.

Steps are played in time order, with the escalation pass (``tick``) at every local midnight, so the warnings
the lists promise appear exactly as they would in production. :class:`ChainPlayer` also holds how the
parties behave once a case is whistled: departments report in (or decline, or never come), act and complete;
the lead resolves; the township verifies, releases, closes or reopens; problems come back at closed cases.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np

from gis_enforcement.demo.chain_cases import METRE, PlayedCase, case_rng
from gis_enforcement.demo.chain_desk import receipt_time
from gis_enforcement.demo.chain_habits import (
    DECLINE_REASONS,
    FINE_YUAN,
    FOLLOW_UP_TASKS,
    GIVEN_NAMES,
    OVERRULE_REASON,
    P_ABSENT,
    P_ASSIST_RECORD,
    P_DECLINE,
    P_FINE,
    P_FOLLOW_UP,
    P_LATE_DAY,
    P_LATE_NIGHT,
    P_REFUSED_FIRST,
    P_REOPEN,
    RELEASE_DECLINED,
    RELEASE_NO_SHOW,
    REOPEN_REASONS,
    REVISIT_P,
    REVISIT_P_OTHER,
    REVISIT_TAG,
    SEIZED,
    SURNAMES,
)
from gis_enforcement.demo.chain_summary import ChainSummary, short_name, township_short
from gis_enforcement.demo.habits import UNSURE
from gis_enforcement.demo.photos import PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS, site_photo
from gis_enforcement.dispatch import follow_up, on_site, resolution, triage
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.photos import add_photo
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
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

__all__ = ["ChainPlayer"]

#: Namespace of the ids of the recurrences the player reports (stable across runs).
_NS = uuid.UUID("6f1d3f7e-27a4-4b5e-9a51-5c0e1f2b2017")


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _minutes(m: float) -> timedelta:
    return timedelta(minutes=float(m))


def _offset(lon: float, lat: float, metres: float, bearing: float) -> tuple[float, float]:
    dy = metres * math.cos(bearing) * METRE
    dx = metres * math.sin(bearing) * METRE / math.cos(math.radians(lat))
    return lon + dx, lat + dy


class ChainPlayer:
    """The discrete-event loop: steps in time order, the escalation pass at every local midnight; and how the
    township and the departments play each case once it is whistled."""

    def __init__(self, session: Session, *, catalog: Catalog, calendar: WorkCalendar, locator: Locator | None,
                 seed: int, tz: ZoneInfo, summary: ChainSummary, photos_dir: Path) -> None:
        self.session = session
        self.photos_dir = photos_dir
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
        """Play ``fn`` at ``when`` (steps due at the same time play in the order they were scheduled)."""
        self._n += 1
        heapq.heappush(self._heap, (when.timestamp(), self._n, fn))

    def step(self, case: PlayedCase, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], None]:
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
        """Play every scheduled step in time order, the escalation pass at each local midnight and once more
        after the last step."""
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

    def crew(self, case: PlayedCase, department: str) -> str:
        """The officer of ``department`` who acts on ``case`` (the same one for every step, drawn from the case
        and department alone, so the season's random draws are not disturbed): the record names who did it."""
        h = hashlib.sha256(f"{case.id}:{department}".encode()).digest()
        name = SURNAMES[h[0] % len(SURNAMES)] + GIVEN_NAMES[h[1] % len(GIVEN_NAMES)]
        return f"{short_name(self.catalog, department)}-{name}"

    @staticmethod
    def desk(case: PlayedCase) -> str:
        """The township's duty officer at its command centre, who whistles, reviews, verifies and closes."""
        return f"{township_short(case.township_name)}指挥中心-值班员"

    # 改类: the desk names the category of a report filed as 类别待定
    def classify(self, case: PlayedCase, at: datetime | None = None) -> None:
        """The township's desk reads the patrol's words of a report it could not name (类别待定) and files it
        under the problem they describe (``habits.UNSURE``), at ``at`` — by default a few minutes after it came
        in, before anybody is whistled; the played case then goes on as a case of that category."""
        named = next((code for code, words in UNSURE.items() if words in case.description), None)
        if named is None:
            self.summary.anomalies.append(f"classify {case.id}: no category in its words {case.description!r}")
            case.broken = True
            return
        if at is None:
            at = case.came_in + _minutes(float(np.clip(case.rng.lognormal(math.log(2.0), 0.3), 1.0, 2.9)))
        try:
            _, rule, _ = triage.reclassify(self.session, catalog=self.catalog, incident_id=case.id,
                                           township=case.township, category=named, at=at, actor=self.desk(case),
                                           reason="据巡查描述和现场照片核定类别")
        except EnforcementError as exc:
            case.broken = True
            self.summary.anomalies.append(f"classify {case.id}: {exc}")
            return
        case.category, case.rule_code = named, rule.code
        case.severity = self.catalog.categories[named].severity
        self.summary.reclassified += 1

    # the whistle
    def schedule_whistle(self, cases: Sequence[PlayedCase], *, only: Sequence[str] | None = None,
                         add: Sequence[str] = (), at: datetime | None = None) -> None:
        """Schedule the township's whistle for ``cases`` (one township; more than one is a joint whistle) at
        ``at``, by default a few minutes to hours after the last report came in; each case whistled is then
        played by :meth:`schedule_case`."""
        first = cases[0]
        if at is None:
            delay = float(np.clip(first.rng.lognormal(math.log(18.0), 0.9), 3.0, 360.0))
            at = max(c.came_in for c in cases) + _minutes(delay)
        when = at
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
                                 actor=self.desk(first),
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
    def schedule_case(self, case: PlayedCase, assignments: list[Assignment], whistled: datetime) -> None:
        """Schedule everything after the whistle of ``case``: each department's report-in (or decline, or
        absence), action and completion; the lead's resolution and follow-up task; the township's verification."""
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
                                             reason=DECLINE_REASONS[int(rng.integers(len(DECLINE_REASONS)))],
                                             actor=self.crew(case, a.department)))
                t_review = t_decline + _minutes(_u(rng, 5, 20))
                if rng.random() < 0.5:
                    self.at(t_review, self.step(case, on_site.release, s, incident_id=case.id,
                                                department=a.department, reason=RELEASE_DECLINED, at=t_review,
                                                actor=self.desk(case)))
                    continue
                self.at(t_review, self.step(case, on_site.overrule, s, incident_id=case.id,
                                            department=a.department, reason=OVERRULE_REASON, at=t_review,
                                            actor=self.desk(case)))
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
                                      device_time=arrive + timedelta(seconds=float(skew)),
                                      actor=self.crew(case, a.department)))
            start = arrive + _minutes(_u(rng, 1, 8))
            self.at(start, self.step(case, on_site.start_action, s, incident_id=case.id, department=a.department,
                                     at=start, actor=self.crew(case, a.department)))
            if is_lead:
                lead_start = start
                continue
            done = start + _minutes(_u(rng, 15, 90))
            if rng.random() < P_ASSIST_RECORD and rule is not None:
                acted = start + _minutes(_u(rng, 3, 12))
                self.at(acted, self.step(case, self._record, case, department=a.department,
                                         action_type="ASSIST", acted_at=acted,
                                         officer=self.crew(case, a.department), measures=(), lon=lon, lat=lat,
                                         slots=("evidence",)))
            ends.append(done)
            self.at(done, self.step(case, on_site.complete, s, incident_id=case.id, department=a.department, at=done,
                                    actor=self.crew(case, a.department)))

        assert lead_start is not None  # a lead always comes in the end
        acted = lead_start + _minutes(_u(rng, 5, 40))
        self.at(acted, self.step(case, self._lead_action, case, lead.department, acted))
        hours = ((lead.resolution_due - whistled).total_seconds() / 3600.0) if lead.resolution_due else 72.0
        share = 0.3 if case.story else float(np.clip(rng.lognormal(math.log(0.35), 0.6), 0.05, 2.5))
        complete = max(whistled + timedelta(hours=hours * share), acted + _minutes(_u(rng, 10, 30)))
        self.at(complete, self.step(case, on_site.complete, s, incident_id=case.id, department=lead.department,
                                    at=complete, actor=self.crew(case, lead.department)))
        resolved = complete + _minutes(_u(rng, 1, 10))
        self.at(resolved, self.step(case, resolution.resolve, s, incident_id=case.id, department=lead.department,
                                    at=resolved, summary="现场已处置完毕", actor=self.crew(case, lead.department)))
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

    def _position(self, case: PlayedCase, fence: float, night: bool) -> tuple[float, float, float]:
        rng = case.rng
        u = rng.random()
        acc = _u(rng, 3, 12) if u < 0.7 else _u(rng, 12, 35) if u < 0.95 else _u(rng, 35, 80)
        acc *= 1.3 if night else 1.0
        dist = min(abs(float(rng.normal(0.0, 0.18 * fence))) + 5.0, 0.75 * fence)
        lon, lat = _offset(case.lon, case.lat, dist, _u(rng, 0, 2 * math.pi))
        lon, lat = _offset(lon, lat, min(abs(float(rng.normal(0.0, acc / 2))), acc), _u(rng, 0, 2 * math.pi))
        return lon, lat, round(acc, 1)

    def _refused_check_in(self, case: PlayedCase, department: str, when: datetime, fence: float) -> Callable[[], None]:
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

    def _record(self, case: PlayedCase, *, department: str, officer: str, acted_at: datetime, lon: float,
                lat: float, slots: Sequence[str], **record: Any) -> None:
        """An enforcement record as an officer makes one: the site photos uploaded to the case first (the real
        photo path: stored, read for EXIF, in the case record), then the record naming them."""
        photos = []
        for slot in slots:  # taken on site, uploaded with the record
            taken = acted_at - timedelta(minutes=2 if slot == "before" else 0)
            data = site_photo(case.id, department, slot, slot=slot, taken_at=taken.astimezone(self.tz), lon=lon,
                              lat=lat)
            added = add_photo(self.session, photos_dir=self.photos_dir, incident_id=case.id, data=data,
                              added_by=officer, at=acted_at, tz=self.tz.key, max_bytes=PHOTO_MAX_BYTES,
                              max_pixels=PHOTO_MAX_PIXELS)
            photos.append({"slot": slot, "sha256": added.sha256})
        on_site.record_action(self.session, catalog=self.catalog, incident_id=case.id, department=department,
                              officer=officer, acted_at=acted_at, lon=lon, lat=lat, photos=photos, actor=officer,
                              **record)

    def _lead_action(self, case: PlayedCase, department: str, acted: datetime) -> None:
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
        # the kind of action (a code of the lists' action_kinds) the measures amount to
        kind = ("PENALTY" if amount else "SEIZE" if seized else
                "TRANSFER" if any("移送" in m for m in measures) else "ORDER")
        self._record(case, department=department, action_type=kind, officer=self.crew(case, department),
                     acted_at=acted, measures=measures, penalty_amount=amount, seized_items=seized, lon=case.lon,
                     lat=case.lat, slots=("after",) if case.routine else ("before", "after"))

    def _follow_up(self, case: PlayedCase, department: str, task: str, days: int, asked: datetime) -> None:
        rng = case.rng
        task_id = follow_up.request_follow_up(self.session, calendar=self.calendar, incident_id=case.id,
                                              department=department, task=task, working_days=days, at=asked,
                                              actor=self.crew(case, department))
        due = self.calendar.add_working_days(asked, days)
        u = rng.random()
        if u < 0.03:
            return  # never reported done: W09 at the next passes
        if u < 0.15:
            done = due + timedelta(days=_u(rng, 0.5, 6.0))
        else:
            done = asked + (due - asked) * _u(rng, 0.2, 0.9)
        self.at(done, self.step(case, follow_up.complete_follow_up, self.session, task_id=task_id,
                                township=case.township, at=done, note="已落实", actor=self.desk(case)))

    def _verify(self, case: PlayedCase, at: datetime, reopen: bool) -> None:
        s = self.session
        if reopen:
            reason = REOPEN_REASONS[int(case.rng.integers(len(REOPEN_REASONS)))]
            resolution.reopen(s, incident_id=case.id, township=case.township, reason=reason, at=at,
                              actor=self.desk(case))
            return
        status, _ = resolution.verify(s, incident_id=case.id, township=case.township, at=at, note="现场核查属实",
                                      actor=self.desk(case))
        if status is not CaseStatus.CLOSED:
            for a in dispatch_repo.assignments_of(s, incident_id=case.id):
                if a.status in ("summoned", "declined"):
                    reason = RELEASE_NO_SHOW if a.status == "summoned" else RELEASE_DECLINED
                    on_site.release(s, incident_id=case.id, department=a.department, reason=reason, at=at,
                                    actor=self.desk(case))
            resolution.close(s, incident_id=case.id, township=case.township, at=at, actor=self.desk(case))
        if self.locator is not None and not case.story and not case.revisit:
            p = REVISIT_P.get(case.category, REVISIT_P_OTHER)
            if case.rng.random() < p:
                self._schedule_revisits(case, at)

    # recurrences: the problem comes back twice within 30 days of the closure
    def _schedule_revisits(self, case: PlayedCase, closed: datetime) -> None:
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

    def _revisit(self, origin: PlayedCase, k: int, when: datetime, lon: float, lat: float) -> Callable[[], None]:
        def report() -> None:
            assert self.locator is not None
            rid = uuid.uuid5(_NS, f"revisit:{self.seed}:{origin.id}:{k}")
            local = when.astimezone(self.tz).replace(microsecond=0)
            feature = {"type": "Feature", "id": str(rid), "geometry": {"type": "Point", "coordinates": [lon, lat]},
                       "properties": {"category": origin.category, "observed_at": local.isoformat(),
                                      "accuracy_m": round(_u(origin.rng, 4, 15), 1),
                                      "reporter": f"{township_short(origin.township_name)}巡查队（{REVISIT_TAG}）",
                                      "description": f"{REVISIT_TAG}：原处置点位问题反弹"}}
            try:
                report = ingest(self.session, parse_geojson(feature), locator=self.locator, catalog=self.catalog,
                                tz=str(self.tz), now=when + timedelta(minutes=5))
            except EnforcementError as exc:
                self.summary.anomalies.append(f"revisit of {origin.id}: {exc}")
                return
            if not report.accepted_ids:
                return  # stored on an earlier run
            came_in = receipt_time(self.seed, rid, local)  # as the season's reports (the intake stamps today)
            incident_repo.set_receipt_times(self.session, received={rid: came_in})
            inc = incident_repo.get_incident(self.session, incident_id=rid)
            if inc is None or inc.township_code is None or inc.rule_code is None:
                return
            self.summary.revisits += 1
            case = PlayedCase(id=rid, category=inc.category, rule_code=inc.rule_code,
                              severity=self.catalog.categories[inc.category].severity, township=inc.township_code,
                              township_name=inc.township_name or origin.township_name, lon=inc.lon, lat=inc.lat,
                              observed=inc.observed_at, rng=case_rng(self.seed, rid), revisit=True,
                              received=came_in)
            self.schedule_whistle([case])
        return report
