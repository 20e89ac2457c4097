"""Exports say how each case went: whistled, resolved, closed, who was summoned, the lead on time or not — with the
lists' Chinese names beside the codes, in every format, without renaming a column other systems read."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyogrio
import pytest
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import on_site, resolution
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.operations.exports import NAME_COLUMNS, export_bytes, write_export
from gis_enforcement.storage import incident_repo
from tests.dispatch.helpers import METRE, T0, new_case

ZONE = "Asia/Shanghai"
#: the columns exports had before they told the case's course: kept, in this order, under these names (and the
#: category as reported, beside the one the case is handled under)
STORE_COLUMNS = ["id", "category", "reported_category", "observed_at", "received_at", "accuracy_m", "raw_lon",
                 "raw_lat", "raw_crs", "reporter", "description", "status", "township_code", "township_name",
                 "village_code", "village_name", "village_distance_m", "grid_code", "zone_codes", "flags",
                 "border_townships", "rule_code", "lead_department", "likely_duplicate_of", "duplicate_distance_m"]


@pytest.fixture
def cases(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> dict[str, Any]:
    """Four cases at one village: closed with a reopening in between, whistled with a late lead, whistled and
    left open past every deadline, and one only reported."""
    v = jurisdiction.villages.iloc[12]
    x, y, township = v.geometry.x, v.geometry.y, v["township_code"]
    closed, late, overdue, reported = (new_case(db, locator, catalog, x + k * 50 * METRE, y) for k in range(4))
    summoned = whistle(db, catalog=catalog, incident_ids=[closed.id, late.id, overdue.id], mode=TOWNSHIP,
                       whistler=township, at=T0).assignments
    lead = closed.lead_department
    assert lead is not None
    assists = [a.department for a in summoned if a.incident_id == closed.id and a.department != lead]
    due = next(a for a in summoned if a.incident_id == closed.id and a.department == lead)
    on_site.report_in(db, catalog=catalog, incident_id=closed.id, department=lead, lon=x, lat=y, accuracy_m=5,
                      server_time=due.report_in_due - timedelta(minutes=1))
    on_site.report_in(db, catalog=catalog, incident_id=late.id, department=lead, lon=x, lat=y, accuracy_m=5,
                      server_time=due.report_in_due + timedelta(minutes=7))
    # resolved an hour before the deadline, reopened a week later, resolved again 30 minutes after resuming: the
    # week it stood resolved does not count against the lead, so it is resolved on time, though past the due
    assert due.resolution_due is not None
    first = due.resolution_due - timedelta(hours=1)
    on_site.start_action(db, incident_id=closed.id, department=lead, at=first - timedelta(hours=1))
    on_site.complete(db, incident_id=closed.id, department=lead, at=first)
    resolution.resolve(db, incident_id=closed.id, department=lead, at=first, summary="已整改")
    reopened = first + timedelta(days=7)
    resolution.reopen(db, incident_id=closed.id, township=township, reason="回头看发现复发", at=reopened)
    resolution.resume(db, incident_id=closed.id, department=lead, at=reopened)
    on_site.complete(db, incident_id=closed.id, department=lead, at=reopened + timedelta(minutes=30))
    last = reopened + timedelta(minutes=30)
    resolution.resolve(db, incident_id=closed.id, department=lead, at=last, summary="再次整改")
    resolution.verify(db, incident_id=closed.id, township=township, at=last + timedelta(hours=1))
    for a in assists:
        on_site.release(db, incident_id=closed.id, department=a, reason="主责部门已处置", at=last + timedelta(hours=2))
    resolution.close(db, incident_id=closed.id, township=township, at=last + timedelta(hours=2))
    return {"closed": closed, "late": late, "overdue": overdue, "reported": reported, "due": due,
            "summoned": [lead, *assists], "last": last, "township": township}


def _rows(db: Session, cases: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ids = {str(cases[name].id): name for name in ("closed", "late", "overdue", "reported")}
    frame = incident_repo.incidents_frame(db, filters=incident_repo.IncidentFilter(
        township=cases["township"]), outcome=True)
    return {ids[r["id"]]: r for r in frame.to_dict("records") if r["id"] in ids}


def test_the_frame_tells_each_cases_course(db: Session, cases: dict[str, Any]) -> None:
    rows = _rows(db, cases)
    due = cases["due"]
    closed, late, overdue, reported = rows["closed"], rows["late"], rows["overdue"], rows["reported"]
    assert closed["whistled_at"] == T0 and closed["closed_at"] == cases["last"] + timedelta(hours=2)
    assert closed["resolved_at"] == cases["last"]  # the standing resolution, not the first
    assert closed["summoned_departments"] == ";".join(cases["summoned"])
    assert closed["summoned_count"] == len(cases["summoned"])
    assert closed["lead_report_in_due"] == due.report_in_due
    assert closed["lead_reported_in_at"] == due.report_in_due - timedelta(minutes=1)
    assert closed["lead_reported_in_on_time"] is True and closed["resolved_on_time"] is True
    assert closed["lead_resolution_due"] == due.resolution_due

    assert late["lead_reported_in_on_time"] is False and pd.isna(late["resolved_at"])
    assert late["resolved_on_time"] is False  # open long past its deadline (T0 is months ago)
    assert pd.isna(overdue["lead_reported_in_at"]) and overdue["lead_reported_in_on_time"] is False
    assert pd.isna(reported["whistled_at"]) and reported["summoned_count"] == 0
    for column in ("summoned_departments", "lead_report_in_due", "lead_reported_in_on_time", "resolved_on_time"):
        assert pd.isna(reported[column])
    # without outcome, the frame is what it was (maps and the demo read it)
    plain = incident_repo.incidents_frame(db)
    assert list(plain.columns) == [*STORE_COLUMNS, "lon", "lat", "geometry"]


def test_every_format_has_the_course_and_the_names(db: Session, cases: dict[str, Any], catalog: Catalog,
                                                   tmp_path: Path) -> None:
    frame = incident_repo.incidents_frame(db, filters=incident_repo.IncidentFilter(
        township=cases["township"]), outcome=True)
    closed_id = str(cases["closed"].id)
    lead = cases["closed"].lead_department
    names = ";".join(catalog.departments[d].zh for d in cases["summoned"])
    category_zh = catalog.categories[cases["closed"].category].zh

    text = export_bytes(frame, "csv", zone=ZONE, catalog=catalog).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert header[:len(STORE_COLUMNS)] == STORE_COLUMNS  # what other systems read stays where it was
    assert header[-2:] == ["lon", "lat"]
    for column in (*incident_repo.OUTCOME_COLUMNS, *NAME_COLUMNS):
        assert column in header
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(text))}
    row = rows[closed_id]
    assert row["category_zh"] == category_zh and row["lead_department_zh"] == catalog.departments[lead].zh
    assert row["summoned_departments_zh"] == names
    assert row["whistled_at"] == T0.isoformat() and row["closed_at"].endswith("+08:00")
    assert row["lead_reported_in_on_time"] == "True" and row["resolved_on_time"] == "True"
    assert float(row["hours_to_close"]) == pytest.approx(
        ((cases["last"] + timedelta(hours=2)) - T0).total_seconds() / 3600)
    reported = rows[str(cases["reported"].id)]
    assert reported["resolved_on_time"] == "" and reported["hours_to_close"] == "" and reported["summoned_count"] == "0"

    features = json.loads(export_bytes(frame, "geojson", zone=ZONE, catalog=catalog))["features"]
    props = next(f["properties"] for f in features if f["properties"]["id"] == closed_id)
    assert props["lead_department_zh"] == catalog.departments[lead].zh and props["resolved_on_time"] is True
    assert props["resolved_at"] == cases["last"].astimezone(ZoneInfo(ZONE)).isoformat()
    late = next(f["properties"] for f in features if f["properties"]["id"] == str(cases["late"].id))
    assert late["lead_reported_in_on_time"] is False and late["resolved_at"] is None

    gpkg = write_export(frame, "gpkg", tmp_path / "x.gpkg", zone=ZONE, catalog=catalog)
    back = pyogrio.read_dataframe(gpkg, layer="incidents")
    assert len(back) == len(frame)
    got = back.set_index("id").loc[closed_id]
    assert got["summoned_departments_zh"] == names and got["closed_at"].endswith("+08:00")
    assert bool(got["lead_reported_in_on_time"]) and got["summoned_count"] == len(cases["summoned"])
    late_back = back.set_index("id").loc[str(cases["late"].id)]
    assert not late_back["lead_reported_in_on_time"]
    assert pd.isna(back.set_index("id").loc[str(cases["reported"].id), "resolved_on_time"])  # empty, not false


def test_a_selection_without_any_course_still_writes(db: Session, cases: dict[str, Any], catalog: Catalog,
                                                     tmp_path: Path) -> None:
    """Only reports, never whistled: every course column is empty, and each format still writes."""
    frame = incident_repo.incidents_frame(db, filters=incident_repo.IncidentFilter(
        township=cases["township"], status="reported"), outcome=True)
    assert len(frame) >= 1 and frame["whistled_at"].isna().all()
    for fmt in ("csv", "geojson", "gpkg"):
        path = write_export(frame, fmt, tmp_path / f"r.{fmt}", zone=ZONE, catalog=catalog)
        assert path.stat().st_size > 0
    assert len(pyogrio.read_dataframe(tmp_path / "r.gpkg")) == len(frame)
