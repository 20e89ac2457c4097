from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_enforcement.errors import LayerInvalid
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.layers.projection import reproject


@pytest.fixture
def towns(townships_raw) -> gpd.GeoDataFrame:
    return townships_raw[["code", "name", "synthetic", "geometry"]].copy()


def _row(frame: gpd.GeoDataFrame, code: str) -> int:
    return int(np.flatnonzero(frame["code"].to_numpy() == code)[0])


def test_bow_tie_township_is_repaired_and_reported(towns, write_layer):
    i = _row(towns, "110117001")
    x0, y0, x1, y1 = towns.geometry.iloc[i].bounds
    towns.loc[i, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    assert not towns.geometry.iloc[i].is_valid
    j = load_jurisdiction(townships=write_layer(towns, "bowtie.geojson"))
    (fix,) = j.report.repaired
    assert fix["code"] == "110117001" and fix["name"] == "滨河街道"
    assert "Self-intersection" in fix["reason"]
    assert fix["area_after_m2"] > 0
    fixed = j.townships.geometry.iloc[_row(j.townships, "110117001")]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"  # the two triangles of the bow-tie


def test_geometry_without_area_after_repair_is_refused_naming_it(towns, write_layer):
    i = _row(towns, "110117108")
    x0, y0, x1, y1 = towns.geometry.iloc[i].bounds
    towns.loc[i, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x0, y0), (x1, y1)])  # a flat spike
    with pytest.raises(LayerInvalid) as exc:
        load_jurisdiction(townships=write_layer(towns, "flat.geojson"))
    assert "110117108" in exc.value.message and "马昌营镇" in exc.value.message
    assert "no area" in exc.value.message


def test_layer_outside_the_district_is_refused(towns, write_layer):
    shifted = towns.copy()
    shifted["geometry"] = shifted.translate(xoff=1.0)  # a degree east: somewhere in Hebei
    with pytest.raises(LayerInvalid, match=r"only 0% of the layer lies inside the district"):
        load_jurisdiction(townships=write_layer(shifted, "elsewhere.geojson"))


def test_swapped_axes_are_refused(towns, write_layer):
    swapped = towns.copy()
    swapped["geometry"] = shapely.transform(swapped.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    with pytest.raises(LayerInvalid, match="swapped lon/lat"):
        load_jurisdiction(townships=write_layer(swapped, "swapped.geojson"))


def test_overlap_and_gap_are_reported_with_area(towns, write_layer):
    i = _row(towns, "110117111")  # 大兴庄镇, inland: moving it opens a gap and creates overlaps
    towns.loc[i, "geometry"] = shapely.affinity.translate(towns.geometry.iloc[i], xoff=0.003)  # ~255 m east
    j = load_jurisdiction(townships=write_layer(towns, "shifted.geojson"))
    pairs = {(o["a"], o["b"]): o["area_m2"] for o in j.report.overlaps}
    assert pairs and all("110117111" in p for p in pairs)
    metric = dict(zip(towns["code"], reproject(towns.geometry.to_numpy()), strict=True))
    for (a, b), area in pairs.items():
        assert area == pytest.approx(shapely.intersection(metric[a], metric[b]).area, rel=1e-6, abs=0.1)
    assert j.report.gaps and j.report.gaps[0]["area_m2"] > 100_000
    gap = j.report.gaps[0]
    assert 116.9 < gap["lon"] < 117.5 and 40.0 < gap["lat"] < 40.4
    assert j.report.gap_area_m2 == pytest.approx(sum(g["area_m2"] for g in j.report.gaps))


def test_shipped_townships_tile_the_district(jurisdiction):
    assert jurisdiction.report.overlaps == []
    assert jurisdiction.report.gaps == []  # only sub-m² slivers, summed in a note
    assert jurisdiction.report.repaired == []
    assert jurisdiction.synthetic


def test_duplicate_township_codes_are_refused(towns, write_layer):
    towns.loc[_row(towns, "110117002"), "code"] = "110117001"
    with pytest.raises(LayerInvalid, match="duplicate code.*110117001"):
        load_jurisdiction(townships=write_layer(towns, "dup.geojson"))


def test_duplicate_village_codes_are_refused(boundaries_dir, write_layer):
    villages = gpd.read_file(boundaries_dir / "pinggu_villages_points_wgs84.geojson")
    villages.loc[1, "code12"] = villages.loc[0, "code12"]
    with pytest.raises(LayerInvalid, match="villages: duplicate code"):
        load_jurisdiction(villages=write_layer(villages, "v.geojson"))


def test_township_codes_must_have_nine_digits(towns, write_layer):
    towns.loc[0, "code"] = "1101170"
    with pytest.raises(LayerInvalid, match="not 9-digit"):
        load_jurisdiction(townships=write_layer(towns, "short.geojson"))


def test_zones_need_a_kind_and_polygons(boundaries_dir, write_layer):
    zones = gpd.read_file(boundaries_dir / "zones_DEMO_wgs84.geojson")
    with pytest.raises(LayerInvalid, match="no 'kind' field") as exc:
        load_jurisdiction(zones=write_layer(zones.drop(columns="kind"), "nokind.geojson"))
    assert exc.value.field == "kind"
    lines = zones.copy()
    lines["geometry"] = lines.boundary
    with pytest.raises(LayerInvalid, match="not a polygon"):
        load_jurisdiction(zones=write_layer(lines, "lines.geojson"))
