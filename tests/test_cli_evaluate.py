"""`evaluate` and `compare` from the command line: what the files say about their period, empty periods,
overlapping periods and periods of different lengths — in-process, on a database of their own (the CLI commits)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from gis_enforcement.cli import app
from gis_enforcement.layers.jurisdiction import Jurisdiction

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAY_CASES = 6


def _said(result: Any) -> str:
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def season(runner: CliRunner, cli_env: dict[str, str], jurisdiction: Jurisdiction) -> dict[str, Any]:
    """One case whistled in March and six in May 2026 (villages apart, days apart), every department
    summoned reporting in 10 minutes after the whistle."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.dispatch import on_site
    from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
    from gis_enforcement.layers.locator import Locator
    from gis_enforcement.patrol.submit import submit_one

    catalog = load_catalog(Path(__file__).resolve().parent.parent / "data" / "catalog" / "pinggu.yaml")
    locator = Locator.from_jurisdiction(jurisdiction)
    days = [datetime(2026, 3, 10, 9, tzinfo=SHANGHAI)] + [datetime(2026, 5, 3 + 3 * i, 9, tzinfo=SHANGHAI)
                                                         for i in range(MAY_CASES)]
    engine = create_engine(cli_env["DATABASE_URL"])
    with Session(engine) as s:
        for i, at in enumerate(days):
            v = jurisdiction.villages.iloc[10 + 7 * i]
            f = {"type": "Feature", "id": str(uuid.uuid4()),
                 "geometry": {"type": "Point", "coordinates": [v.geometry.x, v.geometry.y]},
                 "properties": {"category": "ENV-01", "observed_at": (at - timedelta(minutes=30)).isoformat()}}
            inc, _ = submit_one(s, f, locator=locator, catalog=catalog)
            result = whistle(s, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=v["township_code"],
                             at=at)
            for a in result.assignments:
                on_site.report_in(s, catalog=catalog, incident_id=inc.id, department=a.department, lon=v.geometry.x,
                                  lat=v.geometry.y, accuracy_m=5, server_time=at + timedelta(minutes=10))
        s.commit()
    engine.dispose()
    return {"first": days[0] - timedelta(minutes=30), "last": days[-1] + timedelta(minutes=10)}


def test_the_excel_file_says_its_period_time_zone_and_time_and_shows_rates_as_percentages(
        runner: CliRunner, season: dict[str, Any], tmp_path: Path) -> None:
    before = datetime.now(SHANGHAI).replace(second=0, microsecond=0)
    result = runner.invoke(app, ["evaluate", "--period", "2026-05", "-o", str(tmp_path / "may.xlsx")])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "may.xlsx")
    assert book.sheetnames == ["部门评价 2026-05", "说明"]
    sheet = book["部门评价 2026-05"]
    headers = [c.value for c in sheet[1]]
    assert {"报到及时率", "职权履行率", "警示扣分(每百次接哨)", "警示分(未折算)", "综合得分", "排名"} <= set(headers)
    on_time = headers.index("报到及时率") + 1
    cells = [row[0] for row in sheet.iter_rows(min_row=2, min_col=on_time, max_col=on_time)]
    assert cells and all(c.number_format == "0.0%" for c in cells)
    assert any(c.value == 1.0 for c in cells)  # the fraction is kept; Excel shows 100.0%
    score = headers.index("综合得分") + 1
    assert sheet.cell(row=2, column=score).number_format == "General"  # a score is 0–100, not a percentage
    about = {row[0].value: row[1].value for row in book["说明"].iter_rows()}
    assert about["时段"] == "2026-05" and about["时区"] == "Asia/Shanghai"
    assert about["起（含）"] == "2026-05-01 00:00 +0800" and about["止（不含）"] == "2026-06-01 00:00 +0800"
    made = datetime.strptime(about["生成时间"], "%Y-%m-%d %H:%M %z")
    assert before <= made <= datetime.now(SHANGHAI)
    assert "接哨少于 5 次不排名" in about["说明"]
    assert "2026-05" in book.properties.title and "Asia/Shanghai" in book.properties.description
    frame = pd.read_excel(tmp_path / "may.xlsx")  # the first sheet still reads as a plain table
    assert len(frame) >= MAY_CASES // 2 and "报到及时率" in frame.columns


def test_the_csv_file_carries_the_period_time_zone_and_time(runner: CliRunner, season: dict[str, Any],
                                                            tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--period", "2026-05", "--lang", "en", "-o", str(tmp_path / "may.csv")])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "may.csv", encoding="utf-8-sig")
    assert set(frame["period"]) == {"2026-05"} and set(frame["time_zone"]) == {"Asia/Shanghai"}
    assert frame["generated_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00").all()
    assert {"deduction", "score_base", "small_sample"} <= set(frame.columns)


def test_the_score_is_explained_and_the_ranked_departments_had_five_whistles(runner: CliRunner,
                                                                              season: dict[str, Any]) -> None:
    result = runner.invoke(app, ["evaluate", "--period", "2026-05"])
    assert result.exit_code == 0, result.output
    assert "每 100 次接哨的警示分" in _said(result) and "接哨少于 5 次不排名" in _said(result)
    rows = [line.split() for line in result.stdout.splitlines()]
    ranked = [r for r in rows if r and r[0].isdigit()]
    assert ranked and all(int(r[3]) >= 5 for r in ranked), ranked  # rank, ranking, name, 接哨
    assert {r[1] for r in ranked} <= {"主责", "配合"}


def test_townships_get_a_score_and_say_how_it_is_made(runner: CliRunner, season: dict[str, Any]) -> None:
    result = runner.invoke(app, ["evaluate", "--period", "2026-05", "--by", "township"])
    assert result.exit_code == 0, result.output
    assert "街乡得分" in _said(result) and "案件少于 5 件不排名" in _said(result)
    header = next(line.split() for line in result.stdout.splitlines() if "排名" in line)
    assert header[:3] == ["排名", "名称", "得分"] and "自身警示" in header and "反弹(W08)" in header
    # the backlog beside the scores, and the resolution rate named for what it counts
    assert {"上报", "未处理", "分拣及时", "已吹哨解决"} <= set(header)
    assert "每 100 件案件的警示分" in _said(result) and "已吹哨案件解决率只计已吹哨的案件" in _said(result)


@pytest.mark.parametrize(("metric", "label"), [("share_whistled", "吹哨率"), ("triage_on_time_rate", "分拣及时率"),
                                               ("on_time_rate", "报到及时率")])
def test_the_township_evaluations_measures_are_mappable_with_their_n(
        runner: CliRunner, season: dict[str, Any], tmp_path: Path, metric: str, label: str) -> None:
    import json

    out = tmp_path / f"{metric}.html"
    result = runner.invoke(app, ["map", "townships", "--period", "2026-05", "--metric", metric, "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    assert f"平谷区 各乡镇{label}" in page
    layer = next(json.loads(m) for m in re.findall(r"L\.geoJSON\((\{.*?\}), \{\n", page, re.S)
                 if '"cls"' in m)
    valued = [f["properties"] for f in layer["features"] if f["properties"]["value"] is not None]
    assert valued and all(p["n"] is not None and p["n"] >= 1 and p["few"] == (p["n"] < 5) for p in valued)
    ranking = page[page.index("gise-rank"):]
    assert ranking.count('class="row few"') == sum(p["few"] for p in valued)
    assert all(f"n={p['n']}" in ranking for p in valued)
    if metric != "on_time_rate":  # one or two May cases in each township: none is ranked
        assert all(p["few"] for p in valued) and "样本少（n &lt; 5）：浅色，不排名" in page


@pytest.mark.parametrize("extra", [[], ["--by", "township"], ["--monthly"]])
def test_an_empty_period_says_so_with_the_datas_range(runner: CliRunner, season: dict[str, Any],
                                                      extra: list[str]) -> None:
    result = runner.invoke(app, ["evaluate", "--period", "2027", *extra])
    assert result.exit_code == 0, result.output
    first, last = (f"{season[k]:%Y-%m-%d}" for k in ("first", "last"))
    assert f"注意 2027 内没有案件、吹哨或执法记录（数据范围 {first} — {last}）" in _said(result)
    busy = runner.invoke(app, ["evaluate", "--period", "2026-05", *extra])
    assert busy.exit_code == 0 and "没有案件" not in busy.output


def test_compare_refuses_overlapping_periods_naming_after(runner: CliRunner, season: dict[str, Any]) -> None:
    result = runner.invoke(app, ["compare", "--before", "2026-03..2026-05", "--after", "2026-05..2026-08"])
    assert result.exit_code == 2, result.output
    assert re.search(r"after: the periods overlap", _said(result)), result.output
    assert "2026-05-01 00:00 – 2026-06-01 00:00" in _said(result)


def _summons(cli_env: dict[str, str], start: str, end: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(cli_env["DATABASE_URL"])
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM assignment WHERE summoned_at >= CAST(:s AS timestamptz) "
                              "AND summoned_at < CAST(:e AS timestamptz)"),
                         {"s": f"{start}T00:00+08:00", "e": f"{end}T00:00+08:00"}).scalar_one()
    engine.dispose()
    return int(n)


def test_compare_gives_counts_per_30_days_and_rates_in_points(runner: CliRunner, season: dict[str, Any],
                                                              cli_env: dict[str, str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["compare", "--before", "2026-03", "--after", "2026-04..2026-06",
                                 "-o", str(tmp_path / "c.csv")])
    assert result.exit_code == 0, result.output
    said = _said(result)
    assert "两段时长不同（31 天 / 91 天）：接哨数、人均处罚量按每 30 天折算" in said
    assert "接哨数（每30天）" in said and "变化(百分点)" in said and " pp" in said
    rows = pd.read_csv(tmp_path / "c.csv", encoding="utf-8-sig").set_index("metric")
    summoned = rows.loc["whistles"]
    assert bool(summoned["per_30_days"])
    march, april_to_june = _summons(cli_env, "2026-03-01", "2026-04-01"), _summons(cli_env, "2026-04-01", "2026-07-01")
    assert march > 0 and april_to_june > march
    assert (summoned["before"], summoned["after"]) == (pytest.approx(march * 30 / 31),
                                                       pytest.approx(april_to_june * 30 / 91))
    on_time = rows.loc["on_time_rate"]
    assert on_time["change_pp"] == pytest.approx((on_time["after"] - on_time["before"]) * 100)


def test_compare_of_periods_without_data_says_so(runner: CliRunner, season: dict[str, Any]) -> None:
    result = runner.invoke(app, ["compare", "--before", "2016", "--after", "2018"])
    assert result.exit_code == 0, result.output
    said = _said(result)
    assert "2016 内没有案件、吹哨或执法记录（数据范围" in said and "2018 内没有案件、吹哨或执法记录" in said
    assert "两段时长不同" not in said and "每30天" not in said  # a leap year against a year: totals, said so
    assert "两段时长相差不足 5%（366 天 / 365 天）：计数为各时段合计" in said
