"""The lists a reader acts on: hot cells that hold incidents first (not those hot only for their neighbours),
emerging hot spots most urgent first, and the window an analysis reads when no period is given."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from gis_enforcement.analysis.emerging import CATEGORY_ZH, URGENCY, rank_emerging
from gis_enforcement.analysis.gi_star import distance_band_weights
from gis_enforcement.analysis.hotspots import run_hotspots, top_hot_cells
from gis_enforcement.analysis.space_time import bin_floor, recent_window
from gis_enforcement.errors import InvalidInput

TZ = "Asia/Shanghai"
TO_LONLAT = Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)


def test_the_neighbourhood_count_is_what_gi_star_weighs() -> None:
    """Each cell's ``neighbourhood_count`` is the sum of the counts of the cells within the band, itself
    included: the window Gi* compares."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(508_000, 520_000, 300), rng.normal(512_000, 300, 200)])
    y = np.concatenate([rng.uniform(4_440_000, 4_452_000, 300), rng.normal(4_446_000, 300, 200)])
    lon, lat = TO_LONLAT.transform(x, y)
    result = run_hotspots(pd.DataFrame({"lon": lon, "lat": lat, "category": "A01", "status": "reported"}),
                          cell="grid", size_m=1000.0, distance_m=1500.0)
    cells = result.cells
    weights = distance_band_weights(cells["x"].to_numpy(), cells["y"].to_numpy(), 1500.0)
    expected = weights @ cells["count"].to_numpy(dtype=float)
    assert (cells["neighbourhood_count"].to_numpy() == expected).all()
    assert (cells["neighbourhood_count"] >= cells["count"]).all()
    assert (cells["neighbourhood_count"] > cells["count"]).any()


def _cells(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_top_hot_cells_lead_with_places_that_hold_incidents() -> None:
    """A 99 % cell with no incident of its own (the highest z: its neighbours are busy) is passed over and
    counted; the rest go by confidence, then their own count, then the neighbourhood's, then z."""
    cells = _cells(cell_id=["empty", "a", "b", "c", "d", "cold", "plain"],
                   count=[0, 3, 9, 9, 40, 0, 50],
                   neighbourhood_count=[120, 60, 50, 70, 45, 0, 50],
                   z=[12.0, 5.0, 4.0, 4.5, 2.0, -3.0, 0.5],
                   gi_bin=[3, 3, 3, 3, 1, -3, 0])
    top, passed = top_hot_cells(cells)
    assert list(top["cell_id"]) == ["c", "b", "a", "d"]  # 99 % by own count (tie: the busier neighbourhood)
    assert passed == 1
    assert list(top_hot_cells(cells, n=2)[0]["cell_id"]) == ["c", "b"]


def test_top_hot_cells_of_a_stored_run_read_the_neighbourhood_from_its_detail() -> None:
    stored = _cells(cell_id=["a", "b", "old"], count=[5, 5, 5], z=[3.0, 3.0, 3.5], gi_bin=[2, 2, 2],
                    detail=[{"neighbours": 7, "neighbourhood_count": 20}, {"neighbours": 7, "neighbourhood_count": 30},
                            {"neighbours": 7}])
    top, passed = top_hot_cells(stored)
    assert list(top["cell_id"]) == ["b", "a", "old"] and passed == 0
    assert top["neighbourhood_count"].iloc[:2].tolist() == [30.0, 20.0] and np.isnan(top["neighbourhood_count"].iloc[2])


def test_emerging_hot_spots_are_ranked_most_urgent_first() -> None:
    """New and intensifying before consecutive and persistent …, each pattern by its final z; hot spots with no
    incident of their own after those with some; cold spots next (coldest first); no pattern last."""
    cells = _cells(
        cell_id=["pers", "new_low", "hist", "new_high", "int", "cold", "none", "new_empty", "cons", "cold2"],
        pattern=["persistent hot spot", "new hot spot", "historical hot spot", "new hot spot",
                 "intensifying hot spot", "new cold spot", "no pattern", "new hot spot", "consecutive hot spot",
                 "persistent cold spot"],
        count=[30, 2, 9, 4, 12, 0, 1, 0, 5, 0],
        z=[6.0, 2.0, 1.0, 3.5, 2.5, -2.0, 0.1, 9.0, 4.0, -5.0])
    ranked = rank_emerging(cells)
    assert list(ranked["cell_id"]) == ["new_high", "new_low", "int", "cons", "pers", "hist", "new_empty",
                                       "cold", "cold2", "none"]
    assert ranked["urgency"].tolist()[:7] == [1, 2, 3, 4, 5, 6, 7]
    assert ranked["urgency"].iloc[7:].isna().all()
    assert set(URGENCY) == {k.split()[0] for k in CATEGORY_ZH if k.endswith(" hot spot")}


@pytest.mark.parametrize(("latest", "unit", "start", "end"), [
    ("2026-08-15T10:00+08:00", None, "2025-08-16", "2026-08-16"),
    ("2026-08-15T23:59+08:00", "month", "2025-09-01", "2026-08-16"),
    ("2026-08-31T20:00+08:00", "month", "2025-09-01", "2026-09-01"),
    # 2025-08-16 is a Saturday: the first whole week starts on Monday 08-18
    ("2026-08-15T10:00+08:00", "week", "2025-08-18", "2026-08-16"),
    # 16:30 UTC on 08-15 is 00:30 on 08-16 in Pinggu: the district's day decides
    ("2026-08-15T16:30+00:00", None, "2025-08-17", "2026-08-17"),
])
def test_the_default_window_is_the_twelve_months_up_to_the_latest_report(latest: str, unit: str | None,
                                                                         start: str, end: str) -> None:
    first, last = recent_window(pd.Timestamp(latest), tz=TZ, unit=unit)  # type: ignore[arg-type]
    assert first == pd.Timestamp(start, tz=TZ) and last == pd.Timestamp(end, tz=TZ)
    with pytest.raises(InvalidInput) as bad:
        recent_window(pd.Timestamp(latest), tz=TZ, months=0)
    assert bad.value.field == "months"


def test_bin_floor() -> None:
    at = pd.Timestamp("2026-03-18T15:00", tz=TZ)  # a Wednesday
    assert bin_floor(at, "month") == pd.Timestamp("2026-03-01", tz=TZ)
    assert bin_floor(at, "week") == pd.Timestamp("2026-03-16", tz=TZ)
    assert bin_floor(at, "day") == pd.Timestamp("2026-03-18", tz=TZ)
    with pytest.raises(InvalidInput):
        bin_floor(at, "fortnight")  # type: ignore[arg-type]


def test_a_new_hot_spot_quiet_in_its_last_bin_ranks_after_the_persistent_ones() -> None:
    """A cell the neighbours made a "new" hot spot, with no incident of its own in the last bin, is no flare-up:
    it ranks after the persistent hot spots; one with incidents in the last bin stays first."""
    cells = _cells(cell_id=["pers", "new_quiet", "new_busy", "int_quiet"],
                   pattern=["persistent hot spot", "new hot spot", "new hot spot", "intensifying hot spot"],
                   count=[30, 3, 2, 4], z=[6.0, 9.0, 2.0, 5.0]).assign(last_bin_count=[4, 0, 2, 0])
    assert list(rank_emerging(cells)["cell_id"]) == ["new_busy", "pers", "new_quiet", "int_quiet"]
