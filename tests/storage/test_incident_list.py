"""Listing incidents (``incident_repo.list_incidents``): the page and the total a filter selects, by township code
or name, within a caller's scope, in pages — checked against the whole list filtered in Python — and the plan
of the scope's border cases, which must be able to use their index."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.domain.access import IncidentScope
from gis_enforcement.domain.records import Incident
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from gis_enforcement.storage import incident_repo
from gis_enforcement.storage.incident_repo import IncidentFilter


@pytest.fixture
def stored(db: Session, jurisdiction, catalog, locator, tmp_path: Path) -> list[Incident]:  # type: ignore[no-untyped-def]
    """800 simulated incidents stored (rolled back with the test), as the full list orders them."""
    path = tmp_path / "season.csv"
    simulate_incident_table(jurisdiction, catalog, count=800, seed=31).to_csv(path, index=False)
    report = ingest(db, read_intake_file(path), locator=locator, catalog=catalog)
    assert report.accepted == 800
    items, total = incident_repo.list_incidents(db, filters=IncidentFilter(), limit=1000)
    assert total == len(items) >= 800
    return items


def _newest_first(items: list[Incident]) -> list[Incident]:
    by_id = sorted(items, key=lambda i: i.id)
    return sorted(by_id, key=lambda i: i.observed_at, reverse=True)  # stable: ties by id, as the SQL orders them


def _border_township(items: list[Incident]) -> str:
    """A township with cases of its own and cases of its neighbours flagged near its border."""
    counts: dict[str, int] = {}
    for i in items:
        for t in i.border_townships:
            if t != i.township_code:
                counts[t] = counts.get(t, 0) + 1
    assert counts, "the simulated season has no case near a border"
    return max(counts, key=lambda t: counts[t])


def test_the_whole_list_is_newest_first(stored: list[Incident]) -> None:
    assert [i.id for i in stored] == [i.id for i in _newest_first(stored)]


def test_a_township_by_code_or_by_name_selects_its_cases(db: Session, stored: list[Incident]) -> None:
    town = _border_township(stored)
    name = db.execute(text("SELECT name FROM township WHERE code = :c"), {"c": town}).scalar_one()
    expected = [i.id for i in stored if i.township_code == town]
    assert 0 < len(expected) < len(stored)
    for asked in (town, name):
        items, total = incident_repo.list_incidents(db, filters=IncidentFilter(township=asked), limit=1000)
        assert [i.id for i in items] == expected, asked
        assert total == len(expected)
    none, total = incident_repo.list_incidents(db, filters=IncidentFilter(township="no such township"))
    assert none == [] and total == 0


def test_pages_follow_one_another(db: Session, stored: list[Incident]) -> None:
    town = _border_township(stored)
    f = IncidentFilter(township=town, status="reported")
    expected = [i.id for i in stored if i.township_code == town and i.status.value == "reported"]
    pages = []
    for offset in range(0, len(expected) + 7, 7):
        items, total = incident_repo.list_incidents(db, filters=f, limit=7, offset=offset)
        assert total == len(expected)
        assert len(items) == min(7, max(0, len(expected) - offset))
        pages += [i.id for i in items]
    assert pages == expected


def test_a_township_scope_holds_its_cases_and_those_near_its_border(db: Session, stored: list[Incident]) -> None:
    town = _border_township(stored)
    scope = IncidentScope(townships=(town,), border_of=(town,))
    expected = [i.id for i in stored if i.township_code == town or town in i.border_townships]
    neighbours = [i for i in stored if i.township_code != town and town in i.border_townships]
    assert neighbours, "no neighbour's case near the border: the test would not see that part of the scope"
    items, total = incident_repo.list_incidents(db, filters=IncidentFilter(scope=scope), limit=1000)
    assert [i.id for i in items] == expected and total == len(expected)
    border_only, total = incident_repo.list_incidents(
        db, filters=IncidentFilter(scope=IncidentScope(border_of=(town,))), limit=1000)
    assert [i.id for i in border_only] == [i.id for i in stored if town in i.border_townships]
    assert total == len(border_only)


def test_the_border_part_of_a_scope_can_use_its_index(db: Session, stored: list[Incident]) -> None:
    """Without an index the border part of a township's scope reads the whole table on every list; the index is
    partial (border cases only), so the clause must imply its predicate for the planner to use it."""
    town = _border_township(stored)
    clause, params = incident_repo.scope_clause(IncidentScope(border_of=(town,)))
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(r[0] for r in db.execute(text(f"EXPLAIN SELECT count(*) FROM incident i WHERE {clause}"),
                                              params))
    db.execute(text("SET LOCAL enable_seqscan = on"))
    assert "incident_border_townships_gin" in plan, plan


def test_a_neighbours_township_within_a_scope_keeps_only_the_cases_near_the_border(
        db: Session, stored: list[Incident]) -> None:
    """A dispatcher asking for a neighbour's cases sees only those near their own border; asking for their own
    township (by code or by name) sees all of its cases, the scope then adding nothing."""
    town = _border_township(stored)
    scope = IncidentScope(townships=(town,), border_of=(town,))
    neighbour = max({i.township_code for i in stored if i.township_code != town and town in i.border_townships},
                    key=lambda t: sum(i.township_code == t for i in stored))
    expected = [i.id for i in stored if i.township_code == neighbour and town in i.border_townships]
    assert 0 < len(expected) < sum(i.township_code == neighbour for i in stored)
    items, total = incident_repo.list_incidents(db, filters=IncidentFilter(township=neighbour, scope=scope),
                                                limit=1000)
    assert [i.id for i in items] == expected and total == len(expected)
    name = db.execute(text("SELECT name FROM township WHERE code = :c"), {"c": town}).scalar_one()
    own = [i.id for i in stored if i.township_code == town]
    for asked in (town, name):
        items, total = incident_repo.list_incidents(db, filters=IncidentFilter(township=asked, scope=scope),
                                                    limit=1000)
        assert [i.id for i in items] == own and total == len(own), asked


def test_a_dispatchers_own_open_cases_come_from_the_township_index_alone(db: Session, stored: list[Incident]) -> None:
    """The total is counted from the (township, status, time) index without the table, and the page is its
    first entries, newest first, without sorting every match: a dispatcher's list does not read the township's
    ~10^4 stored cases (at 10^5 in all) on every request."""
    town = _border_township(stored)
    f = IncidentFilter(township=town, status="reported", scope=IncidentScope(townships=(town,), border_of=(town,)))
    count, page, params = incident_repo.list_statements(f, incident_repo.township_codes(db, town))
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        db.execute(text(f"SET LOCAL {setting} = off"))
    count_plan = "\n".join(r[0] for r in db.execute(text("EXPLAIN " + count), params))
    page_plan = "\n".join(r[0] for r in db.execute(text("EXPLAIN " + page), {**params, "limit": 10, "offset": 0}))
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        db.execute(text(f"SET LOCAL {setting} = on"))
    assert "Index Only Scan using incident_township_status_time_idx" in count_plan, count_plan
    lines = page_plan.splitlines()
    below_limit = next(lines[k + 1] for k, line in enumerate(lines) if "Limit" in line)
    assert "Index Only Scan using incident_township_status_time_idx" in below_limit, page_plan  # no Sort between
