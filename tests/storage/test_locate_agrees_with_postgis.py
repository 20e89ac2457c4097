"""The in-memory locator must give exactly the township PostGIS ST_Contains gives, on the same layer."""

from __future__ import annotations

import numpy as np
import shapely
from sqlalchemy.orm import Session

from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import layer_repo


def test_random_batch_agrees_with_st_contains(db: Session, jurisdiction: Jurisdiction, locator: Locator) -> None:
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon = rng.uniform(x0 - 0.02, x1 + 0.02, 30_000)
    lat = rng.uniform(y0 - 0.02, y1 + 0.02, 30_000)
    # add points exactly on township vertices and on edge midpoints: the hardest cases
    coords = shapely.get_coordinates(shapely.boundary(jurisdiction.townships.geometry.values))
    pick = coords[rng.choice(len(coords), 2_000, replace=False)]
    mids = (coords[:-1] + coords[1:]) / 2
    mids = mids[rng.choice(len(mids), 2_000, replace=False)]
    lon = np.concatenate([lon, pick[:, 0], mids[:, 0]])
    lat = np.concatenate([lat, pick[:, 1], mids[:, 1]])

    expected = layer_repo.township_codes_st_contains(db, lon=lon, lat=lat)
    idx = locator.township_index(lon, lat)
    codes = jurisdiction.townships["code"].to_numpy(dtype=object)
    got = np.where(idx >= 0, codes[np.maximum(idx, 0)], None)
    mismatch = np.flatnonzero(got != expected)
    examples = list(zip(lon[mismatch][:5], lat[mismatch][:5], strict=True))
    assert mismatch.size == 0, f"{mismatch.size} points differ, e.g. {examples}"
    assert (expected != None).sum() > 10_000  # noqa: E711 — enough points actually inside townships
    frame = locator.locate(lon[:5000], lat[:5000])
    assert list(frame["township_code"].to_numpy(dtype=object)) == list(expected[:5000])
