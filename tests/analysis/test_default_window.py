"""Without a period, hot spots, emerging hot spots and category trends read the 12 months up to the latest
report: one report observed two years earlier (intake takes any past time) is left out and said to be, instead
of stretching the bins over the empty months between; a period asked for is read as asked. Emerging hot spots
say where each is."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gis_enforcement.analysis.category_trend_service import category_trend_table
from gis_enforcement.analysis.hotspot_service import AnalysisWindow, analysis_window, place_cells, run_and_store
from gis_enforcement.analysis.trend_service import emerging_list, emerging_run
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from gis_enforcement.storage import analysis_repo

TZ = "Asia/Shanghai"
STRAY = "2024-05-03T10:00:00+08:00"


def _season(db: Session, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog, path: Path,
            stray: bool) -> pd.DataFrame:
    """A simulated season (2026-03 … 2026-08) and, with ``stray``, one more report of it observed in 2024."""
    table = simulate_incident_table(jurisdiction, catalog, count=900, seed=31)
    if stray:
        table = pd.concat([table, table.iloc[[7]].assign(id=str(uuid.uuid4()), observed_at=STRAY)])
    table.to_csv(path, index=False)
    ingest(db, read_intake_file(path), locator=locator, catalog=catalog)
    return table


@pytest.fixture
def season(db: Session, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog, tmp_path: Path) -> None:
    _season(db, jurisdiction, locator, catalog, tmp_path / "season.csv", stray=True)


def test_a_stray_old_report_does_not_stretch_emerging_bins(db: Session, season: None) -> None:
    run_id, _, cells = emerging_run(db, cell="grid", size_m=1000.0)
    run, _ = analysis_repo.hotspot_run(db, run_id=run_id)
    assert run is not None
    summary = run["summary"]
    starts = pd.to_datetime(summary["bin_starts"])
    assert [f"{s:%Y-%m}" for s in (starts[0], starts[-1])] == ["2026-03", "2026-08"] and len(starts) == 6
    window = summary["window"]
    assert window["default"] and window["older_left_out"] == 1 and window["months"] == 12
    assert pd.Timestamp(window["start"]) == pd.Timestamp("2026-03-01", tz=TZ)
    assert any("1 report(s) observed before 2026-03-01 left out" in w for w in summary["warnings"])
    read = analysis_repo.incidents_frame(db, inside_district=True)
    assert summary["incidents"] == len(read) - 1  # every report but the stray one
    assert run["parameters"]["request"]["start"] is None  # the request as asked: a later read reuses the run
    # a period asked for is read as asked: 2024-05 … 2026-08 is 28 months, the stray one in the first
    asked, _, _ = emerging_run(db, cell="grid", size_m=1000.0, start=pd.Timestamp("2024-05-01", tz=TZ),
                               end=pd.Timestamp("2026-09-01", tz=TZ))
    wide, _ = analysis_repo.hotspot_run(db, run_id=asked)
    assert wide is not None and wide["summary"]["bins"] == 28
    assert wide["summary"]["incidents"] == len(read) and not wide["summary"]["window"]["default"]


def test_a_stray_old_report_does_not_stretch_category_trends(db: Session, season: None) -> None:
    table = category_trend_table(db, days=7, tz=TZ)
    a = table.attrs
    assert a["bin_start"].startswith("2026-03-01") and a["n_bins"] == 26
    assert a["window"]["older_left_out"] == 1 and "2026-03-01" in a["note"]
    assert a["incidents"] == len(analysis_repo.incidents_frame(db)) - 1


def test_a_stray_old_report_is_left_out_of_hot_spots_and_said(db: Session, season: None) -> None:
    _, result = run_and_store(db, cell="grid", size_m=1000.0)
    window = result.summary["window"]
    assert window["older_left_out"] == 1
    assert f"{pd.Timestamp(window['first']).tz_convert(TZ):%Y-%m-%d}" == "2026-03-01"
    assert result.summary["incidents"] == len(analysis_repo.incidents_frame(db, inside_district=True)) - 1
    said = AnalysisWindow.from_summary(window)
    assert said is not None and said.said(TZ).startswith("2026-03-01 — 2026-08-")
    assert "1 older report(s) left out" in said.said(TZ)


def test_without_an_old_report_everything_is_read_as_before(db: Session, jurisdiction: Jurisdiction,
                                                            locator: Locator, catalog: Catalog,
                                                            tmp_path: Path) -> None:
    _season(db, jurisdiction, locator, catalog, tmp_path / "season.csv", stray=False)
    window = analysis_window(db, start=None, end=None)
    assert window.start is None and window.older == 0 and not window.asked
    assert window.note() is None and "every report" in window.said()
    _, result = run_and_store(db, cell="grid", size_m=1000.0)
    assert result.summary["incidents"] == len(analysis_repo.incidents_frame(db, inside_district=True))
    assert "filters" not in result.parameters or "start" not in result.parameters["filters"]


def test_emerging_hot_spots_say_where_they_are(db: Session, season: None, locator: Locator) -> None:
    _, _, cells = emerging_run(db, cell="grid", size_m=1000.0)
    listed = emerging_list(db, cells, locator=locator)
    assert len(listed) == len(cells)
    hot = listed[listed["urgency"].notna()]
    assert len(hot) and hot["urgency"].tolist() == list(range(1, len(hot) + 1))
    assert listed.index[: len(hot)].equals(hot.index)  # the hot spots lead the list
    placed = locator.locate(hot["lon"].to_numpy(), hot["lat"].to_numpy())
    inside = placed["township_code"].notna().to_numpy()
    assert inside.any()
    assert (hot["township_code"].to_numpy()[inside] == placed["township_code"].to_numpy()[inside]).all()
    assert (hot["village_name"].to_numpy()[inside] == placed["village_name"].to_numpy()[inside]).all()
    assert hot["pattern_zh"].str.endswith("热点").all() and hot["trend_p"].between(0, 1).all()
    assert (hot["last_bin_count"] <= hot["count"]).all()
    # the centre of each cell lies in the cell
    import shapely

    assert shapely.contains_xy(hot.geometry.to_numpy(), hot["lon"].to_numpy(), hot["lat"].to_numpy()).all()
    again = place_cells(db, cells.iloc[:5], locator)
    assert list(again.columns) == ["lon", "lat", "township_code", "township_name", "township_short", "village_name"]
