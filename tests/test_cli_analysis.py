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

from gis_enforcement.analysis.emerging import CATEGORY_ZH
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


def test_hotspots_leave_out_incidents_outside_the_district(runner: CliRunner, tmp_path: Path, cli_env: dict[str, str],
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
    # the months analysed, and every pattern by its Chinese name with the English beside
    assert "时段 period: 2026-03..2026-08 · 6 个月" in _said(emerging)
    rows = [line.split() for line in emerging.output.splitlines() if " spot " in line or "no pattern" in line]
    assert rows and all(row[0] in CATEGORY_ZH.values() and " ".join(row[1:-1]) in CATEGORY_ZH for row in rows)
    assert all(CATEGORY_ZH[" ".join(row[1:-1])] == row[0] for row in rows)
    # weekly bins (the dispatch rhythm): 2026-03-01 is a Sunday and 2026-08-31 a Monday, so the period's whole
    # weeks run from Monday 03-02 to Sunday 08-30; the reports of 03-01 and 08-31 are said to be left out
    weekly = runner.invoke(app, ["hotspots", "emerging", "--cell", "grid", "--size", "1000", "--unit", "week",
                                 "--period", "2026-03..2026-08"], env={"COLUMNS": "200"})
    assert weekly.exit_code == 0, weekly.output
    assert "时段 period: 2026-03-02..2026-08-30 · 26 周" in _said(weekly)
    with Session(create_engine(cli_env["DATABASE_URL"])) as session:
        analysed = analysis_repo.incidents_frame(session, inside_district=True)
    days = analysed["observed_at"].dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%d")
    partial = int(days.isin(["2026-03-01", "2026-08-31"]).sum())
    assert partial and f"{partial} incident(s) in the period's part-week at its start or end left out" in _said(weekly)


_UNKNOWN = {
    "--category": ("MIN-2", "error: category: unknown category 'MIN-2'; a problem-list code: MIN-01, MIN-02"),
    "--township": ("999", "error: township: unknown township '999' (a township code or name of the loaded layers, "
                          "e.g. 110117001 滨河街道"),
    "--status": ("foo", "error: status: unknown status 'foo'; use one of reported, triaged, whistled"),
}


@pytest.mark.parametrize("command, option", [
    *((c, o) for c in ("run", "emerging", "sites") for o in ("--category", "--township")),
    ("run", "--status"),  # only `hotspots run` filters by status
])
def test_hotspot_filters_that_name_nothing_are_refused_under_their_option(runner: CliRunner, command: str,
                                                                          option: str) -> None:
    value, expected = _UNKNOWN[option]
    result = runner.invoke(app, ["hotspots", command, option, value], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    said = _said(result)
    assert expected in said and "no incident matches" not in said


def test_the_sites_register_says_where_why_and_how_late(runner: CliRunner, jurisdiction: Jurisdiction,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import gis_enforcement.analysis.trend_service as trend_service
    from gis_enforcement.analysis.recurring_sites import REASON_AFTER_CLOSURE, REASON_RECURRED

    town = jurisdiction.townships.iloc[0]
    spot = town.geometry.representative_point()
    midnight = pd.Timestamp(datetime.now(ZoneInfo("Asia/Shanghai")).date(), tz="Asia/Shanghai")
    due = [midnight - pd.Timedelta(days=5), midnight, midnight + pd.Timedelta(days=2)] + [midnight] * 17
    sites = pd.DataFrame({
        "site_id": [f"RS-{i}" for i in range(20)], "kind": "MIN-01", "village_name": "某村", "lon": spot.x,
        "lat": spot.y, "n_incidents": 5, "n_recurrences": list(range(20, 0, -1)),
        "last_closure": [d - pd.Timedelta(days=30) for d in due], "follow_up_on": due,
        "follow_up_reason": [REASON_AFTER_CLOSURE, REASON_RECURRED] * 10})
    sites.attrs["outside_district"] = 0
    asked: dict[str, object] = {}

    def refresh(session: object, **kwargs: object) -> pd.DataFrame:
        asked.update(kwargs)
        return sites

    monkeypatch.setattr(trend_service, "refresh_sites", refresh)
    result = runner.invoke(app, ["hotspots", "sites", "--top", "3", "--days", "30"], env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    assert asked["follow_up_days"] == 30
    rows = {line.split()[0]: line.split() for line in result.output.splitlines() if line.strip().startswith("RS-")}
    assert list(rows) == ["RS-0", "RS-1", "RS-2"]
    name = str(town["name"]).split("(")[0].split("（")[0]
    assert all(name in row for row in rows.values())
    assert " ".join(rows["RS-0"]).endswith(f"{due[0]:%Y-%m-%d} 办结后30天 逾期 5 天")
    assert " ".join(rows["RS-1"]).endswith(f"{due[1]:%Y-%m-%d} 复发即查 今天")
    assert " ".join(rows["RS-2"]).endswith(f"{due[2]:%Y-%m-%d} 办结后30天 2 天后")
    said = _said(result)
    assert "recurring sites: 20 of 20 sites" in said and "showing 3 of 20 recurring sites (--top 3" in said
    assert f"as of {midnight:%Y-%m-%d}" in said


@pytest.mark.parametrize("output", [None, Path("night")])
def test_a_plan_prints_departments_by_name_and_says_where_the_rest_is(catalog: object, output: Path | None,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import datetime, timedelta
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from gis_enforcement.cli.plans import _print_plan

    begin = datetime(2026, 9, 1, 20, tzinfo=ZoneInfo("Asia/Shanghai"))
    targets = pd.DataFrame({"order": [1], "name": ["某村·反复点位"], "categories": [("MIN-02",)],
                            "departments": [("WATER", "PSB")], "officers": [{"PSB": 2, "WATER": 4, "TOWN": 2}],
                            "window": ["21:00-04:00"], "arrive_at": [begin + timedelta(hours=1)], "score": [80.0]})
    waiting = pd.DataFrame({"name": [f"某村·案件点 #{i}" for i in range(15)], "reason": "no officers left",
                            "reason_zh": "人手不足"})
    plan = SimpleNamespace(targets=targets, waiting=waiting, period_start=begin, period_end=begin + timedelta(hours=12),
                           travel_m=24_100.0, end_at=begin + timedelta(hours=6))
    _print_plan(7, plan, catalog, output)
    said = " ".join(capsys.readouterr().out.split())
    assert "区水务局×4、区公安分局×2、街乡综合执法队×2" in said and "WATER" not in said
    if output is None:
        assert "… and 3 more waiting (write them all to NAME.csv and NAME.geojson with -o NAME)" in said
        assert "CSV / GeoJSON" not in said
    else:
        assert "… and 3 more waiting (all in night.csv and night.geojson)" in said


def test_category_trends_print_and_write_the_weekly_series(runner: CliRunner, tmp_path: Path,
                                                           jurisdiction: Jurisdiction,
                                                           cli_env: dict[str, str]) -> None:
    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    simulate_incident_table(jurisdiction, catalog, count=600, seed=23).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    shown = runner.invoke(app, ["hotspots", "trends", "--period", "2026-03..2026-08", "-o", str(tmp_path / "t.csv")],
                          env={"COLUMNS": "220"})
    assert shown.exit_code == 0, shown.output
    said = _said(shown)
    # the bins cover the period asked: from 03-01 to 09-01, the days left at the end lengthen the last bin
    assert "问题类别趋势 category trends: 2026-03-01 — 2026-09-01 (end exclusive), 26 bins of 7 days, the last 9" \
        in said
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")

    def read(start: datetime, end: datetime) -> pd.DataFrame:
        with Session(create_engine(cli_env["DATABASE_URL"])) as session:
            return analysis_repo.incidents_frame(session, start=start, end=end)

    season = read(datetime(2026, 3, 1, tzinfo=tz), datetime(2026, 9, 1, tzinfo=tz))
    assert f"{len(season):,} incidents" in said  # every incident of the period is binned and counted
    sizes = season["category"].value_counts()
    small = sizes[sizes < 10]
    assert ("少于 10 起，未分析" in said) == bool(len(small))
    # one month: four weeks and three days (the last bin 10 days long), and categories too small to analyse
    month = runner.invoke(app, ["hotspots", "trends", "--period", "2026-08"], env={"COLUMNS": "220"})
    assert month.exit_code == 0, month.output
    in_month = _said(month)
    assert "2026-08-01 — 2026-09-01 (end exclusive), 4 bins of 7 days, the last 10" in in_month
    august = read(datetime(2026, 8, 1, tzinfo=tz), datetime(2026, 9, 1, tzinfo=tz))
    sizes = august["category"].value_counts()
    few = sizes[sizes < 10]
    assert len(few) and f"另 {len(few)} 类（共 {int(few.sum()):,} 起）少于 10 起，未分析" in in_month
    assert f"{len(august):,} incidents" in in_month
    table = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")
    assert len(table) > 0 and set(table["trend"]) <= {-1, 0, 1}
    series = table["series"].str.split(";").map(lambda s: [int(v) for v in s])
    assert (series.map(sum) == table["n"]).all() and (series.map(len) == table["n_bins"]).all()
    assert (table["name_zh"] == table["category"].map(lambda c: catalog.categories[c].zh)).all()
    # every category the table lists is printed, by its Chinese name with its code
    assert all(f"({c})" in said for c in table["category"].head(5))
    assert runner.invoke(app, ["hotspots", "trends", "-o", str(tmp_path / "t.txt")]).exit_code == 2
    town = runner.invoke(app, ["hotspots", "trends", "--township", "月球镇"])
    assert town.exit_code == 2 and "township:" in _said(town)
    short = runner.invoke(app, ["hotspots", "trends", "--period", "2026-05-01..2026-05-10"])
    assert short.exit_code == 2 and "error: days: a trend needs at least 4 whole bins" in _said(short), short.output


def test_a_township_is_named_by_code_or_name_alike_in_every_command(runner: CliRunner, tmp_path: Path,
                                                                    jurisdiction: Jurisdiction) -> None:
    """`hotspots run/emerging/sites` and `plan create` take a township's name as `hotspots trends` does, refuse
    one that names nothing with the same text, and `layers townships` lists what they take."""
    import json

    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    simulate_incident_table(jurisdiction, catalog, count=600, seed=29).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    listed = runner.invoke(app, ["layers", "townships", "--json"])
    assert listed.exit_code == 0, listed.output
    towns = json.loads(listed.output)
    assert len(towns) == len(jurisdiction.townships)
    assert {"code": "110117006", "name": "金海湖镇(金海湖地区)", "short_name": "金海湖镇"} in towns
    table = runner.invoke(app, ["layers", "townships"], env={"COLUMNS": "120"})
    assert table.exit_code == 0 and "110117005" in table.output and "马坊镇" in table.output
    wide = {"COLUMNS": "200"}
    for args in (["hotspots", "run", "--cell", "grid", "--size", "1000"],
                 ["hotspots", "emerging", "--cell", "grid", "--size", "1000", "--period", "2026-03..2026-08"],
                 ["hotspots", "sites"]):
        named = runner.invoke(app, [*args, "--township", "金海湖镇"], env=wide)
        assert named.exit_code == 0, (args, named.output)
    from datetime import datetime, timedelta

    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT20:00")
    plan = runner.invoke(app, ["plan", "create", "--start", tomorrow, "--township", "马坊镇", "--from", "马坊镇"],
                         env=wide)
    assert plan.exit_code == 0, plan.output
    shown = runner.invoke(app, ["plan", "list"], env=wide)
    assert "110117005" in shown.output
    said = {_said(runner.invoke(app, [*args, "--township", "月球镇"], env=wide)) for args in (
        ["hotspots", "run"], ["hotspots", "emerging"], ["hotspots", "sites"], ["hotspots", "trends"],
        ["plan", "create", "--start", START])}
    assert len(said) == 1, said
    assert said.pop().startswith("error: township: unknown township '月球镇' (a township code or name")
