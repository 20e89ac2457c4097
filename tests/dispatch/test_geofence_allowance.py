"""A poor GPS fix does not widen the report-in fence beyond the category's worst accepted accuracy — the same rule
on the single-case service and the bulk chain."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import bulk, on_site
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.geofence import accuracy_allowance_m, case_allowance_m
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.dispatch.helpers import METRE, T0, new_case


def test_the_allowance_is_the_stated_accuracy_up_to_the_categorys_worst() -> None:
    assert accuracy_allowance_m(40.0, 100.0) == 40.0
    assert accuracy_allowance_m(800.0, 100.0) == 100.0
    assert accuracy_allowance_m(None, 100.0) == 0.0
    assert accuracy_allowance_m(-5.0, 100.0) == 0.0
    got = accuracy_allowance_m(np.array([5.0, np.nan, 800.0, 60.0]), np.array([50.0, 50.0, 100.0, 50.0]))
    assert got.tolist() == [5.0, 0.0, 100.0, 50.0]


def test_a_check_in_with_a_wide_fix_from_beyond_the_fence_is_refused(db: Session, locator: Locator,
                                                                      catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    category = catalog.categories[inc.category]
    fence, cap = category.geofence_m, category.max_accuracy_m
    assert cap < fence
    beyond = y + (fence + cap + 150) * METRE   # inside fence + 800 m, outside fence + the category's cap
    whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    with pytest.raises(InvalidInput) as wide:
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=inc.lead_department, lon=x,
                          lat=beyond, accuracy_m=800, server_time=T0 + timedelta(minutes=5))
    assert wide.value.field == "position"
    assert wide.value.detail["accuracy_allowance_m"] == cap and wide.value.detail["allowed_m"] == fence + cap
    assert dispatch_repo.lock_assignment(db, incident_id=inc.id, department=inc.lead_department).status == "summoned"
    # the stated accuracy is still allowed for up to the cap, and inside the fence any fix is accepted
    near_edge = y + (fence + cap - 20) * METRE
    ok = on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=inc.lead_department, lon=x,
                           lat=near_edge, accuracy_m=800, server_time=T0 + timedelta(minutes=6))
    assert ok.distance_m == pytest.approx(fence + cap - 20, abs=3)


def test_the_bulk_chain_applies_the_same_cap(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    category = catalog.categories[inc.category]
    fence, cap = category.geofence_m, category.max_accuracy_m
    result = bulk.whistle_many(db, catalog=catalog, cases=pd.DataFrame(
        {"incident_id": [inc.id], "whistler": [township], "at": [T0]}))
    ids = list(result.assignments["assignment_id"])
    checkins = pd.DataFrame({"assignment_id": ids[:2], "lon": x,
                             "lat": [y + (fence + cap + 150) * METRE, y + (fence + cap - 20) * METRE],
                             "accuracy_m": [800.0, 800.0], "server_time": [T0 + timedelta(minutes=5)] * 2})
    r = bulk.report_in_many(db, catalog=catalog, checkins=checkins)
    assert result.refused.empty and r.done == 1
    assert list(r.refused["key"]) == [ids[0]] and list(r.refused["field"]) == ["position"]
    assert f"(+ GPS accuracy {cap:,.0f} m)" in r.refused["reason"].iat[0]


def test_the_case_allowance_is_its_accuracy_beyond_the_categorys_worst_up_to_the_fence() -> None:
    assert case_allowance_m(6.0, 50.0, 300.0) == 0.0      # a located case: the fence is drawn for it
    assert case_allowance_m(200.0, 50.0, 300.0) == 150.0
    assert case_allowance_m(800.0, 50.0, 300.0) == 300.0  # at most the fence again
    assert case_allowance_m(None, 50.0, 300.0) == 0.0
    got = case_allowance_m(np.array([np.nan, 80.0, 5000.0]), np.array([50.0, 100.0, 100.0]),
                           np.array([300.0, 500.0, 1000.0]))
    assert got.tolist() == [0.0, 0.0, 1000.0]


def test_a_poorly_located_case_widens_the_fence_and_the_refusal_says_so(db: Session, locator: Locator,
                                                                         catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y, accuracy_m=800)
    category = catalog.categories[inc.category]
    fence, cap = category.geofence_m, category.max_accuracy_m
    assert 800 - cap > fence
    whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    assistant = next(p.department for p in inc.plan if p.department != inc.lead_department)
    # beyond the fence twice over (+ the officer's 10 m): refused, and the refusal names the case's own ±800 m
    with pytest.raises(InvalidInput) as far:
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=inc.lead_department, lon=x,
                          lat=y + (2 * fence + 10 + 80) * METRE, accuracy_m=10, server_time=T0 + timedelta(minutes=5))
    assert far.value.field == "position"
    assert far.value.detail["case_accuracy_m"] == 800 and far.value.detail["case_allowance_m"] == fence
    assert far.value.detail["allowed_m"] == 2 * fence + 10
    assert "the case position itself is only known to ±800 m" in far.value.message
    # inside the case's uncertainty and within twice the fence: the department stands on the real site
    ok = on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=inc.lead_department, lon=x,
                           lat=y + (2 * fence - 20) * METRE, accuracy_m=10, server_time=T0 + timedelta(minutes=6))
    assert ok.distance_m > fence + 10
    # the bulk chain applies the same rule in the same words
    ids = dispatch_repo.lock_assignment(db, incident_id=inc.id, department=assistant).id
    r = bulk.report_in_many(db, catalog=catalog, checkins=pd.DataFrame(
        {"assignment_id": [ids], "lon": [x], "lat": [y + (2 * fence + 10 + 80) * METRE], "accuracy_m": [10.0],
         "server_time": [T0 + timedelta(minutes=7)]}))
    assert r.done == 0 and r.refused["reason"].iat[0] == far.value.message.replace(inc.lead_department, assistant)


def test_the_bulk_chain_allows_for_a_poorly_located_case(db: Session, locator: Locator, catalog: Catalog,
                                                         site) -> None:
    x, y, township = site
    poor = new_case(db, locator, catalog, x, y, accuracy_m=800)
    gy = y - 400 * METRE   # a well located case nearby, beyond the dedupe radius
    good = new_case(db, locator, catalog, x, gy)
    fence = catalog.categories[poor.category].geofence_m
    result = bulk.whistle_many(db, catalog=catalog, cases=pd.DataFrame(
        {"incident_id": [poor.id, good.id], "whistler": [township, township], "at": [T0, T0]}))
    a = result.assignments
    lead_of = {str(c): a.loc[(a["incident_id"].astype(str) == str(c)) & (a["role"] == "lead"), "assignment_id"].iat[0]
               for c in (poor.id, good.id)}
    checkins = pd.DataFrame({"assignment_id": [lead_of[str(poor.id)], lead_of[str(good.id)]],
                             "lon": [x, x], "lat": [y + (2 * fence - 20) * METRE, gy + (2 * fence - 20) * METRE],
                             "accuracy_m": [10.0, 10.0], "server_time": [T0 + timedelta(minutes=5)] * 2})
    r = bulk.report_in_many(db, catalog=catalog, checkins=checkins)
    assert result.refused.empty and r.done == 1
    assert list(r.refused["key"]) == [lead_of[str(good.id)]]
    assert "case position itself" not in r.refused["reason"].iat[0]
