"""The simulator plays the whistle chain through the real services on PostGIS: reproducible for a seed,
realistic enough to show on-time and late check-ins and warnings, every record intact, no case left in an
illegal state, idempotent on a second run — and the first whistle summons every department of the lists. The
townships' desks triage nearly every report, within hours mostly, so that W13 (分拣超时) is rare."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.analysis.evaluate_service import evaluate
from gis_enforcement.analysis.evaluation import parse_period
from gis_enforcement.demo.chain import ChainSummary, play_season
from gis_enforcement.demo.habits import UNSURE
from gis_enforcement.demo.season import simulate_season
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import departments_allowed
from gis_enforcement.domain.calendar import WorkCalendar
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.storage import incident_repo

ROOT = Path(__file__).resolve().parents[2]
SEASON = {"count": 300, "seed": 11, "start": date(2026, 3, 1), "days": 45}


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar.from_yaml(ROOT / "data" / "calendar" / "cn_workdays.yaml")


def play(db: Session, jurisdiction: Jurisdiction, catalog: Catalog, locator: Locator,
         calendar: WorkCalendar, *, seed: int = 5, share: float = 0.35, photos_dir: Path) -> ChainSummary:
    """A small simulated season through the real intake, then the chain played over it."""
    features = simulate_season(jurisdiction, catalog, **SEASON)
    ingest(db, parse_geojson({"type": "FeatureCollection", "features": features}), locator=locator,
           catalog=catalog)
    frame = incident_repo.incidents_frame(db)
    return play_season(db, catalog=catalog, calendar=calendar, incidents=frame, seed=seed, share=share,
                       locator=locator, photos_dir=photos_dir)


def test_the_chain_plays_legally_and_only_once(db: Session, jurisdiction: Jurisdiction, catalog: Catalog,
                                               locator: Locator, calendar: WorkCalendar, tmp_path: Path) -> None:
    s = play(db, jurisdiction, catalog, locator, calendar, photos_dir=tmp_path)
    assert s.anomalies == []
    # every photo a record names was uploaded to its case, and its file is stored
    named, on_case = db.execute(text(
        "SELECT count(*), count(l.sha256) FROM enforcement_record r CROSS JOIN jsonb_array_elements(r.photos) p "
        "LEFT JOIN incident_photo l ON l.incident_id = r.incident_id AND l.sha256 = p->>'sha256'")).one()
    assert named > 0 and on_case == named
    # every step of the chain names who took it, as the API's do
    nameless = db.execute(text(
        "SELECT DISTINCT e.kind FROM case_event e WHERE e.actor IS NULL AND e.kind <> 'warning' "
        "ORDER BY 1")).scalars().all()
    assert nameless == [], nameless
    assert len([f for f in tmp_path.rglob("*") if f.is_file()]) == db.execute(
        text("SELECT count(DISTINCT sha256) FROM incident_photo")).scalar_one()
    assert s.played == s.whistled > 60 and s.skipped == 0
    # reports the patrol could not name (类别待定) were named by their township from the patrol's words before
    # any whistle; no whistled case is left under the placeholder
    assert s.reclassified > 0
    named = db.execute(text(
        "SELECT i.category, i.reported_category, i.description, i.whistled_at IS NULL OR i.whistled_at > e.at "
        "FROM incident i JOIN case_event e ON e.incident_id = i.id AND e.kind = 'reclassify'")).all()
    assert len(named) == s.reclassified
    assert all(filed == "OTH-00" and UNSURE[now] in words and before for now, filed, words, before in named)
    assert db.execute(text("SELECT count(*) FROM incident WHERE category = 'OTH-00' AND whistled_at IS NOT NULL")
                      ).scalar_one() == 0
    assert s.summoned > 2 * s.whistled
    assert s.on_time > 0.6 * s.summoned and s.late > 0 and s.absent > 0
    assert s.warnings.get("W01", 0) > 0 and s.warnings.get("W02", 0) > 0
    assert s.resolved == s.whistled and s.closed + s.reopened == s.whistled
    assert s.follow_ups > 0 and s.penalties > 0
    assert sum(r.summoned for r in s.departments) == s.summoned
    assert s.on_time + s.late + s.absent + s.declined == s.summoned  # each department counted once
    # the demo's township table and `evaluate --by township` mean the same by a township's own warnings (W09,
    # W12: about the township itself) and count the recurrences (W08) apart
    year = parse_period("2026")
    towns = evaluate(db, catalog=catalog, start=year.start, end=year.end, by="township").set_index("township_code")
    assert sum(r.own_warnings for r in s.townships) > 0
    for r in s.townships:
        assert (r.own_warnings, r.recurrences) == (towns.at[r.code, "own_warnings"],
                                                  towns.at[r.code, "recurrences"]), r.code
    assert all(r.on_time + r.late + r.absent + r.declined == r.summoned for r in s.departments)
    assert sum(t.cases for t in s.townships) == s.whistled

    # the desks (分拣): each report came in a minute or two after it was seen (out of a phone's queue: hours); a
    # clear majority is triaged — most of it whistled, the rest marked 重复 or declined with a reason — nearly all
    # within the lists' window, as `evaluate --by township` counts it; a report left a day raised W13 once
    lag = db.execute(text("SELECT min(received_at - observed_at), max(received_at - observed_at) FROM incident")
                     ).one()
    assert timedelta(0) < lag[0] and lag[1] <= timedelta(hours=6)
    assert s.reports > 250 and s.triaged > 0.9 * s.reports and s.untriaged == s.reports - s.triaged
    assert s.duplicates > 0 and s.not_accepted > 0 and s.whistled > s.not_accepted + s.duplicates
    assert s.triaged_on_time > 0.9 * s.triaged
    for r in s.townships:
        assert (r.reports, r.untriaged) == (towns.at[r.code, "reports"], towns.at[r.code, "untriaged"]), r.code
    late = db.execute(text(
        "SELECT w.raised_at, i.received_at, (SELECT min(e.at) FROM case_event e WHERE e.incident_id = i.id AND "
        "e.kind IN ('triage', 'whistle', 'reject', 'mark_duplicate', 'reclassify')) FROM warning w "
        "JOIN incident i ON i.id = w.incident_id WHERE w.rule_code = 'W13'")).all()
    assert 0 < len(late) == s.warnings["W13"] == sum(r.triage_warnings for r in s.townships) <= 0.05 * s.reports
    assert all(raised >= came + timedelta(hours=catalog.triage_within_hours) and (first is None or first > raised)
               for raised, came, first in late)

    # every report a desk touched: an intact record; events in time order and after the observation
    touched = db.execute(text("SELECT id FROM incident WHERE event_count > 0")).scalars().all()
    assert len(touched) >= s.triaged
    for cid in touched:
        assert verify_case_record(db, incident_id=cid) is None
    cases = db.execute(text("SELECT id, status, observed_at FROM incident WHERE whistled_at IS NOT NULL")).all()
    assert len(cases) == s.whistled
    out_of_order = db.execute(text(
        "SELECT count(*) FROM (SELECT e.at, i.observed_at, lag(e.at) OVER (PARTITION BY e.incident_id ORDER BY "
        "e.seq) AS before FROM case_event e JOIN incident i ON i.id = e.incident_id) x "
        "WHERE x.at <= x.observed_at OR x.at < x.before")).scalar_one()
    assert out_of_order == 0

    # no case left in an illegal state: closed cases have the lead done and every assist done or released,
    # reopened ones went through resolve; nobody is left half-way on a closed case
    assert {status for _, status, _ in cases} <= {"closed", "reopened"}
    bad = db.execute(text(
        "SELECT count(*) FROM assignment a JOIN incident i ON i.id = a.incident_id WHERE i.status = 'closed' AND "
        "((a.role = 'lead' AND a.status <> 'done') OR (a.role = 'assist' AND a.status NOT IN ('done', 'released')))"
    )).scalar_one()
    assert bad == 0
    assert db.execute(text("SELECT count(*) FROM incident WHERE status = 'closed' AND closed_at IS NULL")
                      ).scalar_one() == 0

    # the first whistle: one MIN-01 case in 金海湖镇 with every department the lists allow, all on site
    assert s.story_incident is not None
    story = db.execute(text("SELECT i.category, t.name FROM incident i JOIN township t ON t.code = i.township_code "
                            "WHERE i.id = :id"), {"id": s.story_incident}).one()
    assert story.category == "MIN-01" and story.name.startswith("金海湖镇")
    assert set(s.story_departments) == departments_allowed(catalog, "MIN-01")
    came = db.execute(text("SELECT count(*) FROM assignment WHERE incident_id = :id AND reported_in_at IS NOT NULL"),
                      {"id": s.story_incident}).scalar_one()
    assert came == len(s.story_departments) and len(s.story) >= 3 + came

    # a second run over the stored season plays nothing and reports the same chain
    frame = incident_repo.incidents_frame(db)
    again = play_season(db, catalog=catalog, calendar=calendar, incidents=frame, seed=5, locator=locator,
                        photos_dir=tmp_path)
    assert again.played == 0 and again.skipped > 0 and again.anomalies == []
    assert again.counts() == s.counts() and again.story == s.story


def test_the_same_season_and_seed_play_the_same(db: Session, jurisdiction: Jurisdiction, catalog: Catalog,
                                                locator: Locator, calendar: WorkCalendar, tmp_path: Path) -> None:
    runs = []
    for _ in range(2):
        savepoint = db.begin_nested()
        s = play(db, jurisdiction, catalog, locator, calendar, share=0.2, photos_dir=tmp_path)
        kinds = db.execute(text("SELECT kind, count(*) FROM case_event GROUP BY kind ORDER BY kind")).all()
        runs.append((s.counts(), s.story, s.departments, s.townships, [tuple(k) for k in kinds]))
        savepoint.rollback()
    assert runs[0] == runs[1]
    assert isinstance(runs[0][0]["warnings"], dict)


def test_share_is_checked(db: Session, catalog: Catalog, calendar: WorkCalendar, tmp_path: Path) -> None:
    from gis_enforcement.errors import InvalidInput

    with pytest.raises(InvalidInput):
        play_season(db, catalog=catalog, calendar=calendar, incidents=incident_repo.incidents_frame(db), seed=1,
                    share=1.5, photos_dir=tmp_path)
    empty = play_season(db, catalog=catalog, calendar=calendar, incidents=incident_repo.incidents_frame(db), seed=1,
                        photos_dir=tmp_path)
    assert empty.whistled == 0 and empty.story == [] and isinstance(empty.story_incident, (UUID, type(None)))
