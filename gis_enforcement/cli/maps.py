"""``gis-enforcement map …``: offline map pages from the stored data (served by ``serve`` at ``/maps/{name}``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_enforcement.cli.common import app, fail, open_platform, out
from gis_enforcement.errors import EnforcementError

map_app = typer.Typer(help="Offline map pages (Leaflet inlined): incidents, hot spots.", no_args_is_help=True)
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
