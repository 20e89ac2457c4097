"""``submit_one`` (one Feature, plain Python, two statements) stores what the batch intake stores for the same
Feature: the same incident row, batch row, whistle plan, flags, duplicate and recurrence links, and the same
errors. Both paths run the same sequence of varied submissions from the same database state (a savepoint
each) and everything they leave behind is compared."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.datum import from_wgs84
from gis_enforcement.domain.records import Incident
from gis_enforcement.errors import ConcurrentIntake, EnforcementError, IdempotencyConflict, InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.patrol.submit import submit_one
from gis_enforcement.storage import incident_repo

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
METRE = 1 / 111_320


def feature(lon: float, lat: float, *, category: str = "ENV-01", at: datetime = T0, fid: str | None = None,
            **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid or str(uuid.uuid4()),
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": category, "observed_at": at.isoformat(), "accuracy_m": 8,
                           "reporter": "巡查一队", **props}}


def batch_submit(session: Session, f: dict[str, Any], *, locator: Any, catalog: Catalog,
                 created_by: str | None = None, source: str | None = None) -> tuple[Incident, bool]:
    """The reference: one Feature through ``ingest`` as a batch of one, all or nothing, its first error raised
    as the API raises it (what ``submit_one`` did before it had a path of its own)."""
    report = ingest(session, parse_geojson(f, source=source), locator=locator, catalog=catalog, now=NOW,
                    all_or_nothing=True, created_by=created_by)
    if report.errors:
        first = report.errors[0]
        detail = {"errors": [e.to_dict() for e in report.errors]}
        if first.field == "id" and "different content" in first.reason:
            raise IdempotencyConflict(f"incident {first.id} {first.reason}", field="id", **detail)
        raise InvalidInput(first.reason, field=first.field, **detail)
    incident = incident_repo.get_incident(session, incident_id=uuid.UUID((report.accepted_ids or report.stored_ids)[0]))
    assert incident is not None
    return incident, bool(report.accepted_ids)


def near_border_point(jurisdiction: Jurisdiction, locator: Locator) -> tuple[float, float]:
    towns = jurisdiction.townships.set_index("code")
    shared = shapely.get_coordinates(shapely.intersection(towns.geometry["110117001"].boundary,
                                                          towns.geometry["110117003"].boundary))
    vx, vy = shared[len(shared) // 3]
    for dx in (-0.00024, 0.0, 0.00024):
        for dy in (-0.00018, 0.0, 0.00018):
            if "near_border" in locator.locate_one(vx + dx, vy + dy).flags:
                return vx + dx, vy + dy
    raise AssertionError("no near-border point found")


def submissions(jurisdiction: Jurisdiction, catalog: Catalog, locator: Locator,
                closed_near: tuple[float, float]) -> list[tuple[dict[str, Any], str | None]]:
    """A season's worth of awkward submissions, in order, each with the user who sends it."""
    v = jurisdiction.villages.iloc[15]
    x, y = float(v.geometry.x), float(v.geometry.y)
    bx, by = near_border_point(jurisdiction, locator)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    zone_rule = next(r for r in catalog.rules if r.zone_kind in set(jurisdiction.zones["kind"]))
    zp = jurisdiction.zones[jurisdiction.zones["kind"] == zone_rule.zone_kind].iloc[0].geometry.representative_point()
    gx, gy = from_wgs84(np.array([x + 0.01]), np.array([y]), "gcj02")
    dx, dy = from_wgs84(np.array([x + 0.02]), np.array([y]), "bd09")
    first = feature(x, y, description="散乱污作坊")
    h = timedelta(hours=1)
    out: list[dict[str, Any]] = [
        first,
        feature(x, y + 40 * METRE, at=T0 + h),                     # 40 m from the first: its duplicate
        feature(x, y, at=T0 + 2 * h),                               # on the first: duplicate at 0 m
        feature(x, y, at=T0 + 3 * h, accuracy_m=None),              # two at 0 m: the earlier one is the original
        feature(x, y, category="MIN-02", at=T0 + 3 * h),           # another category: no duplicate
        feature(x, y + 40 * METRE, at=T0 + timedelta(days=20)),     # outside the window: no duplicate
        feature(float(gx[0]), float(gy[0]), crs="GCJ-02",
                photos=["a" * 64, f"/api/v1/photos/{'b' * 64}", "https://example.org/p/1.jpg"]),
        feature(float(dx[0]), float(dy[0]), crs="bd09", track_id="0F8D3C1E6A0B4F579A432B7C1D9E5A21"),
        feature(x + 0.03, y, crs="cgcs2000", accuracy_m=900),       # low accuracy
        feature(bx, by, category="TRK-01"),                         # near a border
        feature(bx, by, category="TRK-01", accuracy_m=400),
        feature(x1 + 0.05, (y0 + y1) / 2),                          # outside the district
        feature(x1 + 0.001, (y0 + y1) / 2, category="MIN-01"),
        feature(zp.x, zp.y, category=zone_rule.category),           # inside a zone with its own rule
        feature(closed_near[0] + 100 * METRE, closed_near[1], category="ENV-02",
                at=NOW - timedelta(days=1)),                        # near a closed case: a recurrence
        feature(x, y, category=" ENV-03 ", reporter="  巡查二队 ", description=" "),
        {**first, "id": first["id"].upper().replace("-", "")},      # replay in another spelling: 200
        {**first, "properties": {**first["properties"], "accuracy_m": 8.0004}},  # within a millimetre: 200
        {**first, "properties": {**first["properties"], "description": "changed"}},  # conflict: 409
        feature(x, y, category="NOPE"),
        feature(x, y, fid="not-a-uuid", observed_at="yesterday"),
        feature("abc", 400, accuracy_m=-1, crs="utm"),  # type: ignore[arg-type]
        feature(x, y, observed_at=(NOW + timedelta(hours=1)).isoformat()),
        feature(x, y, observed_at="2026-06-01T16:00:00+8:00"),
        feature(x, y, observed_at="2026-06-01 16:30"),
        {**feature(x, y), "geometry": {"type": "Polygon", "coordinates": []}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": {}},
        feature(x, y, photos=["x"]),                                # not a photo reference
        feature(x, y, track_id="not-uuid"),                         # not a track id
    ]
    users = [None, "patrol-1"]
    return [(f, users[i % 2]) for i, f in enumerate(out)]


Outcome = tuple[str, Any]


def run(session: Session, items: list[tuple[dict[str, Any], str | None]],
        submit: Callable[..., tuple[Incident, bool]], **kwargs: Any) -> list[Outcome]:
    out: list[Outcome] = []
    for f, user in items:
        try:
            incident, created = submit(session, f, created_by=user, source="api", **kwargs)
            out.append(("created" if created else "replayed", incident))
        except EnforcementError as exc:
            out.append(("refused", (type(exc).__name__, exc.code, exc.field, exc.message, exc.detail)))
    return out


def stored_rows(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Every column of the incidents and of their intake batches, with the references as content (the
    sequences are not rolled back with a savepoint, so ids of snapshots and batches differ between runs)."""
    rows = session.execute(text(
        "SELECT i.*, r.digest AS rule_digest, b.source AS batch_source, b.submitted, b.accepted, "
        "b.already_stored, b.rejected, b.report AS batch_report, b.received_at AS batch_received_at "
        "FROM incident i LEFT JOIN rule_snapshot r ON r.id = i.rule_snapshot_id "
        "LEFT JOIN ingest_batch b ON b.id = i.batch_id WHERE i.id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": ids}).mappings().all()
    return {str(r["id"]): {k: v for k, v in r.items() if k not in ("rule_snapshot_id", "batch_id")} for r in rows}


def test_one_feature_is_stored_as_the_batch_path_stores_it(db: Session, platform: Platform, catalog: Catalog,
                                                           jurisdiction: Jurisdiction) -> None:
    locators = platform.locators
    locator = locators.get(db)
    # a closed case for the recurrence check, stored before both runs
    cv = jurisdiction.villages.iloc[40]
    closed_at = (cv.geometry.x, cv.geometry.y)
    case, _ = submit_one(db, feature(*closed_at, category="ENV-02", at=NOW - timedelta(days=20)), locator=locator,
                         catalog=catalog, now=NOW)
    db.execute(text("UPDATE incident SET status = 'closed', closed_at = :t WHERE id = :id"),
               {"t": NOW - timedelta(days=10), "id": case.id})
    items = submissions(jurisdiction, catalog, locator, closed_at)
    ids = sorted({str(uuid.UUID(f["id"])) for f, _ in items if len(str(f.get("id"))) >= 32} | {str(case.id)})

    def batches() -> int:
        return int(db.execute(text("SELECT count(*) FROM ingest_batch")).scalar_one())

    results = {}
    for name, submit, kwargs in (
        ("one", submit_one, {"locator": locators}),
        ("batch", batch_submit, {"locator": locator}),
    ):
        savepoint = db.begin_nested()
        before = batches()
        outcomes = run(db, items, submit, catalog=catalog, **({"now": NOW} if submit is submit_one else {}),
                       **kwargs)
        results[name] = (outcomes, stored_rows(db, ids), batches() - before)
        savepoint.rollback()

    one, batch = results["one"], results["batch"]
    assert one[0] == batch[0]  # per submission: the stored case (or the replay, or the error)
    assert one[1] == batch[1]  # every column of every incident and of its batch row
    assert one[2] == batch[2]  # no other batch rows written
    # the cases the comparison stands on really happened
    kinds = [k for k, _ in one[0]]
    assert kinds.count("created") == 18 and kinds.count("replayed") == 2 and kinds.count("refused") == 9
    created = [inc for k, inc in one[0] if k == "created"]
    flags = {f for inc in created for f in inc.flags}
    assert {"near_border", "outside_district", "low_accuracy"} <= flags
    assert sum(inc.duplicate_of is not None for inc in created) == 6
    assert created[3].duplicate_of == created[0].id and created[3].duplicate_distance_m == 0
    assert sum(inc.recurrence_of == case.id for inc in created) == 1
    assert {inc.raw_crs for inc in created} == {"wgs84", "gcj02", "bd09", "cgcs2000"}
    zone_rules = {r.code for r in catalog.rules if r.zone_kind is not None}
    assert sum(inc.rule_code in zone_rules for inc in created) == 1
    refused = [r for k, r in one[0] if k == "refused"]
    assert refused[0][0] == "IdempotencyConflict" and refused[0][2] == "id"
    assert {r[2] for r in refused[1:]} == {"category", "id", "accuracy_m", "observed_at", "geometry", "photos",
                                           "track_id"}
    assert "not a photo reference" in refused[-2][3] and "not a UUID" in refused[-1][3]
    tracked = next(inc for inc in created if inc.track_id is not None)
    assert tracked.track_id == "0f8d3c1e-6a0b-4f57-9a43-2b7c1d9e5a21"  # stored in the canonical form
    assert {e["field"] for e in refused[3][4]["errors"]} == {"lon", "lat", "accuracy_m", "crs"}
    assert one[2] == 18


def test_a_replay_answers_the_stored_case_and_a_conflict_is_refused(db: Session, locator: Locator,
                                                                    catalog: Catalog,
                                                                    jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[5]
    f = feature(v.geometry.x, v.geometry.y, description="夜间倾倒")
    first, created = submit_one(db, f, locator=locator, catalog=catalog, now=NOW)
    again, created_again = submit_one(db, f, locator=locator, catalog=catalog, now=NOW)
    assert created and not created_again and again == first
    changed = {**f, "properties": {**f["properties"], "observed_at": (T0 + timedelta(seconds=1)).isoformat()}}
    with pytest.raises(IdempotencyConflict) as refused:
        submit_one(db, changed, locator=locator, catalog=catalog, now=NOW)
    assert refused.value.field == "id" and refused.value.detail["errors"][0]["row"] == 1
    assert refused.value.detail["errors"][0]["code"] == "id:conflict"
    assert db.execute(text("SELECT count(*) FROM incident WHERE id = :id"), {"id": f["id"]}).scalar_one() == 1


def test_an_id_stored_by_another_request_meanwhile_is_refused_with_its_code(
        db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored by another request between the check and the write, twice: 409 concurrent_intake, whose row error
    says so (``id:concurrent``: sending again is safe)."""
    from gis_enforcement.storage import submission_repo

    monkeypatch.setattr(submission_repo, "insert_incident", lambda *args, **kwargs: None)
    v = jurisdiction.villages.iloc[6]
    f = feature(v.geometry.x, v.geometry.y)
    with pytest.raises(ConcurrentIntake) as refused:
        submit_one(db, f, locator=locator, catalog=catalog, now=NOW)
    assert refused.value.field == "id"
    assert [(e["code"], e["id"]) for e in refused.value.detail["errors"]] == [("id:concurrent", f["id"])]
