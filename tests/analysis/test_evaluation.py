"""Evaluation (效果可评价): a hand-built scenario on a real PostGIS whose figures are worked out by hand below,
and the pure metrics on small hand-made frames (empty units, zero denominators, periods, rendering)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import uuid
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gis_enforcement.analysis.evaluate_service import evaluate, ranking_by_month
from gis_enforcement.analysis.evaluation import (
    ASSIGNMENT_COLUMNS,
    MIN_RANKED_WHISTLES,
    TZ,
    EvaluationFacts,
    Period,
    evaluate_departments,
    evaluate_townships,
    monthly_ranking,
    parse_period,
)
from gis_enforcement.analysis.evaluation_table import floor_notes, render_table, report_frame, score_note
from gis_enforcement.dispatch import on_site, resolution
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.escalation import WarningDraft
from gis_enforcement.errors import CatalogInvalid, InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.settings import Settings
from gis_enforcement.storage import warning_repo
from tests.dispatch.helpers import METRE, T0, new_case, photo_on_case

AS_OF = datetime(2026, 6, 11, tzinfo=TZ)
MAY = parse_period("2026-05")
H, MIN = timedelta(hours=1), timedelta(minutes=1)


def row(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    return frame.loc[frame[key] == value].iloc[0]


# -- the hand-built scenario on PostGIS -----------------------------------------------------------------------
@pytest.fixture
def scenario(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction,
             settings: Settings) -> dict[str, Any]:
    """Five ENV-01 cases 250 m apart in one township (observed 2026-05-12 23:00), lead ECO, assist SAMR only.

    A  whistled T0        ECO in at +10 min (on time), SAMR in at +45 (late); ECO acts 责令改正+罚款 20 000,
                          SAMR acts 罚款 5 000; resolved, verified and closed at +6 h. Comes back: W08 on 1 June.
    B  whistled T0 + 1 d  ECO in at +25 (on time), acts 限制生产/停产整治 (no penalty), resolves; SAMR never comes.
    C  whistled T0 + 2 d  SAMR released at +20 (before its +30 deadline: excused); ECO in at +50 (late), acts
                          断水断电（协调） 30 000; resolved, verified and closed at +30 h.
    D  whistled T0 + 3 d  SAMR in at +20 (on time); ECO never comes; the case stays open past its 168 h.
    E  never whistled.
    Escalation runs at D + 61 min and at D + 169 h.
    """
    v = jurisdiction.villages.iloc[12]
    x, y, town = v.geometry.x, v.geometry.y, v["township_code"]
    points = [(x, y + (i - 2) * 250 * METRE) for i in range(5)]
    a, b, c, d, e = (new_case(db, locator, catalog, px, py) for px, py in points)
    assert {inc.township_code for inc in (a, b, c, d, e)} == {town}
    assert all(inc.lead_department == "ECO" and inc.duplicate_of is None for inc in (a, b, c, d, e))
    pos = {inc.id: pt for inc, pt in zip((a, b, c, d, e), points, strict=True)}

    def blow(inc: Any, at: datetime) -> None:
        whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=town, at=at,
                only_departments=["ECO", "SAMR"])

    def arrive(inc: Any, dep: str, at: datetime) -> None:
        lon, lat = pos[inc.id]
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=dep, lon=lon, lat=lat, accuracy_m=5,
                          server_time=at)

    def act(inc: Any, dep: str, at: datetime, measures: list[str], penalty: float | None) -> None:
        on_site.start_action(db, incident_id=inc.id, department=dep, at=at)
        # a fine is a penalty decision (行政处罚); a visit without one an inspection (现场检查)
        on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=dep,
                              action_type="行政处罚" if penalty else "现场检查",
                              officer=f"{dep}-01", acted_at=at + 5 * MIN, measures=measures, penalty_amount=penalty,
                              photos=[{"slot": "after", "sha256": photo_on_case(  # recorded: no W10
                                  db, inc.id, settings.photos_dir, slot="after", at=at + 4 * MIN)}])

    def finish(inc: Any, dep: str, at: datetime, *, lead: bool) -> None:
        on_site.complete(db, incident_id=inc.id, department=dep, at=at)
        if lead:
            resolution.resolve(db, incident_id=inc.id, department=dep, at=at, summary="已整改")

    ta, tb, tc, td = T0, T0 + 24 * H, T0 + 48 * H, T0 + 72 * H
    blow(a, ta)
    arrive(a, "ECO", ta + 10 * MIN)
    arrive(a, "SAMR", ta + 45 * MIN)
    act(a, "ECO", ta + 50 * MIN, ["责令改正", "罚款"], 20000)
    act(a, "SAMR", ta + 50 * MIN, ["罚款"], 5000)
    finish(a, "ECO", ta + 3 * H, lead=True)
    finish(a, "SAMR", ta + 4 * H, lead=False)
    assert resolution.verify(db, incident_id=a.id, township=town, at=ta + 6 * H)[0] == "closed"

    blow(b, tb)
    arrive(b, "ECO", tb + 25 * MIN)
    act(b, "ECO", tb + 30 * MIN, ["限制生产/停产整治"], None)
    finish(b, "ECO", tb + 24 * H, lead=True)

    blow(c, tc)
    on_site.release(db, incident_id=c.id, department="SAMR", reason="无照经营已由乡镇核实不存在", at=tc + 20 * MIN)
    arrive(c, "ECO", tc + 50 * MIN)
    act(c, "ECO", tc + 55 * MIN, ["断水断电（协调）"], 30000)
    finish(c, "ECO", tc + 29 * H, lead=True)
    assert resolution.verify(db, incident_id=c.id, township=town, at=tc + 30 * H)[0] == "closed"

    blow(d, td)
    arrive(d, "SAMR", td + 20 * MIN)

    first = tick(db, catalog=catalog, now=td + 61 * MIN)
    assert sorted((w["rule_code"], w["subject_code"]) for w in first) == [
        ("W01", "ECO"), ("W01", "SAMR"), ("W02", "ECO"), ("W02", "SAMR")]
    second = tick(db, catalog=catalog, now=td + 169 * H)
    # the yellow is overtaken by the red in the same pass: only the red is raised
    assert sorted((w["rule_code"], w["level"]) for w in second) == [("W05", "red")]
    warning_repo.insert_warnings(
        db, drafts=[WarningDraft("W08", "yellow", "location", town, f"W08:{a.id}", a.id, None, {"test": True})],
        raised_at=datetime(2026, 6, 1, 10, tzinfo=TZ), consequences={}, notify={})
    return {"town": town, "cases": (a, b, c, d, e)}


def test_departments_on_the_hand_built_scenario(db: Session, catalog: Catalog, scenario: dict[str, Any]) -> None:
    # what the figures rest on in the lists
    eco_listed = {m for r in catalog.rules if r.lead == "ECO" for m in r.measures}
    samr_listed = {m for r in catalog.rules if r.lead == "SAMR" for m in r.measures}
    assert (len(eco_listed), len(samr_listed)) == (9, 4) and "罚款" in samr_listed
    assert (catalog.departments["ECO"].officers, catalog.departments["SAMR"].officers) == (55, 160)
    assert [(d["code"], d["weight"]) for d in catalog.mechanism["evaluation_dimensions"]] == [
        ("ON_TIME_ARRIVAL", 0.3), ("DUTY_PERFORMED", 0.3), ("OUTCOME", 0.2), ("TOWNSHIP_RATING", 0.2)]
    points = {code: (rule.points("yellow"), rule.points("red")) for code, rule in catalog.warning_rules.items()}
    assert (points["W01"], points["W02"], points["W05"]) == ((1, 1), (3, 3), (0, 1))

    table = evaluate(db, catalog=catalog, start=MAY.start, end=MAY.end, by="department", as_of=AS_OF)
    # both small samples whose deduction exceeds their base: SAMR (net −50.8) before ECO (net −52.1)
    assert list(table["department"][:2]) == ["SAMR", "ECO"]
    eco, samr = row(table, "department", "ECO"), row(table, "department", "SAMR")

    # ECO, lead on A B C D. Check-ins: A 10 (on time), B 25 (on time), C 50 (late), D none (absent).
    assert (eco.whistles, eco.expected_report_ins, eco.reported_in, eco.on_time, eco.late, eco.absent) == (
        4, 4, 3, 2, 1, 1)
    assert eco.report_in_rate == pytest.approx(3 / 4)
    assert eco.on_time_rate == pytest.approx(2 / 4)
    assert eco.report_in_minutes_median == pytest.approx(25)
    assert eco.report_in_minutes_p90 == pytest.approx(25 + 0.8 * (50 - 25))  # rank 0.9·(3−1) = 1.8 → 45
    # resolved: A closed, B resolved, C closed; D open past its deadline (not pending at 11 June)
    assert (eco.lead_cases, eco.lead_pending, eco.resolved) == (4, 0, 3)
    assert eco.resolution_rate == pytest.approx(3 / 4)
    assert eco.resolution_hours_median == pytest.approx((6 + 30) / 2)  # A 6 h, C 30 h
    assert eco.recurrences == 1  # A came back (W08 on 1 June: after May, still counts)
    assert eco.outcome_rate == pytest.approx(2 / 4)  # B and C resolved and not recurred
    # May warnings: W01 (C late), W02 (D), W05 red (D); the June W08 is not a May warning
    assert (eco.warnings_W01, eco.warnings_W02, eco.warnings_W05, eco.warnings_W08, eco.warnings) == (1, 1, 1, 0, 3)
    assert (eco.actions, eco.penalties, eco.penalty_amount) == (3, 2, 20000 + 30000)
    assert eco.penalties_per_officer == pytest.approx(2 / 55)
    # the record without a fine was a 现场检查 (INSPECT, counted by P06 人均检查量)
    assert eco.inspections == 1 and eco.inspections_per_officer == pytest.approx(1 / 55)
    # 责令改正, 罚款, 限制生产/停产整治, 断水断电（协调） of ECO's 9 listed measures
    assert (eco.measures_listed, eco.measures_used) == (9, 4)
    assert eco.duty_rate == pytest.approx(4 / 9)
    # nobody rated ECO: TOWNSHIP_RATING left out, the others re-weighted over 0.3 + 0.3 + 0.2
    assert eco.score_base == pytest.approx(100 * (0.3 * 2 / 4 + 0.3 * 4 / 9 + 0.2 * 2 / 4) / 0.8)  # 47.92
    assert eco.warning_points == 1 + 3 + 0 + 1  # W01, W02, W05 yellow (a reminder: 0) and red
    # charged per 100 whistles, the whistles counted as at least 5 (the ranking's sample): 5 × 100 / 5
    assert eco.deduction == pytest.approx(5 * 100 / MIN_RANKED_WHISTLES)
    assert eco.score == 0 and eco.score_net == pytest.approx(eco.score_base - 100)
    assert eco.small_sample and pd.isna(eco["rank"])  # 4 whistles: shown, not ranked

    # SAMR, assist on A B C D: A 45 (late), B none (absent), C released at +20 < +30 (excused), D 20 (on time)
    assert (samr.whistles, samr.excused, samr.expected_report_ins, samr.reported_in, samr.on_time, samr.absent) == (
        4, 1, 3, 2, 1, 1)
    assert samr.report_in_rate == pytest.approx(2 / 3)
    assert samr.on_time_rate == pytest.approx(1 / 3)
    assert samr.report_in_minutes_median == pytest.approx((20 + 45) / 2)
    assert samr.report_in_minutes_p90 == pytest.approx(20 + 0.9 * (45 - 20))  # 42.5
    assert samr.lead_cases == 0
    assert math.isnan(samr.resolution_rate) and math.isnan(samr.outcome_rate)
    assert (samr.warnings_W01, samr.warnings_W02, samr.warnings) == (1, 1, 2)
    assert (samr.actions, samr.penalties, samr.penalty_amount) == (1, 1, 5000)
    assert samr.penalties_per_officer == pytest.approx(1 / 160)
    assert samr.duty_rate == pytest.approx(1 / 4)  # 罚款 of SAMR's 4 listed (R-MKT-01)
    # OUTCOME unknown: ON_TIME and DUTY re-weighted over 0.4 + 0.4
    assert samr.score_base == pytest.approx(100 * (0.3 * 1 / 3 + 0.3 * 1 / 4) / 0.6)  # 29.17
    assert samr.warning_points == 1 + 3 and samr.deduction == pytest.approx(4 * 100 / MIN_RANKED_WHISTLES)
    assert samr.score == 0 and samr.score_net == pytest.approx(samr.score_base - 80)
    assert samr.small_sample and pd.isna(samr["rank"])

    pnr = row(table, "department", "PNR")  # never whistled
    assert pnr.whistles == 0 and pnr.penalties == 0 and pnr.warnings == 0
    assert all(math.isnan(pnr[c]) for c in ("report_in_rate", "on_time_rate", "resolution_rate", "duty_rate", "score"))
    assert pd.isna(pnr["rank"]) and not pnr.small_sample and pnr.deduction == 0

    rows = render_table(table)
    assert rows[0][:4] == ("排名", "类别", "名称", "接哨") and rows[2][:3] == ("样本少", "主责", "区生态环境局")
    assert rows[0][-4:] == ("扣前", "警示分", "扣分/百次", "得分") and rows[2][-4:] == ("47.9", "5", "100.0", "0.0")
    assert "75.0%" in rows[2] and "50,000" in rows[2]
    assert rows[3][0] == "—" and "—" in rows[3]


def test_townships_on_the_hand_built_scenario(db: Session, catalog: Catalog, scenario: dict[str, Any]) -> None:
    table = evaluate(db, catalog=catalog, start=MAY.start, end=MAY.end, by="township", as_of=AS_OF)
    town = row(table, "township_code", scenario["town"])
    assert (town.cases, town.whistled, town.whistles_sent, town.summons) == (5, 4, 4, 4 * 2)
    assert town.share_whistled == pytest.approx(4 / 5)  # E was never whistled
    assert (town.resolved, town.resolution_pending) == (3, 0)
    assert town.resolution_rate == pytest.approx(3 / 4)
    assert town.resolution_hours_median == pytest.approx(18)
    assert town.recurrences == 1
    # departments' conduct on its cases in May: W01 ×2, W02 ×2, W05 ×1 (the W08 is about a location, in June)
    assert (town.warnings_W01, town.warnings_W02, town.warnings_W05, town.warnings, town.own_warnings) == (
        2, 2, 1, 5, 0)
    other = table[table["township_code"] != scenario["town"]]
    assert len(other) > 0 and (other["cases"] == 0).all() and other["share_whistled"].isna().all()
    # its own part of the chain: whistled within 24 h of the observation (A only: B, C, D later, E never),
    # verified within 72 h of the resolution (A, C; B never), resolved without coming back (B, C; A came back)
    assert (town.whistle_on_time_rate, town.review_on_time_rate, town.no_recurrence_rate) == (
        pytest.approx(1 / 5), pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert town.follow_ups == 0 and math.isnan(town.follow_up_on_time_rate)  # left out, the others re-weighted
    assert town.score == pytest.approx(100 * (0.3 / 5 + 0.3 * 2 / 3 + 0.2 * 2 / 3) / 0.8)
    assert (town.deduction, town["rank"], town.small_sample) == (0, 1, False)  # the W08 is June's
    assert other["score"].isna().all() and other["rank"].isna().all()
    assert render_table(table)[0][:5] == ("排名", "名称", "得分", "上报", "未处理")
    assert render_table(table, "en")[0][:3] == ("rank", "township", "score")


def test_a_month_without_whistles_and_the_monthly_ranking(db: Session, catalog: Catalog,
                                                          scenario: dict[str, Any]) -> None:
    june = parse_period("2026-06")
    table = evaluate(db, catalog=catalog, start=june.start, end=june.end, as_of=AS_OF)
    eco = row(table, "department", "ECO")
    assert eco.whistles == 0 and math.isnan(eco.on_time_rate) and math.isnan(eco.score)
    assert eco.warnings_W08 == 1  # the recurrence of A, about the case ECO leads
    year = parse_period("2026")
    ranking = ranking_by_month(db, catalog=catalog, start=year.start, end=year.end, as_of=AS_OF)
    assert [(m, d, n, s, g, pd.isna(r), few)
            for m, d, n, s, g, r, few in ranking.itertuples(index=False, name=None)] == [
        ("2026-05", "SAMR", catalog.departments["SAMR"].zh, 0.0, "lead", True, True),  # 29.2 − 80: net −50.8
        ("2026-05", "ECO", catalog.departments["ECO"].zh, 0.0, "lead", True, True),    # 47.9 − 100: net −52.1
    ]
    with pytest.raises(InvalidInput) as bad:
        evaluate(db, catalog=catalog, start=year.start, end=year.end, by="village")
    assert bad.value.field == "by"


# -- pure functions on hand-made frames ----------------------------------------------------------------------
_IDS = itertools.count(1)


def assignment(department: str, *, summoned: datetime, role: str = "assist", status: str = "summoned",
               reported: datetime | None = None, stood_down: datetime | None = None, case_status: str = "whistled",
               closed: datetime | None = None, resolution_hours: float | None = 168, whistle_id: int = 1,
               township: str = "T1", mode: str = "township") -> dict[str, Any]:
    out = dict.fromkeys(ASSIGNMENT_COLUMNS)
    out.update(assignment_id=next(_IDS), incident_id=uuid.uuid4(), whistle_id=whistle_id, whistle_mode=mode,
               whistler_unit=township, department=department, role=role, status=status, summoned_at=summoned,
               report_in_due=summoned + 30 * MIN, reported_in_at=reported, stood_down_at=stood_down,
               resolution_due=None if resolution_hours is None else summoned + resolution_hours * H,
               category="ENV-01", township_code=township, case_status=case_status, whistled_at=summoned,
               closed_at=closed)
    return out


def test_no_whistles_means_nan_rates_and_no_rank(catalog: Catalog) -> None:
    t = datetime(2026, 5, 3, 9, tzinfo=TZ)
    facts = EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([
        assignment("ECO", summoned=t, role="lead", reported=t + 5 * MIN),
    ]))
    table = evaluate_departments(facts, catalog, period=MAY)
    assert len(table) == len(catalog.departments)
    quiet = table[table["department"] != "ECO"]
    for column in ("report_in_rate", "on_time_rate", "report_in_minutes_median", "report_in_minutes_p90",
                   "resolution_rate", "resolution_hours_median", "outcome_rate", "duty_rate", "score"):
        assert quiet[column].isna().all(), column
    assert (quiet["whistles"] == 0).all() and (quiet["penalties"] == 0).all() and quiet["rank"].isna().all()
    eco = row(table, "department", "ECO")
    # on time 1/1; no record: duty 0/9; the case is open and its 168 h ran out on 10 May: unresolved, 0/1
    assert (eco.on_time_rate, eco.duty_rate, eco.resolution_rate) == (1.0, 0.0, 0.0)
    assert eco.score == pytest.approx(100 * (0.3 * 1 + 0.3 * 0 + 0.2 * 0) / 0.8)  # not rated: 0.8 of weight


def test_nothing_at_all_is_all_nan_and_an_empty_ranking(catalog: Catalog) -> None:
    facts = EvaluationFacts(as_of=AS_OF)
    table = evaluate_departments(facts, catalog, period=MAY)
    assert table["score"].isna().all() and (table["whistles"] == 0).all()
    assert monthly_ranking(facts, catalog, period=parse_period("2026")).empty
    towns = evaluate_townships(facts, catalog, period=MAY)
    assert towns.empty


def test_excused_pending_and_late_declines(catalog: Catalog) -> None:
    t = datetime(2026, 5, 20, 9, tzinfo=TZ)
    as_of = t + 10 * MIN
    facts = EvaluationFacts(as_of=as_of, assignments=pd.DataFrame([
        assignment("SAMR", summoned=t, status="released", stood_down=t + 10 * MIN),  # excused
        assignment("SAMR", summoned=t - 2 * H, status="declined", stood_down=t - 2 * H + 45 * MIN),  # too late
        assignment("SAMR", summoned=t, status="summoned"),  # deadline still ahead at as_of: pending
        assignment("SAMR", summoned=t - 3 * H, reported=t - 3 * H + 31 * MIN, status="acting"),  # late
    ]))
    samr = row(evaluate_departments(facts, catalog, period=MAY), "department", "SAMR")
    assert (samr.whistles, samr.excused, samr.pending, samr.expected_report_ins) == (4, 1, 1, 2)
    assert (samr.reported_in, samr.on_time, samr.late, samr.absent) == (1, 0, 1, 1)
    assert (samr.report_in_rate, samr.on_time_rate) == (0.5, 0.0)
    assert samr.report_in_minutes_median == pytest.approx(31)


def test_all_excused_leaves_the_rate_undefined(catalog: Catalog) -> None:
    t = datetime(2026, 5, 20, 9, tzinfo=TZ)
    facts = EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([
        assignment("SAMR", summoned=t, status="released", stood_down=t + 10 * MIN)]))
    samr = row(evaluate_departments(facts, catalog, period=MAY), "department", "SAMR")
    assert samr.whistles == 1 and samr.expected_report_ins == 0
    assert math.isnan(samr.report_in_rate) and math.isnan(samr.on_time_rate) and math.isnan(samr.score)


def test_penalties_and_inspections_count_by_the_kinds_the_lists_name(catalog: Catalog) -> None:
    # a 警告 is a penalty decision without a fine: counted by its kind; a fine on a record of another kind still
    # counts (records kept before the kinds); an inspection counts for P06, an order for neither
    t = datetime(2026, 5, 3, 9, tzinfo=TZ)
    a = assignment("ECO", summoned=t, role="lead", reported=t + 10 * MIN, status="done", case_status="closed",
                   closed=t + 10 * H)
    kinds = [("PENALTY", None), ("ORDER", 500.0), ("INSPECT", None), ("INSPECT", None), ("ORDER", None)]
    records = pd.DataFrame([{"record_id": i, "assignment_id": a["assignment_id"], "incident_id": a["incident_id"],
                             "department": "ECO", "action_type": kind, "measures": [], "penalty_amount": amount,
                             "officer": "x", "acted_at": t + H} for i, (kind, amount) in enumerate(kinds)])
    eco = row(evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([a]), records=records),
                                   catalog, period=MAY), "department", "ECO")
    assert (eco.actions, eco.penalties, eco.penalty_amount, eco.inspections) == (5, 2, 500.0, 2)
    officers = catalog.departments["ECO"].officers
    assert eco.penalties_per_officer == pytest.approx(2 / officers)
    assert eco.inspections_per_officer == pytest.approx(2 / officers)
    # lists that name no indicator on their kinds: only fines count as penalties, nothing as inspections
    plain = dataclasses.replace(catalog, action_kinds={c: dataclasses.replace(k, indicator=None)
                                                       for c, k in catalog.action_kinds.items()})
    bare = row(evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([a]), records=records),
                                    plain, period=MAY), "department", "ECO")
    assert (bare.penalties, bare.inspections) == (1, 0)


def test_zero_officers_and_custom_weights(catalog: Catalog) -> None:
    departments = dict(catalog.departments)
    departments["ECO"] = dataclasses.replace(departments["ECO"], officers=0)
    custom = dataclasses.replace(catalog, departments=departments, mechanism={"evaluation_dimensions": (
        {"code": "ON_TIME_ARRIVAL", "weight": 3}, {"code": "OUTCOME", "weight": 1})})
    t = datetime(2026, 5, 3, 9, tzinfo=TZ)
    a = assignment("ECO", summoned=t, role="lead", reported=t + 40 * MIN, status="done", case_status="closed",
                   closed=t + 10 * H)
    records = pd.DataFrame([{"record_id": 1, "assignment_id": a["assignment_id"], "incident_id": a["incident_id"],
                             "department": "ECO", "action_type": "检查", "measures": ["罚款", "不在清单的措施"],
                             "penalty_amount": 800.0, "officer": "x", "acted_at": t + H}])
    eco = row(evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([a]), records=records),
                                   custom, period=MAY), "department", "ECO")
    assert eco.penalties == 1 and math.isnan(eco.penalties_per_officer)  # 1 / 0 officers: undefined
    assert eco.measures_used == 1  # an unlisted measure is not a listed power
    # late (on time 0), resolved and not recurred (outcome 1): (3·0 + 1·1) / (3 + 1)
    assert eco.score == pytest.approx(100 * 1 / 4)
    unknown = dataclasses.replace(catalog, mechanism={"evaluation_dimensions": ({"code": "HAPPINESS", "weight": 1},)})
    with pytest.raises(CatalogInvalid):
        evaluate_departments(EvaluationFacts(as_of=AS_OF), unknown, period=MAY)


def test_townships_zero_cases_and_duplicates(catalog: Catalog) -> None:
    t = datetime(2026, 5, 3, 9, tzinfo=TZ)

    def case(town: str, status: str, *, whistled: bool = False, dup: bool = False) -> dict[str, Any]:
        return {"incident_id": uuid.uuid4(), "category": "ENV-01", "township_code": town, "status": status,
                "observed_at": t, "whistled_at": t + H if whistled else None, "closed_at": None,
                "likely_duplicate_of": uuid.uuid4() if dup else None,
                "resolution_due": t + 200 * H if whistled else None}

    facts = EvaluationFacts(
        as_of=t + 2 * H,
        cases=pd.DataFrame([case("T1", "duplicate"), case("T1", "reported", dup=True), case("T2", "reported"),
                            case("T2", "whistled", whistled=True)]),
        townships=pd.DataFrame({"township_code": ["T1", "T2"], "name": ["一镇", "二镇"]}),
        warnings=pd.DataFrame([{"warning_id": 1, "rule_code": "W09", "level": "yellow", "subject_kind": "township",
                                "subject_code": "T2", "incident_id": None, "assignment_id": None,
                                "raised_at": t + H, "township_code": None, "lead_department": None}]),
    )
    table = evaluate_townships(facts, catalog, period=MAY)
    t1, t2 = row(table, "township_code", "T1"), row(table, "township_code", "T2")
    assert t1.cases == 0 and math.isnan(t1.share_whistled) and math.isnan(t1.resolution_rate)
    assert (t2.cases, t2.whistled, t2.share_whistled, t2.resolution_pending) == (2, 1, 0.5, 1)
    assert math.isnan(t2.resolution_rate)  # the one whistled case is still within its deadline
    assert (t2.own_warnings, t2.warnings) == (1, 0)


def test_monthly_ranking_follows_shanghai_months(catalog: Catalog) -> None:
    # 30 April 23:50 Shanghai is 15:50 UTC: an April whistle, not May
    april = datetime(2026, 4, 30, 23, 50, tzinfo=TZ)
    may = datetime(2026, 5, 2, 10, tzinfo=TZ)
    enough = range(MIN_RANKED_WHISTLES)  # whistles enough to be ranked
    facts = EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([
        *(assignment("ECO", summoned=april, reported=april + 10 * MIN) for _ in enough),
        *(assignment("SAMR", summoned=april, reported=april + 50 * MIN) for _ in enough),
        *(assignment("ECO", summoned=may, reported=may + 50 * MIN) for _ in enough),
        *(assignment("SAMR", summoned=may, reported=may + 5 * MIN) for _ in enough),
    ]))
    ranking = monthly_ranking(facts, catalog, period=parse_period("2026-04..2026-05"))
    assert [(m, d, r, few) for m, d, _, _, _, r, few in ranking.itertuples(index=False, name=None)] == [
        ("2026-04", "ECO", 1, False), ("2026-04", "SAMR", 2, False), ("2026-05", "SAMR", 1, False),
        ("2026-05", "ECO", 2, False)]


def test_parse_period() -> None:
    year = parse_period("2026")
    assert (year.start, year.end) == (datetime(2026, 1, 1, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ))
    assert parse_period("2026-12").end == datetime(2027, 1, 1, tzinfo=TZ)
    assert parse_period("2026-01..2026-06").end == datetime(2026, 7, 1, tzinfo=TZ)
    may = parse_period("2026-05-01..2026-05-31")
    assert (may.start, may.end) == (MAY.start, MAY.end)
    instant = parse_period("2026-05-01T08:00..2026-05-02T08:00+08:00")
    assert instant.end - instant.start == timedelta(days=1)
    for bad in ("2026-13", "last year", "2026-06..2026-05", ""):
        with pytest.raises(InvalidInput) as err:
            parse_period(bad)
        assert err.value.field == "period"
    months = parse_period("2026-05-20..2026-07-10").months()
    assert [(m.label, m.start.day, m.end.day) for m in months] == [
        ("2026-05", 20, 1), ("2026-06", 1, 1), ("2026-07", 1, 11)]
    with pytest.raises(InvalidInput):
        Period(datetime(2026, 1, 1), datetime(2026, 2, 1))


def test_facts_name_a_missing_column_and_files_get_chinese_headers(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="assignments: missing column"):
        EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame({"department": ["ECO"]}))
    table = evaluate_departments(EvaluationFacts(as_of=AS_OF), catalog, period=MAY)
    frame = report_frame(table)
    assert {"部门代码", "职权履行率", "综合得分", "警示W01"} <= set(frame.columns)
    assert render_table(table, "en")[0][:4] == ("rank", "ranking", "dept", "whistles")


# -- the score the lists make: 评价权, the warnings' deductions, too few whistles to rank -----------------------
_WARNING_IDS = itertools.count(1)


def warning(rule: str, level: str, about: dict[str, Any], *, at: datetime, kind: str = "department") -> dict[str, Any]:
    """A warning raised at ``at`` on the assignment ``about`` (subject: its department, or its case's place)."""
    return {"warning_id": next(_WARNING_IDS), "rule_code": rule, "level": level, "subject_kind": kind,
            "subject_code": about["department"] if kind == "department" else about["township_code"],
            "incident_id": about["incident_id"], "assignment_id": about["assignment_id"], "raised_at": at,
            "township_code": about["township_code"],
            "lead_department": about["department"] if about["role"] == "lead" else None}


def _attendances(department: str, n: int, *, at: datetime, late: int = 0) -> list[dict[str, Any]]:
    """``n`` lead attendances of ``department``, resolved and closed, the first ``late`` ones 40 min after the
    whistle (late), the others after 10 min."""
    return [assignment(department, summoned=at + i * H, role="lead", status="done", case_status="closed",
                       reported=at + i * H + (40 if i < late else 10) * MIN, closed=at + i * H + 5 * H)
            for i in range(n)]


def test_an_unsatisfied_rating_and_its_w04_rank_a_department_below_an_equal_one(catalog: Catalog) -> None:
    t = datetime(2026, 5, 4, 9, tzinfo=TZ)
    eco, samr = _attendances("ECO", 5, at=t), _attendances("SAMR", 5, at=t)
    for a in (*eco, *samr):
        a.update(rating_timeliness=5, rating_adequacy=5)
    samr[0].update(rating_adequacy=2)  # 不满意: the township's rating, and the W04 it raises
    facts = EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([*eco, *samr]),
                            warnings=pd.DataFrame([warning("W04", "yellow", samr[0], at=t + 6 * H)]))
    table = evaluate_departments(facts, catalog, period=MAY)
    e, s = row(table, "department", "ECO"), row(table, "department", "SAMR")
    assert (e["rank"], s["rank"]) == (1, 2) and s.score < e.score
    # the same on time, duty and outcome; only the rating and the warning differ
    assert (e.on_time_rate, e.duty_rate, e.outcome_rate) == (s.on_time_rate, s.duty_rate, s.outcome_rate)
    assert e.rating_score == 1.0 and s.rating_score == pytest.approx(((5 + 4.4) / 2 - 1) / 4)
    assert s.score_base < e.score_base
    assert (e.warning_points, s.warning_points) == (0, catalog.warning_rules["W04"].points("yellow"))
    assert s.deduction == pytest.approx(2 * 100 / 5)  # 2 points on 5 whistles: 40 per 100 whistles
    assert s.score == pytest.approx(s.score_base - 40)
    assert list(table["department"][:2]) == ["ECO", "SAMR"]


def test_the_deduction_is_the_sum_of_the_periods_warnings_and_the_score_stops_at_zero(catalog: Catalog) -> None:
    t = datetime(2026, 5, 4, 9, tzinfo=TZ)
    eco = _attendances("ECO", 6, at=t, late=2)
    samr = _attendances("SAMR", 5, at=t, late=5)
    warnings = [
        warning("W01", "yellow", eco[0], at=t + H), warning("W01", "yellow", eco[1], at=t + 2 * H),
        warning("W05", "yellow", eco[2], at=t + 3 * H), warning("W05", "red", eco[2], at=t + 4 * H),
        warning("W08", "yellow", eco[3], at=t + 5 * H, kind="location"),  # a recurrence on a case ECO leads
        warning("W99", "red", eco[4], at=t + 6 * H),                        # not in the lists: no points
        warning("W02", "red", eco[5], at=datetime(2026, 6, 2, tzinfo=TZ)),   # June: not May's
        *(warning("W02", "red", a, at=t + 7 * H) for a in samr for _ in range(8)),  # 40 points
    ]
    table = evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([*eco, *samr]),
                                                 warnings=pd.DataFrame(warnings)), catalog, period=MAY)
    e, s = row(table, "department", "ECO"), row(table, "department", "SAMR")
    rules = catalog.warning_rules
    expected = sum(rules[code].points(level) for code, level in (
        ("W01", "yellow"), ("W01", "yellow"), ("W05", "yellow"), ("W05", "red"), ("W08", "yellow")))
    assert e.warning_points == pytest.approx(expected) == 1 + 1 + 0 + 1 + 1
    assert e.deduction == pytest.approx(expected * 100 / 6)  # 6 whistles
    assert e.score == pytest.approx(max(0.0, e.score_base - expected * 100 / 6))
    assert s.warning_points == pytest.approx(40 * rules["W02"].points("red"))
    assert s.deduction == pytest.approx(40 * 3 * 100 / 5) and s.score_base < s.deduction
    assert s.score == 0.0 and s["rank"] == 2  # floored at 0, still ranked (last)
    frame = report_frame(table)
    assert {"警示扣分(每百次接哨)", "警示分(未折算)", "扣分前得分", "综合得分"} <= set(frame.columns)


def test_too_few_whistles_are_scored_but_not_ranked(catalog: Catalog) -> None:
    t = datetime(2026, 5, 4, 9, tzinfo=TZ)
    fire = _attendances("FIRE", MIN_RANKED_WHISTLES - 2, at=t)          # 3 whistles, all on time
    water = _attendances("WATER", MIN_RANKED_WHISTLES, at=t, late=2)    # 5 whistles, 2 late
    table = evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([*fire, *water])),
                                 catalog, period=MAY)
    f, w = row(table, "department", "FIRE"), row(table, "department", "WATER")
    assert f.score > w.score  # the better figures, on three whistles
    assert w["rank"] == 1 and pd.isna(f["rank"])
    assert f.small_sample and not w.small_sample
    assert list(table["department"][:2]) == ["WATER", "FIRE"]  # the ranked first, then the small sample
    rows = render_table(table)
    assert rows[1][:3] == ("1", "主责", "区水务局") and rows[2][0] == "样本少"
    assert render_table(table, "en")[2][0] == "few"


def test_townships_come_busiest_first_with_their_own_deductions(catalog: Catalog) -> None:
    t = datetime(2026, 5, 3, 9, tzinfo=TZ)

    def case(town: str) -> dict[str, Any]:
        return {"incident_id": str(uuid.uuid4()), "category": "ENV-01", "township_code": town, "status": "reported",
                "observed_at": t, "whistled_at": None, "closed_at": None, "likely_duplicate_of": None,
                "resolution_due": None}

    cases = [case("T1"), case("T3"), case("T3"), case("T3"), case("T2"), case("T2")]
    base = {"level": "yellow", "incident_id": None, "assignment_id": None, "raised_at": t + H,
            "lead_department": None}
    warnings = [
        {**base, "warning_id": 1, "rule_code": "W09", "subject_kind": "township", "subject_code": "T2",
         "township_code": None},
        {**base, "warning_id": 2, "rule_code": "W08", "subject_kind": "location",
         "subject_code": cases[4]["incident_id"], "incident_id": cases[4]["incident_id"], "township_code": "T2"},
        {**base, "warning_id": 3, "rule_code": "W12", "level": "notice", "subject_kind": "township",
         "subject_code": "T1", "township_code": None},
    ]
    facts = EvaluationFacts(as_of=t + 2 * H, cases=pd.DataFrame(cases), warnings=pd.DataFrame(warnings),
                            townships=pd.DataFrame({"township_code": ["T1", "T2", "T3", "T4"],
                                                    "name": ["一镇", "二镇", "三镇", "四镇"]}))
    table = evaluate_townships(facts, catalog, period=MAY)
    assert list(table["township_code"]) == ["T3", "T2", "T1", "T4"]  # 3, 2, 1, 0 cases — not by code
    points = catalog.warning_rules
    assert dict(zip(table["township_code"], table["warning_points"], strict=True)) == {
        "T3": 0, "T2": points["W09"].points("yellow") + points["W08"].points("yellow"),
        "T1": points["W12"].points("notice"), "T4": 0}
    # charged per 100 cases, counted as at least 5: T2's 2 points on 2 cases → 2 × 100 / 5
    assert table.set_index("township_code").at["T2", "deduction"] == pytest.approx(40.0)
    assert render_table(table)[0][-1] == "扣分/百件"


# -- a score fair to how often a department is summoned (F12) --------------------------------------------------
def test_the_deduction_is_per_100_whistles_so_the_busiest_best_department_is_not_last(catalog: Catalog) -> None:
    t = datetime(2026, 5, 4, 9, tzinfo=TZ)
    eco = _attendances("ECO", 100, at=t, late=10)      # 90 % on time; 10 W01 and 5 W11: 20 points on 100 whistles
    water = _attendances("WATER", 10, at=t, late=4)    # 60 % on time; 4 W01: 4 points on 10 whistles
    warnings = [*(warning("W01", "yellow", a, at=t + 6 * H) for a in eco[:10]),
                *(warning("W11", "yellow", a, at=t + 7 * H) for a in eco[10:15]),
                *(warning("W01", "yellow", a, at=t + 6 * H) for a in water[:4])]
    table = evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([*eco, *water]),
                                                 warnings=pd.DataFrame(warnings)), catalog, period=MAY)
    e, w = row(table, "department", "ECO"), row(table, "department", "WATER")
    assert e.on_time_rate > w.on_time_rate and e.score_base > w.score_base
    assert (e.warning_points, w.warning_points) == (20, 4)           # counted raw, ECO has five times the points
    assert (e.deduction, w.deduction) == (pytest.approx(20.0), pytest.approx(40.0))  # per 100 whistles
    assert (e["rank"], w["rank"]) == (1, 2)                          # raw, WATER would be first (43.5 > 38.75)
    assert e.score == pytest.approx(e.score_base - 20) and w.score == pytest.approx(w.score_base - 40)
    # the lists set the exposure: per 10 whistles instead of 100 is a tenth of the deduction
    per10 = dataclasses.replace(catalog, mechanism={**catalog.mechanism, "deductions_per_exposure": 10})
    assert row(evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([*eco, *water]),
                                                    warnings=pd.DataFrame(warnings)), per10, period=MAY),
               "department", "ECO").deduction == pytest.approx(2.0)


def test_scores_floored_at_zero_are_ranked_on_the_net_score_and_the_output_says_why(catalog: Catalog) -> None:
    t = datetime(2026, 5, 4, 9, tzinfo=TZ)
    eco, water = _attendances("ECO", 5, at=t), _attendances("WATER", 5, at=t)
    warnings = [*(warning("W02", "red", a, at=t + 6 * H) for a in eco for _ in range(2)),   # 30 points: 600
                *(warning("W02", "red", a, at=t + 6 * H) for a in water)]                   # 15 points: 300
    table = evaluate_departments(EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame([*eco, *water]),
                                                 warnings=pd.DataFrame(warnings)), catalog, period=MAY)
    e, w = row(table, "department", "ECO"), row(table, "department", "WATER")
    assert e.score == w.score == 0.0 and e.score_net < w.score_net < 0
    assert (w["rank"], e["rank"]) == (1, 2)  # not a tie at the floor: the one further below it is last
    assert list(table["department"][:2]) == ["WATER", "ECO"]
    notes = floor_notes(table)
    assert len(notes) == 1 and "区生态环境局 扣分 600.0（警示分 30）> " in notes[0] and "区水务局" in notes[0]
    assert "net" in floor_notes(table, "en")[0]
    assert floor_notes(table[table["department"] == "PNR"]) == []
    assert "每 100 次接哨" in score_note() and "per 100 whistles" in score_note("en")


def test_township_teams_are_told_apart_and_ranked_among_themselves(catalog: Catalog) -> None:
    """TOWN is one team per township: its summons count for the team of the township they were for, each team
    with its own officers and name, ranked in a ranking of their own; a summons with no township (stored before
    the teams were told apart) stays with TOWN as a whole."""
    t = datetime(2026, 5, 3, 9, tzinfo=TZ)
    towns = pd.DataFrame({"township_code": ["T1", "T2"], "name": ["金海湖镇", "大华山镇"]})
    rows = []
    for i in range(6):   # T1's team always on time, T2's never there; one old summons with no township
        rows.append({**assignment("TOWN", summoned=t + i * H, reported=t + i * H + 5 * MIN), "team_township": "T1"})
        rows.append({**assignment("TOWN", summoned=t + i * H, township="T2"), "team_township": "T2"})
    rows.append({**assignment("TOWN", summoned=t, reported=t + 50 * MIN), "team_township": None})
    # T1's team records a measure of a rule TOWN leads: its own duty rate, not T2's
    town_measure = next(m for rule in catalog.rules if rule.lead == "TOWN" for m in rule.measures)
    first = rows[0]
    records = pd.DataFrame([{"record_id": 1, "assignment_id": first["assignment_id"],
                             "incident_id": first["incident_id"], "department": "TOWN", "action_type": "ORDER",
                             "measures": [town_measure], "penalty_amount": None, "officer": "x",
                             "acted_at": t + H, "team_township": "T1"}])
    facts = EvaluationFacts(as_of=AS_OF, assignments=pd.DataFrame(rows), townships=towns, records=records)
    table = evaluate_departments(facts, catalog, period=MAY).set_index("department")
    listed = len({m for rule in catalog.rules if rule.lead == "TOWN" for m in rule.measures})
    assert (table.loc["TOWN@T1", "measures_used"], table.loc["TOWN@T1", "measures_listed"]) == (1, listed)
    assert (table.loc["TOWN@T2", "measures_used"], table.loc["TOWN@T2", "measures_listed"]) == (0, listed)
    assert table.loc["TOWN@T1", "actions"] == 1 and table.loc["TOWN@T2", "actions"] == 0
    one, two = table.loc["TOWN@T1"], table.loc["TOWN@T2"]
    assert (one["whistles"], one["on_time"], one["absent"]) == (6, 6, 0)
    assert (two["whistles"], two["on_time"], two["absent"]) == (6, 0, 6)
    assert table.loc["TOWN", "whistles"] == 1 and table.loc["TOWN", "late"] == 1
    assert one["name"] == "金海湖镇综合行政执法队" and one["team_township"] == "T1"
    assert one["officers"] == catalog.departments["TOWN"].officers_per_township
    assert table.loc["TOWN", "officers"] == catalog.departments["TOWN"].officers
    assert (one["ranking"], one["rank"], two["rank"]) == ("township_team", 1, 2)
    assert table.loc["ECO", "ranking"] == "lead" and pd.isna(table.loc["ECO", "team_township"])
    # in a table a team reads by its township, not cut to seven characters of "综合行政执法队"
    rendered = render_table(table.reset_index())
    names = {r[2] for r in rendered[1:]}
    assert "金海湖镇执法队" in names and "大华山镇执法队" in names and "街乡执法队" in {r[1] for r in rendered[1:]}
