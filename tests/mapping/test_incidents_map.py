"""The incidents map: offline (nothing loaded from the internet), one layer per category with the right
counts, a legend of category names, popups' lookups, labelled (示意) townships; safe with hostile text."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gis_enforcement.catalog.loader import load_catalog
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.errors import NotConfigured
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping import assets
from gis_enforcement.mapping.incidents_map import incidents_map, write_incidents_map

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pinggu():
    return load_jurisdiction()


@pytest.fixture(scope="module")
def pinggu_catalog():
    return load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")


def store_like(jurisdiction, catalog, count: int, seed: int = 2017) -> gpd.GeoDataFrame:
    """A frame shaped like the store's export, built from a simulated season (no database)."""
    df = simulate_incident_table(jurisdiction, catalog, count=count, seed=seed)
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)
    towns = jurisdiction.townships
    ip, it = shapely.STRtree(towns.geometry.values).query(g.geometry.values, predicate="intersects")
    town = np.full(len(g), None, dtype=object)
    town[ip] = towns["name"].to_numpy()[it]
    g["township_name"] = town
    villages = jurisdiction.villages
    vi = shapely.STRtree(villages.geometry.values).query_nearest(g.geometry.values, all_matches=False)[1]
    g["village_name"] = villages["name"].to_numpy()[vi]
    g["grid_code"] = "110117001001001"
    g["flags"] = np.where(town == None, "outside_district", "")  # noqa: E711
    g["status"] = np.random.default_rng(seed).choice(["reported", "whistled", "closed"], len(g))
    g["lead_department"] = [catalog.general_rule(c).lead for c in g["category"]]
    g["likely_duplicate_of"] = None
    g.loc[g.index[::50], "likely_duplicate_of"] = g["id"].iloc[0]
    g["observed_at"] = gpd.pd.to_datetime(g["observed_at"], utc=True, format="ISO8601")
    return g.drop(columns=["lon", "lat", "reporter"])


def embedded_layers(page: str) -> list[dict]:
    """The FeatureCollections embedded in the page's L.geoJSON(...) calls."""
    decoder = json.JSONDecoder()
    out = []
    for m in re.finditer(r"L\.geoJSON\(", page):
        obj, _ = decoder.raw_decode(page, m.end())
        out.append(obj)
    return out


@pytest.fixture(scope="module")
def small(pinggu, pinggu_catalog):
    return store_like(pinggu, pinggu_catalog, 600)


@pytest.fixture(scope="module")
def big(pinggu, pinggu_catalog):
    return store_like(pinggu, pinggu_catalog, 5000, seed=8)


@pytest.fixture(scope="module")
def big_page(big, pinggu, pinggu_catalog, tmp_path_factory):
    path = write_incidents_map(tmp_path_factory.mktemp("maps") / "sub" / "incidents.html", big,
                               pinggu.townships, catalog=pinggu_catalog)
    assert path.is_file()
    return path.read_text(encoding="utf-8")


def test_page_is_offline(big_page):
    # nothing is fetched: no external script or stylesheet, no remote CSS url(), no tiles
    assert not re.search(r"<script[^>]*\bsrc\s*=", big_page, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", big_page, re.I)
    assert not re.search(r"url\(\s*[\"']?https?:", big_page, re.I)
    for cdn in ("cdn.jsdelivr", "code.jquery", "cdnjs", "bootstrapcdn", "tile.openstreetmap"):
        assert cdn not in big_page
    assert "Leaflet 1.9" in big_page  # inlined


def test_feature_counts_per_category_match_the_input(big, big_page):
    layers = [layer for layer in embedded_layers(big_page) if "category" in layer]
    got = {layer["category"]: len(layer["features"]) for layer in layers}
    assert got == dict(Counter(big["category"]))
    # one GeoJSON layer per category; markers are made in the browser, not one object per point in Python
    assert big_page.count("L.circleMarker(") == len(got)
    assert big_page.count("L.geoJSON(") == len(got) + 1  # + the townships


def test_legend_lists_every_family_and_category_with_its_count(big, big_page, pinggu_catalog):
    legend = re.search(r'<div class="gise-box gise-legend">(.*?)</details></div>', big_page, re.S)
    assert legend
    families = Counter(big["category"].str.split("-").str[0])
    for family, n in families.items():  # the families first, each with its count
        row = re.search(rf'<div class="row" data-key="f-{family}" [^>]*>(.*?)</div>', legend.group(1))
        assert row and f">{n:,}<" in row.group(1)
    assert legend.group(1).index('data-key="f-') < legend.group(1).index("<details")
    counts = Counter(big["category"])
    for code, n in counts.items():
        zh = pinggu_catalog.categories[code].zh
        assert f'title="{zh}"' in big_page
        row = re.search(rf'<div class="row" data-key="k\d+" title="{re.escape(zh)}">(.*?)</div>', big_page)
        assert row and f">{n:,}<" in row.group(1)


def test_townships_labelled_and_marked_illustrative(big_page, pinggu):
    assert "示意边界" in big_page
    for name in pinggu.townships["name"]:
        assert re.split(r"[（(]", name)[0] in big_page
    assert "permanent: true" in big_page


def test_real_boundaries_are_not_marked_illustrative(small, pinggu, tmp_path):
    towns = pinggu.townships.copy()
    towns["synthetic"] = False
    page = write_incidents_map(tmp_path / "m.html", small, towns).read_text(encoding="utf-8")
    assert "示意" not in page


def test_popup_lookups_and_properties(small, pinggu, pinggu_catalog):
    page = incidents_map(small, pinggu.townships, catalog=pinggu_catalog).get_root().render()
    lead = small["lead_department"].iloc[0]
    assert pinggu_catalog.departments[lead].zh in page   # department names for the popups
    assert "已吹哨" in page and "区界外" in page
    feature = next(layer for layer in embedded_layers(page) if "category" in layer)["features"][0]
    assert set(feature["properties"]) >= {"id", "t", "s", "tw", "g", "d", "desc", "acc"}
    assert re.fullmatch(r"2026-\d\d-\d\d \d\d:\d\d", feature["properties"]["t"])


def test_hostile_text_stays_text(small, pinggu, pinggu_catalog, tmp_path):
    evil = small.head(20).copy()
    evil["description"] = "{{ 7*7 }} {% if true %}X{% endif %} </script><script>alert(1)</script>"
    page = write_incidents_map(tmp_path / "evil.html", evil, pinggu.townships, catalog=pinggu_catalog,
                               title="{{ 6*7 }}<b>").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    desc = next(layer for layer in embedded_layers(page) if "category" in layer)["features"][0]
    assert desc["properties"]["desc"].startswith("{{ 7*7 }}")
    assert "42" not in re.findall(r"<h1>(.*?)</h1>", page)[0]
    assert "<b>" not in re.findall(r"<h1>(.*?)</h1>", page)[0]


def test_english_and_online_basemap(small, pinggu, pinggu_catalog):
    page = incidents_map(small, pinggu.townships, catalog=pinggu_catalog, lang="en",
                         tiles="OpenStreetMap").get_root().render()
    assert pinggu_catalog.categories["MIN-02"].en in page
    assert "illustrative" in page
    assert "tile.openstreetmap" in page


def test_no_incidents_still_draws_the_townships(small, pinggu):
    page = incidents_map(small.head(0), pinggu.townships).get_root().render()
    assert 'class="gise-box gise-legend"' not in page
    assert page.count("L.geoJSON(") == 1


def test_missing_assets_say_how_to_fix(tmp_path, monkeypatch):
    assert (assets.ensure_assets() / "leaflet.js").is_file()
    monkeypatch.setenv("GISE_LEAFLET_DIR", str(tmp_path))
    with pytest.raises(NotConfigured, match="fetch-assets"):
        assets.ensure_assets()
