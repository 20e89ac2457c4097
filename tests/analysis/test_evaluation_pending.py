"""Evaluation of a period still under way: attendances not yet due are pending (not judged), no-shows are
judged, empty periods compare as unknown, periods parse strictly, township tables show names."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gis_enforcement.analysis.compare import compare_periods, district_metrics
from gis_enforcement.analysis.evaluate_service import evaluate
from gis_enforcement.analysis.evaluation import (
    ASSIGNMENT_COLUMNS,
    TZ,
    EvaluationFacts,
    evaluate_departments,
    parse_period,
)
from gis_enforcement.analysis.evaluation_table import render_table
from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.dispatch.helpers import new_case

MIN = timedelta(minutes=1)
_ids = iter(range(10_000, 20_000))


def assignment(department: str, *, summoned: datetime, reported: datetime | None = None,
               due_minutes: float = 30, role: str = "lead") -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(ASSIGNMENT_COLUMNS)
    out.update(assignment_id=next(_ids), incident_id=uuid.uuid4(), whistle_id=1, whistle_mode="township",
               whistler_unit="T1", department=department, role=role,
               status="summoned" if reported is None else "on_site", summoned_at=summoned,
               report_in_due=summoned + due_minutes * MIN, reported_in_at=reported, stood_down_at=None,
               resolution_due=summoned + timedelta(hours=168), category="ENV-01", township_code="T1",
               case_status="whistled", whistled_at=summoned, closed_at=None)
    return out


def no_show(a: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"warning_id": a["assignment_id"], "rule_code": "W02", "level": "red", "subject_kind": "department",
            "subject_code": a["department"], "incident_id": str(a["incident_id"]),
            "assignment_id": a["assignment_id"], "raised_at": at, "township_code": "T1", "lead_department": None}


def by_department(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("department")


# -- an ongoing day ----------------------------------------------------------------------------------------------
def test_an_ongoing_day_judges_only_what_is_due(catalog: Catalog) -> None:
    day = parse_period("2026-11-27")
    t = datetime(2026, 11, 27, 9, tzinfo=TZ)
    now = t + 40 * MIN
    water = assignment("WATER", summoned=t + 35 * MIN)          # whistled 5 minutes ago: pending
    town = assignment("TOWN", summoned=t + 30 * MIN)            # pending too
    eco = assignment("ECO", summoned=t)                         # deadline t + 30 passed, no check-in: absent
    pnr = assignment("PNR", summoned=t - 70 * MIN, due_minutes=120)  # deadline ahead, but W02 raised: absent
    samr = assignment("SAMR", summoned=t, reported=t + 10 * MIN)     # on time
    facts = EvaluationFacts(as_of=now, assignments=pd.DataFrame([water, town, eco, pnr, samr]),
                            warnings=pd.DataFrame([no_show(pnr, t - 9 * MIN)]))
    table = by_department(evaluate_departments(facts, catalog, period=day))
    for dep in ("WATER", "TOWN"):
        r = table.loc[dep]
        assert (r.whistles, r.pending, r.expected_report_ins, r.absent, r.late) == (1, 1, 0, 0, 0)
        assert math.isnan(r.duty_rate) and math.isnan(r.on_time_rate), dep   # no occasion yet
        assert math.isnan(r.score) and pd.isna(r["rank"]), dep                 # not judged: no score, not 0
    for dep in ("ECO", "PNR"):
        r = table.loc[dep]
        assert (r.pending, r.expected_report_ins, r.absent) == (0, 1, 1), dep
        assert r.score == pytest.approx(0.0) and r.small_sample, dep   # absent: judged, badly (one whistle: no rank)
    assert table.loc["SAMR", "score"] > 0 and table.loc["SAMR", "small_sample"]
    assert not table.loc["WATER", "small_sample"]  # not scored at all
    rows = render_table(evaluate_departments(facts, catalog, period=day), "en")
    water_row = next(r for r in rows if "WATER" in r)
    assert water_row[0] == "—" and water_row[-1] == "—"


def test_the_end_of_a_period_is_its_now(catalog: Catalog) -> None:
    may = parse_period("2026-05")
    late_in_may = datetime(2026, 5, 31, 23, 50, tzinfo=TZ)
    eco = assignment("ECO", summoned=late_in_may, role="assist")    # deadline 1 June 00:20, after the period
    samr = assignment("SAMR", summoned=late_in_may, role="assist")  # the same, but found absent after it
    facts = EvaluationFacts(as_of=datetime(2026, 6, 11, tzinfo=TZ), assignments=pd.DataFrame([eco, samr]),
                            warnings=pd.DataFrame([no_show(samr, late_in_may + 61 * MIN)]))
    table = by_department(evaluate_departments(facts, catalog, period=may))
    assert (table.loc["ECO", "pending"], table.loc["ECO", "absent"]) == (1, 0)
    assert math.isnan(table.loc["ECO", "score"])
    assert (table.loc["SAMR", "pending"], table.loc["SAMR", "absent"]) == (0, 1)
    assert table.loc["SAMR", "score"] == pytest.approx(0.0)


def test_a_no_show_after_the_period_is_read_from_the_database(db: Session, locator: Locator, catalog: Catalog,
                                                              jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[30]
    inc = new_case(db, locator, catalog, v.geometry.x, v.geometry.y)  # observed 12 May
    at = datetime(2026, 5, 31, 23, 50, tzinfo=TZ)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=v["township_code"], at=at)
    lead, *others = result.assignments
    for other in others:
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=other.department, lon=v.geometry.x,
                          lat=v.geometry.y, accuracy_m=5, server_time=at + 5 * MIN)
    may = parse_period("2026-05")
    during = evaluate(db, catalog=catalog, start=may.start, end=may.end, as_of=at + 5 * MIN)
    r = by_department(during).loc[lead.department]
    assert (r.pending, r.absent) == (1, 0) and math.isnan(r.score)
    raised = tick(db, catalog=catalog, now=at + 61 * MIN)
    assert ("W02", lead.department) in {(w["rule_code"], w["subject_code"]) for w in raised}
    after = evaluate(db, catalog=catalog, start=may.start, end=may.end, as_of=datetime(2026, 6, 11, tzinfo=TZ))
    r = by_department(after).loc[lead.department]
    assert (r.pending, r.absent) == (0, 1) and r.score == pytest.approx(0.0)


# -- compare ---------------------------------------------------------------------------------------------------
def _table(whistles: list[int], actions: list[int], penalties: list[int], used: list[int],
           duty: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"department": ["A", "B"], "whistles": whistles, "actions": actions, "penalties": penalties,
                         "officers": [100.0, 20.0], "measures_used": used, "measures_listed": [6, 4],
                         "on_time": [0, 0], "expected_report_ins": [0, 0], "duty_rate": duty})


def test_a_period_without_data_has_unknown_metrics_and_changes() -> None:
    nan = float("nan")
    empty = _table([0, 0], [0, 0], [0, 0], [0, 0], [nan, nan])
    busy = _table([5, 2], [8, 3], [10, 2], [3, 1], [0.5, 0.25])
    m = district_metrics(empty)
    assert m.pop("whistles") == 0 and all(math.isnan(v) for v in m.values())
    for before, after in ((empty, busy), (busy, empty)):
        rows = compare_periods(before, after)
        assert rows["change_pct"].isna().all()
    after = compare_periods(busy, empty).set_index("metric")["after"]
    assert after.drop("whistles").isna().all() and after["whistles"] == 0
    # records but no department with an occasion to use its powers: no duty rate, penalties still counted
    quiet = _table([0, 0], [1, 0], [1, 0], [0, 0], [nan, nan])
    m = district_metrics(quiet)
    assert math.isnan(m["duty_rate"]) and m["penalties_per_officer"] == pytest.approx(1 / 120)


# -- periods ---------------------------------------------------------------------------------------------------
def test_periods_parse_strictly() -> None:
    for early in ("1900", "1999-12", "1999..2026", "1900-01-01"):
        with pytest.raises(InvalidInput) as err:
            parse_period(early)
        assert err.value.field == "period" and "2000" in str(err.value), early
    week = parse_period("2026-W33")
    assert (week.start, week.end) == (datetime(2026, 8, 10, tzinfo=TZ), datetime(2026, 8, 17, tzinfo=TZ))
    assert week.start.utcoffset() == timedelta(hours=8)
    assert parse_period("2026-W01..2026-W02").end == datetime(2026, 1, 12, tzinfo=TZ)
    for bad in ("2025-W53", "2026-W33-2", "2026-05-01T08:00", "9999-12", "20260512"):
        with pytest.raises(InvalidInput) as err:
            parse_period(bad)
        assert err.value.field == "period" and "not a period" in str(err.value), bad


# -- tables ----------------------------------------------------------------------------------------------------
def test_township_tables_show_names_in_english_too() -> None:
    table = pd.DataFrame({"township_code": ["110117100"], "name": ["平谷镇"], "cases": [3]})
    for lang in ("zh", "en"):
        rows = render_table(table, lang)
        assert rows[1][0] == "平谷镇" and all("110117100" not in cell for row in rows for cell in row), lang
    assert render_table(table, "en")[0][0] == "township"
