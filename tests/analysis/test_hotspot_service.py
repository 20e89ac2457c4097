"""Hot-spot runs on the stored incidents: stored with their parameters, read back equal, reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.analysis.hotspot_service import run_and_store, stored_run
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file


@pytest.fixture
def season(db: Session, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog, tmp_path: Path) -> int:
    table = simulate_incident_table(jurisdiction, catalog, count=1500, seed=5)
    path = tmp_path / "season.csv"
    table.to_csv(path, index=False)
    report = ingest(db, read_intake_file(path), locator=locator, catalog=catalog)
    return report.accepted


def test_grid_run_is_stored_and_reproducible(db: Session, season: int) -> None:
    run_id, result = run_and_store(db, cell="grid", size_m=1000.0)
    assert result.summary["incidents"] > 0.8 * season
    run, cells = stored_run(db, run_id=run_id)
    assert run["kind"] == "gi_star" and run["n_cells"] == len(result.cells) == len(cells)
    assert run["parameters"]["cell"] == "grid" and run["scale"]["distance_m"] == result.scale.distance_m
    mine = result.cells.set_index("cell_id").sort_index()
    back = cells.set_index("cell_id").sort_index()
    assert (back["count"].to_numpy() == mine["count"].to_numpy()).all()
    np.testing.assert_allclose(back["z"].to_numpy(), mine["z"].to_numpy(), rtol=0, atol=1e-12)
    assert (back["gi_bin"].to_numpy() == mine["gi_bin"].to_numpy()).all()
    assert back.geometry.to_crs(4548).area.gt(0).all() and str(cells.crs) == "EPSG:4326"
    assert result.summary["hot"] > 0  # the simulated season has its hot places
    again_id, again = run_and_store(db, cell="grid", size_m=1000.0, distance_m=run["scale"]["distance_m"])
    np.testing.assert_allclose(again.cells.sort_values("cell_id")["z"].to_numpy(), mine["z"].to_numpy(), atol=1e-12)
    assert again_id != run_id


def test_township_run_and_refusals(db: Session, season: int, catalog: Catalog) -> None:
    category = next(iter(catalog.categories))
    _, by_town = run_and_store(db, cell="township")
    assert len(by_town.cells) == 18  # every township, empty ones included
    with pytest.raises(InvalidInput) as village:
        run_and_store(db, cell="village")
    assert village.value.field == "cell"
    with pytest.raises(InvalidInput):
        run_and_store(db, cell="grid", categories=["NO-SUCH"])
    with pytest.raises(NotFound):
        stored_run(db, run_id=10**9)
    assert category


def test_a_run_says_how_many_likely_duplicates_and_rejected_reports_it_left_out(db: Session, season: int) -> None:
    # a few more reports marked as repeats of others, and a few refused, on top of what intake flagged itself
    db.execute(text("UPDATE incident SET likely_duplicate_of = (SELECT min(id::text)::uuid FROM incident) "
                    "WHERE id IN (SELECT id FROM incident WHERE likely_duplicate_of IS NULL ORDER BY id LIMIT 4 "
                    "OFFSET 1)"))
    db.execute(text("UPDATE incident SET status = 'rejected' WHERE id IN (SELECT id FROM incident WHERE "
                    "likely_duplicate_of IS NULL AND status <> 'duplicate' ORDER BY id DESC LIMIT 3)"))
    total, repeats, refused = db.execute(text(
        "SELECT count(*), count(*) FILTER (WHERE likely_duplicate_of IS NOT NULL OR status = 'duplicate'), "
        "count(*) FILTER (WHERE likely_duplicate_of IS NULL AND status = 'rejected') FROM incident")).one()
    _, result = run_and_store(db, cell="grid", size_m=1000.0)
    s = result.summary
    assert (s["likely_duplicates"], s["rejected"]) == (repeats, refused) and repeats >= 4 and refused >= 3
    assert s["incidents"] + s["outside_district"] + s["likely_duplicates"] + s["rejected"] == total
    assert f"{repeats} likely duplicate(s) left out (疑似重复: the report each repeats is counted)" in s["warnings"]
    assert f"{refused} rejected report(s) left out (不予受理)" in s["warnings"]


def test_an_emerging_run_says_what_it_left_out_and_when_it_is_too_small(db: Session, season: int,
                                                                        catalog: Catalog) -> None:
    from gis_enforcement.analysis.trend_service import emerging_run
    from gis_enforcement.storage import analysis_repo

    db.execute(text("UPDATE incident SET status = 'rejected' WHERE id IN (SELECT id FROM incident WHERE "
                    "likely_duplicate_of IS NULL AND status <> 'duplicate' ORDER BY id DESC LIMIT 3)"))
    left_out = analysis_repo.count_left_out(db)
    assert left_out["likely_duplicates"] > 0 and left_out["rejected"] == 3
    run_id, _, _ = emerging_run(db, cell="grid", size_m=1000.0)
    run, _ = stored_run(db, run_id=run_id)
    s = run["summary"]
    assert (s["likely_duplicates"], s["rejected"]) == (left_out["likely_duplicates"], 3)
    assert (f"{left_out['likely_duplicates']} likely duplicate(s) left out (疑似重复: the report each repeats is "
            "counted)") in s["warnings"]
    assert "3 rejected report(s) left out (不予受理)" in s["warnings"]
    assert not any("样本过少" in w for w in s["warnings"])
    # one category that is rare in the season: the run is made, with the caution
    counts = analysis_repo.incidents_frame(db, inside_district=True)["category"].value_counts()
    rare = str(counts[counts.between(3, 29)].index[0])
    small_id, _, _ = emerging_run(db, cell="grid", size_m=1000.0, categories=[rare])
    small, _ = stored_run(db, run_id=small_id)
    n = small["summary"]["incidents"]
    assert n < 30 and f"样本过少 only {n} incident(s): with fewer than 30 the hot and cold spots say little" in \
        small["summary"]["warnings"]


def test_a_stored_run_drawn_again_says_what_it_was_asked_for(db: Session, season: int, catalog: Catalog,
                                                             jurisdiction: Jurisdiction, tmp_path: Path) -> None:
    """A run of one township (named by its short name) and one category, read back from the store and drawn as
    the default hot-spot map draws it: its header names the township, the category and the period."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from gis_enforcement.mapping.hotspots_map import write_hotspots_map

    tz = ZoneInfo("Asia/Shanghai")
    run_id, _ = run_and_store(db, cell="grid", size_m=1000.0, categories=["MIN-02"], townships=["金海湖镇"],
                              start=datetime(2026, 3, 1, tzinfo=tz), end=datetime(2026, 9, 1, tzinfo=tz))
    run, cells = stored_run(db, run_id=run_id)
    assert run["parameters"]["filters"]["townships"] == ["110117006"]
    assert cells.attrs["run"]["id"] == run_id
    page = write_hotspots_map(tmp_path / "h.html", cells, jurisdiction.townships, catalog=catalog,
                              title="平谷区 问题热点").read_text("utf-8")
    assert "范围 金海湖镇 · 类别 " in page and "时段 2026-03-01 — 2026-08-31" in page
    assert catalog.categories["MIN-02"].zh[:2] in page.split("范围 金海湖镇 · 类别 ")[1][:40]
