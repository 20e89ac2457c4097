"""The township rates each department's attendance (评价权): who may, when, once — and the evaluation reads it."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.analysis.evaluate_service import evaluate
from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.rating import rate_attendance
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import AlreadyRecorded, InvalidInput, NotFound
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.dispatch.helpers import T0, new_case


def _whistled(db: Session, locator: Locator, catalog: Catalog, site):
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    return inc, result.assignments, township


def test_rating_after_report_in_is_recorded_once(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, _ = site
    inc, assignments, township = _whistled(db, locator, catalog, site)
    lead = assignments[0]
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x, lat=y,
                      accuracy_m=5, server_time=T0 + timedelta(minutes=10))
    r = rate_attendance(db, catalog=catalog, assignment_id=lead.id, township=township, timeliness=5, adequacy=4,
                        comment="到场及时", at=T0 + timedelta(hours=1), actor="dispatcher-1")
    assert r.new and (r.timeliness, r.adequacy, r.rated_by) == (5, 4, township)
    stored = dispatch_repo.rating_of(db, assignment_id=lead.id)
    assert stored is not None and (stored["timeliness"], stored["adequacy"]) == (5, 4)
    again = rate_attendance(db, catalog=catalog, assignment_id=lead.id, township=township, timeliness=5, adequacy=4,
                            comment="到场及时", at=T0 + timedelta(hours=2))
    assert not again.new and again.rated_at == r.rated_at
    with pytest.raises(AlreadyRecorded) as changed:
        rate_attendance(db, catalog=catalog, assignment_id=lead.id, township=township, timeliness=2, adequacy=4,
                        at=T0 + timedelta(hours=2))
    assert changed.value.field == "assignment_id" and "5/4" in changed.value.message
    # the refusal says when in the district's clock (T0 + 1 h), not the database's UTC
    rated = (T0 + timedelta(hours=1)).astimezone(ZoneInfo("Asia/Shanghai")).isoformat(timespec="minutes")
    assert rated in changed.value.message and "+08:00" in rated, changed.value.message
    events, _ = dispatch_repo.events_of(db, incident_id=inc.id)
    ratings = [e for e in events if e.kind == "rating"]
    assert len(ratings) == 1 and ratings[0].payload["department"] == lead.department
    assert verify_case_record(db, incident_id=inc.id) is None


def test_who_and_when_may_rate(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    inc, assignments, township = _whistled(db, locator, catalog, site)
    assist = assignments[1]
    with pytest.raises(InvalidInput) as early:  # summoned, deadline ahead: nothing to rate yet
        rate_attendance(db, catalog=catalog, assignment_id=assist.id, township=township, timeliness=1, adequacy=1,
                        at=T0 + timedelta(minutes=5))
    assert early.value.field == "status"
    assert assist.report_in_due.astimezone(ZoneInfo("Asia/Shanghai")).isoformat(timespec="minutes") in \
        early.value.message, early.value.message
    with pytest.raises(InvalidInput) as other:
        rate_attendance(db, catalog=catalog, assignment_id=assist.id, township="110117999", timeliness=1, adequacy=1,
                        at=T0 + timedelta(hours=1))
    assert other.value.field == "township"
    with pytest.raises(InvalidInput) as scale:
        rate_attendance(db, catalog=catalog, assignment_id=assist.id, township=township, timeliness=6, adequacy=1,
                        at=T0 + timedelta(hours=1))
    assert scale.value.field == "timeliness"
    with pytest.raises(NotFound):
        rate_attendance(db, catalog=catalog, assignment_id=10**12, township=township, timeliness=1, adequacy=1, at=T0)
    # a no-show is rated once its deadline has passed
    late = rate_attendance(db, catalog=catalog, assignment_id=assist.id, township=township, timeliness=1, adequacy=1,
                           at=assist.report_in_due + timedelta(minutes=1))
    assert late.new


def test_evaluation_reads_the_ratings(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, _ = site
    rated: dict[str, list[tuple[int, int]]] = {}
    for adequacy in (5, 3):
        inc, assignments, township = _whistled(db, locator, catalog, site)
        lead = assignments[0]
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x, lat=y,
                          accuracy_m=5, server_time=T0 + timedelta(minutes=10))
        rate_attendance(db, catalog=catalog, assignment_id=lead.id, township=township, timeliness=4, adequacy=adequacy,
                        at=T0 + timedelta(hours=1))
        rated.setdefault(lead.department, []).append((4, adequacy))
    (department, pairs), = rated.items()
    table = evaluate(db, catalog=catalog, start=T0 - timedelta(hours=1), end=T0 + timedelta(days=1),
                     as_of=T0 + timedelta(days=2)).set_index("department")
    row = table.loc[department]
    assert row["ratings"] == 2
    assert row["rating_timeliness_mean"] == pytest.approx(4.0)
    assert row["rating_adequacy_mean"] == pytest.approx(4.0)  # (5 + 3) / 2
    assert row["adequate_rate"] == pytest.approx(0.5)  # only the 5 is 满意/基本满意 (≥ 4)
    assert row["rating_score"] == pytest.approx(0.75)  # ((4 + 4) / 2 − 1) / 4
    others = table.drop(index=department)
    assert (others["ratings"] == 0).all() and others["rating_score"].isna().all()


def test_an_unsatisfied_rating_raises_w04(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    from gis_enforcement.storage import warning_repo

    x, y, _ = site
    inc, assignments, township = _whistled(db, locator, catalog, site)
    lead = assignments[0]
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x, lat=y,
                      accuracy_m=5, server_time=T0 + timedelta(minutes=10))
    rate_attendance(db, catalog=catalog, assignment_id=lead.id, township=township, timeliness=4, adequacy=2,
                    at=T0 + timedelta(hours=1))
    rows, total = warning_repo.list_warnings(db, rule_code="W04", subject_code=lead.department, limit=10, offset=0)
    assert total == 1 and rows[0]["assignment_id"] == lead.id and rows[0]["detail"]["adequacy"] == 2
    assert rows[0]["consequence"] == catalog.warning_rules["W04"].consequence
    events, _ = dispatch_repo.events_of(db, incident_id=inc.id)
    assert [e.kind for e in events][-2:] == ["rating", "warning"]
    assert verify_case_record(db, incident_id=inc.id) is None
    assist = assignments[1]  # a satisfied rating raises nothing
    rate_attendance(db, catalog=catalog, assignment_id=assist.id, township=township, timeliness=3, adequacy=3,
                    at=assist.report_in_due + timedelta(minutes=1))
    assert warning_repo.list_warnings(db, rule_code="W04", subject_code=None, limit=10, offset=0)[1] == 1
