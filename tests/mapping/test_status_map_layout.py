"""The written status map on a small screen (800 × 600): the time slider and the legend are both fully visible,
neither under the other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gis_enforcement.mapping.status_map import write_status_map
from tests.mapping.test_incidents_map import pinggu, pinggu_catalog  # noqa: F401 — fixtures
from tests.mapping.test_render_chromium import browser  # noqa: F401 — fixture
from tests.mapping.test_status_map import season_cases

BOXES = """() => Object.fromEntries(['.gise-legend', '.gise-time', '.gise-title'].map((s) => {
    const r = document.querySelector(s).getBoundingClientRect();
    return [s, {left: r.left, top: r.top, right: r.right, bottom: r.bottom}]; }))"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("size", [(800, 600), (1280, 900)], ids=["800x600", "1280x900"])
def test_the_time_slider_and_the_legend_are_both_visible(browser: Any, pinggu: Any, pinggu_catalog: Any,  # noqa: F811
                                                         tmp_path: Path, size: tuple[int, int]) -> None:
    cases = season_cases(pinggu, pinggu_catalog, 400, seed=5)
    path = write_status_map(tmp_path / "status.html", cases, pinggu.townships, catalog=pinggu_catalog)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, offline=True)
    page = context.new_page()
    page.goto(path.as_uri())
    page.wait_for_function("() => window.giseCases && window.giseCases.counts.total > 0")
    page.screenshot(path=str(tmp_path / f"status-map-{size[0]}x{size[1]}.png"))
    boxes = page.evaluate(BOXES)
    for name, box in boxes.items():   # each inside the window
        inside = box["left"] >= 0 and box["top"] >= 0 and box["right"] <= size[0] and box["bottom"] <= size[1]
        assert inside, (name, box)
    assert not _overlap(boxes[".gise-time"], boxes[".gise-legend"]), boxes
    assert not _overlap(boxes[".gise-title"], boxes[".gise-legend"]), boxes
    # the slider itself answers where it is drawn (nothing lies on top of it)
    slider = page.locator("#gise-day").bounding_box()
    on_top = page.evaluate("([x, y]) => document.elementFromPoint(x, y).id", [slider["x"] + slider["width"] / 2,
                                                                             slider["y"] + slider["height"] / 2])
    assert on_top == "gise-day"
    context.close()
