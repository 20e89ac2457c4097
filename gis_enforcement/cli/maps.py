"""``gis-enforcement map …``: offline map pages from the stored data (served by ``serve`` at ``/maps/{name}``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_enforcement.cli.common import app, fail, open_platform, out
from gis_enforcement.errors import EnforcementError

map_app = typer.Typer(help="Offline map pages (Leaflet inlined): incidents, hot spots, townships, plans, dispatch.",
                      no_args_is_help=True)
app.add_typer(map_app, name="map")


def _lang(lang: str) -> str:
    if lang not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--lang")
    return lang


@map_app.command("incidents")
def map_incidents(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="default: MAPS_DIR/incidents.html")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Every stored incident by category over the townships."""
    from gis_enforcement.mapping.incidents_map import write_incidents_map
    from gis_enforcement.storage import incident_repo, layer_repo

    try:
        plat = open_platform()
        with out.status("reading incidents…"), plat.transaction() as session:
            incidents = incident_repo.incidents_frame(session)
            towns = layer_repo.read_layers(session)["township"]
        path = write_incidents_map(output or plat.settings.maps_dir / "incidents.html", incidents, towns,
                                   catalog=plat.catalog, lang=_lang(lang),
                                   title="平谷区 巡查事件" if lang == "zh" else "Pinggu patrol incidents")
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"{len(incidents):,} incidents → [cyan]{path.resolve()}[/]")


@map_app.command("hotspots")
def map_hotspots(
    run: Annotated[int | None, typer.Option(help="a stored hot-spot run (default: the latest)")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="default: MAPS_DIR/hotspots.html")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    basemap: Annotated[str | None, typer.Option(help="none, osm, tianditu, amap or xyz:<template|dir> "
                                                     "(default: GISE_BASEMAP)")] = None,
) -> None:
    """A hot-spot run's cells by Gi* confidence (run one with `hotspots run`)."""
    from gis_enforcement.analysis.hotspot_service import stored_run
    from gis_enforcement.errors import NotFound
    from gis_enforcement.mapping.basemaps import basemap_from
    from gis_enforcement.mapping.hotspots_map import write_hotspots_map
    from gis_enforcement.storage import analysis_repo, layer_repo

    try:
        plat = open_platform()
        tiles = basemap_from(basemap or plat.settings.basemap, tianditu_token=plat.settings.tianditu_token)
        with plat.transaction() as session:
            if run is None:
                runs = [r for r in analysis_repo.hotspot_runs(session, limit=50) if r["kind"] == "gi_star"]
                if not runs:
                    raise NotFound("no hot-spot run yet: run `gis-enforcement hotspots run` first", field="run")
                run = int(runs[0]["id"])
            meta, cells = stored_run(session, run_id=run)
            towns = layer_repo.read_layers(session)["township"]
        title = "平谷区 问题热点" if lang == "zh" else "Pinggu hot spots"
        path = write_hotspots_map(output or plat.settings.maps_dir / "hotspots.html", cells, towns, title=title,
                                  subtitle=f"run {run} · {meta['summary'].get('scale', '')}", lang=_lang(lang),
                                  basemap=tiles)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"run {run}: {len(cells):,} cells → [cyan]{path.resolve()}[/]")


@map_app.command("townships")
def map_townships(
    metric: Annotated[str, typer.Option(help="incidents_per_km2, resolution_rate or on_time_rate")]
    = "incidents_per_km2",
    period: Annotated[str | None, typer.Option(help="2026, 2026-05 or START..END (default: everything)")] = None,
    scheme: Annotated[str, typer.Option(help="natural_breaks (Jenks) or quantiles")] = "natural_breaks",
    k: Annotated[int, typer.Option(help="classes")] = 5,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="default: MAPS_DIR/townships.html")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Townships coloured by incidents per km², resolution rate or on-time report-in rate (classified with
    mapclassify)."""
    from gis_enforcement.analysis.evaluate_service import evaluate
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.mapping.townships_map import township_metrics, write_townships_map
    from gis_enforcement.storage import analysis_repo, layer_repo

    try:
        span = parse_period(period) if period else None
        plat = open_platform()
        with out.status("reading incidents and the evaluation…"), plat.transaction() as session:
            towns = layer_repo.read_layers(session)["township"]
            incidents = analysis_repo.incidents_frame(session, start=span.start if span else None,
                                                      end=span.end if span else None)
            evaluation = None
            if span is not None:
                evaluation = evaluate(session, catalog=plat.catalog, start=span.start, end=span.end, by="township")
        values = township_metrics(towns, incidents, evaluation)
        path = write_townships_map(output or plat.settings.maps_dir / "townships.html", towns, values,
                                   metric=metric, scheme=scheme, k=k, lang=_lang(lang),
                                   subtitle=span.label if span else "")
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"{metric} for {len(values)} townships → [cyan]{path.resolve()}[/]")


@map_app.command("plan")
def map_plan(
    plan_id: Annotated[int, typer.Argument(help="a stored joint-operation plan (see `plan create`)")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="default: MAPS_DIR/plan-ID.html")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """A joint operation's targets in visit order, their windows, the route and the targets that wait."""
    from gis_enforcement.errors import NotFound
    from gis_enforcement.mapping.plan_map import write_plan_map
    from gis_enforcement.storage import analysis_repo, layer_repo

    try:
        plat = open_platform()
        with plat.transaction() as session:
            plan = analysis_repo.get_plan(session, plan_id=plan_id)
            if plan is None:
                raise NotFound(f"no plan {plan_id}", field="plan_id")
            towns = layer_repo.read_layers(session)["township"]
        path = write_plan_map(output or plat.settings.maps_dir / f"plan-{plan_id}.html", plan["route"], towns,
                              lang=_lang(lang), catalog=plat.catalog)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"plan {plan_id} → [cyan]{path.resolve()}[/]")


@map_app.command("dispatch")
def map_dispatch(
    incident: Annotated[str, typer.Argument(help="a whistled case (incident id)")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="default: MAPS_DIR/dispatch-ID.html")]
    = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """A whistle's departments: where and when each reported in (on time or late), the geofence, who is absent."""
    from uuid import UUID

    from gis_enforcement.errors import InvalidInput, NotFound
    from gis_enforcement.mapping.dispatch_map import write_dispatch_map
    from gis_enforcement.storage import dispatch_repo, incident_repo, layer_repo

    try:
        try:
            case_id = UUID(incident)
        except ValueError:
            raise InvalidInput(f"{incident!r} is not an incident id", field="incident") from None
        plat = open_platform()
        with plat.transaction() as session:
            inc = incident_repo.get_incident(session, incident_id=case_id)
            if inc is None:
                raise NotFound(f"no incident {incident}", field="incident")
            checkins = dispatch_repo.check_ins_frame(session, incident_id=case_id)
            towns = layer_repo.read_layers(session)["township"]
        if checkins.empty:
            raise InvalidInput(f"case {incident} was not whistled", field="incident")
        deps = plat.catalog.departments
        checkins["department_name"] = [deps[d].zh if d in deps else d for d in checkins["department"]]
        category = plat.catalog.categories.get(inc.category)
        case = {"id": str(inc.id), "lon": inc.lon, "lat": inc.lat, "category": inc.category,
                "name": f"{inc.township_name or ''}{inc.village_name or ''}"}
        path = write_dispatch_map(output or plat.settings.maps_dir / f"dispatch-{case_id}.html", case, checkins,
                                  towns, geofence_m=category.geofence_m if category else 500.0, lang=_lang(lang),
                                  catalog=plat.catalog)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"case {incident} → [cyan]{path.resolve()}[/]")
