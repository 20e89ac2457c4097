"""The bulk chain writes what the single-case services write, refuses row by row, and keeps the record intact."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import bulk, on_site, resolution
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.dispatch.helpers import METRE, T0, new_case


def _events(db: Session, incident_id) -> list[tuple[str, dict]]:
    events, _ = dispatch_repo.events_of(db, incident_id=incident_id)
    return [(e.kind, e.payload) for e in events]


def _without_ids(events: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    return [(k, {key: v for key, v in p.items() if key != "whistle_id"}) for k, p in events]


def test_bulk_chain_equals_the_single_case_services(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    single, many = new_case(db, locator, catalog, x, y), new_case(db, locator, catalog, x, y)
    # single-case path
    w = whistle(db, catalog=catalog, incident_ids=[single.id], mode=TOWNSHIP, whistler=township, at=T0)
    for k, a in enumerate(w.assignments):
        on_site.report_in(db, catalog=catalog, incident_id=single.id, department=a.department, lon=x,
                          lat=y + 50 * METRE, accuracy_m=5, server_time=T0 + timedelta(minutes=10 + 20 * k))
    lead = w.assignments[0].department
    on_site.start_action(db, incident_id=single.id, department=lead, at=T0 + timedelta(hours=1))
    on_site.complete(db, incident_id=single.id, department=lead, at=T0 + timedelta(hours=2))
    resolution.resolve(db, incident_id=single.id, department=lead, at=T0 + timedelta(hours=3), summary="已整改")

    # bulk path, same times
    done = bulk.whistle_many(db, catalog=catalog, cases=pd.DataFrame(
        {"incident_id": [many.id], "whistler": [township], "at": [T0]}))
    assert done.done == 1 and done.refused.empty
    got = done.assignments
    assert list(zip(got["department"], got["role"], strict=True)) == [(a.department, a.role.value)
                                                                      for a in w.assignments]
    assert list(got["report_in_due"]) == [pd.Timestamp(a.report_in_due) for a in w.assignments]
    checkins = pd.DataFrame({"assignment_id": got["assignment_id"], "lon": x, "lat": y + 50 * METRE,
                             "accuracy_m": 5.0,
                             "server_time": [T0 + timedelta(minutes=10 + 20 * k) for k in range(len(got))]})
    assert bulk.report_in_many(db, catalog=catalog, checkins=checkins).done == len(got)
    res = bulk.resolve_many(db, resolutions=pd.DataFrame({
        "incident_id": [many.id], "started_at": [T0 + timedelta(hours=1)], "done_at": [T0 + timedelta(hours=2)],
        "resolved_at": [T0 + timedelta(hours=3)], "summary": ["已整改"]}))
    assert res.done == 1 and res.refused.empty

    assert _without_ids(_events(db, many.id)) == _without_ids(_events(db, single.id))
    for case in (single, many):
        assert verify_case_record(db, incident_id=case.id) is None
    a_single = dispatch_repo.assignments_of(db, incident_id=single.id)
    a_many = dispatch_repo.assignments_of(db, incident_id=many.id)
    for s, m in zip(a_single, a_many, strict=True):
        assert (s.department, s.status, s.minutes_late, s.reported_in_at, s.done_at) == \
            (m.department, m.status, m.minutes_late, m.reported_in_at, m.done_at)
        assert s.report_in_distance_m == pytest.approx(m.report_in_distance_m, abs=0.01)
    statuses = dict(db.execute(text("SELECT id, status FROM incident WHERE id IN (:a, :b)"),
                               {"a": single.id, "b": many.id}).all())
    assert statuses[many.id] == statuses[single.id] == "resolved"
    # the single-case services carry on from a bulk-written case
    status, _ = resolution.verify(db, incident_id=many.id, township=township, at=T0 + timedelta(hours=5))
    assert status.value in ("verified", "closed") and verify_case_record(db, incident_id=many.id) is None


def test_bulk_refuses_row_by_row(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    a, b = new_case(db, locator, catalog, x, y), new_case(db, locator, catalog, x, y)
    ghost = str(uuid.uuid4())
    result = bulk.whistle_many(db, catalog=catalog, cases=pd.DataFrame({
        "incident_id": [a.id, a.id, b.id, ghost], "whistler": [township, township, "110117999", township],
        "at": [T0] * 4}))
    assert result.done == 1
    why = {(r.key, r.field) for r in result.refused.itertuples()}
    assert why == {(str(a.id), "incident_id"), (str(b.id), "whistler"), (ghost, "incident_id")}
    assert dispatch_repo.assignments_of(db, incident_id=b.id) == []  # refused: nothing written for it

    ids = list(result.assignments["assignment_id"])
    fence = catalog.categories[a.category].geofence_m
    checkins = pd.DataFrame({"assignment_id": [ids[0], ids[1], 10**12], "lon": x,
                             "lat": [y, y + (fence + 400) * METRE, y], "accuracy_m": 5.0,
                             "server_time": [T0 + timedelta(minutes=45)] * 3})
    r = bulk.report_in_many(db, catalog=catalog, checkins=checkins)
    assert r.done == 1
    fields = dict(zip(r.refused["key"], r.refused["field"], strict=True))
    assert fields == {ids[1]: "position", 10**12: "assignment_id"}
    assert "m from the case" in r.refused.set_index("key").loc[ids[1], "reason"]
    lead = dispatch_repo.assignments_of(db, incident_id=a.id)[0]
    assert lead.status == "reported_in" and lead.minutes_late == pytest.approx(45 - (lead.report_in_due - T0)
                                                                                 .total_seconds() / 60)
    again = bulk.report_in_many(db, catalog=catalog, checkins=checkins.iloc[:1])
    assert again.done == 0 and list(again.refused["field"]) == ["status"]
    # answered as the API answers a second report-in: recorded once, with when (district time) and how timely
    assert list(again.refused["code"]) == ["already_recorded"]
    said = again.refused["reason"].iat[0]
    first = (T0 + timedelta(minutes=45)).astimezone(ZoneInfo("Asia/Shanghai")).isoformat(timespec="seconds")
    assert "already reported in" in said and first in said and "release" not in said
    unresolved = bulk.resolve_many(db, resolutions=pd.DataFrame({
        "incident_id": [b.id], "started_at": [T0], "done_at": [T0], "resolved_at": [T0], "summary": ["x"]}))
    assert unresolved.done == 0 and list(unresolved.refused["field"]) == ["incident_id"]
    with pytest.raises(InvalidInput) as naive:
        bulk.whistle_many(db, catalog=catalog, cases=pd.DataFrame({"incident_id": [a.id], "whistler": [township],
                                                                   "at": [T0.replace(tzinfo=None)]}))
    assert naive.value.field == "at"
    assert verify_case_record(db, incident_id=a.id) is None
