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
from tests.mapping.test_hotspots_map import _cells
from tests.mapping.test_incidents_map import pinggu, pinggu_catalog, small  # noqa: F401 — fixtures

CHROMIUM = "/usr/bin/chromium"
LAYER_SIZES = "() => Object.values(window).filter(v => v instanceof L.GeoJSON).map(v => v.getLayers().length)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is part of the set-up (scripts/setup-system.sh)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


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
