"""Layers stored in PostGIS and read back place points exactly as the files they came from."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from gis_enforcement.admin.layers import LocatorCache, stored_jurisdiction
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import layer_repo

COLUMNS = ["township_code", "village_code", "grid_code", "zone_kinds", "flags", "border_townships",
           "nearest_township_code"]


def test_stored_layers_locate_like_the_files(db: Session, jurisdiction: Jurisdiction, locator: Locator) -> None:
    counts = layer_repo.layer_counts(db)
    assert counts == {"district": 1, "township": len(jurisdiction.townships), "village": len(jurisdiction.villages),
                      "zone": len(jurisdiction.zones), "grid_cell": len(jurisdiction.grid)}
    stored = stored_jurisdiction(db)
    assert stored.grid_size_m == jurisdiction.grid_size_m
    from_db = Locator.from_jurisdiction(stored)
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon, lat = rng.uniform(x0 - 0.01, x1 + 0.01, 20_000), rng.uniform(y0 - 0.01, y1 + 0.01, 20_000)
    acc = rng.uniform(3, 150, 20_000)
    a = locator.locate(lon, lat, acc)[COLUMNS]
    b = from_db.locate(lon, lat, acc)[COLUMNS]
    pd.testing.assert_frame_equal(a, b)


def test_locator_cache_rebuilds_only_on_a_new_load(db: Session) -> None:
    cache = LocatorCache()
    first = cache.get(db)
    assert cache.get(db) is first
