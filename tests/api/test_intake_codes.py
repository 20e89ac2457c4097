"""Every intake answer that refuses rows gives each refusal's stable ``code`` (``patrol.report.ROW_ERROR_CODES``)
and the ``values`` its reason names, beside the English reason — a single Feature (422/409 ``detail.errors``), a
batch that stores some rows (the report's ``errors``) and a batch that stores none (422 ``detail.errors``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gis_enforcement.api.schemas import ErrorResponse, IngestReportPublic
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.patrol.report import ROW_ERROR_CODES


@pytest.fixture
def point(jurisdiction: Jurisdiction) -> tuple[float, float]:
    v = jurisdiction.villages.iloc[22]
    return v.geometry.x, v.geometry.y


def feature(point: tuple[float, float], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": list(point)},
            "properties": {"category": "MIN-02", "observed_at": "2026-05-12T23:40:00+08:00", "accuracy_m": 8,
                           **props}}


def refusal(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    ErrorResponse.model_validate(r.json())
    return r.json()["error"]  # type: ignore[no-any-return]


def test_a_single_feature_refused_names_the_code_and_its_values(client: TestClient, point) -> None:
    two_days_fast = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    err = refusal(client.post("/api/v1/incidents", json=feature(point, observed_at=two_days_fast)), 422)
    assert err["code"] == "invalid_input" and err["field"] == "observed_at" and err["message"] == "is in the future"
    assert [(e["field"], e["code"], e["values"]) for e in err["detail"]["errors"]] == [
        ("observed_at", "observed_at:future", {"skew_s": 600})]

    err = refusal(client.post("/api/v1/incidents", json=feature(point, category="MIN-99", accuracy_m=-1)), 422)
    assert [(e["code"], e["values"]) for e in err["detail"]["errors"]] == [
        ("accuracy_m:range", {"min": 0, "max": 10_000}), ("category:unknown", {"value": "MIN-99"})]


def test_a_conflicting_resend_names_its_code(client: TestClient, point) -> None:
    f = feature(point)
    assert client.post("/api/v1/incidents", json=f).status_code == 201
    changed = {**f, "properties": {**f["properties"], "accuracy_m": 9}}
    err = refusal(client.post("/api/v1/incidents", json=changed), 409)
    assert err["code"] == "idempotency_conflict"
    assert [(e["code"], e["id"]) for e in err["detail"]["errors"]] == [("id:conflict", f["id"])]


def test_a_batch_names_the_code_of_each_refused_row(client: TestClient, point) -> None:
    good, twice = feature(point), feature(point, description="第一次")
    changed = {**twice, "properties": {**twice["properties"], "description": "第二次"}}
    feats = [good, {"type": "Feature", "geometry": None}, feature(point, reporter="x" * 201), twice, changed]
    r = client.post("/api/v1/incidents", json={"type": "FeatureCollection", "features": feats})
    assert r.status_code == 200, r.text
    report = IngestReportPublic.model_validate(r.json())
    assert report.accepted == 2 and report.rejected == 3
    assert [(e.row, e.field, e.code, e.values) for e in report.errors] == [
        (2, "geometry", "geometry:point", {}), (3, "reporter", "reporter:length", {"max": 200}),
        (5, "id", "id:batch_conflict", {})]
    assert {e.code for e in report.errors} <= set(ROW_ERROR_CODES)

    # nothing stored: the batch is refused whole, its rows' codes in the detail
    bad = [feature(point, crs="utm"), feature(point, observed_at="1999-01-01T00:00:00Z")]
    err = refusal(client.post("/api/v1/incidents", json={"type": "FeatureCollection", "features": bad}), 422)
    assert err["field"] == "features[0].crs"
    assert [(e["row"], e["code"]) for e in err["detail"]["errors"]] == [(1, "crs:unknown"), (2, "observed_at:past")]
    assert err["detail"]["errors"][0]["values"] == {"allowed": ["wgs84", "gcj02", "bd09", "cgcs2000"]}
