"""The hot-spot map: every cell drawn, coloured by its Gi* bin, a legend with the count of each class, offline."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping.hotspots_map import BIN_COLORS, BIN_NAMES, write_hotspots_map
from tests.mapping.test_incidents_map import embedded_layers


@pytest.fixture(scope="module")
def pinggu():
    return load_jurisdiction()


def _cells(n: int = 60) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(3)
    x0, y0 = 117.0, 40.05
    boxes = [shapely.box(x0 + 0.01 * (k % 10), y0 + 0.01 * (k // 10), x0 + 0.01 * (k % 10 + 1),
                         y0 + 0.01 * (k // 10 + 1)) for k in range(n)]
    bins = np.resize(np.array([3, 3, 2, 1, 0, 0, 0, -1, -2, 0]), n)
    return gpd.GeoDataFrame({"cell_id": [f"c{k}" for k in range(n)], "count": rng.integers(0, 30, n),
                             "z": rng.normal(0, 2, n), "p": rng.uniform(0, 1, n), "gi_bin": bins},
                            geometry=boxes, crs=4326)


def test_every_cell_with_its_bin_and_the_legend_counts(pinggu, tmp_path) -> None:
    cells = _cells()
    page = write_hotspots_map(tmp_path / "h.html", cells, pinggu.townships, subtitle="run 1").read_text("utf-8")
    layers = embedded_layers(page)
    drawn = next(layer for layer in layers if layer["features"] and "gi_bin" in layer["features"][0]["properties"])
    assert len(drawn["features"]) == len(cells)
    assert sorted(f["properties"]["cell_id"] for f in drawn["features"]) == sorted(cells["cell_id"])
    assert {f["properties"]["cell_id"]: f["properties"]["gi_bin"] for f in drawn["features"]} == dict(
        zip(cells["cell_id"], cells["gi_bin"], strict=True))
    for b, name in BIN_NAMES["zh"].items():
        n = int((cells["gi_bin"] == b).sum())
        assert re.search(rf"{re.escape(name)}</span><span class=\"n\">{n:,}</span>", page), name
        assert BIN_COLORS[b] in page
    assert "run 1" in page and "示意边界" in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)  # offline: nothing fetched
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", page, re.I)
    assert "Leaflet 1.9" in page


def test_english_and_emerging_patterns(pinggu, tmp_path) -> None:
    cells = _cells(20).assign(pattern="new hot spot")
    page = write_hotspots_map(tmp_path / "e.html", cells, pinggu.townships, lang="en",
                              title="Pinggu emerging hot spots").read_text("utf-8")
    assert "Hot spot, 99% confidence" in page and "Pinggu emerging hot spots" in page
    drawn = next(layer for layer in embedded_layers(page) if layer["features"]
                 and "pattern" in layer["features"][0]["properties"])
    assert {f["properties"]["pattern"] for f in drawn["features"]} == {"new hot spot"}
    with pytest.raises(ValueError):
        write_hotspots_map(tmp_path / "x.html", cells, pinggu.townships, lang="fr")
