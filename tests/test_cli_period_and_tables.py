"""The command line as an analyst types it and reads it: `evaluate --period 2026-8` is August, a reversed range
says it ends before it starts, and the plan tables fold long names (no spaces to break at) onto more lines
instead of cutting them with "…"."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from gis_enforcement.cli import app
from gis_enforcement.domain.catalog import Catalog


def _said(result: Any) -> str:
    return " ".join(result.output.split())


def test_evaluate_takes_a_one_digit_month_and_says_a_reversed_range_ends_before_it_starts(
        runner: CliRunner) -> None:
    short = runner.invoke(app, ["evaluate", "--period", "2026-8"], env={"COLUMNS": "200"})
    assert short.exit_code == 0, short.output
    assert "not a period" not in _said(short)
    reversed_ = runner.invoke(app, ["evaluate", "--period", "2026-08..2026-03"], env={"COLUMNS": "200"})
    said = _said(reversed_)
    assert reversed_.exit_code == 2 and "error: period:" in said and "ends before it starts" in said, said
    assert "2026-04-01" not in said


LONG_NAME = "罗汉石村居委会东侧河道·反复点位·非法采砂采矿夜间多发地段北端终点"


def _in_order(needle: str, haystack: str) -> bool:
    """Every character of ``needle`` in ``haystack``, in order (folded lines put table rules between them)."""
    rest = iter(haystack)
    return all(ch in rest for ch in needle)


def test_the_plan_tables_fold_long_names_instead_of_cutting_them(monkeypatch: pytest.MonkeyPatch,
                                                                  catalog: Catalog) -> None:
    from gis_enforcement.cli import plans

    page = io.StringIO()
    monkeypatch.setattr(plans, "out", Console(file=page, width=100, color_system=None))
    departments = sorted(catalog.departments)[:4]
    targets = [{"order": 1, "name": LONG_NAME, "categories": ["MIN-02", "MIN-01"], "departments": departments,
                "officers": dict.fromkeys(departments, 3), "window": "20:00–08:00", "arrive_at": None, "score": 87.0}]
    waiting = [{"name": LONG_NAME + "（待）", "reason_zh": "部门人数不足：" + "、".join(departments) * 3}]
    plans._plan_tables("联合执法计划 #1", targets, waiting, catalog, "more")
    printed = page.getvalue()
    assert "…" not in printed, printed
    assert _in_order(LONG_NAME, printed) and _in_order(LONG_NAME + "（待）", printed.split("暂缓")[1])
