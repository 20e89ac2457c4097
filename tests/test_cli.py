"""The CLI contract, run in-process against a database of its own in the test cluster (the CLI commits)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gis_enforcement.cli import app
from gis_enforcement.layers.jurisdiction import Jurisdiction

LOCATE_KEYS = {"township_code", "township_name", "village_code", "village_name", "grid_code", "zones", "flags",
               "lon", "lat"}


def test_locate_one_point_json_contract(runner: CliRunner, jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[5]
    result = runner.invoke(app, ["locate", str(v.geometry.x), str(v.geometry.y), "--json"])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.stdout)
    assert LOCATE_KEYS <= set(rec)
    assert rec["township_code"] == v["township_code"] and rec["village_code"] == v["code"]
    assert rec["grid_code"].startswith(v["township_code"]) and len(rec["grid_code"]) == 15


def test_locate_converts_gcj02(runner: CliRunner, jurisdiction: Jurisdiction) -> None:
    from gis_enforcement.domain.datum import from_wgs84

    v = jurisdiction.villages.iloc[5]
    gx, gy = from_wgs84(v.geometry.x, v.geometry.y, "gcj02")
    rec = json.loads(runner.invoke(app, ["locate", str(gx), str(gy), "--crs", "gcj02", "--json"]).stdout)
    assert rec["lon"] == pytest.approx(v.geometry.x, abs=1e-7) and rec["lat"] == pytest.approx(v.geometry.y, abs=1e-7)


def test_locate_file_keeps_order_and_reports_bad_rows(runner: CliRunner, tmp_path: Path,
                                                      jurisdiction: Jurisdiction) -> None:
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    v = jurisdiction.villages.iloc[0]
    csv = tmp_path / "pts.csv"
    csv.write_text(f"lon,lat,accuracy\n{v.geometry.x},{v.geometry.y},5\nabc,40,3\n{x1 + 0.1},{y0},\n")
    result = runner.invoke(app, ["locate", "--file", str(csv), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert len(lines) == 3
    assert lines[0]["township_code"] == v["township_code"]
    assert set(lines[1]) == {"error"}
    assert lines[2]["township_code"] is None and "outside_district" in lines[2]["flags"]
    said = runner.invoke(app, ["locate", "--file", str(csv)])  # without --json: a line a person reads per point
    assert said.exit_code == 0 and "{" not in said.stdout
    plain = said.stdout.strip().splitlines()
    assert len(plain) == 3 and plain[0].startswith("point 1: ") and f"{v['township_code']}" in plain[0]
    assert plain[1] == "point 2: error: lon: not a finite number ('abc')"
    assert "outside the district" in plain[2] and "outside_district" in plain[2]
    gj = tmp_path / "pts.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [v.geometry.x, v.geometry.y]},
         "properties": {"accuracy_m": 500}}]}))
    rec = json.loads(runner.invoke(app, ["locate", "--file", str(gj), "--json"]).stdout)
    assert rec["township_code"] == v["township_code"]


def test_locate_names_the_field_and_the_reason_of_each_bad_row(runner: CliRunner, tmp_path: Path,
                                                               jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[0]
    x, y = v.geometry.x, v.geometry.y
    csv = tmp_path / "pts.csv"
    csv.write_text("lon,lat,accuracy\n"
                   f"abc,{y},\n200,{y},5\n{x},95,\n{x},{y},-5\n,,\n{x},{y},x\nnan,inf,\n {x} , {y} , 3 \n")
    result = runner.invoke(app, ["locate", "--file", str(csv), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [rec.get("error") for rec in lines] == [
        "lon: not a finite number ('abc')",
        "lon: outside [-180, 180] (200)",
        "lat: outside [-90, 90] (95)",
        "accuracy: must be a non-negative number of metres (-5)",
        "lon: missing; lat: missing",
        "accuracy: not a finite number ('x')",
        "lon: not a finite number ('nan'); lat: not a finite number ('inf')",
        None,
    ]
    assert lines[-1]["township_code"] == v["township_code"]  # spaces around the numbers are fine
    gj = tmp_path / "pts.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[x, y], [x, y + 0.01]]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [True, y]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": {"accuracy_m": 9}}]}))
    lines = [json.loads(line) for line in runner.invoke(app, ["locate", "--file", str(gj), "--json"]).stdout.split("\n")
             if line]
    assert lines[0] == {"error": "geometry: not a Point with [lon, lat]"}
    assert lines[1] == {"error": "lon: not a finite number ('True')"}
    assert lines[2]["township_code"] == v["township_code"]
    no_lat = tmp_path / "no_lat.csv"
    no_lat.write_text(f"lon,y\n{x},{y}\n")
    refused = runner.invoke(app, ["locate", "--file", str(no_lat), "--json"])
    assert refused.exit_code != 0 and "no lat column" in refused.output


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("missing.csv", None, "cannot read"),
    ("empty.csv", b"", "the CSV file is empty"),
    ("binary.csv", bytes(range(128, 256)) * 4, "neither UTF-8 nor GBK"),
    ("broken.geojson", b"{not json", "is not valid JSON"),
    ("number.json", b"5", "not a GeoJSON Feature"),
    ("features.geojson", b'{"type": "FeatureCollection", "features": 7}', "not a GeoJSON Feature"),
])
def test_locate_refuses_an_unreadable_file_by_name(runner: CliRunner, tmp_path: Path, name: str,
                                                   content: bytes | None, reason: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(app, ["locate", "--file", str(path), "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "file: " in result.output and reason in " ".join(result.output.split())


def test_locate_reads_a_gbk_csv(runner: CliRunner, tmp_path: Path, jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[3]
    path = tmp_path / "gbk.csv"
    path.write_bytes(f"lon,lat,备注\n{v.geometry.x},{v.geometry.y},村口\n".encode("gbk"))
    result = runner.invoke(app, ["locate", "--file", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["township_code"] == v["township_code"]


@pytest.mark.parametrize(("lon", "lat", "field", "reason"), [
    ("200", "40", "lon", "within [-180, 180], got 200.0"),
    ("117", "-95", "lat", "within [-90, 90], got -95.0"),
])
def test_locate_refuses_a_point_off_the_globe(runner: CliRunner, lon: str, lat: str, field: str, reason: str) -> None:
    result = runner.invoke(app, ["locate", "--json", "--", lon, lat])
    assert result.exit_code != 0 and result.stdout == ""
    assert f"{field}: {field} must be {reason}" in result.output


def test_ingest_reports_rows_then_is_idempotent_and_exports(runner: CliRunner, tmp_path: Path,
                                                            jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[30]
    good = [str(uuid.uuid4()) for _ in range(3)]
    rows = [f"{g},ENV-01,{v.geometry.x + i * 0.01},{v.geometry.y},10,2026-06-0{i + 1}T09:00:00,巡查员,描述{i}"
            for i, g in enumerate(good)]
    rows.append(f"{uuid.uuid4()},ENV-01,{v.geometry.x},,10,2026-06-01T09:00:00,巡查员,no lat")
    path = tmp_path / "in.csv"
    path.write_text("id,category,lon,lat,accuracy_m,observed_at,reporter,description\n" + "\n".join(rows) + "\n",
                    encoding="gbk")
    first = runner.invoke(app, ["ingest", str(path), "--json"])
    assert first.exit_code == 1  # a row was refused
    rep = json.loads(first.stdout)
    assert rep["accepted"] == 3 and rep["rejected"] == 1
    assert rep["errors"] == [{"row": 5, "field": "lat", "reason": "must be a number (latitude in degrees)",
                              "id": rep["errors"][0]["id"], "code": "lat:number", "values": {}}]
    again = runner.invoke(app, ["ingest", str(path)])
    assert "0 accepted" in again.stdout and "3 already stored" in again.stdout
    odd = tmp_path / "[odd] name.geojson"  # text in square brackets is printed, not read as a style
    twice = {"type": "Feature", "id": str(uuid.uuid4()),
             "geometry": {"type": "Point", "coordinates": [v.geometry.x, v.geometry.y]},
             "properties": {"category": "ENV-01", "observed_at": "2026-06-01T09:00:00+08:00"}}
    odd.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": [117.1]},
         "properties": {"category": "ENV-01", "observed_at": "2026-06-01T09:00:00+08:00"}}, twice, twice]}))
    told = runner.invoke(app, ["ingest", str(odd)])
    assert told.exit_code == 1 and "[odd] name.geojson:" in told.stdout
    assert "3 submitted, 1 accepted, 0 already stored, 1 rejected, 1 repeated in the file" in " ".join(
        told.stdout.split())
    assert "row 1 geometry.coordinates: must be [lon, lat]" in " ".join(told.stdout.split())

    for fmt, name in (("geojson", "out.geojson"), ("csv", "out.csv"), ("gpkg", "out.gpkg")):
        out = tmp_path / name
        result = runner.invoke(app, ["export", "incidents", "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        frame = pd.read_csv(out) if fmt == "csv" else gpd.read_file(out)
        assert set(good) <= set(frame["id"])
        row = frame[frame["id"] == good[0]].iloc[0]
        assert row["category"] == "ENV-01" and str(row["township_code"]) == v["township_code"]
        if fmt == "csv":  # the patrol's hour, as the API gives it (GDAL reads GeoJSON's as a time)
            assert row["observed_at"] == "2026-06-01T09:00:00+08:00"
        else:
            assert pd.Timestamp(row["observed_at"]).isoformat() == "2026-06-01T09:00:00+08:00"
        assert str(row["description"]) == "描述0"


def test_ingest_can_rebuild_the_indexes(runner: CliRunner, cli_env: dict[str, str], tmp_path: Path,
                                        jurisdiction: Jurisdiction) -> None:
    from gis_enforcement.storage.engine import make_engine

    v = jurisdiction.villages.iloc[40]
    rows = [f"{uuid.uuid4()},ENV-01,{v.geometry.x + i * 0.001},{v.geometry.y},10,2026-07-0{i + 1}T09:00:00,巡查员,"
            for i in range(4)]
    path = tmp_path / "load.csv"
    path.write_text("id,category,lon,lat,accuracy_m,observed_at,reporter,description\n" + "\n".join(rows) + "\n")
    engine = make_engine(cli_env["DATABASE_URL"])
    listing = text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'incident' ORDER BY indexname")
    try:
        with engine.connect() as conn:
            before = conn.execute(listing).all()
        result = runner.invoke(app, ["ingest", str(path), "--rebuild-indexes", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["accepted"] == 4
        with engine.connect() as conn:
            assert conn.execute(listing).all() == before
            assert conn.execute(text("SELECT count(*) FROM incident WHERE description IS NULL AND reporter = '巡查员' "
                                     "AND observed_at >= '2026-07-01'")).scalar_one() == 4
    finally:
        engine.dispose()


def test_bad_file_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "x.txt.json"
    bad.write_text("{not json")
    result = runner.invoke(app, ["ingest", str(bad)])
    assert result.exit_code == 2 and "not valid JSON" in result.output
    result = runner.invoke(app, ["ingest", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "cannot read" in result.output


def test_module_entry_point_runs() -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "gis_enforcement", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "locate" in proc.stdout and "ingest" in proc.stdout


def test_tick_and_audit_verify(runner: CliRunner, cli_env: dict[str, str], jurisdiction: Jurisdiction) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
    from gis_enforcement.layers.locator import Locator
    from gis_enforcement.patrol.submit import submit_one

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    v = jurisdiction.villages.iloc[40]
    t0 = datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    f = {"type": "Feature", "id": str(uuid.uuid4()),
         "geometry": {"type": "Point", "coordinates": [v.geometry.x, v.geometry.y]},
         "properties": {"category": "ENV-01", "observed_at": "2026-06-01T08:30:00+08:00"}}
    engine = create_engine(cli_env["DATABASE_URL"])
    with Session(engine) as s:
        inc, _ = submit_one(s, f, locator=Locator.from_jurisdiction(jurisdiction), catalog=catalog)
        whistle(s, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=v["township_code"], at=t0)
        s.commit()
    later = (t0 + timedelta(minutes=75)).isoformat()
    first = runner.invoke(app, ["tick", "--now", later])
    assert first.exit_code == 0, first.output
    assert "W02" in first.stdout and "new warning" in first.stdout
    assert "no new warnings" in runner.invoke(app, ["tick", "--now", later]).stdout
    assert runner.invoke(app, ["tick", "--now", "yesterday"]).exit_code == 2
    ahead = runner.invoke(app, ["tick", "--now", (datetime.now(UTC) + timedelta(hours=2)).isoformat()])
    assert ahead.exit_code == 2 and "is in the future" in ahead.output  # no warning raised ahead of its time

    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "0 broken" in ok.stdout
    with engine.begin() as conn:
        conn.execute(text("UPDATE case_event SET actor = 'someone else' WHERE incident_id = :id AND seq = 2"),
                     {"id": inc.id})
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and str(inc.id) in broken.stdout and "event 2" in broken.stdout
    one = runner.invoke(app, ["audit", "verify", "--incident", str(inc.id)])
    assert one.exit_code == 1 and "1 case record(s) checked, 1 broken" in one.stdout
    nobody = runner.invoke(app, ["audit", "verify", "--incident", "00000000-0000-0000-0000-000000000000"])
    assert nobody.exit_code == 2 and "incident: no incident 00000000-0000-0000-0000-000000000000" in nobody.output
    assert "checked" not in nobody.output
    engine.dispose()


def test_escalation_scheduler_runs_passes(cli_env: dict[str, str], runner: CliRunner) -> None:
    import time

    from gis_enforcement.admin.platform import Platform
    from gis_enforcement.api.scheduler import EscalationScheduler
    from gis_enforcement.settings import get_settings

    platform = Platform.open(get_settings(database_url=cli_env["DATABASE_URL"], data_dir=cli_env["GISE_DATA_DIR"]))
    scheduler = EscalationScheduler(platform, interval_s=0.05)
    scheduler.start()
    deadline = time.monotonic() + 30
    while scheduler.passes < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.stop()
    platform.close()
    assert scheduler.passes >= 2


def test_evaluate_prints_and_writes_files(runner: CliRunner, tmp_path: Path) -> None:
    # the case whistled in test_tick_and_audit_verify lives in this database (module-scoped); make sure one is there
    result = runner.invoke(app, ["evaluate", "--period", "2026", "-o", str(tmp_path / "eval.xlsx")])
    assert result.exit_code == 0, result.output
    assert "部门评价 2026" in result.stdout
    # every figure and header whole, however many columns
    assert not re.search(r"[\d%)]…", result.stdout) and "履职率" in result.stdout and "得分" in result.stdout
    frame = pd.read_excel(tmp_path / "eval.xlsx")
    assert len(frame) >= 1 and any("报到" in str(c) for c in frame.columns)
    town = runner.invoke(app, ["evaluate", "--period", "2026-06", "--by", "township", "-o", str(tmp_path / "t.csv")])
    assert town.exit_code == 0, town.output
    assert pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig").shape[0] >= 1
    bad = runner.invoke(app, ["evaluate", "--period", "last year"])
    assert bad.exit_code == 2 and "period" in bad.output
    assert runner.invoke(app, ["evaluate", "--period", "2026", "-o", str(tmp_path / "x.pdf")]).exit_code == 2


def test_compare_prints_the_seed_metrics(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "--before", "2025", "--after", "2026", "-o", str(tmp_path / "c.csv")])
    assert result.exit_code == 0, result.output
    assert "人均处罚量" in result.stdout and "职权履行率" in result.stdout and "2025 → 2026" in result.stdout
    rows = pd.read_csv(tmp_path / "c.csv", encoding="utf-8-sig").set_index("metric")
    assert rows.loc["whistles", "before"] == 0 and rows.loc["whistles", "after"] >= 1
    wrong = runner.invoke(app, ["compare", "--before", "then", "--after", "2026"])
    assert wrong.exit_code == 2 and "before: 'then' is not a period" in " ".join(wrong.output.split())


def test_webhooks_add_list_and_deliver(runner: CliRunner, cli_env: dict[str, str], jurisdiction: Jurisdiction) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
    from gis_enforcement.layers.locator import Locator
    from gis_enforcement.patrol.submit import submit_one
    from tests.dispatch.test_outbox import SECRET, Receiver

    receiver = Receiver()
    receiver.start()
    try:
        added = runner.invoke(app, ["webhooks", "add", receiver.url, "--secret", SECRET, "--kind", "whistle"])
        assert added.exit_code == 0, added.output
        assert runner.invoke(app, ["webhooks", "add", "nonsense", "--secret", SECRET]).exit_code == 2
        catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
        v = jurisdiction.villages.iloc[41]
        f = {"type": "Feature", "id": str(uuid.uuid4()),
             "geometry": {"type": "Point", "coordinates": [v.geometry.x, v.geometry.y]},
             "properties": {"category": "ENV-01", "observed_at": "2026-06-02T08:30:00+08:00"}}
        engine = create_engine(cli_env["DATABASE_URL"])
        with Session(engine) as s:
            inc, _ = submit_one(s, f, locator=Locator.from_jurisdiction(jurisdiction),
                                catalog=catalog)
            whistle(s, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=v["township_code"],
                    at=datetime(2026, 6, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
            s.commit()
        engine.dispose()
        listed = runner.invoke(app, ["webhooks", "list"])
        assert listed.exit_code == 0 and receiver.url in listed.stdout
        delivered = runner.invoke(app, ["deliver"])
        assert delivered.exit_code == 0, delivered.output
        assert "1 event(s) delivered" in delivered.stdout
        assert [e["kind"] for e in receiver.events()] == ["whistle"]
        assert [e["incident_id"] for e in receiver.events()] == [str(inc.id)]
        assert "0 event(s) delivered" in runner.invoke(app, ["deliver"]).stdout
    finally:
        receiver.stop()


def test_hotspots_and_a_plan_from_the_command_line(runner: CliRunner, tmp_path: Path,
                                                    jurisdiction: Jurisdiction) -> None:
    from datetime import UTC, datetime, timedelta

    import geopandas as gpd

    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    simulate_incident_table(jurisdiction, catalog, count=600, seed=11).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    run = runner.invoke(app, ["hotspots", "run", "--cell", "grid", "--size", "1000", "-o", str(tmp_path / "h.gpkg")])
    assert run.exit_code == 0, run.output
    assert "热点分析 run" in run.stdout and "尺度 scale" in run.stdout
    cells = gpd.read_file(tmp_path / "h.gpkg")
    assert {"cell_id", "count", "z", "gi_bin"} <= set(cells.columns) and len(cells) > 10
    run_id = int(run.stdout.split("run", 1)[1].split()[0])
    shown = runner.invoke(app, ["hotspots", "show", str(run_id), "-o", str(tmp_path / "h.geojson")])
    assert shown.exit_code == 0 and (tmp_path / "h.geojson").exists()
    assert runner.invoke(app, ["hotspots", "show", "999999"]).exit_code == 2
    assert runner.invoke(app, ["hotspots", "run", "--category", "NO-SUCH"]).exit_code == 2

    category = "MIN-02"
    # an operation starting within the hour, a whole day long (whatever the hour of the run, the category's
    # inspection window falls in it): a plan is executed when it is due
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="minutes")
    plan = runner.invoke(app, ["plan", "create", "--start", soon, "--hours", "24",
                               "--category", category, "--from", "117.12,40.14", "-o", str(tmp_path / "p")])
    assert plan.exit_code == 0, plan.output
    assert "联合执法计划 #" in plan.stdout
    frame = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig")
    assert (frame["status"] == "planned").any()
    geo = json.loads((tmp_path / "p.geojson").read_text(encoding="utf-8"))
    assert geo["type"] == "FeatureCollection" and any(f["id"] == "route" for f in geo["features"])
    plan_id = plan.stdout.split("联合执法计划 #", 1)[1].split()[0]
    executed = runner.invoke(app, ["plan", "execute", plan_id])
    assert executed.exit_code == 0, executed.output
    assert "whistle(s)" in executed.stdout
    assert runner.invoke(app, ["plan", "execute", plan_id]).exit_code == 2  # once only
    assert runner.invoke(app, ["plan", "create", "--start", "yesterday"]).exit_code == 2


def test_emerging_and_sites_from_the_command_line(runner: CliRunner, tmp_path: Path) -> None:
    # the season ingested by test_hotspots_and_a_plan_from_the_command_line lives in this module's database
    em = runner.invoke(app, ["hotspots", "emerging", "--cell", "grid", "--size", "1000", "--period",
                             "2026-03..2026-08", "-o", str(tmp_path / "e.geojson")])
    assert em.exit_code == 0, em.output
    assert "emerging hot spots" in em.stdout and "no pattern" in em.stdout
    assert json.loads((tmp_path / "e.geojson").read_text(encoding="utf-8"))["features"]
    assert runner.invoke(app, ["hotspots", "emerging", "--cell", "township"]).exit_code == 2
    sites = runner.invoke(app, ["hotspots", "sites", "--eps", "150"])
    assert sites.exit_code == 0, sites.output
    assert "recurring sites" in sites.stdout or "no site" in sites.stdout


def test_export_parquet_then_hotspots_on_dask(runner: CliRunner, tmp_path: Path, jurisdiction: Jurisdiction) -> None:
    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    simulate_incident_table(jurisdiction, catalog, count=400, seed=12).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    exported = runner.invoke(app, ["export", "parquet", str(tmp_path / "ds")])
    assert exported.exit_code == 0, exported.output
    assert "month(s)" in exported.stdout and any((tmp_path / "ds").glob("month=*/part-0.parquet"))
    assert "likely duplicates, duplicates and rejected reports left out" in " ".join(exported.stdout.split())
    on_dask = runner.invoke(app, ["hotspots", "run", "--cell", "grid", "--size", "1000", "--dataset",
                                  str(tmp_path / "ds"), "--workers", "1", "-o", str(tmp_path / "d.geojson")])
    assert on_dask.exit_code == 0, on_dask.output
    in_db = runner.invoke(app, ["hotspots", "run", "--cell", "grid", "--size", "1000",
                                "-o", str(tmp_path / "m.geojson")])
    assert in_db.exit_code == 0, in_db.output
    a = json.loads((tmp_path / "d.geojson").read_text(encoding="utf-8"))["features"]
    b = json.loads((tmp_path / "m.geojson").read_text(encoding="utf-8"))["features"]
    key = sorted((f["properties"]["cell_id"], f["properties"]["count"], f["properties"]["gi_bin"]) for f in a)
    assert key == sorted((f["properties"]["cell_id"], f["properties"]["count"], f["properties"]["gi_bin"]) for f in b)
    assert runner.invoke(app, ["hotspots", "run", "--dataset", str(tmp_path / "nowhere")]).exit_code == 2


def test_hotspots_map_from_the_command_line(runner: CliRunner, tmp_path: Path, jurisdiction: Jurisdiction) -> None:
    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    simulate_incident_table(jurisdiction, catalog, count=300, seed=13).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    shown = runner.invoke(app, ["hotspots", "run", "--cell", "grid", "--size", "1000", "--map",
                                str(tmp_path / "h.html")])
    assert shown.exit_code == 0, shown.output
    page = (tmp_path / "h.html").read_text(encoding="utf-8")
    assert "热点 99% 置信" in page and "Leaflet 1.9" in page


def test_map_commands_write_offline_pages(runner: CliRunner, tmp_path: Path, jurisdiction: Jurisdiction) -> None:
    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    simulate_incident_table(jurisdiction, catalog, count=300, seed=14).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    inc = runner.invoke(app, ["map", "incidents", "-o", str(tmp_path / "i.html")])
    assert inc.exit_code == 0, inc.output
    assert "Leaflet 1.9" in (tmp_path / "i.html").read_text(encoding="utf-8")
    district = runner.invoke(app, ["hotspots", "run", "--cell", "grid", "--size", "1000"])
    assert district.exit_code == 0, district.output
    district_run = re.search(r"run (\d+)", district.output)
    assert district_run is not None, district.output
    # a later run for one township (a township's own read stores one too) is not what the district's map shows
    town = "平谷镇"  # the seat: the most reports
    narrowed = runner.invoke(app, ["hotspots", "run", "--cell", "grid", "--size", "1000", "--township", town])
    assert narrowed.exit_code == 0, narrowed.output
    hot = runner.invoke(app, ["map", "hotspots", "--lang", "en", "-o", str(tmp_path / "h.html")])
    assert hot.exit_code == 0, hot.output
    page = (tmp_path / "h.html").read_text(encoding="utf-8")
    assert "Hot spot, 99% confidence" in page and f"run {district_run.group(1)} " in page
    assert runner.invoke(app, ["map", "hotspots", "--run", "999999"]).exit_code == 2
    assert runner.invoke(app, ["map", "incidents", "--lang", "fr"]).exit_code == 2
    amap = runner.invoke(app, ["map", "hotspots", "--basemap", "amap", "-o", str(tmp_path / "a.html")])
    assert amap.exit_code == 0 and "autonavi.com" in (tmp_path / "a.html").read_text(encoding="utf-8")
    assert runner.invoke(app, ["map", "hotspots", "--basemap", "tianditu"]).exit_code == 2  # no token


def test_map_townships_plan_and_dispatch(runner: CliRunner, cli_env: dict[str, str], tmp_path: Path,
                                          jurisdiction: Jurisdiction) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table
    from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
    from gis_enforcement.layers.locator import Locator
    from gis_enforcement.patrol.submit import submit_one

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    simulate_incident_table(jurisdiction, catalog, count=300, seed=15).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    towns = runner.invoke(app, ["map", "townships", "--period", "2026", "--metric", "resolution_rate",
                                "-o", str(tmp_path / "t.html")])
    assert towns.exit_code == 0, towns.output
    assert "解决率" in (tmp_path / "t.html").read_text(encoding="utf-8")
    assert runner.invoke(app, ["map", "townships", "--metric", "happiness"]).exit_code == 2

    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="minutes")  # a plan is for a time to come
    plan = runner.invoke(app, ["plan", "create", "--start", soon, "--hours", "24", "--category", "MIN-02",
                               "--from", "117.12,40.14"])
    assert plan.exit_code == 0, plan.output
    plan_id = plan.stdout.split("联合执法计划 #", 1)[1].split()[0]
    drawn = runner.invoke(app, ["map", "plan", plan_id, "-o", str(tmp_path / "p.html")])
    assert drawn.exit_code == 0, drawn.output
    assert "联合执法" in (tmp_path / "p.html").read_text(encoding="utf-8")
    assert runner.invoke(app, ["map", "plan", "999999"]).exit_code == 2

    v = jurisdiction.villages.iloc[44]
    f = {"type": "Feature", "id": "6b0f3f0e-2a8a-4b8e-9d7e-3c1a5e9b0d44",
         "geometry": {"type": "Point", "coordinates": [v.geometry.x, v.geometry.y]},
         "properties": {"category": "ENV-01", "observed_at": "2026-06-03T08:30:00+08:00"}}
    engine = create_engine(cli_env["DATABASE_URL"])
    with Session(engine) as s:
        inc, _ = submit_one(s, f, locator=Locator.from_jurisdiction(jurisdiction), catalog=catalog)
        whistle(s, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=v["township_code"],
                at=datetime(2026, 6, 3, 9, tzinfo=ZoneInfo("Asia/Shanghai")))
        s.commit()
    engine.dispose()
    case = runner.invoke(app, ["map", "dispatch", str(inc.id), "-o", str(tmp_path / "d.html")])
    assert case.exit_code == 0, case.output
    assert "Leaflet 1.9" in (tmp_path / "d.html").read_text(encoding="utf-8")
    assert runner.invoke(app, ["map", "dispatch", "not-a-uuid"]).exit_code == 2


def test_written_replaces_the_file_whole_or_not_at_all(tmp_path: Path) -> None:
    import typer

    from gis_enforcement.cli.common import written

    target = tmp_path / "out" / "report.csv"
    with written(target) as path:
        assert path.parent == target.parent and path.suffix == ".csv" and path != target
        path.write_text("first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError), written(target) as path:
        path.write_text("half of the sec")
        raise RuntimeError("the writer failed half-way")
    assert target.read_text() == "first" and sorted(p.name for p in target.parent.iterdir()) == ["report.csv"]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(typer.Exit) as stop, written(blocker / "x.csv") as path:
        path.write_text("never")
    assert stop.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "out"]


def test_export_to_a_place_that_cannot_hold_a_file_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = runner.invoke(app, ["export", "incidents", "--format", "csv", "-o", str(blocker / "x.csv")])
    assert result.exit_code == 2
    said = "".join(result.output.split())  # rich wraps long lines
    assert "".join(f"cannot write {blocker / 'x.csv'}: {blocker}: File exists".split()) in said
    good = tmp_path / "deep" / "er" / "incidents.csv"
    ok = runner.invoke(app, ["export", "incidents", "--format", "csv", "-o", str(good)])
    assert ok.exit_code == 0, ok.output
    assert good.read_text(encoding="utf-8").startswith("\ufeffid,")  # the mark Excel reads UTF-8 by
    assert [p.name for p in good.parent.iterdir()] == ["incidents.csv"]
    for fmt in ("gpkg", "csv"):  # a place where no file can be made: GDAL's refusal too is an error, not a trace
        nowhere = runner.invoke(app, ["export", "incidents", "--format", fmt, "-o", f"/proc/x.{fmt}"])
        assert nowhere.exit_code == 2 and isinstance(nowhere.exception, SystemExit), nowhere.exception
        assert f"cannotwrite/proc/x.{fmt}" in "".join(nowhere.output.split()), nowhere.output
    (tmp_path / "a-dir").mkdir()
    folder = runner.invoke(app, ["export", "incidents", "--format", "csv", "-o", str(tmp_path / "a-dir")])
    assert folder.exit_code == 2 and "isadirectory" in "".join(folder.output.split())


def test_a_file_the_system_refuses_ends_the_command_with_its_name(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import gis_enforcement.cli as cli

    def refuse() -> None:
        raise PermissionError(13, "Permission denied", "/srv/maps/status.html")

    monkeypatch.setattr(cli, "app", refuse)
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 2
    assert "/srv/maps/status.html: Permission denied" in " ".join(capsys.readouterr().err.split())


def test_a_command_says_when_it_creates_a_new_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gis_enforcement.cli.common import note_new_cluster
    from gis_enforcement.settings import Settings

    elsewhere = Settings(data_dir=tmp_path / ".gise", database_url=None)
    note_new_cluster(elsewhere)
    said = " ".join(capsys.readouterr().err.split())
    assert f"no database in {tmp_path / '.gise' / 'pgdata'} yet" in said and "GISE_DATA_DIR" in said
    (tmp_path / ".gise" / "pgdata").mkdir(parents=True)
    (tmp_path / ".gise" / "pgdata" / "PG_VERSION").write_text("15\n")
    note_new_cluster(elsewhere)  # there is one: nothing to say
    note_new_cluster(Settings(data_dir=tmp_path / "empty", database_url="postgresql://db.example/gise"))
    assert capsys.readouterr().err == ""


def test_export_format_follows_the_file_and_a_contradiction_is_refused(runner: CliRunner, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def said(result) -> str:  # type: ignore[no-untyped-def]
        return " ".join(result.output.split())

    wrong = runner.invoke(app, ["export", "incidents", "--format", "gpkg", "-o", str(tmp_path / "x.csv")])
    assert wrong.exit_code == 2 and "format: --format gpkg does not match 'x.csv', which names a csv file" in said(
        wrong), wrong.output
    unknown = runner.invoke(app, ["export", "incidents", "-o", str(tmp_path / "x.txt")])
    assert unknown.exit_code == 2 and "output: cannot tell the format of 'x.txt'" in said(unknown), unknown.output
    assert list(tmp_path.iterdir()) == []  # refused before anything was written

    by_suffix = runner.invoke(app, ["export", "incidents", "-o", str(tmp_path / "x.CSV")])
    assert by_suffix.exit_code == 0, by_suffix.output
    assert (tmp_path / "x.CSV").read_text(encoding="utf-8").startswith("\ufeffid,")  # CSV, not GeoJSON
    as_json = runner.invoke(app, ["export", "incidents", "-o", str(tmp_path / "x.json")])
    assert as_json.exit_code == 0 and json.loads((tmp_path / "x.json").read_text())["type"] == "FeatureCollection"
    agreed = runner.invoke(app, ["export", "incidents", "--format", "csv", "-o", str(tmp_path / "y.csv")])
    assert agreed.exit_code == 0 and (tmp_path / "y.csv").read_text(encoding="utf-8").startswith("\ufeffid,")
    monkeypatch.chdir(tmp_path)
    named = runner.invoke(app, ["export", "incidents", "--format", "csv"])
    assert named.exit_code == 0 and (tmp_path / "incidents.csv").read_text(encoding="utf-8").startswith("\ufeffid,")


def test_export_takes_the_list_filters(runner: CliRunner, tmp_path: Path, jurisdiction: Jurisdiction) -> None:
    """`export incidents` filters as the HTTP export does: by period (district time), category, township (code
    or the short name tables print), status and department; a filter that names nothing is refused."""
    import uuid

    import pandas as pd

    from gis_enforcement.domain.names import short_township

    towns = jurisdiction.townships.set_index("code")["name"]
    v = jurisdiction.villages.iloc[30]
    town = str(v["township_code"])
    rows = [(uuid.uuid4(), "MIN-02", "2025-02-03T23:30:00+08:00"),   # 3 Feb in Beijing, 2 Feb in UTC
            (uuid.uuid4(), "ENV-01", "2025-02-03T10:00:00+08:00"),
            (uuid.uuid4(), "MIN-02", "2025-02-04T00:30:00+08:00")]
    csv = tmp_path / "feb.csv"
    csv.write_text("id,category,lon,lat,accuracy_m,observed_at,reporter,description\n" + "".join(
        f"{i},{c},{v.geometry.x},{v.geometry.y},5,{t},export-filter-test,x\n" for i, c, t in rows), encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(csv)]).exit_code == 0

    def exported(*options: str) -> list[str]:
        out = tmp_path / "out.csv"
        result = runner.invoke(app, ["export", "incidents", "-o", str(out), *options])
        assert result.exit_code == 0, result.output
        frame = pd.read_csv(out, encoding="utf-8-sig")
        return sorted(frame.loc[frame["reporter"] == "export-filter-test", "id"])

    assert exported("--period", "2025-02-03") == sorted(str(i) for i, _, _ in rows[:2])
    assert exported("--period", "2025-02-03", "--category", "MIN-02") == [str(rows[0][0])]
    assert exported("--period", "2025-02", "--township", short_township(towns[town]), "--status", "reported",
                    "--category", "MIN-02") == sorted([str(rows[0][0]), str(rows[2][0])])
    for option, value in (("--category", "MIN-2"), ("--township", "月球镇"), ("--status", "done"),
                          ("--department", "NOPE"), ("--period", "2025-13")):
        refused = runner.invoke(app, ["export", "incidents", "-o", str(tmp_path / "r.csv"), option, value])
        assert refused.exit_code == 2 and f"{option.lstrip('-')}:" in refused.output, (option, refused.output)


def test_export_takes_the_apis_datetime(runner: CliRunner, tmp_path: Path, jurisdiction: Jurisdiction) -> None:
    """`export incidents --datetime` takes the time filter of GET /api/v1/incidents in its own syntax: an RFC 3339
    instant or START/END with both ends included, '..' or nothing for an open end, a date as its whole day and a
    time without offset on the district's clock; a bad value, the other option's syntax, or both options, is
    refused naming the option (exit 2, nothing written)."""
    v = jurisdiction.villages.iloc[31]
    rows = [(uuid.uuid4(), "MIN-02", "2025-03-04T23:30:00+08:00"),   # 4 March in Beijing (15:30 UTC)
            (uuid.uuid4(), "ENV-01", "2025-03-04T10:00:00+08:00"),
            (uuid.uuid4(), "MIN-02", "2025-03-05T00:30:00+08:00")]   # 5 March in Beijing, 4 March in UTC
    csv = tmp_path / "mar.csv"
    csv.write_text("id,category,lon,lat,accuracy_m,observed_at,reporter,description\n" + "".join(
        f"{i},{c},{v.geometry.x},{v.geometry.y},5,{t},export-datetime-test,x\n" for i, c, t in rows), encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(csv)]).exit_code == 0
    r0, r1, r2 = (str(i) for i, _, _ in rows)

    def exported(*options: str) -> list[str]:
        out = tmp_path / "out.csv"
        result = runner.invoke(app, ["export", "incidents", "-o", str(out), *options])
        assert result.exit_code == 0, result.output
        frame = pd.read_csv(out, encoding="utf-8-sig")
        return sorted(frame.loc[frame["reporter"] == "export-datetime-test", "id"])

    assert exported("--datetime", "2025-03-04") == sorted([r0, r1])          # the district's day
    assert exported("--datetime", "2025-03-04T23:30:00+08:00/2025-03-05T00:30:00+08:00") == sorted([r0, r2])
    assert exported("--datetime", "../2025-03-04T10:00:00") == [r1]           # no offset: district time
    assert exported("--datetime", "2025-03-04T15:30:00Z") == [r0]             # an instant
    assert exported("--datetime", "2025-03-04T12:00:00+08:00/") == sorted([r0, r2])
    assert exported("--datetime", "2025-03-04", "--category", "MIN-02") == [r0]
    assert exported("--period", "2025-03-04") == exported("--datetime", "2025-03-04")

    def refused(*options: str) -> str:
        result = runner.invoke(app, ["export", "incidents", "-o", str(tmp_path / "r.csv"), *options])
        assert result.exit_code == 2, result.output
        assert not (tmp_path / "r.csv").exists()
        return " ".join(result.output.split())

    assert "datetime: '2025-03-32' is not a date" in refused("--datetime", "2025-03-32")
    assert "datetime: the datetime interval ends before it starts" in refused("--datetime", "2025-03-05/2025-03-04")
    assert "datetime: '2025-03' is not an RFC 3339 date-time" in refused("--datetime", "2025-03")
    assert "'2025-03' is a period: give it as --period" in refused("--datetime", "2025-03")
    said = refused("--period", "2025-03-01/2025-03-31")
    assert said.startswith("error: period: ") and "give it as --datetime" in said, said
    both = refused("--period", "2025-03", "--datetime", "2025-03-04")
    assert "datetime: give --period or --datetime, not both" in both, both
