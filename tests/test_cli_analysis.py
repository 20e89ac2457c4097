"""`hotspots`, `plan create` and `map plan` from the command line: incidents outside the district left out and
said so, impossible starts refused under the option typed, an empty plan drawn, output suffixes that match
what is written. In-process against a database of its own in the test cluster (the CLI commits)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_enforcement.cli import app
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.storage import analysis_repo

START = "2026-09-01T20:00+08:00"


def _said(result: object) -> str:
    return " ".join(str(result.output).split())  # type: ignore[attr-defined]


def test_emerging_offers_only_the_cells_it_counts_by(runner: CliRunner) -> None:
    shown = runner.invoke(app, ["hotspots", "emerging", "--help"], env={"COLUMNS": "200"}).output
    cell = next(line for line in shown.splitlines() if "--cell" in line)
    assert "h3|grid" in cell and "township" not in cell and "vill" not in cell
    refused = runner.invoke(app, ["hotspots", "emerging", "--cell", "township"])
    assert refused.exit_code == 2 and "--cell" in _said(refused)


@pytest.mark.parametrize("args, option", [
    (["hotspots", "show", "1", "-o", "h.txt"], "--output"),
    (["hotspots", "run", "-o", "x.shp"], "--output"),
    (["hotspots", "run", "--map", "h.png"], "--map"),
    (["hotspots", "show", "1", "--map", "h.geojson"], "--map"),
    (["hotspots", "emerging", "-o", "e.csv"], "--output"),
    (["map", "plan", "1", "-o", "p.png"], "--output"),
])
def test_an_output_suffix_that_does_not_match_what_is_written_is_refused(runner: CliRunner, tmp_path: Path,
                                                                        args: list[str], option: str) -> None:
    path = tmp_path / args[-1]
    result = runner.invoke(app, [*args[:-1], str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    said = _said(result)
    assert option in said and path.name in said and (".gpkg" in said or ".html" in said)
    assert not path.exists()


@pytest.mark.parametrize("args, field", [
    (["--from", "200,100", "--township", "110117006"], "from"),
    (["--from", "-200,100"], "from"),
    (["--from", "116.3975,39.9087"], "from"),  # Tiananmen: ~50 km outside the district
    (["--from", "abc"], "from"),
    (["--township", "abc"], "township"),
    (["--township", "abc", "--from", "117.12,40.14"], "township"),
])
def test_plan_create_refuses_a_start_under_the_option_typed(runner: CliRunner, args: list[str], field: str) -> None:
    result = runner.invoke(app, ["plan", "create", "--start", START, *args])
    assert result.exit_code == 2, result.output
    said = _said(result)
    assert f"error: {field}:" in said and "error: start:" not in said
    assert "RuntimeWarning" not in said and "Traceback" not in said


def test_map_plan_draws_a_plan_without_targets(runner: CliRunner, cli_env: dict[str, str], tmp_path: Path) -> None:
    # as stored before starts were checked: no target, the start an impossible point (null once stored)
    route = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "start", "geometry": {"type": "Point", "coordinates": [float("inf"), 100.0]},
         "properties": {"role": "start", "depart_at": "2026-09-01T20:00:00+08:00"}}],
        "plan": {"period_start": "2026-09-01T20:00:00+08:00", "period_end": "2026-09-02T08:00:00+08:00"}}
    engine = create_engine(cli_env["DATABASE_URL"])
    try:
        with Session(engine) as session:
            plan_id = analysis_repo.insert_plan(session, catalog_version="test", parameters={}, targets=[],
                                                waiting=[], staffing=[], route=route)
            session.commit()
    finally:
        engine.dispose()
    page = tmp_path / "empty-plan.html"
    result = runner.invoke(app, ["map", "plan", str(plan_id), "-o", str(page)])
    assert result.exit_code == 0, result.output
    assert "本方案没有排入任何检查点" in page.read_text(encoding="utf-8")


def test_hotspots_leave_out_incidents_outside_the_district(runner: CliRunner, tmp_path: Path,
                                                           jurisdiction: Jurisdiction) -> None:
    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    table = simulate_incident_table(jurisdiction, catalog, count=600, seed=17)
    far = table.iloc[[0]].assign(id=str(uuid.uuid4()), lon=0.0, lat=0.0)
    pd.concat([table, far]).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    run = runner.invoke(app, ["hotspots", "run", "--cell", "h3", "--resolution", "8"], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    said = _said(run)
    assert "outside the district left out" in said
    assert "26084198" not in said and "widened from" not in said
    emerging = runner.invoke(app, ["hotspots", "emerging", "--cell", "grid", "--size", "1000", "--period",
                                   "2026-03..2026-08"], env={"COLUMNS": "200"})
    assert emerging.exit_code == 0, emerging.output
    assert "outside the district left out" in _said(emerging)
