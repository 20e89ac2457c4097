from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_enforcement.errors import LayerInvalid
from gis_enforcement.layers.grid import build_grid
from gis_enforcement.layers.projection import reproject


def test_codes_are_15_digit_unique_and_structured(jurisdiction):
    grid = jurisdiction.grid
    codes = grid["code"]
    assert codes.str.fullmatch(r"\d{15}").all()
    assert codes.is_unique
    assert (codes.str[:6] == "110117").all()
    assert (codes.str[:9] == grid["township_code"]).all()
    with_village = grid["village_code"].notna()
    assert (codes[with_village].str[:12] == grid.loc[with_village, "village_code"]).all()
    assert (codes.str[12:].astype(int) >= 1).all()


def test_codes_are_stable_across_builds(jurisdiction):
    again = build_grid(jurisdiction.townships, jurisdiction.villages, district_code="110117", size_m=500)
    assert again["code"].tolist() == jurisdiction.grid["code"].tolist()
    assert all(a.equals_exact(b, 0) for a, b in zip(again.geometry, jurisdiction.grid.geometry, strict=True))


def test_cells_cover_each_township(jurisdiction):
    towns = jurisdiction.townships
    area = dict(zip(towns["code"], shapely.area(reproject(towns.geometry.to_numpy())), strict=True))
    grid_area = jurisdiction.grid.groupby("township_code")["area_m2"].sum()
    for code, expected in area.items():
        assert grid_area[code] == pytest.approx(expected, rel=1e-3), code
    # and nothing spills: every cell lies in its township
    town_geom = dict(zip(towns["code"], towns.geometry, strict=True))
    g = jurisdiction.grid
    inside = shapely.area(shapely.intersection(g.geometry.to_numpy(),
                                               np.array([town_geom[c] for c in g["township_code"]])))
    assert np.allclose(inside, shapely.area(g.geometry.to_numpy()), rtol=1e-9)


def test_sequence_is_reading_order_within_village_group(jurisdiction):
    g = jurisdiction.grid
    for _, group in g.groupby(g["code"].str[:12]):
        ordered = group.sort_values("code")
        key = list(zip(-ordered["iy"], ordered["ix"], strict=True))
        assert key == sorted(key)


def test_village_part_is_nearest_member_village(jurisdiction):
    g = jurisdiction.grid.sample(300, random_state=3)
    v = jurisdiction.villages
    v_metric = reproject(v.geometry.to_numpy())
    reps = shapely.point_on_surface(reproject(g.geometry.to_numpy()))  # as build_grid: in metres
    for rep, town, village in zip(reps, g["township_code"], g["village_code"], strict=True):
        members = np.flatnonzero(v["township_code"].to_numpy() == town)
        d = shapely.distance(rep, v_metric[members])
        assert village == v["code"].iloc[members[np.argmin(d)]]


def _square_township(size_km: float) -> gpd.GeoDataFrame:
    x, y = 117.10, 40.20
    side = size_km / 85.0
    return gpd.GeoDataFrame({"code": ["110117999"], "name": ["测试镇"]},
                            geometry=[shapely.box(x, y, x + side, y + side * 0.77)], crs="EPSG:4326")


def test_township_without_villages_gets_000(jurisdiction):
    no_villages = jurisdiction.villages.iloc[0:0]
    grid = build_grid(_square_township(2.0), no_villages, district_code="110117", size_m=500)
    assert (grid["code"].str[9:12] == "000").all()
    assert grid["village_code"].isna().all()
    assert grid["code"].str[12:].tolist() == [f"{i:03d}" for i in range(1, len(grid) + 1)]


def test_more_than_999_cells_in_a_group_is_refused(jurisdiction):
    with pytest.raises(LayerInvalid) as exc:
        build_grid(_square_township(3.0), jurisdiction.villages.iloc[0:0], district_code="110117", size_m=50)
    assert exc.value.field == "grid_size_m"
    assert "999" in exc.value.message


@pytest.mark.parametrize("variant", ["stored_without_ix_iy", "size_unknown"])
def test_grid_lookup_is_the_same_for_a_grid_read_back_from_storage(jurisdiction, locator, variant):
    """Storage keeps only code, township_code and geometry: the lattice is recomputed when the size is known,
    and without it the generic polygon index must give the same cells."""
    from gis_enforcement.layers.grid import GridIndex

    stored = jurisdiction.grid[["code", "township_code", "geometry"]].copy()
    parts, owner = shapely.get_parts(stored.geometry.to_numpy(), return_index=True)
    stored["geometry"] = shapely.multipolygons(parts, indices=owner)  # as ST_Multi stores them
    size = 500.0 if variant == "stored_without_ix_iy" else None
    index = GridIndex(stored, locator.township_codes, size_m=size)
    assert (index._polygons is None) == (size is not None)
    rng = np.random.default_rng(6)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon, lat = rng.uniform(x0, x1, 20_000), rng.uniform(y0, y1, 20_000)
    frame = locator.locate(lon, lat)
    inside = frame["township_code"].notna().to_numpy()
    town = locator.township_index(lon[inside], lat[inside]).astype(np.int64)
    x, y = locator._proj.forward(lon[inside], lat[inside])
    rows = index.lookup(lon[inside], lat[inside], x, y, town, np.zeros(len(town), dtype=bool))
    assert list(stored["code"].to_numpy()[rows]) == list(frame["grid_code"][inside])


def test_a_size_too_small_for_the_district_is_refused_before_any_cell_is_built(jurisdiction, monkeypatch):
    """1 m squares over Pinggu would be hundreds of millions of cells (the machine ran out of memory): the
    refusal comes from the townships' areas first, names the township and a size that could do."""
    import gis_enforcement.layers.grid as grid_module

    def never(*_args, **_kwargs):  # nothing is laid out once the size is refused
        raise AssertionError("squares were laid out")

    monkeypatch.setattr(grid_module, "_lattice_boxes", never)
    with pytest.raises(LayerInvalid) as exc:
        build_grid(jurisdiction.townships, jurisdiction.villages, district_code="110117", size_m=1)
    assert exc.value.field == "grid_size_m"
    assert "1 m cells would put at least" in exc.value.message and "larger than" in exc.value.message
    assert any(code in exc.value.message for code in jurisdiction.townships["code"].astype(str))


def test_too_many_squares_to_lay_out_are_refused(jurisdiction, monkeypatch):
    """With villages enough to number every cell, the number of squares to look at still has a ceiling."""
    import gis_enforcement.layers.grid as grid_module

    monkeypatch.setattr(grid_module, "MAX_BOXES", 1_000)
    with pytest.raises(LayerInvalid) as exc:
        build_grid(jurisdiction.townships, jurisdiction.villages, district_code="110117", size_m=500)
    assert exc.value.field == "grid_size_m" and "more than 1,000" in exc.value.message
