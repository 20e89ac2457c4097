"""``gis-enforcement plan …``: joint operations (联合执法) planned from hot spots, recurring sites and open cases,
and executed as the district's whistles."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.table import Table

from gis_enforcement.cli.common import app, err, fail, open_platform, out, written
from gis_enforcement.errors import EnforcementError, InvalidInput

plan_app = typer.Typer(help="Joint operations (联合执法): plan from hot spots, recurring sites and open cases; "
                            "execute.", no_args_is_help=True)
app.add_typer(plan_app, name="plan")

def _window(values: list[str] | None) -> dict[str, str]:
    out_: dict[str, str] = {}
    for v in values or []:
        code, sep, span = v.partition("=")
        if not sep:
            raise typer.BadParameter(f"{v!r}: write CATEGORY=HH:MM-HH:MM", param_hint="--window")
        out_[code.strip()] = span.strip()
    return out_


#: fields of a plan request (:class:`~gis_enforcement.operations.plans.PlanRequest`) → options of `plan create`
_PLAN_OPTIONS = {"start_point": "from", "start_township": "from", "townships": "township", "categories": "category",
                 "period_start": "start", "period_end": "hours"}


@plan_app.command("create")
def plan_create(
    start: Annotated[str, typer.Option(help="when the operation starts (ISO time, e.g. 2026-05-12T20:00+08:00; "
                                            "without a UTC offset it is the district's time, Asia/Shanghai)")],
    hours: Annotated[float, typer.Option(help="how long the operation lasts")] = 12.0,
    township: Annotated[list[str] | None, typer.Option(help="township code or name (repeatable)")] = None,
    category: Annotated[list[str] | None, typer.Option(help="problem category (repeatable)")] = None,
    leave_from: Annotated[str | None, typer.Option("--from", help="township code or name (its seat) or LON,LAT")]
    = None,
    hotspot_run: Annotated[int | None, typer.Option(help="a stored hot-spot run to draw hot spots from")] = None,
    window: Annotated[list[str] | None, typer.Option(help="override a category's window: MIN-02=22:00-03:00")]
    = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write NAME.geojson and NAME.csv")] = None,
) -> None:
    """Plan a joint operation: targets ranked, departments and officers, windows, route order; the plan is
    stored (its id is printed) and can be executed with `plan execute`."""
    from datetime import timedelta

    from gis_enforcement.api.filter_codes import township_code, township_codes
    from gis_enforcement.domain.zone import in_zone
    from gis_enforcement.layers.seats import load_seats
    from gis_enforcement.operations.plans import PlanRequest, create_plan

    try:
        begin = datetime.fromisoformat(start)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from exc
    if not 1970 <= begin.year <= 2999:  # and the period's end stays within the calendar
        raise typer.BadParameter("the start must be between the years 1970 and 2999", param_hint="--start")
    if not (math.isfinite(hours) and 0 < hours <= 24 * 31):
        raise typer.BadParameter("must be more than 0 and at most 744 (31 days)", param_hint="--hours")
    windows = _window(window)
    point = None
    if leave_from and "," in leave_from:
        try:
            lon, lat = (float(v) for v in leave_from.split(","))
        except ValueError as exc:
            raise typer.BadParameter("LON,LAT in degrees", param_hint="--from") from exc
        point = (lon, lat)
    try:
        plat = open_platform()
        begin = in_zone(begin, plat.settings.timezone)
        with out.status("planning: candidates, staffing, route…"), plat.transaction() as session:
            # townships by code or name, as every filter takes them
            request = PlanRequest(period_start=begin, period_end=begin + timedelta(hours=hours),
                                  townships=township_codes(session, township) or [], categories=category or [],
                                  start_township=None if point else township_code(session, leave_from,
                                                                                  field="from"),
                                  start_point=point, hotspot_run_id=hotspot_run, windows=windows)
            plan_id, plan = create_plan(session, catalog=plat.catalog, locator=plat.locators.get(session),
                                        seats=load_seats(plat.settings.boundaries_dir), request=request,
                                        tz=plat.settings.timezone)
    except EnforcementError as exc:
        if isinstance(exc, InvalidInput) and exc.field in _PLAN_OPTIONS:  # name the option as typed
            exc = InvalidInput(exc.message, field=_PLAN_OPTIONS[exc.field], **exc.detail)
        fail(exc)
        return
    _print_plan(plan_id, plan, plat.catalog, output)
    if output is not None:
        geo, csv = output.with_suffix(".geojson"), output.with_suffix(".csv")
        with written(geo) as path:
            path.write_text(json.dumps(plan.to_geojson(), ensure_ascii=False), encoding="utf-8")
        with written(csv) as path:
            plan.to_frame().to_csv(path, index=False, encoding="utf-8-sig")
        out.print(f"wrote {geo} and {csv}")


def _plan_tables(title: str, targets: list[dict[str, Any]], waiting: list[dict[str, Any]], catalog: Any,
                 more_hint: str) -> None:
    """The targets of a plan in route order (``order``, ``name``, ``categories``, ``officers``, ``window``,
    ``arrive_at`` as a time, ``score``), then the first of those waiting with their reason."""
    from gis_enforcement.analysis.planning import staff_label
    from gis_enforcement.demo.chain_summary import short_name

    def zh(codes: Any) -> str:
        return "、".join(catalog.categories[c].zh if c in catalog.categories else c for c in codes)

    table = Table(title=title, box=box.SIMPLE_HEAD)
    for col in ("序", "目标", "类别", "部门（人）", "时段", "到达", "得分"):
        # names have no spaces to break at: folded onto more lines rather than cut with "…"
        table.add_column(col, justify="right" if col in ("序", "得分") else "left",
                         overflow="fold", no_wrap=col in ("序", "时段", "到达", "得分"))
    for r in targets:
        officers = staff_label(r.get("officers"), r.get("departments"), lambda d: short_name(catalog, d))
        arrive = r.get("arrive_at")
        table.add_row(str(r.get("order", "")), str(r.get("name", "")), zh(r.get("categories") or []), officers,
                      str(r.get("window", "")), f"{arrive:%H:%M}" if arrive is not None else "—",
                      f"{r['score']:.0f}" if r.get("score") is not None else "")
    out.print(table)
    if waiting:
        wait = Table(title="暂缓 waiting", box=box.SIMPLE_HEAD)
        for col in ("目标", "原因"):
            wait.add_column(col, overflow="fold")
        for w in waiting[:12]:
            wait.add_row(str(w.get("name", "")), str(w.get("reason_zh") or w.get("reason", "")))
        out.print(wait)
        if len(waiting) > 12:
            out.print(f"… and {len(waiting) - 12} more waiting ({more_hint})")


def _print_plan(plan_id: int, plan: Any, catalog: Any, output: Path | None) -> None:
    offset = plan.period_start.isoformat()[-6:]  # the district's UTC offset, e.g. +08:00
    title = (f"联合执法计划 #{plan_id}  {plan.period_start:%Y-%m-%d %H:%M} → {plan.period_end:%m-%d %H:%M} "
             f"({offset})")
    more = (f"all in {output.with_suffix('.csv')} and {output.with_suffix('.geojson')}" if output is not None
            else "write them all to NAME.csv and NAME.geojson with -o NAME")
    _plan_tables(title, plan.targets.to_dict("records"), plan.waiting.to_dict("records"), catalog, more)
    out.print(f"{len(plan.targets)} target(s), {plan.travel_m / 1000:.1f} km, back by {plan.end_at:%H:%M}")


@plan_app.command("list")
def plan_list(limit: Annotated[int, typer.Option(min=1, max=500, help="how many, newest first")] = 20) -> None:
    """Stored plans, newest first: id, status, period (district time, with its UTC offset), targets waiting."""
    from gis_enforcement.operations.plans import list_plans

    try:
        plat = open_platform()
        with plat.transaction() as session:
            rows, total = list_plans(session, limit=limit, offset=0, tz=plat.settings.timezone)
    except EnforcementError as exc:
        fail(exc)
        return
    table = Table(title=f"联合执法计划 plans ({len(rows)} of {total})", box=box.SIMPLE_HEAD)
    for col in ("#", "status", "from", "to", "targets", "waiting", "townships", "categories"):
        table.add_column(col, justify="right" if col in ("#", "targets", "waiting") else "left", overflow="fold")
    for r in rows:
        begin, end = r["period_start"], r["period_end"]
        table.add_row(str(r["id"]), r["status"], begin.isoformat(timespec="minutes") if begin else "—",
                      end.isoformat(timespec="minutes") if end else "—", str(r["target_count"]),
                      str(r["waiting_count"]), ",".join(r["townships"]) or "all", ",".join(r["categories"]) or "all")
    out.print(table)
    out.print("see one with `gis-enforcement plan show ID`")


@plan_app.command("show")
def plan_show(plan_id: Annotated[int, typer.Argument(help="a stored plan (see `plan list`)")]) -> None:
    """A stored plan again: its period, status and execution, the targets in route order with departments,
    officers, windows and arrival, and those waiting with the reason."""
    from gis_enforcement.operations.plans import stored_plan

    try:
        plat = open_platform()
        with plat.transaction() as session:
            plan = stored_plan(session, plan_id=plan_id, tz=plat.settings.timezone)
    except EnforcementError as exc:
        fail(exc)
        return
    zone = ZoneInfo(plat.settings.timezone)
    period = plan["period"]
    when = (f"{period[0]:%Y-%m-%d %H:%M} → {period[1]:%m-%d %H:%M} ({period[0].isoformat()[-6:]})"
            if period else "no period")
    targets = [{**t, "arrive_at": datetime.fromisoformat(t["arrive_at"]).astimezone(zone) if t.get("arrive_at")
                else None} for t in plan["targets"]]
    _plan_tables(f"联合执法计划 #{plan_id}  {when}", targets, plan["waiting"], plat.catalog,
                 f"all in GET /api/v1/plans/{plan_id}")
    km = sum(float(t.get("leg_m") or 0) for t in plan["targets"]) / 1000
    state = (f"executed at {plan['executed_at']:%Y-%m-%d %H:%M} ({len(plan['whistle_ids'])} whistle(s))"
             if plan["executed_at"] else plan["status"])
    towns = "、".join(plan["township_names"]) or "all townships"
    out.print(f"{len(targets)} target(s), {km:.1f} km · {towns} · {state}")


def _actor(given: str | None) -> str:
    """The person a command acts for: ``given`` (stripped), else the operating system's user name."""
    if given is None:
        import getpass

        try:
            given = getpass.getuser()
        except (KeyError, OSError) as exc:  # no user name in the environment nor in the password database
            raise InvalidInput("cannot tell who is executing the plan: give --actor NAME", field="actor") from exc
    name = given.strip()
    if not name:
        raise InvalidInput("--actor names the person executing the plan: it cannot be empty", field="actor")
    return name


@plan_app.command("execute")
def plan_execute(
    plan_id: Annotated[int, typer.Argument(help="a stored plan")],
    actor: Annotated[str | None, typer.Option(
        "--actor", help="who executes the plan, recorded on its whistles and the cases' records "
                        "(default: the operating system user)")] = None,
) -> None:
    """Carry a plan out now: every target whistled at once (cases filed where a target has none), in the
    district's name (a joint-operation whistle, not the township's own). Refused more than 2 hours before the
    plan's period starts or after it ends, and for a plan with no planned target."""
    from gis_enforcement.operations.plans import execute_plan

    try:
        actor = _actor(actor)
        plat = open_platform()
        at = datetime.now(UTC)
        with plat.transaction() as session:
            done = execute_plan(session, catalog=plat.catalog, locator=plat.locators.get(session), plan_id=plan_id,
                                at=at, actor=actor, tz=plat.settings.timezone)
    except EnforcementError as exc:
        fail(exc)
        return
    when = at.astimezone(ZoneInfo(plat.settings.timezone)).isoformat(timespec="minutes")
    out.print(f"plan {plan_id} executed at {when} by {actor} (the district's joint-operation whistle): "
              f"{len(done.whistle_ids)} whistle(s), "
              f"{len(done.incident_ids)} case(s) ({len(done.filed)} filed for targets without an open case)")
    for case_id, why in done.skipped:
        err.print(f"[yellow]skipped[/] {case_id}: {why}")
