"""The status map in Debian's headless Chromium, offline: it draws every case, and its filters (layer control,
legend, time slider) and popups do what they say. Screenshots are saved in the test's directory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_enforcement.mapping.status_map import STATUS_GROUPS, write_status_map
from tests.mapping.test_incidents_map import pinggu, pinggu_catalog  # noqa: F401 — fixtures
from tests.mapping.test_render_chromium import browser  # noqa: F401 — fixture
from tests.mapping.test_status_map import season_cases

TOTAL = "() => window.giseCases.counts.total"


@pytest.fixture(scope="module")
def cases(pinggu, pinggu_catalog):  # noqa: F811
    return season_cases(pinggu, pinggu_catalog, 1500, seed=5)


@pytest.fixture
def opened(browser, cases, pinggu, pinggu_catalog, tmp_path):  # noqa: F811
    path = write_status_map(tmp_path / "status.html", cases, pinggu.townships, catalog=pinggu_catalog)
    context = browser.new_context(viewport={"width": 1200, "height": 850}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(f"fetched {r.url}") if r.url.startswith("http") else None)
    page.goto(path.as_uri())
    page.wait_for_function("() => window.giseCases && window.giseCases.counts.total > 0")
    yield page, errors, tmp_path
    context.close()


def _group_of(cases: pd.DataFrame) -> pd.Series:
    key = {s: k for k, (_, statuses, *_) in enumerate(STATUS_GROUPS) for s in statuses}
    suspect = next(k for k, (name, *_) in enumerate(STATUS_GROUPS) if name == "suspect")
    waiting = cases["status"].isin(["reported", "triaged"])
    return cases["status"].map(key).where(cases["likely_duplicate_of"].isna() | ~waiting, suspect)


def test_draws_every_case_with_the_legend_counts(opened, cases) -> None:
    page, errors, folder = opened
    assert page.evaluate(TOTAL) == len(cases)
    groups = _group_of(cases).value_counts()
    for k, n in groups.items():
        assert page.inner_text(f'.gise-legend .row[data-group="{k}"] .n') == f"{n:,}"
    # something is actually painted on the canvas
    painted = page.evaluate("""() => { var c = document.querySelector('canvas.gise-cases');
        var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, k = 0;
        for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) { k++; } } return k; }""")
    assert painted > 5000
    page.screenshot(path=str(folder / "status.png"))
    assert errors == []


def test_layer_control_filters_by_category_and_month(opened, cases, pinggu_catalog) -> None:  # noqa: F811
    page, errors, folder = opened
    top = cases["category"].value_counts().index[0]
    short = pinggu_catalog.categories[top].zh.split("（")[0]
    page.hover(".leaflet-control-layers")
    page.locator(".leaflet-control-layers-overlays label", has_text=short).first.click()
    assert page.evaluate(TOTAL) == len(cases) - int((cases["category"] == top).sum())
    page.screenshot(path=str(folder / "status-filter.png"))
    months = page.locator(".gise-sec", has_text="月份")
    months.locator("button", has_text="清空").click()
    assert page.evaluate(TOTAL) == 0
    months.locator("button", has_text="全选").click()
    assert page.evaluate(TOTAL) == len(cases) - int((cases["category"] == top).sum())
    assert errors == []


def test_legend_rows_toggle_a_status(opened, cases) -> None:
    page, errors, _ = opened
    closed = next(k for k, (name, *_) in enumerate(STATUS_GROUPS) if name == "closed")
    n_closed = int((_group_of(cases) == closed).sum())
    row = page.locator(f'.gise-legend .row[data-group="{closed}"]')
    row.click()
    assert page.evaluate(TOTAL) == len(cases) - n_closed
    assert "off" in row.get_attribute("class")
    row.focus()
    page.keyboard.press("Enter")  # the legend works from the keyboard too
    assert page.evaluate(TOTAL) == len(cases)
    assert errors == []


def test_time_slider_shows_a_window_of_days(opened, cases) -> None:
    page, errors, folder = opened
    minutes = (cases["observed_at"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy() / 60
    t0 = np.floor(minutes.min())
    day = np.floor((np.floor(minutes) + 480) / 1440) - np.floor((t0 + 480) / 1440)
    page.select_option("#gise-window", "7")
    page.evaluate("() => { var s = document.getElementById('gise-day'); s.value = 100; "
                  "s.dispatchEvent(new Event('input')); }")
    expected = int(((day >= 94) & (day <= 100)).sum())
    assert page.evaluate(TOTAL) == expected > 0
    label = page.inner_text("#gise-days")
    first = pd.Timestamp((np.floor((t0 + 480) / 1440) + 94) * 86400, unit="s").strftime("%Y-%m-%d")
    assert label.startswith(first)
    page.screenshot(path=str(folder / "status-week.png"))
    page.select_option("#gise-window", "0")
    assert page.evaluate(TOTAL) == len(cases)
    assert errors == []


def test_a_click_opens_the_case_with_its_timeline(opened, cases, pinggu_catalog) -> None:  # noqa: F811
    page, errors, folder = opened
    # a closed case on screen, away from the title and legend boxes — once the map has stopped moving (on a busy
    # machine the opening fit may still be under way, and a click would land where the case is no longer)
    find = """() => { var L0 = window.giseCases;
        for (var i = 0; i < L0.n; i++) {
          if (L0.shown[i] && L0.c.cd[i] !== 65535 && L0.sx[i] > 420 && L0.sx[i] < 1000 && L0.sy[i] > 200 &&
              L0.sy[i] < 650 && L0.nearest({x: L0.sx[i], y: L0.sy[i]}) === i) { return [i, L0.sx[i], L0.sy[i]]; }
        } return null; }"""
    target, before = page.evaluate(find), None
    for _ in range(40):
        if target is not None and target == before:
            break
        page.wait_for_timeout(250)
        before, target = target, page.evaluate(find)
    assert target is not None and target == before
    i, x, y = target
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content .gise-popup")
    popup.wait_for()
    text = popup.inner_text()
    row = cases.iloc[i]
    assert pinggu_catalog.categories[row["category"]].zh in text
    for step in ("发现", "吹哨", "结案"):
        assert step in text
    assert row["id"] in text
    page.screenshot(path=str(folder / "status-popup.png"))
    assert errors == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_far_village_is_named_as_the_nearest_with_its_distance(browser, pinggu, pinggu_catalog, tmp_path,  # noqa: F811
                                                                  lang) -> None:
    frame = season_cases(pinggu, pinggu_catalog, 12, seed=2)
    frame["village_name"] = ["砖瓦窑村", "西寺渠村", "东寺渠村"] * 4
    frame["village_distance_m"] = [6459.0, 300.0, np.nan] + [1000.0, 1049.0, 20.0] * 3
    path = write_status_map(tmp_path / "far.html", frame, pinggu.townships, catalog=pinggu_catalog, lang=lang)
    page = browser.new_page()
    page.goto(path.as_uri())
    page.wait_for_function("() => window.giseCases && window.giseCases.counts.total > 0")
    place = page.evaluate("""() => Array.from({length: window.giseCases.n}, (_, i) => {
        var box = document.createElement('div'); box.innerHTML = giseCasePopup(window.giseCases, i);
        return box.querySelector('tr:nth-child(2) td').textContent; })""")
    town = [str(t).split("(")[0] for t in frame["township_name"]]
    if lang == "zh":
        assert place[0] == f"{town[0]} · 最近村：砖瓦窑村（6.5 公里）"
        assert place[4] == f"{town[4]} · 最近村：西寺渠村（1.0 公里）"  # 1,049 m: beyond 1 km
    else:
        assert place[0].endswith(" · nearest village: 砖瓦窑村 (6.5 km)")
    assert place[1] == f"{town[1]} · 西寺渠村" and place[2] == f"{town[2]} · 东寺渠村"  # near, or distance unknown
    assert place[3].endswith(" · 砖瓦窑村")  # exactly 1 km: still its village
    page.close()
