"""改类 through HTTP: a report of unknown category is not whistled until its township names the category; then
the plan is the new category's (real PostGIS session, rolled back; server clock pinned)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from tests.api.test_dispatch_api import client, clock, error, new_case  # noqa: F401  (fixtures)


def test_a_report_of_unknown_category_is_classified_by_its_township_then_whistled(
        client: TestClient, jurisdiction: Jurisdiction, catalog: Catalog) -> None:  # noqa: F811
    case = new_case(client, jurisdiction, k=31, category="OTH-00")
    assert case.plan[0]["department"] == "TOWN"
    err = error(client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township}))
    assert err["field"] == "category" and err["detail"]["kind"] == "classify_first"

    r = client.post(f"{case.url}/reclassify", json={"township": case.township, "category": "河道非法采砂",
                                                    "reason": "现场为河道采砂"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["category"], body["previous_category"]) == ("triaged", "MIN-02", "OTH-00")
    assert body["category_name"] == catalog.categories["MIN-02"].zh
    lead = next(p for p in body["plan"] if p["role"] == "lead")
    assert lead["department"] == body["lead_department"] != "TOWN" and lead["department_name"]

    feature = client.get(case.url).json()["properties"]
    assert (feature["category"], feature["reported_category"], feature["rule_code"]) == (
        "MIN-02", "OTH-00", body["rule_code"])
    w = client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township})
    assert w.status_code == 201, w.text
    assert {a["department"] for a in w.json()["assignments"]} == {p["department"] for p in body["plan"]}
    kinds = [e["kind"] for e in client.get(f"{case.url}/timeline").json()["events"]]
    assert kinds == ["reclassify", "whistle"]  # classifying is the township's triage: no second triage event


def test_reclassify_refusals_are_422_naming_the_field(client: TestClient, jurisdiction: Jurisdiction) -> None:  # noqa: F811
    case = new_case(client, jurisdiction, k=32, category="ENV-01")
    for category, kind in (("NOPE-1", "unknown"), ("OTH-00", "classify_first"), ("ENV-01", "unchanged")):
        err = error(client.post(f"{case.url}/reclassify", json={"township": case.township, "category": category}))
        assert (err["field"], err["detail"]["kind"]) == ("category", kind), category
    err = error(client.post(f"{case.url}/reclassify", json={"township": case.township}))
    assert err["field"].endswith("category")
    assert client.get(case.url).json()["properties"]["category"] == "ENV-01"
