from __future__ import annotations

import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal

from gis_enforcement.errors import LayerInvalid
from gis_enforcement.layers.io import read_layer


def _comparable(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame[["code", "name", "geometry"]].sort_values("code").reset_index(drop=True)


def test_geojson_geopackage_shapefile_read_the_same(townships_raw, write_layer):
    # Shapefile field names are cut to 10 characters and it has no 'bool' type: keep the two that matter
    frame = townships_raw[["code", "name", "geometry"]]
    paths = [write_layer(frame, "t.geojson"), write_layer(frame, "t.gpkg"), write_layer(frame, "t.shp")]
    layers = [_comparable(read_layer(p)) for p in paths]
    for other in layers[1:]:
        assert_geodataframe_equal(layers[0], other, check_less_precise=True)
    assert layers[0]["code"].tolist() == sorted(townships_raw["code"].tolist())
    assert all(layer.crs.to_epsg() == 4326 for layer in layers)


def test_numeric_codes_in_a_shapefile_come_back_as_integer_strings(townships_raw, write_layer):
    frame = townships_raw[["code", "name", "geometry"]].assign(code=townships_raw["code"].astype(float))
    layer = read_layer(write_layer(frame, "num.shp"))
    assert set(layer["code"]) == set(townships_raw["code"])


def test_projected_layer_is_reprojected_to_wgs84(townships_raw, write_layer):
    metric = townships_raw[["code", "name", "geometry"]].to_crs("EPSG:4548")
    layer = read_layer(write_layer(metric, "m.gpkg"))
    assert layer.crs.to_epsg() == 4326
    assert any("reprojected" in n for n in layer.attrs["notes"])
    assert layer.geometry.iloc[0].equals_exact(townships_raw.geometry.iloc[0], tolerance=1e-7)


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_layer_without_crs_is_taken_as_wgs84_with_a_note(townships_raw, write_layer):
    frame = townships_raw[["code", "name", "geometry"]].set_crs(None, allow_override=True)
    layer = read_layer(write_layer(frame, "nocrs.shp"))
    assert layer.crs.to_epsg() == 4326
    assert any("assumed EPSG:4326" in n for n in layer.attrs["notes"])


def test_code_and_name_fields_can_be_named(townships_raw, write_layer):
    frame = townships_raw[["code", "name", "geometry"]].rename(columns={"code": "XZQDM", "name": "XZQMC"})
    path = write_layer(frame, "renamed.gpkg")
    guessed = read_layer(path)
    named = read_layer(path, code_field="XZQDM", name_field="XZQMC")
    assert guessed["code"].tolist() == named["code"].tolist() == townships_raw["code"].tolist()
    assert named.attrs["fields"] == {"code": "XZQDM", "name": "XZQMC"}


def test_missing_field_is_refused_naming_file_and_field(townships_raw, write_layer):
    path = write_layer(townships_raw[["code", "name", "geometry"]], "t.gpkg")
    with pytest.raises(LayerInvalid) as exc:
        read_layer(path, code_field="gbcode")
    assert "t.gpkg" in exc.value.message and "gbcode" in exc.value.message
    assert exc.value.field == "code_field"


def test_unreadable_and_missing_files_are_refused(tmp_path):
    bad = tmp_path / "broken.geojson"
    bad.write_text("{ not json")
    with pytest.raises(LayerInvalid, match="broken.geojson"):
        read_layer(bad)
    with pytest.raises(LayerInvalid, match="not found"):
        read_layer(tmp_path / "absent.gpkg")


def test_empty_code_is_refused(townships_raw, write_layer):
    frame = townships_raw[["code", "name", "geometry"]].copy()
    frame.loc[3, "code"] = None
    with pytest.raises(LayerInvalid, match="empty 'code'"):
        read_layer(write_layer(frame, "t.geojson"))
