"""`plan execute` records who executed the plan: ``--actor NAME``, by default the operating system user, on the
district's joint-operation whistle and the cases' records (not a made-up "cli"). In-process against a database of
its own in the test cluster (the CLI commits)."""

from __future__ import annotations

import getpass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_enforcement.cli import app
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.storage import analysis_repo

TZ = ZoneInfo("Asia/Shanghai")


def _plan_now(cli_env: dict[str, str], jurisdiction: Jurisdiction, i: int) -> int:
    """A plan running now with one target (no open case there: executing files one) at a village point."""
    v = jurisdiction.villages.geometry.iloc[i]
    now = datetime.now(TZ)
    route = {"type": "FeatureCollection", "features": [],
             "plan": {"period_start": (now - timedelta(hours=1)).isoformat(),
                      "period_end": (now + timedelta(hours=11)).isoformat()}}
    target = {"target_id": f"hot:actor{i}", "order": 1, "lon": v.x, "lat": v.y, "categories": ["MIN-02"],
              "departments": [], "case_ids": []}
    with Session(create_engine(cli_env["DATABASE_URL"])) as session:
        plan_id = analysis_repo.insert_plan(session, catalog_version="test", parameters={}, targets=[target],
                                            waiting=[], staffing=[], route=route)
        session.commit()
    return plan_id


def _whistles(cli_env: dict[str, str], plan_id: int) -> list[tuple[str, str, str]]:
    with Session(create_engine(cli_env["DATABASE_URL"])) as session:
        return [tuple(r) for r in session.execute(text(  # type: ignore[misc]
            "SELECT w.mode, w.whistler_unit, w.actor FROM whistle w JOIN operation_plan p "
            "ON w.id = ANY(p.whistle_ids) WHERE p.id = :id"),
            {"id": plan_id}).all()]


@pytest.mark.parametrize(("given", "expected"), [(["--actor", "chief_li"], "chief_li"), ([], None)])
def test_plan_execute_records_the_acting_person(runner: CliRunner, cli_env: dict[str, str],
                                                jurisdiction: Jurisdiction, given: list[str],
                                                expected: str | None) -> None:
    expected = expected or getpass.getuser()
    plan_id = _plan_now(cli_env, jurisdiction, len(given))
    done = runner.invoke(app, ["plan", "execute", str(plan_id), *given], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert f"by {expected}" in done.stdout
    assert _whistles(cli_env, plan_id) == [("joint_plan", "district", expected)]


def test_an_empty_actor_is_refused_before_anything_is_written(runner: CliRunner, cli_env: dict[str, str],
                                                              jurisdiction: Jurisdiction) -> None:
    plan_id = _plan_now(cli_env, jurisdiction, 5)
    done = runner.invoke(app, ["plan", "execute", str(plan_id), "--actor", "  "], env={"COLUMNS": "200"})
    assert done.exit_code == 2 and "error: actor:" in " ".join(done.output.split()), done.output
    assert _whistles(cli_env, plan_id) == []
