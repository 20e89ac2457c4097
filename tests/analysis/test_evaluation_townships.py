"""The township score and rank, the two department rankings (主责 / 配合), and an assist the lead's quick
resolution made unnecessary — on small hand-made frames whose figures are worked out by hand, and the last
through the real chain on PostGIS."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gis_enforcement.analysis.evaluate_service import evaluate
from gis_enforcement.analysis.evaluation import (
    ASSIGNMENT_COLUMNS,
    MIN_RANKED_WHISTLES,
    REVIEW_WITHIN_HOURS,
    TOWNSHIP_DIMENSIONS,
    TZ,
    WHISTLE_WITHIN_HOURS,
    EvaluationFacts,
    evaluate_departments,
    evaluate_townships,
    parse_period,
)
from gis_enforcement.analysis.evaluation_table import render_table, report_frame, score_note
from gis_enforcement.dispatch import on_site, resolution
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.dispatch.helpers import T0, new_case

MAY = parse_period("2026-05")
AS_OF = datetime(2026, 6, 11, tzinfo=TZ)
H, MIN = timedelta(hours=1), timedelta(minutes=1)
T = datetime(2026, 5, 4, 9, tzinfo=TZ)
_IDS = itertools.count(1)
TOWNS = pd.DataFrame({"township_code": ["T1", "T2", "T3"], "name": ["一镇", "二镇", "三镇"]})


def row(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    return frame.loc[frame[key] == value].iloc[0]


def case(town: str, *, whistle_after: float | None = 1, status: str = "closed", resolved_after: float | None = 5,
         review_after: float | None = 1, at: datetime = T) -> dict[str, Any]:
    """A case observed at ``at``, whistled ``whistle_after`` hours later, resolved ``resolved_after`` hours after
    the whistle and verified ``review_after`` hours after that (None: not yet)."""
    whistled = None if whistle_after is None else at + whistle_after * H
    resolved = None if whistled is None or resolved_after is None else whistled + resolved_after * H
    reviewed = None if resolved is None or review_after is None else resolved + review_after * H
    return {"incident_id": str(uuid.uuid4()), "category": "ENV-01", "township_code": town, "status": status,
            "observed_at": at, "whistled_at": whistled, "closed_at": reviewed if status == "closed" else None,
            "likely_duplicate_of": None, "resolution_due": None if whistled is None else whistled + 168 * H,
            "resolved_at": resolved, "reviewed_at": reviewed}


def task(town: str, *, done_after: float | None, due_after: float = 48) -> dict[str, Any]:
    return {"task_id": next(_IDS), "township_code": town, "requested_at": T, "due_at": T + due_after * H,
            "done_at": None if done_after is None else T + done_after * H}


def township_warning(rule: str, level: str, town: str, *, kind: str = "township",
                     incident: str | None = None) -> dict[str, Any]:
    return {"warning_id": next(_IDS), "rule_code": rule, "level": level, "subject_kind": kind,
            "subject_code": town if kind == "township" else incident, "incident_id": incident,
            "assignment_id": None, "raised_at": T + 100 * H, "township_code": None if kind == "township" else town,
            "lead_department": None}


def test_a_township_is_scored_on_its_own_part_of_the_chain(catalog: Catalog) -> None:
    cases = [
        case("T1"),                                                   # whistled in 1 h, verified 1 h after
        case("T1", whistle_after=WHISTLE_WITHIN_HOURS + 1),           # whistled late
        case("T1", review_after=REVIEW_WITHIN_HOURS + 1),             # verified late
        case("T1", status="resolved", review_after=None),             # never verified: late once 72 h are up
        case("T1", whistle_after=None, status="reported"),            # never whistled: late once 24 h are up
        case("T1", status="in_action", resolved_after=None),          # with the lead: no review owed
    ]
    recurred = cases[0]["incident_id"]
    facts = EvaluationFacts(
        as_of=AS_OF, cases=pd.DataFrame(cases), townships=TOWNS,
        follow_ups=pd.DataFrame([task("T1", done_after=10), task("T1", done_after=50), task("T1", done_after=None),
                                 task("T1", done_after=None, due_after=24 * 60)]),   # due after as_of: not judged
        warnings=pd.DataFrame([township_warning("W09", "yellow", "T1"), township_warning("W12", "notice", "T1"),
                               township_warning("W08", "yellow", "T1", kind="location", incident=recurred)]))
    t1 = row(evaluate_townships(facts, catalog, period=MAY), "township_code", "T1")
    assert t1.whistle_on_time_rate == pytest.approx(4 / 6)      # 5 whistled, 4 in time; 1 never whistled
    assert t1.review_on_time_rate == pytest.approx(2 / 4)       # 4 resolved: 2 verified in time
    assert t1.follow_up_on_time_rate == pytest.approx(1 / 3)    # 3 judged: 1 done by its due time
    assert (t1.resolved, t1.recurrences) == (4, 1)
    assert t1.no_recurrence_rate == pytest.approx(3 / 4)
    # its own warnings are those about the township itself (W09, W12); the W08 is a recurrence in it
    assert (t1.own_warnings, t1.warnings) == (2, 0)
    points = catalog.warning_rules
    assert t1.warning_points == points["W09"].points("yellow") + points["W12"].points("notice") + points[
        "W08"].points("yellow") == 2
    assert t1.deduction == pytest.approx(2 * 100 / 6)  # charged per 100 cases: 6 cases
    weights = {d["code"]: d["weight"] for d in TOWNSHIP_DIMENSIONS}
    assert weights == {"WHISTLE_IN_TIME": 0.3, "REVIEW_IN_TIME": 0.3, "FOLLOW_UP_IN_TIME": 0.2, "NO_RECURRENCE": 0.2}
    base = 100 * (0.3 * 4 / 6 + 0.3 * 2 / 4 + 0.2 * 1 / 3 + 0.2 * 3 / 4) / 1.0
    assert t1.score_base == pytest.approx(base)
    assert t1.score == pytest.approx(base - 200 / 6)
    assert t1["rank"] == 1 and not t1.small_sample


def test_townships_are_ranked_on_rates_not_on_how_busy_they_are(catalog: Catalog) -> None:
    busy = [case("T1") for _ in range(20)] + [case("T1", whistle_after=30) for _ in range(10)]  # 20 of 30 in time
    quiet = [case("T2") for _ in range(MIN_RANKED_WHISTLES)]                                   # 5 of 5 in time
    few = [case("T3") for _ in range(MIN_RANKED_WHISTLES - 1)]                                 # 4 of 4: not ranked
    facts = EvaluationFacts(as_of=AS_OF, cases=pd.DataFrame([*busy, *quiet, *few]), townships=TOWNS)
    table = evaluate_townships(facts, catalog, period=MAY)
    assert list(table["township_code"]) == ["T2", "T1", "T3"]
    t1, t2, t3 = (row(table, "township_code", t) for t in ("T1", "T2", "T3"))
    assert (t2["rank"], t1["rank"]) == (1, 2) and t2.score > t1.score
    assert t3.score == t2.score and t3.small_sample and pd.isna(t3["rank"])
    rows = render_table(table)
    assert rows[0][:3] == ("排名", "名称", "得分")
    assert [r[0] for r in rows[1:]] == ["1", "2", "样本少"]
    assert "街乡" in score_note("zh", by="township") and "cases" in score_note("en", by="township")


def test_township_weights_come_from_the_lists_when_they_give_them(catalog: Catalog) -> None:
    cases = [case("T1"), case("T1", whistle_after=30)]
    custom = dataclasses.replace(catalog, mechanism={**catalog.mechanism, "township_evaluation_dimensions": (
        {"code": "WHISTLE_IN_TIME", "weight": 1},)})
    t1 = row(evaluate_townships(EvaluationFacts(as_of=AS_OF, cases=pd.DataFrame(cases), townships=TOWNS), custom,
                                period=MAY), "township_code", "T1")
    assert t1.score == pytest.approx(50.0)


# -- departments: two rankings ---------------------------------------------------------------------------------
def assignment(department: str, *, summoned: datetime, role: str, reported_after: float | None = 10,
               status: str = "done", case_status: str = "closed", case_resolved_after: float | None = None,
               ) -> dict[str, Any]:
    out = dict.fromkeys(ASSIGNMENT_COLUMNS)
    out.update(assignment_id=next(_IDS), incident_id=str(uuid.uuid4()), whistle_id=next(_IDS),
               whistle_mode="township", whistler_unit="T1", department=department, role=role, status=status,
               summoned_at=summoned, report_in_due=summoned + 30 * MIN, resolution_due=summoned + 168 * H,
               reported_in_at=None if reported_after is None else summoned + reported_after * MIN,
               category="ENV-01", township_code="T1", case_status=case_status, whistled_at=summoned,
               closed_at=summoned + 5 * H if case_status == "closed" else None,
               case_resolved_at=None if case_resolved_after is None else summoned + case_resolved_after * MIN)
    return out


def test_departments_that_never_lead_are_ranked_among_themselves(catalog: Catalog) -> None:
    leads = {r.lead for r in catalog.rules}
    assert "PSB" not in leads and "FIRE" not in leads and {"ECO", "WATER"} <= leads
    rows = [
        *(assignment("ECO", summoned=T + i * H, role="lead") for i in range(5)),
        *(assignment("WATER", summoned=T + i * H, role="lead", reported_after=40 if i < 2 else 10) for i in range(5)),
        *(assignment("PSB", summoned=T + i * H, role="assist") for i in range(5)),
        *(assignment("FIRE", summoned=T + i * H, role="assist", reported_after=40 if i < 3 else 10) for i in range(5)),
    ]
    table = evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame(rows)), catalog, period=MAY)
    got = [(d, g, int(r)) for d, g, r in table[["department", "ranking", "rank"]].head(4).itertuples(index=False)]
    # PSB, on time every time, is not "1st" ahead of the leads: it is first among those that only assist
    assert got == [("ECO", "lead", 1), ("WATER", "lead", 2), ("PSB", "assist", 1), ("FIRE", "assist", 2)]
    head = render_table(table)
    assert head[0][:2] == ("排名", "类别") and head[3][:2] == ("1", "配合")
    assert render_table(table, "en")[1][:2] == ("1", "lead")


# -- an assist the lead's quick resolution made unnecessary --------------------------------------------------
def test_an_assist_is_not_absent_where_the_no_show_rule_stops_its_wait(catalog: Catalog) -> None:
    quick = assignment("SAMR", summoned=T, role="assist", reported_after=None, status="summoned",
                       case_resolved_after=45)                      # resolved before W02's hour: excused
    slow = assignment("SAMR", summoned=T + H, role="assist", reported_after=None, status="summoned",
                      case_resolved_after=90)                       # resolved after it: absent (W02's rule)
    open_case = assignment("SAMR", summoned=T + 2 * H, role="assist", reported_after=None, status="summoned",
                           case_status="in_action")                 # reopened or still open: absent
    samr = row(evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([quick, slow, open_case])),
                                    catalog, period=MAY), "department", "SAMR")
    assert (samr.whistles, samr.excused, samr.expected_report_ins, samr.absent) == (3, 1, 2, 2)


def test_an_assist_on_a_case_the_lead_resolved_within_the_hour_on_postgis(
        db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[12]
    inc = new_case(db, locator, catalog, v.geometry.x, v.geometry.y)
    town = inc.township_code
    whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=town, at=T0,
            only_departments=["ECO", "SAMR"])
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department="ECO", lon=v.geometry.x, lat=v.geometry.y,
                      accuracy_m=5, server_time=T0 + 10 * MIN)
    on_site.start_action(db, incident_id=inc.id, department="ECO", at=T0 + 15 * MIN)
    on_site.complete(db, incident_id=inc.id, department="ECO", at=T0 + 40 * MIN)
    resolution.resolve(db, incident_id=inc.id, department="ECO", at=T0 + 40 * MIN, summary="已整改")
    raised = tick(db, catalog=catalog, now=T0 + 3 * H)
    assert not [w for w in raised if w["rule_code"] == "W02"]   # the escalation pass: no no-show
    table = evaluate(db, catalog=catalog, start=MAY.start, end=MAY.end, by="department", as_of=T0 + 3 * H)
    samr = row(table, "department", "SAMR")
    assert (samr.whistles, samr.excused, samr.absent) == (1, 1, 0)   # …and the evaluation agrees
    towns = evaluate(db, catalog=catalog, start=MAY.start, end=MAY.end, by="township", as_of=T0 + 3 * H)
    here = row(towns, "township_code", town)
    # observed 23:00, whistled 23:40: in time; resolved 40 min later, not yet verified (72 h not up)
    assert (here.whistle_on_time_rate, here.cases) == (1.0, 1)
    assert pd.isna(here.review_on_time_rate) and here.small_sample


# -- the backlog: reports triaged in time, reports left untouched (F20) ---------------------------------------
def report(town: str, *, status: str, received: datetime = T, triaged_after: float | None = None,
           whistled_after: float | None = None) -> dict[str, Any]:
    """A report received at ``received`` (observed an hour before), first triaged ``triaged_after`` hours later
    (None: never), whistled ``whistled_after`` hours later."""
    whistled = None if whistled_after is None else received + whistled_after * H
    return {**case(town, whistle_after=None, status=status, at=received - H), "received_at": received,
            "whistled_at": whistled, "triaged_at": None if triaged_after is None else received + triaged_after * H,
            "resolution_due": None if whistled is None else whistled + 168 * H}


def test_the_untriaged_backlog_and_the_triage_rate_are_measured(catalog: Catalog) -> None:
    within = catalog.triage_within_hours
    assert within == 24  # mechanism.triage_within_hours of the shipped lists (draft)
    reports = [
        report("T1", status="closed", triaged_after=2, whistled_after=2),     # whistled in time, since closed
        report("T1", status="rejected", triaged_after=3),                     # declined in time: not a case
        report("T1", status="duplicate", triaged_after=within + 5),           # marked a duplicate late
        report("T1", status="reported"),                                      # untouched, its 24 h up: late
        report("T1", status="reported"),                                      # untouched, its 24 h up: late
        report("T1", status="reported", received=AS_OF - H),                 # untouched, 23 h to go: not judged
        report("T2", status="whistled", triaged_after=1, whistled_after=1),
    ]
    table = evaluate_townships(EvaluationFacts(as_of=AS_OF, cases=pd.DataFrame(reports), townships=TOWNS), catalog,
                               period=parse_period(f"2026-05..{AS_OF:%Y-%m-%d}"))
    t1, t2 = row(table, "township_code", "T1"), row(table, "township_code", "T2")
    assert (t1.reports, t1.untriaged, t1.cases, t1.whistled) == (6, 3, 4, 1)
    assert t1.untriaged_share == pytest.approx(3 / 6) and t1.untriaged_share_n == 6
    assert t1.triage_on_time_rate == pytest.approx(2 / 5) and t1.triage_on_time_rate_n == 5
    # the resolution rate is over whistled cases only: it says nothing of the backlog
    assert t1.resolution_rate == 1.0 and t1.resolution_rate_n == 1
    assert (t2.reports, t2.untriaged, t2.triage_on_time_rate) == (1, 0, 1.0)
    rows = render_table(table)
    assert {"上报", "未处理", "分拣及时", "已吹哨解决"} <= set(rows[0])
    assert {"未处理上报", "分拣及时率", "已吹哨案件解决率", "分拣及时率·样本数"} <= set(report_frame(table).columns)


def test_the_triage_limit_comes_from_the_lists(catalog: Catalog) -> None:
    late = [report("T1", status="whistled", triaged_after=30, whistled_after=30)]
    facts = EvaluationFacts(as_of=AS_OF, cases=pd.DataFrame(late), townships=TOWNS)
    assert row(evaluate_townships(facts, catalog, period=MAY), "township_code", "T1").triage_on_time_rate == 0.0
    longer = dataclasses.replace(catalog, mechanism={**catalog.mechanism, "triage_within_hours": 48})
    assert longer.triage_within_hours == 48
    assert row(evaluate_townships(facts, longer, period=MAY), "township_code", "T1").triage_on_time_rate == 1.0


def test_triage_is_read_from_the_case_record_on_postgis(
        db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> None:
    from sqlalchemy import text

    from gis_enforcement.dispatch import triage

    town_villages = jurisdiction.villages[jurisdiction.villages["township_code"] == jurisdiction.villages.iloc[12][
        "township_code"]]
    v = [town_villages.iloc[i] for i in range(4)]
    cases = [new_case(db, locator, catalog, x.geometry.x, x.geometry.y) for x in v]
    town = cases[0].township_code
    assert all(c.township_code == town for c in cases)
    received = T0 - 30 * MIN  # observed 23:00, received 23:10
    db.execute(text("UPDATE incident SET received_at = :t WHERE id = ANY(:ids)"),
               {"t": received, "ids": [c.id for c in cases]})
    whistle(db, catalog=catalog, incident_ids=[cases[0].id], mode=TOWNSHIP, whistler=town, at=T0)  # in 30 min
    triage.reject(db, incident_id=cases[1].id, township=town, reason="不属于执法事项", at=received + 30 * H)  # late
    triage.mark_duplicate(db, incident_id=cases[2].id, township=town, duplicate_of=cases[0].id, at=received + 2 * H)
    # cases[3] is left untouched
    table = evaluate(db, catalog=catalog, start=MAY.start, end=MAY.end, by="township", as_of=received + 40 * H)
    here = row(table, "township_code", town)
    assert (here.reports, here.untriaged, here.cases, here.whistled) == (4, 1, 2, 1)  # cases: not declined or dup
    # whistled in 30 min and marked in 2 h: in time; declined after 30 h and untouched for 40 h: late
    assert here.triage_on_time_rate == pytest.approx(2 / 4) and here.triage_on_time_rate_n == 4
    early = evaluate(db, catalog=catalog, start=MAY.start, end=MAY.end, by="township", as_of=received + 3 * H)
    # three hours in: the untouched report and the one declined later are untriaged, and not judged yet
    assert (row(early, "township_code", town).untriaged, row(early, "township_code", town).triage_on_time_rate_n) == (
        2, 2)
