"""`plan create` and `plan execute` and the district's time: a start without UTC offset is the district's time,
stored and shown so; a plan is executed only in its period (refusals say it in +08:00) and the execution time
is shown in +08:00; an unknown category and a period too short for one visit are refused under their options.
In-process against a database of its own in the test cluster (the CLI commits)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_enforcement.cli import app
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.operations.plans import list_plans
from gis_enforcement.storage import analysis_repo

TZ = ZoneInfo("Asia/Shanghai")
FROM = "117.12,40.14"


def _said(result: object) -> str:
    return " ".join(str(result.output).split())  # type: ignore[attr-defined]


def _session(cli_env: dict[str, str]) -> Session:
    return Session(create_engine(cli_env["DATABASE_URL"]))


def _in_a_few_days() -> datetime:
    return (datetime.now(TZ) + timedelta(days=3)).replace(hour=20, minute=0, second=0, microsecond=0)


def test_a_start_without_offset_is_district_time_and_execution_waits_for_the_period(
        runner: CliRunner, cli_env: dict[str, str], tmp_path: Path, jurisdiction: Jurisdiction,
        catalog: Catalog) -> None:
    from gis_enforcement.demo.season import simulate_incident_table

    simulate_incident_table(jurisdiction, catalog, count=300, seed=5).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    start = _in_a_few_days()
    naive = start.replace(tzinfo=None).isoformat(timespec="minutes")
    made = runner.invoke(app, ["plan", "create", "--start", naive, "--hours", "12", "--from", FROM],
                         env={"COLUMNS": "200"})
    assert made.exit_code == 0, made.output
    assert f"{start:%Y-%m-%d %H:%M}" in made.stdout and "+08:00" in made.stdout
    plan_id = int(made.stdout.split("联合执法计划 #", 1)[1].split()[0])
    with _session(cli_env) as session:
        listed = next(r for r in list_plans(session, limit=500, offset=0)[0] if r["id"] == plan_id)
    assert listed["period_start"] == start and listed["period_end"] == start + timedelta(hours=12)
    shown = runner.invoke(app, ["plan", "list"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert start.isoformat(timespec="minutes") in shown.stdout and "+00:00" not in shown.stdout
    # the plan again, as it was printed when made: the same targets in the same order, and its state
    again = runner.invoke(app, ["plan", "show", str(plan_id)], env={"COLUMNS": "200"})
    assert again.exit_code == 0, again.output
    assert f"联合执法计划 #{plan_id}  {start:%Y-%m-%d %H:%M}" in again.stdout and "planned" in again.stdout

    def rows(text: str) -> list[list[str]]:  # the target rows: order, name, …
        return [line.split()[:2] for line in text.splitlines() if line.split()[:1] and line.split()[0].isdigit()]
    made_rows = rows(made.stdout.split("暂缓 waiting")[0])
    assert made_rows and rows(again.stdout.split("暂缓 waiting")[0]) == made_rows
    missing = runner.invoke(app, ["plan", "show", "999999"])
    assert missing.exit_code == 2 and "plan_id: no plan 999999" in _said(missing)

    early = runner.invoke(app, ["plan", "execute", str(plan_id)], env={"COLUMNS": "200"})
    assert early.exit_code == 2, early.output
    said = _said(early)
    assert "error: at:" in said and start.isoformat(timespec="minutes") in said and "Traceback" not in said
    assert "+00:00" not in said


def test_execution_is_shown_in_district_time(runner: CliRunner, cli_env: dict[str, str],
                                              jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.geometry.iloc[0]
    now = datetime.now(TZ)
    route = {"type": "FeatureCollection", "features": [],
             "plan": {"period_start": (now - timedelta(hours=1)).isoformat(),
                      "period_end": (now + timedelta(hours=11)).isoformat()}}
    target = {"target_id": "hot:x", "order": 1, "lon": v.x, "lat": v.y, "categories": ["MIN-02"],
              "departments": [], "case_ids": []}
    with _session(cli_env) as session:
        plan_id = analysis_repo.insert_plan(session, catalog_version="test", parameters={}, targets=[target],
                                            waiting=[], staffing=[], route=route)
        session.commit()
    done = runner.invoke(app, ["plan", "execute", str(plan_id)], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "executed at" in done.stdout and "+08:00" in done.stdout and "+00:00" not in done.stdout
    again = runner.invoke(app, ["plan", "execute", str(plan_id)], env={"COLUMNS": "200"})
    assert again.exit_code == 2 and "+08:00" in _said(again) and "+00:00" not in _said(again)


def test_an_unknown_category_and_a_too_short_period_are_refused_under_their_options(runner: CliRunner) -> None:
    start = _in_a_few_days().isoformat(timespec="minutes")
    unknown = runner.invoke(app, ["plan", "create", "--start", start, "--township", "110117006",
                                  "--category", "NOPE"], env={"COLUMNS": "200"})
    assert unknown.exit_code == 2 and "error: category:" in _said(unknown) and "NOPE" in _said(unknown)
    assert "nothing to plan" not in _said(unknown)
    short = runner.invoke(app, ["plan", "create", "--start", start, "--township", "110117006", "--hours", "0.1"],
                          env={"COLUMNS": "200"})
    assert short.exit_code == 2 and "error: hours:" in _said(short), short.output
    assert "Traceback" not in _said(short)


def test_a_period_over_or_far_ahead_is_refused_under_its_option(runner: CliRunner) -> None:
    over = runner.invoke(app, ["plan", "create", "--start", "2020-05-12T20:00", "--township", "110117006"],
                         env={"COLUMNS": "200"})
    said = _said(over)
    assert over.exit_code == 2 and "error: hours:" in said, over.output  # the period's end: start + hours
    assert "the period ended at 2020-05-13T08:00+08:00" in said and "has not ended" in said, said
    ahead = runner.invoke(app, ["plan", "create", "--start", "2099-05-12T20:00", "--township", "110117006"],
                          env={"COLUMNS": "200"})
    assert ahead.exit_code == 2 and "error: start:" in _said(ahead) and "days ahead" in _said(ahead), ahead.output
    assert "Traceback" not in said + _said(ahead)
