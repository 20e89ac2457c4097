"""The whistle chain from the command line: escalation, evaluation, the audit record."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from gis_enforcement.cli.common import (
    app,
    district_tz,
    err,
    fail,
    open_platform,
    out,
    print_whole,
    written,
)
from gis_enforcement.errors import EnforcementError


@app.command("tick")
def tick_cmd(
    now: Annotated[str | None, typer.Option(help="ISO 8601 time to evaluate at (default: now); a time past, to "
                                                 "catch up on a pass that did not run — never one to come")] = None,
) -> None:
    """Escalation pass: raise the warnings due now (late, absent, overdue…), each once."""
    from datetime import datetime

    from gis_enforcement.dispatch.escalation import tick
    from gis_enforcement.domain.deadlines import CLOCK_SKEW

    try:
        at = datetime.fromisoformat(now) if now else datetime.now().astimezone()
        if at.tzinfo is None:
            raise typer.BadParameter("give the time with its offset, e.g. 2026-05-12T23:40:00+08:00")
        if at > datetime.now().astimezone() + CLOCK_SKEW:  # a warning is a fact: it cannot be raised ahead of time
            raise ValueError(f"{at.isoformat()} is in the future: warnings are raised when they are due, not "
                             "before")
        platform = open_platform()
        with platform.transaction() as session:
            raised = tick(session, catalog=platform.catalog, now=at, tz=platform.settings.timezone)
    except ValueError as exc:
        err.print(f"[bold red]error[/]: now: {exc}")
        raise typer.Exit(code=2) from exc
    except EnforcementError as exc:
        fail(exc)
        return
    if not raised:
        out.print("no new warnings")
        return
    table = Table(title=f"{len(raised)} new warning(s) (警示)")
    for col in ("rule", "level", "department", "case", "detail"):
        table.add_column(col)
    for w in raised:
        table.add_row(w["rule_code"], w["level"], w["subject_code"], str(w["incident_id"] or "—"),
                      json.dumps(w["detail"], ensure_ascii=False))
    out.print(table)


class EvaluateBy(StrEnum):
    department = "department"
    township = "township"


@app.command("evaluate")
def evaluate_cmd(
    period: Annotated[str, typer.Option(help="a year (2026), a month (2026-05) or START..END (2026-01..2026-06)")],
    by: Annotated[EvaluateBy, typer.Option(help="one row per department or per township")] = EvaluateBy.department,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="also write every column to .csv (or .xlsx)")] = None,
    monthly: Annotated[bool, typer.Option("--monthly", help="the departments' rank in each month instead")] = False,
    lang: Annotated[str, typer.Option(help="headers: zh or en")] = "zh",
) -> None:
    """Evaluation (效果可评价): whistles, report-in, resolution, warnings, penalties, duty performance, score."""
    from datetime import UTC, datetime

    from gis_enforcement.analysis.evaluate_service import data_range, evaluate, is_empty, ranking_by_month
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.analysis.evaluation_table import (
        empty_period_note,
        floor_notes,
        render_table,
        report_csv_frame,
        report_workbook,
        score_note,
    )

    if output is not None and output.suffix.lower() not in (".csv", ".xlsx"):
        raise typer.BadParameter("write a .csv or an .xlsx file", param_hint="--output")
    if lang not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--lang")
    try:
        span = parse_period(period, tz=district_tz())
        platform = open_platform()
        tz = platform.settings.timezone
        with platform.transaction() as session:
            if monthly:
                table = ranking_by_month(session, catalog=platform.catalog, start=span.start, end=span.end, tz=tz)
            else:
                table = evaluate(session, catalog=platform.catalog, start=span.start, end=span.end, by=by.value,
                                 label=span.label)
            empty = is_empty(table)
            stored = data_range(session) if empty else None
    except EnforcementError as exc:
        fail(exc)
        return
    generated_at = datetime.now(UTC)
    rows = render_table(table, lang)
    what = "月度排名" if monthly else "部门评价" if by is EvaluateBy.department else "乡镇评价"
    grid = Table(title=f"{what} {span.label}", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    unit = {"名称", "dept", "township"}  # month, rank and the unit left, figures right
    text_columns = next((i + 1 for i, h in enumerate(rows[0]) if h in unit), 0)
    for i, header in enumerate(rows[0]):
        grid.add_column(header, justify="left" if i < text_columns else "right", no_wrap=True)
    for r in rows[1:]:
        grid.add_row(*r)
    print_whole(grid)
    if empty:
        note = empty_period_note(span.label, stored, tz=tz, lang=lang)
        out.print(f"[yellow]{'注意' if lang == 'zh' else 'note'}[/] {note}")
    notes = [] if empty else [score_note(lang, by="department" if monthly else by.value,
                                         per=platform.catalog.deductions_per_exposure),
                              *([] if monthly else floor_notes(table, lang))]
    for line in notes:
        out.print(line, highlight=False)
    if output is not None:
        with written(output) as path:
            if output.suffix.lower() == ".xlsx":
                report_workbook(table, what=what, period=span, generated_at=generated_at, lang=lang,
                                notes=notes).save(path)
            else:  # BOM: Excel opens the Chinese headers right
                report_csv_frame(table, period=span, generated_at=generated_at,
                                 lang=lang).to_csv(path, index=False, encoding="utf-8-sig")
        out.print(f"wrote {len(table):,} rows to {output}")


audit_app = typer.Typer(help="The tamper-evident case record.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    incident: Annotated[str | None, typer.Option(help="check one case (id); default: every case")] = None,
) -> None:
    """Recompute every case's hash chain; name the first broken event. Exit 1 when any record is broken."""
    from uuid import UUID

    from gis_enforcement.dispatch.record import verify_case_record
    from gis_enforcement.errors import NotFound
    from gis_enforcement.storage import dispatch_repo, incident_repo

    try:
        platform = open_platform()
        with platform.transaction() as session:
            ids = [UUID(incident)] if incident else dispatch_repo.cases_with_events(session)
            if incident and incident_repo.get_incident(session, incident_id=ids[0]) is None:
                raise NotFound(f"no incident {incident}", field="incident")
            broken = [(i, p) for i in ids if (p := verify_case_record(session, incident_id=i)) is not None]
    except ValueError as exc:
        err.print(f"[bold red]error[/]: incident: {exc}")
        raise typer.Exit(code=2) from exc
    except EnforcementError as exc:
        fail(exc)
        return
    for case_id, problem in broken:
        out.print(f"[red]case {case_id}[/]: {problem}")
    out.print(f"{len(ids):,} case record(s) checked, {len(broken):,} broken")
    if broken:
        raise typer.Exit(code=1)


@app.command("compare")
def compare_cmd(
    before: Annotated[str, typer.Option(help="the period before: a year (2016), month or START..END")],
    after: Annotated[str, typer.Option(help="the period after (not overlapping the one before): a year (2018), "
                                            "month or START..END")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="also write the rows to .csv")] = None,
) -> None:
    """The seed's two metrics district-wide, before vs after: penalties per officer and 职权履行率, as % change
    (rates also in 百分点); counts per 30 days when the periods' lengths differ; overlapping periods refused."""
    from gis_enforcement.analysis.evaluate_service import compare
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.analysis.evaluation_table import comparison_notes, empty_period_note

    if output is not None and output.suffix.lower() != ".csv":
        raise typer.BadParameter("write a .csv file", param_hint="--output")
    try:
        spans = (parse_period(before, tz=district_tz(), field="before"),
                 parse_period(after, tz=district_tz(), field="after"))
        plat = open_platform()
        with plat.transaction() as session:
            result = compare(session, catalog=plat.catalog, before=spans[0], after=spans[1])
    except EnforcementError as exc:
        fail(exc)
        return
    table = result.table
    grid = Table(title=f"前后对比 {spans[0].label} → {spans[1].label}", box=box.SIMPLE_HEAD)
    for header in ("指标", "metric", spans[0].label, spans[1].label, "变化", "变化(百分点)"):
        grid.add_column(header, justify="left" if header in ("指标", "metric") else "right")
    for r in table.itertuples(index=False):
        fmt = "{:.1%}" if r.metric.endswith("_rate") else "{:,.0f}" if r.metric == "whistles" else "{:.3f}"
        if r.per_30_days and r.metric == "whistles":
            fmt = "{:,.1f}"
        cells = [fmt.format(v) if v == v else "—" for v in (r.before, r.after)]
        change = f"{r.change_pct:+.2f} %" if r.change_pct == r.change_pct else "—"
        points = f"{r.change_pp:+.1f} pp" if r.change_pp == r.change_pp else "—"
        per = ("（每30天）", " (per 30 days)") if r.per_30_days else ("", "")
        grid.add_row(r.zh + per[0], r.en + per[1], *cells, change, points)
    print_whole(grid)
    for note in comparison_notes(result.per_30_days, result.days_before, result.days_after):
        out.print(f"[yellow]注意[/] {note}")
    for side, span in zip(("before", "after"), spans, strict=True):
        if side in result.empty:
            out.print(f"[yellow]注意[/] {empty_period_note(span.label, result.data_range, tz=plat.settings.timezone)}")
    if output is not None:
        with written(output) as path:
            table.to_csv(path, index=False, encoding="utf-8-sig")
        out.print(f"wrote {len(table)} rows to {output}")
