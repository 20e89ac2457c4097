"""``GET /api/v1/incidents`` (and its export) filtered by several statuses at once, or by ``open``: the console
asks the server for the cases it shows rather than filtering the newest thousand in the browser."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.api.routers.incidents import OPEN_STATUSES, SETTLED_STATUSES
from gis_enforcement.dispatch.triage import reject
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import CaseStatus
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.dispatch.helpers import T0, new_case


@dataclass(frozen=True)
class Cases:
    township: str
    reported: str
    whistled: str
    rejected: str


@pytest.fixture
def cases(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> Cases:
    v = jurisdiction.villages.iloc[12]
    town = v["township_code"]
    made = [new_case(db, locator, catalog, v.geometry.x + i * 0.0005, v.geometry.y) for i in range(3)]
    assert all(c.township_code == town for c in made)
    whistle(db, catalog=catalog, incident_ids=[made[1].id], mode=TOWNSHIP, whistler=town, at=T0)
    reject(db, incident_id=made[2].id, township=town, reason="现场无违法行为", at=T0)
    return Cases(township=town, reported=str(made[0].id), whistled=str(made[1].id), rejected=str(made[2].id))


def _listed(client: TestClient, **params: str) -> tuple[set[str], int]:
    r = client.get("/api/v1/incidents", params={"limit": "1000", **params})
    assert r.status_code == 200, r.text
    body = r.json()
    return {f["id"] for f in body["features"]}, body["numberMatched"]


def test_open_and_settled_split_every_status() -> None:
    assert set(OPEN_STATUSES) | set(SETTLED_STATUSES) == {s.value for s in CaseStatus}
    assert not set(OPEN_STATUSES) & set(SETTLED_STATUSES)
    assert set(SETTLED_STATUSES) == {"closed", "rejected", "duplicate"} and "verified" in OPEN_STATUSES


def test_several_statuses_and_open(client: TestClient, cases: Cases) -> None:
    mine = {cases.reported, cases.whistled, cases.rejected}
    ids, total = _listed(client, township=cases.township, status="reported,whistled")
    assert ids == {cases.reported, cases.whistled} and total == 2
    ids, total = _listed(client, township=cases.township, status=" whistled , rejected")
    assert ids == {cases.whistled, cases.rejected} and total == 2
    ids, total = _listed(client, township=cases.township, open="true")
    assert ids & mine == {cases.reported, cases.whistled} and total == len(ids)
    ids, _ = _listed(client, township=cases.township, open="false")
    assert ids & mine == {cases.rejected}
    # with a list: the statuses in both
    ids, _ = _listed(client, township=cases.township, status="reported,rejected", open="true")
    assert ids == {cases.reported}
    ids, total = _listed(client, township=cases.township, status="rejected", open="true")
    assert ids == set() and total == 0
    # the page's total counts beyond the page
    r = client.get("/api/v1/incidents", params={"township": cases.township, "status": "reported,whistled",
                                                "limit": "1"}).json()
    assert r["numberMatched"] == 2 and r["numberReturned"] == 1
    csv = client.get("/api/v1/exports/incidents.csv", params={"township": cases.township, "open": "true"})
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert cases.reported in text and cases.whistled in text and cases.rejected not in text


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/exports/incidents.csv"])
@pytest.mark.parametrize(("params", "says"), [
    ({"status": "reported,bogus"}, "unknown status 'bogus'"),
    ({"status": "reported,"}, "an empty status"),
    ({"open": "maybe"}, ""),
])
def test_bad_status_lists_are_refused_naming_the_parameter(client: TestClient, path: str, params: dict[str, str],
                                                           says: str) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == next(iter(params)) and says in error["message"], error
