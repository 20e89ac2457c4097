"""Shared helpers of the dispatch tests: a case at a village point, the whistle time."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from gis_enforcement.demo.photos import site_photo
from gis_enforcement.dispatch.photos import add_photo
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.records import Incident
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.submit import submit_one

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 5, 12, 23, 40, tzinfo=TZ)
METRE = 1 / 111_320


def new_case(db: Session, locator: Locator, catalog: Catalog, lon: float, lat: float,
             category: str = "ENV-01", accuracy_m: float = 6) -> Incident:
    f = {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"category": category, "observed_at": "2026-05-12T23:00:00+08:00", "accuracy_m": accuracy_m}}
    inc, _ = submit_one(db, f, locator=locator, catalog=catalog)
    return inc


def photo_on_case(db: Session, incident_id: object, photos_dir: Path, *, slot: str = "before",
                  added_by: str | None = None, at: datetime = T0, lon: float = 117.12, lat: float = 40.14) -> str:
    """Upload a demo site photo to the case through the real photo path; returns its sha256 (for a record)."""
    data = site_photo(incident_id, added_by, at, slot=slot, taken_at=at, lon=lon, lat=lat)
    return add_photo(db, photos_dir=photos_dir, incident_id=incident_id, data=data, added_by=added_by,  # type: ignore[arg-type]
                     at=at, tz="Asia/Shanghai", max_bytes=1_000_000, max_pixels=1_000_000).sha256
