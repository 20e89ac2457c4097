"""The maps in a real browser: Debian's headless Chromium driven by Playwright, with the network switched off.

Each page must draw with no console error, every feature it was given must be on the map, and its legend must
say what it shows. A screenshot of each is saved in the test's directory (look at them when a map changes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gis_enforcement.mapping.hotspots_map import write_hotspots_map
from gis_enforcement.mapping.incidents_map import write_incidents_map
from tests.browser import chromium
from tests.mapping.test_hotspots_map import _cells
from tests.mapping.test_incidents_map import pinggu, pinggu_catalog, small  # noqa: F401 — fixtures

LAYER_SIZES = "() => Object.values(window).filter(v => v instanceof L.GeoJSON).map(v => v.getLayers().length)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def render(browser: Any, path: Path, shot: Path) -> tuple[Any, list[str], list[int]]:
    """Open a map offline; return the page, its console errors and the sizes of its GeoJSON layers."""
    context = browser.new_context(viewport={"width": 1100, "height": 800}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(f"fetched {r.url}") if r.url.startswith("http") else None)
    page.goto(path.as_uri())
    page.wait_for_function("() => window.L && Object.values(window).some(v => v instanceof L.GeoJSON)")
    page.wait_for_timeout(300)
    page.screenshot(path=str(shot))
    return page, errors, page.evaluate(LAYER_SIZES)


def test_incidents_map_in_chromium(browser, small, pinggu, pinggu_catalog, tmp_path) -> None:  # noqa: F811
    path = write_incidents_map(tmp_path / "incidents.html", small, pinggu.townships, catalog=pinggu_catalog)
    page, errors, sizes = render(browser, path, tmp_path / "incidents.png")
    assert errors == []
    towns = len(pinggu.townships) + 1  # and the district outline
    assert sorted(sizes) == sorted([towns, *small["category"].value_counts().tolist()])
    page.click(".gise-legend summary")  # the categories, folded under the families
    legend = page.inner_text(".gise-legend")
    names = [pinggu_catalog.categories[c].zh.split("（")[0] for c in small["category"].unique()]
    assert all(n in legend for n in names)
    assert (tmp_path / "incidents.png").stat().st_size > 20_000


def test_hotspots_map_in_chromium(browser, pinggu, tmp_path) -> None:  # noqa: F811
    cells = _cells(80)
    path = write_hotspots_map(tmp_path / "hotspots.html", cells, pinggu.townships, subtitle="run 1")
    page, errors, sizes = render(browser, path, tmp_path / "hotspots.png")
    assert errors == []
    assert sorted(sizes) == sorted([len(cells), len(pinggu.townships) + 1])
    legend = page.inner_text(".gise-legend")
    assert "热点 99% 置信" in legend and "冷点 95% 置信" in legend
    assert str(int((cells["gi_bin"] == 3).sum())) in legend


def test_township_plan_and_dispatch_maps_in_chromium(browser, pinggu, pinggu_catalog, tmp_path) -> None:  # noqa: F811
    from gis_enforcement.mapping.dispatch_map import write_dispatch_map
    from gis_enforcement.mapping.plan_map import write_plan_map
    from gis_enforcement.mapping.townships_map import write_townships_map
    from tests.analysis.test_planning import EVENING, X0, Y0, route_scenario
    from tests.mapping.test_dispatch_map import WHISTLE, assignments
    from tests.mapping.test_townships_map import _values

    towns = pinggu.townships
    path = write_townships_map(tmp_path / "t.html", towns, _values(towns), metric="incidents_per_km2")
    page, errors, sizes = render(browser, path, tmp_path / "townships.png")
    assert errors == [] and len(towns) in sizes
    assert "事件密度" in page.inner_text(".gise-legend")

    from datetime import timedelta

    from gis_enforcement.analysis.planning import plan_operation

    plan = plan_operation(route_scenario(), pinggu_catalog, start=(X0, Y0), period_start=EVENING,
                          period_end=EVENING + timedelta(hours=18)).to_geojson()
    path = write_plan_map(tmp_path / "p.html", plan, towns, catalog=pinggu_catalog)
    page, errors, _ = render(browser, path, tmp_path / "plan.png")
    assert errors == []
    planned = sum(1 for f in plan["features"] if f["properties"].get("status") == "planned")
    assert page.locator(".gise-num").count() >= planned  # every planned target shows its visit number

    case = {"id": "c1", "lon": 117.1640, "lat": 40.1480, "category": "MIN-02", "name": "测试点"}
    path = write_dispatch_map(tmp_path / "d.html", case, assignments(), towns, geofence_m=500.0,
                              now=(WHISTLE + timedelta(hours=2)).to_pydatetime())
    page, errors, _ = render(browser, path, tmp_path / "dispatch.png")
    assert errors == [] and "区水务局".removeprefix("区") in page.inner_text(".gise-legend")


def test_a_big_season_travels_as_columns_and_decodes_to_the_same_points(browser, pinggu, pinggu_catalog,  # noqa: F811
                                                                         tmp_path) -> None:
    import numpy as np

    from gis_enforcement.mapping.features import COMPACT_ABOVE
    from tests.mapping.test_incidents_map import store_like

    big = store_like(pinggu, pinggu_catalog, COMPACT_ABOVE + 5000, seed=21)
    path = write_incidents_map(tmp_path / "big.html", big, pinggu.townships, catalog=pinggu_catalog)
    html_text = path.read_text(encoding="utf-8")
    assert "giseDecode({" in html_text and len(html_text) < 3_000_000  # columns, not features
    page, errors, sizes = render(browser, path, tmp_path / "big.png")
    assert errors == []
    assert sum(sizes) == len(big) + len(pinggu.townships) + 1
    code = big["category"].value_counts().index[0]
    got = page.evaluate("""([code, n]) => {
        var layer = Object.values(window).find(v => v instanceof L.GeoJSON && v.getLayers().length &&
            v.getLayers()[0].feature.geometry.type === 'Point' &&
            v.getLayers()[0].getPopup && gisePopup(v.getLayers()[0].feature.properties, code) &&
            v.options.pointToLayer && v.getLayers().length === n);
        return {coords: layer.getLayers().map(l => l.feature.geometry.coordinates),
                props: layer.getLayers()[0].feature.properties,
                popup: gisePopup(layer.getLayers()[0].feature.properties, code)};
    }""", [code, int((big["category"] == code).sum())])
    mine = big[big["category"] == code]
    want = np.sort(np.round(np.column_stack([mine.geometry.x, mine.geometry.y]), 5), axis=0)
    np.testing.assert_allclose(np.sort(np.array(got["coords"]), axis=0), want, atol=1.1e-5)
    # the first point's time is its own, on the district's clock (the columns carry wall-clock minutes)
    from gis_enforcement.mapping.features import local_times
    x0, y0 = got["coords"][0]
    nearest = int(np.argmin(np.hypot(mine.geometry.x.to_numpy() - x0, mine.geometry.y.to_numpy() - y0)))
    assert got["props"]["t"] == local_times(mine["observed_at"]).iloc[nearest], got["props"]
    assert got["props"]["s"] in {"reported", "whistled", "closed"}
    assert pinggu_catalog.categories[code].zh.split("（")[0] in got["popup"]


def test_hotspots_map_with_patterns_sites_and_trends_in_chromium(browser, pinggu, pinggu_catalog,  # noqa: F811
                                                                 tmp_path) -> None:
    from tests.mapping.test_hotspots_map import _emerging, _sites, _trends

    cells, emerging, sites = _cells(80), _emerging(80), _sites()
    path = write_hotspots_map(tmp_path / "hotspots.html", cells, pinggu.townships, emerging=emerging, sites=sites,
                              trends=_trends(), lang="en", title="Pinggu hot spots", catalog=pinggu_catalog)
    page, errors, sizes = render(browser, path, tmp_path / "hotspots-extras.png")
    assert errors == []
    pattern = emerging["pattern"]
    n_hot, n_cold = int(pattern.str.endswith("hot spot").sum()), int(pattern.str.endswith("cold spot").sum())
    assert sorted(sizes) == sorted([len(cells), len(pinggu.townships) + 1, n_hot, n_cold, len(sites)])
    shown = """() => Object.values(window).filter(v => v instanceof L.GeoJSON && v.getLayers().length &&
        v.getLayers()[0].feature.properties.pt).map(v => [v.getLayers()[0].feature.properties.pt.split(' ')[1],
        document.querySelectorAll('.gise-em').length > 0, Object.values(window).some(m => m instanceof L.Map &&
        m.hasLayer(v))])"""
    assert sorted(page.evaluate(shown)) == [["cold", True, False], ["hot", True, True]]  # cold patterns off at first
    page.click('.gise-legend .row[data-key="em-cold"]')  # a legend row switches its family on
    assert sorted(page.evaluate(shown)) == [["cold", True, True], ["hot", True, True]]
    assert page.locator(".gise-em").count() == n_hot + n_cold
    legend = page.inner_text(".gise-legend")
    assert "Emerging hot-spot patterns" in legend and "Recurring sites" in legend
    assert "Sewage discharge" in page.inner_text(".gise-trends")
    popup = page.evaluate("""() => { var v = Object.values(window).find(v => v instanceof L.GeoJSON &&
        v.getLayers().length && v.getLayers()[0].options.pane === 'giseSites'); var l = v.getLayers()[0];
        l.openPopup(); return document.querySelector('.leaflet-popup-content').innerText; }""")
    assert "Back after closure" in popup and "6" in popup and "2026-03-06" in popup


def test_hotspot_cells_patterns_and_sites_each_open_their_popup_on_a_click(browser, pinggu, tmp_path) -> None:  # noqa: F811
    """The recurring sites sit in their own pane above everything; a click beside a site's circle still reaches the
    cell or the emerging-pattern symbol under it (the sites' pane must not cover the map)."""
    from tests.mapping.test_hotspots_map import _emerging, _sites

    cells, emerging = _cells(80), _emerging(80)
    path = write_hotspots_map(tmp_path / "hotspots.html", cells, pinggu.townships, emerging=emerging, sites=_sites())
    page, errors, _ = render(browser, path, tmp_path / "hotspots-click.png")
    point = """([lon, lat]) => { var map = Object.values(window).find(v => v instanceof L.Map);
        map.setView([40.09, 117.05], 13, {animate: false});
        var p = map.latLngToContainerPoint([lat, lon]), box = map.getContainer().getBoundingClientRect();
        return [p.x + box.left, p.y + box.top]; }"""

    def click(lon: float, lat: float) -> str:
        page.evaluate("() => { Object.values(window).find(v => v instanceof L.Map).closePopup(); }")
        page.wait_for_function("() => !document.querySelector('.leaflet-popup')")
        x, y = page.evaluate(point, [lon, lat])
        page.mouse.click(x, y)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=3000)
        return popup.inner_text()

    c3 = cells.iloc[3]  # a cell with no emerging pattern, away from the sites
    assert emerging["pattern"].iloc[3] == "no pattern"
    text = click(c3.geometry.centroid.x, c3.geometry.centroid.y)
    assert "单元 c3" in text and "热点 90% 置信" in text and f"{c3['count']}" in text
    c0 = cells.iloc[0]  # a new hot spot: its symbol's popup
    text = click(c0.geometry.centroid.x, c0.geometry.centroid.y)
    assert "新增热点" in text and "c0" in text
    text = click(117.02, 40.08)  # the site RS-2-2's circle
    assert "RS-2-2" in text
    page.screenshot(path=str(tmp_path / "hotspots-click.png"))
    assert errors == []
