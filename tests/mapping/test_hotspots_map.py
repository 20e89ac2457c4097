"""The hot-spot map: every cell drawn, coloured by its Gi* bin, a legend with the count of each class, offline."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
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


# -- what changes over time: emerging patterns, recurring sites, category trends ---------------------------------
CJK = re.compile(r"[\u3400-\u9fff]")
PATTERNS = ["new hot spot", "intensifying hot spot", "persistent hot spot", "no pattern", "sporadic cold spot",
            "persistent cold spot", "oscillating hot spot", "no pattern", "historical hot spot", "no pattern"]


def _emerging(n: int = 60) -> gpd.GeoDataFrame:
    """Cells of an emerging run as the store gives them back: ``pattern`` and the trend in ``detail``."""
    cells = _cells(n).assign(pattern=np.resize(np.array(PATTERNS, dtype=object), n))
    cells["detail"] = [{"trend_z": 2.5 - 0.1 * k, "trend_p": 0.012, "hot_bins": k % 6, "cold_bins": 0}
                       for k in range(n)]
    return cells


def _sites() -> pd.DataFrame:
    """Sites of the register as ``analysis_repo.recurring_sites`` returns them."""
    t = pd.Timestamp("2026-03-05 22:00", tz="UTC")
    return pd.DataFrame({
        "site_id": ["RS-1-1", "RS-2-2", "RS-3-3"], "kind": ["MIN-02", "MIN-01", "ENV-01"],
        "township_code": ["110117006", "110117005", "110117004"], "n_incidents": [4, 31, 9],
        "n_recurrences": [1, 6, 2], "first_reported_at": [t, t, t + pd.Timedelta(days=40)],
        "last_reported_at": [t + pd.Timedelta(days=20), t + pd.Timedelta(days=150), t + pd.Timedelta(days=100)],
        "last_closed_at": [t + pd.Timedelta(days=10), pd.NaT, t + pd.Timedelta(days=90)],
        "follow_up_due": [t + pd.Timedelta(days=40), pd.NaT, t + pd.Timedelta(days=100)],
        "lon": [117.31, 117.02, 117.05], "lat": [40.17, 40.08, 40.2], "place": ["金海湖镇", "马坊镇", "峪口镇"]})


def _trends() -> pd.DataFrame:
    from gis_enforcement.analysis.category_trends import category_trends

    rng = np.random.default_rng(1)
    start = pd.Timestamp("2026-03-01", tz="Asia/Shanghai")
    weekly = {"ENV-02": [1 + k for k in range(12)], "ENV-03": [14 - k for k in range(12)], "ENV-01": [6] * 12,
              "MIN-01": [5, 7] * 6}
    codes, times = [], []
    for code, counts in weekly.items():
        for k, n in enumerate(counts):
            codes += [code] * n
            times += list(start + pd.to_timedelta(7 * k + rng.uniform(0, 7, n), unit="D"))
    return category_trends(np.array(codes, dtype=object), pd.DatetimeIndex(times), end=start + pd.Timedelta(weeks=12))


@pytest.fixture(scope="module")
def catalog():
    from gis_enforcement.catalog.loader import load_catalog
    from tests.mapping.test_incidents_map import ROOT

    return load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")


def _layer(page: str, key: str) -> list[dict]:
    return [layer for layer in embedded_layers(page) if layer["features"]
            and key in layer["features"][0]["properties"]]


def test_emerging_patterns_drawn_as_symbols_hot_shown_cold_hidden(pinggu, tmp_path) -> None:
    emerging = _emerging()
    page = write_hotspots_map(tmp_path / "e.html", _cells(), pinggu.townships, emerging=emerging,
                              emerging_note="run 7 · 2026-03 — 2026-08").read_text("utf-8")
    hot, cold = _layer(page, "pt")
    patterned = emerging[emerging["pattern"] != "no pattern"]
    assert len(hot["features"]) + len(cold["features"]) == len(patterned)  # "no pattern" draws nothing
    assert {f["properties"]["pt"] for f in hot["features"]} == {p for p in PATTERNS if p.endswith("hot spot")}
    assert {f["properties"]["pt"] for f in cold["features"]} == {"sporadic cold spot", "persistent cold spot"}
    first = next(f for f in hot["features"] if f["properties"]["id"] == "c0")
    assert first["properties"] | {"tz": 2.5, "tp": 0.012, "hb": 0, "cb": 0} == first["properties"]
    assert first["geometry"]["type"] == "Point"
    # a layer each, the cold one off at first; legend rows toggle them and say how many cells
    assert "时空模式 · 热点" in page and "时空模式 · 冷点" in page
    n_new = int((emerging["pattern"] == "new hot spot").sum())
    assert re.search(rf'<div class="row" data-key="em-hot" title="新增热点">.*?新增</span><span class="n">{n_new}<',
                     page)
    assert re.search(r'<div class="row off" data-key="em-cold" title="持续冷点">', page)
    assert "run 7 · 2026-03 — 2026-08" in page and "时空模式（新兴热点分析）" in page


def test_recurring_sites_sized_by_incidents_with_their_history(pinggu, catalog, tmp_path) -> None:
    page = write_hotspots_map(tmp_path / "s.html", _cells(), pinggu.townships, sites=_sites(),
                              catalog=catalog).read_text("utf-8")
    (sites,) = _layer(page, "r")
    props = [f["properties"] for f in sites["features"]]
    assert [p["n"] for p in props] == [31, 9, 4]  # biggest first, so the small ones are drawn on top
    assert props[0]["r"] > props[1]["r"] > props[2]["r"]
    big = props[0]
    assert big["k"] == "MIN-01" and big["rc"] == 6 and big["v"] == "马坊镇" and big["id"] == "RS-2-2"
    assert big["fr"] == "2026-03-06" and big["lr"] == "2026-08-03" and big["mo"] == 6  # Beijing dates, Mar–Aug
    assert "cl" not in big and "fu" not in big  # never closed: no closure, no 回头看 date
    assert props[2]["cl"] == "2026-03-16" and props[2]["fu"] == "2026-04-15"
    assert '"MIN-01":"盗采盗挖矿产资源"' in page  # popups name the category
    assert re.search(r'data-key="sites">反复点位（回头看）<span class="n">3</span>', page)
    assert "圆圈大小 = 事件数" in page


def test_rising_and_falling_categories_in_a_panel(pinggu, catalog, tmp_path) -> None:
    page = write_hotspots_map(tmp_path / "t.html", _cells(), pinggu.townships, trends=_trends(),
                              catalog=catalog).read_text("utf-8")
    assert '<div class="gise-box gise-trends">' in page
    rows = re.findall(r'<span class="arrow"[^>]*>(.)</span><span class="name">([^<]*)</span>.*?'
                      r'<span class="chg"[^>]*>([^<]*)</span>', page)
    assert [(a, n) for a, n, _ in rows] == [("▲", "河道排污/私设排污口"), ("▼", "露天焚烧")]
    assert rows[0][2] == "+450%" and rows[1][2].startswith("−")  # (10 + 11 + 12) / (1 + 2 + 3) − 1
    assert "其余 2 类无显著趋势" in page and "近 12 周逐周计数" in page


def test_no_extras_no_extra_sections(pinggu, tmp_path) -> None:
    page = write_hotspots_map(tmp_path / "p.html", _cells(), pinggu.townships).read_text("utf-8")
    assert 'class="sec"' not in page and 'class="gise-box gise-trends"' not in page and "giseToggle(row" not in page
    assert len(embedded_layers(page)) == 2  # the cells and the townships


def test_english_page_has_english_labels_only(pinggu, catalog, tmp_path) -> None:
    page = write_hotspots_map(tmp_path / "en.html", _cells(), pinggu.townships, lang="en", title="Pinggu hot spots",
                              emerging=_emerging(), sites=_sites().drop(columns="place"), trends=_trends(),
                              catalog=catalog).read_text("utf-8")
    labels = re.search(r"var labels = (\[.*?\])\.map", page)
    assert labels
    names = [label[2] for label in json.loads(labels.group(1))]
    assert "Jinhaihu<small>Town</small>" in names and "Xiong&#x27;erzhai<small>Township</small>" in names
    assert not any(CJK.search(n) for n in names)
    assert "金海湖" not in page
    for text in ("Emerging hot-spot patterns", "Hot spots", "Cold spots", "Recurring sites (follow-up visits)",
                 "circle size = incidents", "Category trends", "Sewage discharge into rivers / illegal outfalls",
                 "Emerging patterns · hot", "weekly counts, last 12 weeks"):
        assert text in page, text
    # nothing left in Chinese (legend, panel, popups, layer names, labels) but comments in the page's code
    assert not CJK.search(re.sub(r"//[^\n]*", "", page))


def test_the_header_names_the_filters_of_the_run_and_of_the_emerging_layer(pinggu, catalog, tmp_path) -> None:
    """A run of one township's one category in one month says so under the title; the emerging layer, from a
    run of its own over the whole district, says that too — a map is never read as another run's picture."""
    cells = _cells()
    cells.attrs["run"] = {"id": 20, "kind": "gi_star", "parameters": {"cell": "h3", "filters": {
        "start": "2026-08-01T00:00:00+08:00", "end": "2026-09-01T00:00:00+08:00", "categories": ["TRK-01"],
        "townships": ["110117006"]}}}
    emerging = _emerging()
    emerging.attrs["run"] = {"id": 15, "kind": "emerging", "parameters": {
        "start": "2026-03-01T00:00:00+08:00", "end": "2026-09-01T00:00:00+08:00", "categories": None,
        "townships": None}}
    page = write_hotspots_map(tmp_path / "f.html", cells, pinggu.townships, emerging=emerging, catalog=catalog,
                              subtitle="第 20 次热点分析").read_text("utf-8")
    trk = catalog.categories["TRK-01"].zh
    assert f"范围 金海湖镇 · 类别 {html_escape(trk)} · 时段 2026-08-01 — 2026-08-31" in page
    assert "时空模式图层：第 15 次分析 · 范围 全区 · 类别 全部类别 · 时段 2026-03-01 — 2026-08-31" in page
    plain = write_hotspots_map(tmp_path / "p.html", _cells(), pinggu.townships).read_text("utf-8")
    assert "范围 " not in plain  # cells of no known run: nothing is claimed about them


def html_escape(text: str) -> str:
    import html

    return html.escape(text)
