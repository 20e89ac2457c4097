"""`hotspots run|emerging|show|trends` say where: the top hot cells hold incidents of their own and show their
neighbourhood's beside them, emerging hot spots are listed most urgent first with township, village and centre,
and without --period the analyses read the 12 months up to the latest report and say so. In-process against a
database of its own in the test cluster (the CLI commits)."""

from __future__ import annotations

import json
import re
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

WIDE = {"COLUMNS": "240"}


def _said(result: object) -> str:
    return " ".join(str(result.output).split())  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def season(runner: CliRunner, tmp_path_factory: pytest.TempPathFactory, jurisdiction: Jurisdiction) -> Path:
    """A season (2026-03 … 2026-08) and one more report of it observed in 2024, ingested once for the module."""
    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    table = simulate_incident_table(jurisdiction, catalog, count=1200, seed=41)
    stray = table.iloc[[3]].assign(id=str(uuid.uuid4()), observed_at="2024-05-03T10:00:00+08:00")
    path = tmp_path_factory.mktemp("season") / "s.csv"
    pd.concat([table, stray]).to_csv(path, index=False)
    ingested = runner.invoke(app, ["ingest", str(path)])
    assert ingested.exit_code == 0, ingested.output
    return path


def _rows(output: str, first: str) -> list[list[str]]:
    """The rows of the table whose header starts with ``first`` (split on runs of 2+ spaces)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(first))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def test_top_hot_cells_hold_incidents_and_say_their_neighbourhood(runner: CliRunner, season: Path) -> None:
    # H3 res 9 (~0.1 km²): many hot cells hold no incident of their own, their neighbours being busy
    result = runner.invoke(app, ["hotspots", "run", "--resolution", "9"], env=WIDE)
    assert result.exit_code == 0, result.output
    rows = _rows(result.output, "#   cell")
    assert len(rows) == 10
    own = [int(r[4].replace(",", "")) for r in rows]
    nbhd = [int(r[5].replace(",", "")) for r in rows]
    assert all(n > 0 for n in own) and all(b >= n for b, n in zip(nbhd, own, strict=True))
    assert own == sorted(own, reverse=True)  # all at 99 % here: by their own incidents
    assert all(r[7] == "热点 99%" for r in rows) and all(r[2] != "—" and r[3] != "—" for r in rows)
    said = _said(result)
    assert "本格有事件的热点，按置信度、本格事件数、邻域事件数排序" in said
    passed = re.search(r"另 (\d+) 个热点单元本格无事件", said)
    assert passed and int(passed.group(1)) > 0
    # the default window: the stray report of 2024 left out and said to be
    assert "时段 period 2026-03-01 — 2026-08-" in said and "1 older report(s) left out" in said
    assert "时段 2026-03-01 起" in said


def test_emerging_hot_spots_are_listed_with_their_place(runner: CliRunner, season: Path, tmp_path: Path,
                                                        cli_env: dict[str, str]) -> None:
    out = tmp_path / "emerging.geojson"
    result = runner.invoke(app, ["hotspots", "emerging", "--cell", "grid", "--size", "1000", "--top", "8",
                                 "-o", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    said = _said(result)
    # the months of the season, not 28 stretched back to the stray report of 2024
    assert "时段 period: 2026-03..2026-08 · 6 个月" in said
    assert "默认时段 default window: 2026-03-01 — 2026-08-" in said and "1 older report(s) left out" in said
    written = json.loads(out.read_text(encoding="utf-8"))
    props = [f["properties"] for f in written["features"]]
    hot = [p for p in props if p["urgency"] is not None and p["count"] > 0]
    rows = _rows(result.output, "#   模式")
    assert len(rows) == min(8, len(hot)) > 0
    for row, p in zip(rows, hot, strict=False):  # the table is the head of the file's list
        assert row[0] == str(p["urgency"]) and row[1] == p["pattern_zh"]
        assert row[2] == "·".join(v for v in (p["township_short"], p["village_name"]) if v)
        assert row[3] == f"{p['lon']:.5f},{p['lat']:.5f}" and row[4] == f"{p['count']:,}"
        assert row[-1] == p["cell_id"]
    assert [p["urgency"] for p in props[: len(hot)]] == list(range(1, len(hot) + 1))
    assert "本格有事件的热点：新增、加剧在前" in said
    # the stored run shows the same list again
    with Session(create_engine(cli_env["DATABASE_URL"])) as session:
        run_id = max(r["id"] for r in analysis_repo.hotspot_runs(session) if r["kind"] == "emerging")
    shown = runner.invoke(app, ["hotspots", "show", str(run_id), "--top", "8"], env=WIDE)
    assert shown.exit_code == 0, shown.output
    assert _rows(shown.output, "#   模式") == rows


def test_trends_read_the_season_not_the_stray_report(runner: CliRunner, season: Path) -> None:
    result = runner.invoke(app, ["hotspots", "trends"], env=WIDE)
    assert result.exit_code == 0, result.output
    said = _said(result)
    assert "category trends: 2026-03-01 — 2026-08-31 (end exclusive), 26 bins of 7 days" in said
    assert "默认时段 default window: 2026-03-01 — 2026-08-" in said and "1 older report(s) left out" in said
    # a period asked for is read as asked, the stray report with it
    asked = runner.invoke(app, ["hotspots", "trends", "--period", "2024-05..2026-08"], env=WIDE)
    assert asked.exit_code == 0, asked.output
    assert "category trends: 2024-05-01 — 2026-09-01" in _said(asked) and "默认时段" not in _said(asked)


def test_the_help_says_what_is_read_without_a_period(runner: CliRunner) -> None:
    for command in ("run", "emerging", "trends"):
        shown = " ".join(runner.invoke(app, ["hotspots", command, "--help"], env=WIDE).output.split())
        assert "the 12 months up to the latest report" in shown, command
