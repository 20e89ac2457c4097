"""The status map on the district's clock: its days, months and popup times follow the configured zone, with
daylight saving where the zone has it (Beijing has none: one offset)."""

from __future__ import annotations

import pandas as pd
import pytest

from gis_enforcement.mapping.features import local_times
from gis_enforcement.mapping.packing import pack_cases, utc_offsets
from gis_enforcement.mapping.status_map import write_status_map
from tests.mapping.test_incidents_map import pinggu, pinggu_catalog  # noqa: F401 — fixtures
from tests.mapping.test_render_chromium import browser  # noqa: F401 — fixture
from tests.mapping.test_status_map import season_cases


def _minute(text: str) -> int:
    return int(pd.Timestamp(text).value // 60_000_000_000)


def test_the_offsets_of_a_zone_over_a_season() -> None:
    first, last = _minute("2026-03-01T00:00Z"), _minute("2026-12-01T00:00Z")
    assert utc_offsets(first, last) == [[first, 480]] == utc_offsets(first, last, "Asia/Shanghai")
    ny = utc_offsets(first, last, "America/New_York")
    assert ny == [[first, -300], [_minute("2026-03-08T07:00Z"), -240], [_minute("2026-11-01T06:00Z"), -300]]


def test_months_and_days_are_the_districts() -> None:
    """20:00 UTC on May 31st is June 1st in Beijing, still May 31st in New York."""
    cases = pd.DataFrame({"lon": [117.1, 117.2], "lat": [40.1, 40.2], "category": ["MIN-02", "MIN-02"],
                          "status": ["reported", "reported"],
                          "observed_at": pd.to_datetime(["2026-05-30T20:00Z", "2026-05-31T20:00Z"], utc=True)})
    beijing = pack_cases(cases, categories=["MIN-02"], statuses=["reported"])
    assert beijing["months"] == ["2026-05", "2026-06"] and beijing["days"] == 2
    new_york = pack_cases(cases, categories=["MIN-02"], statuses=["reported"], tz="America/New_York")
    assert new_york["months"] == ["2026-05"] and new_york["days"] == 2
    assert new_york["offsets"] == [[_minute("2026-05-30T20:00Z"), -240]]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_the_page_shows_each_case_on_the_districts_clock(browser, pinggu, pinggu_catalog, tmp_path,  # noqa: F811
                                                         zone: str) -> None:
    cases = season_cases(pinggu, pinggu_catalog, 300, seed=9)
    path = write_status_map(tmp_path / "status.html", cases, pinggu.townships, catalog=pinggu_catalog, tz=zone)
    context = browser.new_context(viewport={"width": 1000, "height": 700}, offline=True, timezone_id="UTC")
    page = context.new_page()
    page.goto(path.as_uri())
    page.wait_for_function("() => window.giseCases && window.giseCases.counts.total > 0")
    shown = page.evaluate("""(n) => { var L0 = window.giseCases, out = [];
        for (var i = 0; i < n; i++) { out.push([giseCasePopup(L0, i), L0.D.months[L0.month[i]]]); } return out; }""",
                          len(cases))
    context.close()
    local = local_times(cases["observed_at"], zone)
    for i, (popup, month) in enumerate(shown):
        assert f'<span class="t">{local.iloc[i]}</span>' in popup, (i, local.iloc[i], popup)
        assert month == local.iloc[i][:7], (i, month, local.iloc[i])
