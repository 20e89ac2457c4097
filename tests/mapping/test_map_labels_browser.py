"""Labels that can be read, in a real browser: the two small 街道 are labelled (called out beside their polygons)
and no label covers another, the township labels lie above the incidents' points, the incidents' colours tell the
problem families apart, the choropleth ranks its townships, and the dispatch map's department labels of check-ins
close together do not overlap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gis_enforcement.mapping.dispatch_map import write_dispatch_map
from gis_enforcement.mapping.incidents_map import write_incidents_map
from gis_enforcement.mapping.legend import FAMILY_NAMES, family_of
from gis_enforcement.mapping.townships_map import township_metrics, write_townships_map
from tests.browser import chromium
from tests.mapping.test_dispatch_map import WHISTLE, assignments
from tests.mapping.test_incidents_map import pinggu, pinggu_catalog, store_like  # noqa: F401 — fixtures

SUBDISTRICTS = ("兴谷街道", "滨河街道")
LABELS = """(selector) => Array.from(document.querySelectorAll(selector)).filter(e => e.offsetParent !== null)
  .map(e => { var r = e.getBoundingClientRect();
              return {text: e.innerText, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def season(pinggu, pinggu_catalog):  # noqa: F811
    incidents = store_like(pinggu, pinggu_catalog, 3000)
    codes = dict(zip(pinggu.townships["name"], pinggu.townships["code"], strict=True))
    return incidents.assign(township_code=incidents["township_name"].map(codes))


def _open(browser: Any, path: Path, width: int = 1100, height: int = 800) -> Any:
    page = browser.new_context(viewport={"width": width, "height": height}, offline=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function("() => window.L && document.querySelector('.gise-town-label')")
    page.wait_for_timeout(300)
    page.screenshot(path=str(path.with_suffix(".png")))
    assert errors == []
    return page


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]


def _assert_subdistricts_labelled_apart(labels: list[dict[str, Any]]) -> None:
    for name in SUBDISTRICTS:
        mine = [lab for lab in labels if lab["text"].startswith(name)]
        assert len(mine) == 1, (name, [lab["text"] for lab in labels])
        others = [lab for lab in labels if lab is not mine[0]]
        assert not [o["text"] for o in others if _overlap(mine[0], o)], name


def test_choropleth_labels_the_small_subdistricts_apart_and_ranks_the_townships(browser, pinggu, season,  # noqa: F811
                                                                                 tmp_path) -> None:
    values = township_metrics(pinggu.townships, season)
    page = _open(browser, write_townships_map(tmp_path / "t.html", pinggu.townships, values,
                                              metric="incidents_per_km2"))
    labels = page.evaluate(LABELS, ".gise-town-label")
    assert len(labels) == len(pinggu.townships)
    _assert_subdistricts_labelled_apart(labels)
    # each 街道 label carries its value, and is placed outside its (small) polygon with a leader line
    assert page.locator(".gise-callout .gise-leader line").count() == len(SUBDISTRICTS)
    top = values.sort_values("incidents_per_km2", ascending=False)
    rows = page.evaluate("""() => Array.from(document.querySelectorAll('.gise-rank .row'))
        .map(r => [r.querySelector('.name').innerText, r.querySelector('.n').innerText])""")
    assert [name for name, _ in rows] == [str(n).split("(")[0] for n in top["name"]]
    assert rows[0][1] == f"{top['incidents_per_km2'].iat[0]:,.1f}"
    shown = {lab["text"].split("\n")[0]: lab["text"].split("\n")[-1] for lab in labels}
    assert all(shown[name] == value for name, value in rows if name in SUBDISTRICTS)


def test_incidents_labels_above_the_points_and_families_in_distinct_colours(browser, pinggu, pinggu_catalog,  # noqa: F811
                                                                            season, tmp_path) -> None:
    page = _open(browser, write_incidents_map(tmp_path / "i.html", season, pinggu.townships,
                                              catalog=pinggu_catalog), 1400, 1000)
    _assert_subdistricts_labelled_apart(page.evaluate(LABELS, ".gise-town-label"))
    order = page.evaluate("""() => {
        var z = e => +getComputedStyle(e.closest('.leaflet-pane:not(.leaflet-map-pane)')).zIndex;
        var labels = Array.from(document.querySelectorAll('.gise-town-label'));
        return {labels: labels.map(z), points: z(document.querySelector('canvas')),
                plates: labels.map(e => getComputedStyle(e).backgroundColor)}; }""")
    assert min(order["labels"]) > order["points"] and max(order["labels"]) < 700  # above the points, under popups
    assert all(p.startswith("rgba(255, 255, 255, 0.") and float(p[:-1].split(",")[-1]) >= 0.6
               for p in order["plates"])  # a pale plate under every label
    drawn = page.evaluate("""() => Object.values(window).filter(v => v instanceof L.GeoJSON && v.getLayers().length
        && v.getLayers()[0].feature.geometry.type === 'Point').map(v => [v.getLayers()[0].options.fillColor,
        v.getLayers().length])""")
    assert sum(n for _, n in drawn) == len(season)
    colour_of: dict[str, set[str]] = {}
    popup_code = page.evaluate("""() => Object.keys(GISE.cats).map(k => [k, GISE.cats[k].color])""")
    for code, colour in popup_code:
        colour_of.setdefault(family_of(code), set()).add(colour)
    assert all(len(c) == 1 for c in colour_of.values()), colour_of  # one colour per family
    present = {family_of(c) for c in season["category"]}
    colours = sorted({next(iter(colour_of[f])) for f in present})
    assert {c for c, _ in drawn} == set(colours) and len(colours) == len(present)
    lab = [_lab(c) for c in colours]
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(lab) for b in lab[i + 1:]]
    assert min(gaps) > 20  # CIE76 ΔE: told apart at a glance
    legend = page.inner_text(".gise-legend")
    assert all(FAMILY_NAMES["zh"][f] in legend for f in present)
    # a family's row hides all of its categories; the categories are listed on demand
    biggest = season["category"].map(family_of).value_counts().index[0]
    page.click(f'.gise-legend .row[data-key="f-{biggest}"]')
    hidden = int((season["category"].map(family_of) == biggest).sum())
    on_map = page.evaluate("""() => { var map = Object.values(window).find(v => v instanceof L.Map);
        return Object.values(window).filter(v => v instanceof L.GeoJSON && map.hasLayer(v) && v.getLayers().length
        && v.getLayers()[0].feature.geometry.type === 'Point').reduce((n, v) => n + v.getLayers().length, 0); }""")
    assert on_map == len(season) - hidden
    page.click(".gise-legend summary")
    assert pinggu_catalog.categories["MIN-02"].zh.split("（")[0] in page.inner_text(".gise-legend details")


def _lab(hex_colour: str) -> np.ndarray:
    """sRGB '#rrggbb' to CIE L*a*b* (D65)."""
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_dispatch_labels_of_check_ins_close_together_do_not_overlap(browser, pinggu, tmp_path) -> None:  # noqa: F811
    a = assignments()
    close = a.iloc[[0, 0]].copy()  # two more departments checked in a few metres from the lead
    close["department"] = ["EMA", "SAMR"]
    close["department_name"] = ["区应急管理局", "区市场监督管理局"]
    close["role"] = "assist"
    close["report_in_lon"] = [117.16535, 117.16545]
    close["report_in_lat"] = [40.14885, 40.14880]
    a = pd.concat([a, close], ignore_index=True)
    case = {"id": "c1", "lon": 117.1643, "lat": 40.1482, "category": "MIN-02", "name": "测试点"}
    page = _open(browser, write_dispatch_map(tmp_path / "d.html", case, a, pinggu.townships, geofence_m=300.0,
                                             now=(WHISTLE + pd.Timedelta(hours=2)).to_pydatetime()))
    labels = page.evaluate(LABELS, ".gise-dept-label")
    assert sorted(lab["text"].split(" ")[0] for lab in labels) == sorted(
        ["水务局", "公安分局", "交通局", "应急管理局", "市场监督管理局"])
    pairs = [(x["text"], y["text"]) for i, x in enumerate(labels) for y in labels[i + 1:] if _overlap(x, y)]
    assert pairs == []
