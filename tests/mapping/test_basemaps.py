"""Basemaps: chosen by name, and everything drawn on a GCJ-02 basemap (AMap) shifted to GCJ-02."""

from __future__ import annotations

import numpy as np
import pytest

from gis_enforcement.domain.datum import wgs84_to_gcj02
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping.basemaps import basemap_from, to_basemap_datum
from gis_enforcement.mapping.hotspots_map import write_hotspots_map
from tests.mapping.test_hotspots_map import _cells
from tests.mapping.test_incidents_map import embedded_layers


def test_basemaps_by_name(tmp_path) -> None:
    assert basemap_from(None) is None and basemap_from("none") is None
    assert "openstreetmap" in basemap_from("osm").url
    with pytest.raises(InvalidInput) as no_token:
        basemap_from("tianditu")
    assert no_token.value.field == "basemap"
    tdt = basemap_from("tianditu", tianditu_token="abc123")
    assert "tk=abc123" in tdt.url and "LAYER=cva" in tdt.overlay and tdt.datum == "wgs84"
    assert basemap_from("amap").datum == "gcj02"
    (tmp_path / "tiles").mkdir()
    local = basemap_from(f"xyz:{tmp_path / 'tiles'}")
    assert local.url.startswith("file://") and local.url.endswith("/{z}/{x}/{y}.png")
    assert basemap_from("xyz:https://tiles.example/{z}/{x}/{y}.png#gcj02").datum == "gcj02"
    with pytest.raises(InvalidInput):
        basemap_from("xyz:/no/such/dir")
    with pytest.raises(InvalidInput):
        basemap_from("google")


def test_geometry_is_shifted_to_gcj02_for_amap() -> None:
    amap = basemap_from("amap")
    lon, lat = 117.1211, 40.1402
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [lon, lat]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
            [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat]]]}}]}
    moved = to_basemap_datum(collection, amap)
    gx, gy = wgs84_to_gcj02(lon, lat)
    assert moved["features"][0]["geometry"]["coordinates"] == pytest.approx([gx, gy], abs=1e-7)
    ring = np.array(moved["features"][1]["geometry"]["coordinates"][0])
    want = np.column_stack(wgs84_to_gcj02(np.array([lon, lon + 0.01, lon + 0.01, lon]),
                                          np.array([lat, lat, lat + 0.01, lat])))
    np.testing.assert_allclose(ring, want, atol=1e-7)
    metres = np.hypot((gx - lon) * 111_320 * np.cos(np.radians(lat)), (gy - lat) * 110_574)
    assert 100 < metres < 1000  # the offset that puts a case on the wrong street if not applied
    assert to_basemap_datum(collection, basemap_from("osm")) is collection


def test_hotspot_map_on_amap_draws_in_gcj02(tmp_path) -> None:
    towns = load_jurisdiction().townships
    cells = _cells(10)
    plain = embedded_layers(write_hotspots_map(tmp_path / "a.html", cells, towns).read_text("utf-8"))
    page = write_hotspots_map(tmp_path / "b.html", cells, towns, basemap=basemap_from("amap")).read_text("utf-8")
    assert "autonavi.com" in page
    shifted = embedded_layers(page)

    def first_vertex(layers: list[dict]) -> list[float]:
        drawn = next(x for x in layers if x["features"] and "gi_bin" in x["features"][0]["properties"])
        return drawn["features"][0]["geometry"]["coordinates"][0][0]

    x, y = first_vertex(plain)
    assert first_vertex(shifted) == pytest.approx(list(wgs84_to_gcj02(x, y)), abs=1e-6)
