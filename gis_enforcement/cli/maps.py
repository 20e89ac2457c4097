"""``gis-enforcement map …``: offline map pages from the stored data (served by ``serve`` at ``/maps/{name}``).

Each command reads and writes through :mod:`gis_enforcement.operations.map_pages` (the demo uses the same), so
the CLI only parses options and reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_enforcement.cli.common import app, district_tz, fail, open_platform, out
from gis_enforcement.errors import EnforcementError

map_app = typer.Typer(help="Offline map pages (Leaflet inlined): status, hot spots, townships, dispatch, plans, "
                           "incidents.", no_args_is_help=True)
app.add_typer(map_app, name="map")



def _html_page(path: Path | None) -> Path | None:
    """A map page is HTML: refuse any other suffix, before any work, rather than write HTML under it."""
    if path is not None and path.suffix.lower() not in (".html", ".htm"):
        raise typer.BadParameter(f"{path.name}: the map (an offline HTML page) is written to a .html or .htm file")
    return path


Output = Annotated[Path | None, typer.Option("-o", "--output", help="an .html file (default: MAPS_DIR/<name>.html)",
                                             callback=_html_page)]
Lang = Annotated[str, typer.Option(help="zh or en")]
Period = Annotated[str | None, typer.Option(help="2026, 2026-05 or START..END (default: everything)")]
BasemapOption = Annotated[str | None, typer.Option(help="none, osm, tianditu, amap, xyz:<template|dir> or "
                                                        "mbtiles:<file> (default: GISE_BASEMAP)")]


def _lang(lang: str) -> str:
    if lang not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--lang")
    return lang


@map_app.command("status")
def map_status(period: Period = None,
               township: Annotated[str | None, typer.Option(help="one township's cases (code or name)")] = None,
               output: Output = None, lang: Lang = "zh", basemap: BasemapOption = None) -> None:
    """Every case coloured by its status and shaped by its problem family, with its timeline; filters by status,
    category and month, and a time slider through the season."""
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.analysis.townships import resolve_township
    from gis_enforcement.mapping.basemaps import basemap_from
    from gis_enforcement.operations.map_pages import status_page

    try:
        span = parse_period(period, tz=district_tz()) if period else None
        plat = open_platform()
        tiles = basemap_from(basemap or plat.settings.basemap, tianditu_token=plat.settings.tianditu_token)
        with out.status("reading and drawing the cases…"), plat.transaction() as session:
            page = status_page(session, output or plat.settings.maps_dir / "status.html", catalog=plat.catalog,
                               start=span.start if span else None, end=span.end if span else None,
                               township_code=resolve_township(session, township, field="--township"),
                               subtitle=span.label if span else "", lang=_lang(lang),
                               basemap=tiles, timezone=plat.settings.timezone)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"{page.count:,} cases → [cyan]{page.path.resolve()}[/]")


@map_app.command("incidents")
def map_incidents(output: Output = None, lang: Lang = "zh") -> None:
    """Every stored incident by category over the townships."""
    from gis_enforcement.operations.map_pages import incidents_page

    try:
        plat = open_platform()
        with out.status("reading incidents…"), plat.transaction() as session:
            page = incidents_page(session, output or plat.settings.maps_dir / "incidents.html",
                                  catalog=plat.catalog, lang=_lang(lang), timezone=plat.settings.timezone)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"{page.count:,} incidents → [cyan]{page.path.resolve()}[/]")


@map_app.command("hotspots")
def map_hotspots(run: Annotated[int | None, typer.Option(help="a stored hot-spot run (default: the latest)")] = None,
                 output: Output = None, lang: Lang = "zh", basemap: BasemapOption = None) -> None:
    """A hot-spot run's cells by Gi* confidence (run one with `hotspots run`), with emerging patterns, recurring
    sites and the categories' trends when they are stored."""
    from gis_enforcement.mapping.basemaps import basemap_from
    from gis_enforcement.operations.map_pages import hotspots_page

    try:
        plat = open_platform()
        tiles = basemap_from(basemap or plat.settings.basemap, tianditu_token=plat.settings.tianditu_token)
        with plat.transaction() as session:
            page = hotspots_page(session, output or plat.settings.maps_dir / "hotspots.html", catalog=plat.catalog,
                                 timezone=plat.settings.timezone, run_id=run, lang=_lang(lang), basemap=tiles)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"{page.count:,} cells → [cyan]{page.path.resolve()}[/]")


@map_app.command("townships")
def map_townships(
    metric: Annotated[str, typer.Option(help="incidents_per_km2, on_time_rate, resolution_rate (whistled cases "
                                             "only), or any township evaluation measure: share_whistled, "
                                             "triage_on_time_rate, untriaged, untriaged_share, whistle_on_time_rate, "
                                             "review_on_time_rate, follow_up_on_time_rate, no_recurrence_rate, "
                                             "score …")]
    = "incidents_per_km2",
    period: Period = None,
    scheme: Annotated[str, typer.Option(help="natural_breaks (Jenks) or quantiles")] = "natural_breaks",
    k: Annotated[int, typer.Option(help="classes")] = 5,
    output: Output = None, lang: Lang = "zh",
) -> None:
    """Townships coloured by incidents per km², on-time report-in rate or a measure of the township evaluation
    (classified with mapclassify); rates show the n they rest on, and those on fewer than 5 are marked 样本少."""
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.operations.map_pages import townships_page

    try:
        span = parse_period(period, tz=district_tz()) if period else None
        plat = open_platform()
        with out.status("reading incidents and the evaluation…"), plat.transaction() as session:
            page = townships_page(session, output or plat.settings.maps_dir / "townships.html", catalog=plat.catalog,
                                  metric=metric, start=span.start if span else None, end=span.end if span else None,
                                  subtitle=span.label if span else "", scheme=scheme, k=k, lang=_lang(lang),
                                  timezone=plat.settings.timezone)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"{metric} for {page.count} townships → [cyan]{page.path.resolve()}[/]")


@map_app.command("plan")
def map_plan(plan_id: Annotated[int, typer.Argument(help="a stored joint-operation plan (see `plan create`)")],
             output: Output = None, lang: Lang = "zh") -> None:
    """A joint operation's targets in visit order, their windows, the route and the targets that wait."""
    from gis_enforcement.operations.map_pages import plan_page

    try:
        plat = open_platform()
        with plat.transaction() as session:
            page = plan_page(session, output or plat.settings.maps_dir / f"plan-{plan_id}.html", catalog=plat.catalog,
                             plan_id=plan_id, lang=_lang(lang), timezone=plat.settings.timezone)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"plan {plan_id} → [cyan]{page.path.resolve()}[/]")


@map_app.command("dispatch")
def map_dispatch(incident: Annotated[str, typer.Argument(help="a whistled case (incident id)")],
                 output: Output = None, lang: Lang = "zh") -> None:
    """A whistle's departments: where and when each reported in (on time or late), the geofence, who is absent."""
    from uuid import UUID

    from gis_enforcement.errors import InvalidInput
    from gis_enforcement.operations.map_pages import dispatch_page

    try:
        try:
            case_id = UUID(incident)
        except ValueError:
            raise InvalidInput(f"{incident!r} is not an incident id", field="incident") from None
        plat = open_platform()
        with plat.transaction() as session:
            page = dispatch_page(session, output or plat.settings.maps_dir / f"dispatch-{case_id}.html",
                                 catalog=plat.catalog, incident_id=case_id, lang=_lang(lang),
                                 timezone=plat.settings.timezone)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"case {incident}: {page.count} departments → [cyan]{page.path.resolve()}[/]")


@map_app.command("tracks")
def map_tracks(period: Period = None,
               township: Annotated[str | None, typer.Option(help="one township's tracks (its code)")] = None,
               output: Output = None) -> None:
    """Patrol tracks of the period, night and day, with the zones' coverage, the incidents of the period and the
    coverage figures per township."""
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.operations.map_pages import tracks_page

    try:
        span = parse_period(period, tz=district_tz()) if period else None
        plat = open_platform()
        with out.status("reading the tracks and drawing them…"), plat.transaction() as session:
            page = tracks_page(session, output or plat.settings.maps_dir / "tracks.html", catalog=plat.catalog,
                               start=span.start if span else None, end=span.end if span else None,
                               township_code=township, subtitle=span.label if span else "",
                               timezone=plat.settings.timezone)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"{page.count:,} tracks → [cyan]{page.path.resolve()}[/]")


tracks_app = typer.Typer(help="Patrol tracks: coverage per township and zone kind.", no_args_is_help=True)
app.add_typer(tracks_app, name="tracks")


@tracks_app.command("coverage")
def tracks_coverage(period: Period = None,
                    township: Annotated[str | None, typer.Option(help="one township (its code)")] = None,
                    distance: Annotated[float, typer.Option(help="metres either side of a track that count as "
                                                                 "patrolled")] = 100.0) -> None:
    """Per township: tracks, patrol hours, km and night km (20:00–06:00), and the share of each zone kind within
    ``--distance`` of a track, all day / at night; then the zones no patrol came near."""
    from rich.table import Table

    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.analysis.patrol_coverage import ZONE_KIND_NAMES
    from gis_enforcement.analysis.patrol_coverage_service import coverage_for
    from gis_enforcement.cli.common import print_whole
    from gis_enforcement.domain.access import Caller, Role

    try:
        span = parse_period(period, tz=district_tz()) if period else None
        plat = open_platform()
        with plat.transaction() as session:
            cov, _, _, _ = coverage_for(session, caller=Caller("cli", Role.SUPERVISOR, "district", "district"),
                                        start=span.start if span else None, end=span.end if span else None,
                                        tz=plat.settings.timezone, township=township, distance_m=distance)
    except EnforcementError as exc:
        fail(exc)
        return
    kinds = [k for k in ZONE_KIND_NAMES if k in set(cov.zone_kinds["kind"])]
    by = cov.zone_kinds.set_index(["township_code", "kind"])
    table = Table(title=f"巡查覆盖 patrol coverage {span.label if span else '(everything stored)'} — "
                        f"覆盖 = share of the zones' area within {distance:g} m of a track, 全天/夜间 (20:00–06:00)",
                  title_justify="left", pad_edge=False, padding=(0, 1))
    columns = ("街乡", "轨迹", "时长(时)", "里程(公里)", "夜间(公里)",
               *(f"{ZONE_KIND_NAMES[k]} 全天/夜间" for k in kinds))
    for col in columns:
        table.add_column(col, justify="left" if col == "街乡" else "right")
    for r in cov.townships.itertuples(index=False):
        cells = []
        for k in kinds:
            z = by.loc[(r.township_code, k)] if (r.township_code, k) in by.index else None
            cells.append("·" if z is None else f"{100 * z['covered_share']:.0f}% / {100 * z['night_share']:.0f}%")
        table.add_row(str(r.township_name), str(r.tracks), f"{r.hours:.1f}", f"{r.km:.1f}", f"{r.night_km:.1f}",
                      *cells)
    print_whole(table)
    missing = cov.unpatrolled
    if len(missing):
        out.print("本期无巡查经过的区域 zones no patrol came near: " + "、".join(missing["name"]), highlight=False)
