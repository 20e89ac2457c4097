"""Export of the stored incidents to a GeoParquet dataset partitioned by Beijing month: rows, months, geometry."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy.orm import Session

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.submit import submit_one
from gis_enforcement.storage.analysis_repo import incidents_frame
from gis_enforcement.storage.parquet_export import export_incidents_geoparquet

TZ = ZoneInfo("Asia/Shanghai")
#: (observed_at in Beijing time, Beijing month): the last one is still May 31st in UTC
WHEN = [("2026-04-03T09:00:00+08:00", "2026-04"), ("2026-04-28T15:30:00+08:00", "2026-04"),
        ("2026-05-10T08:00:00+08:00", "2026-05"), ("2026-05-20T22:00:00+08:00", "2026-05"),
        ("2026-06-01T03:00:00+08:00", "2026-06")]


@pytest.fixture
def stored(db: Session, locator: Locator, catalog: Catalog) -> pd.DataFrame:
    categories = list(catalog.categories)
    for k, (when, _) in enumerate(WHEN):
        lon, lat = 117.02 + 0.03 * k, 40.10 + 0.02 * k  # kilometres apart: no likely duplicates
        feature = {"type": "Feature", "id": str(uuid.uuid4()),
                   "geometry": {"type": "Point", "coordinates": [lon, lat]},
                   "properties": {"category": categories[k % len(categories)], "observed_at": when, "accuracy_m": 5}}
        submit_one(db, feature, locator=locator, catalog=catalog)
    return incidents_frame(db)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("id", ignore_index=True)


def test_export_writes_one_file_per_beijing_month_with_the_stored_rows(db: Session, stored: pd.DataFrame,
                                                                      tmp_path: Path) -> None:
    report = export_incidents_geoparquet(db, directory=tmp_path / "incidents")
    assert report.months == ("2026-04", "2026-05", "2026-06") and report.rows == len(stored) == len(WHEN)
    files = sorted((tmp_path / "incidents").rglob("*.parquet"))
    assert [f.relative_to(tmp_path / "incidents").as_posix() for f in files] == [
        f"month={m}/part-0.parquet" for m in report.months]
    assert report.bytes == sum(f.stat().st_size for f in files)

    back = gpd.read_parquet(tmp_path / "incidents")
    assert back.crs is not None and back.crs.to_epsg() == 4326
    assert set(back["month"].astype(str)) == set(report.months)
    months = pd.to_datetime(back["observed_at"]).dt.tz_convert(TZ).dt.strftime("%Y-%m")
    assert (months == back["month"].astype(str)).all()  # the 03:00 of June 1st is June, though May in UTC
    ours = _sorted(pd.DataFrame(back.drop(columns=["geometry", "month"])))
    pd.testing.assert_frame_equal(ours, _sorted(stored), check_dtype=False)
    np.testing.assert_array_equal(shapely.get_x(back.geometry.values), back["lon"].to_numpy())
    np.testing.assert_array_equal(shapely.get_y(back.geometry.values), back["lat"].to_numpy())

    lazy = dask_geopandas.read_parquet(tmp_path / "incidents")
    assert lazy.crs.to_epsg() == 4326 and len(lazy.compute()) == len(stored)


def test_export_of_a_period_replaces_only_its_months(db: Session, stored: pd.DataFrame, tmp_path: Path) -> None:
    directory = tmp_path / "incidents"
    export_incidents_geoparquet(db, directory=directory)
    report = export_incidents_geoparquet(db, directory=directory, start=datetime(2026, 5, 1),
                                         end=datetime(2026, 5, 15, tzinfo=TZ))
    assert report.months == ("2026-05",) and report.rows == 1
    back = pd.read_parquet(directory)
    assert back["month"].astype(str).value_counts().to_dict() == {"2026-04": 2, "2026-05": 1, "2026-06": 1}
    assert not list(directory.rglob(".*"))  # no partial file left behind
    assert export_incidents_geoparquet(db, directory=tmp_path / "none", start=datetime(2020, 1, 1),
                                       end=datetime(2020, 2, 1)).rows == 0
    with pytest.raises(InvalidInput) as bad:
        export_incidents_geoparquet(db, directory=directory, start=datetime(2026, 6, 1), end=datetime(2026, 5, 1))
    assert bad.value.field == "end"
