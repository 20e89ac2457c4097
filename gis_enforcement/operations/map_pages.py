"""The map pages from the store: each reads what its map needs in the caller's session and writes the page.

Used by ``gis-enforcement map …`` and by the demo, so both draw the same thing. Builders in
:mod:`gis_enforcement.mapping` take data, not sessions; these functions are the only place that joins the two.
Nothing is written when the input is refused (the page is built before the file is opened).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.mapping.basemaps import Basemap
from gis_enforcement.mapping.tilesets import publish_tileset
from gis_enforcement.storage import Session, analysis_repo, dispatch_repo, incident_repo, layer_repo, map_repo

__all__ = ["MapPage", "dispatch_page", "hotspots_page", "incidents_page", "plan_page", "prepare_basemap",
           "showcase_case", "status_page", "townships_page", "tracks_page"]

TITLES = {
    "status": {"zh": "平谷区 案件处置状态", "en": "Pinggu cases by status"},
    "incidents": {"zh": "平谷区 巡查事件", "en": "Pinggu patrol incidents"},
}


#: the bounds of "everything stored" when a map is given no period (within pandas' timestamps)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class MapPage:
    """A written page and how many things it shows (cases, townships, targets …)."""

    path: Path
    count: int


def prepare_basemap(basemap: Basemap | None, path: Path) -> None:
    """A local MBTiles basemap's tiles next to the page (its tile URLs are relative to the page)."""
    if basemap is not None and basemap.tileset is not None:
        publish_tileset(basemap.tileset, path.parent)


def status_page(session: Session, path: Path, *, catalog: Catalog, start: datetime | None = None,
                end: datetime | None = None, township_code: str | None = None, subtitle: str = "",
                lang: str = "zh", basemap: Basemap | None = None, timezone: str = DEFAULT_TIMEZONE) -> MapPage:
    """Every case (of the period, of one township) by status, shape by family, with its timeline; times, days
    and months in the district's zone ``timezone``."""
    from gis_enforcement.mapping.status_map import write_status_map

    cases = map_repo.case_status_frame(session, start=start, end=end, township_code=township_code)
    towns = layer_repo.read_layers(session)["township"]
    prepare_basemap(basemap, path)
    written = write_status_map(path, cases, towns, catalog=catalog, lang=lang, basemap=basemap,
                               title=TITLES["status"][lang], subtitle=subtitle, tz=timezone)
    return MapPage(written, len(cases))


def incidents_page(session: Session, path: Path, *, catalog: Catalog, lang: str = "zh",
                   timezone: str = DEFAULT_TIMEZONE) -> MapPage:
    """Every stored incident by category over the townships, times in the district's zone ``timezone``."""
    from gis_enforcement.mapping.incidents_map import write_incidents_map

    incidents = incident_repo.incidents_frame(session)
    towns = layer_repo.read_layers(session)["township"]
    written = write_incidents_map(path, incidents, towns, catalog=catalog, lang=lang,
                                  title=TITLES["incidents"][lang], tz=timezone)
    return MapPage(written, len(incidents))


def townships_page(session: Session, path: Path, *, catalog: Catalog, metric: str = "incidents_per_km2",
                   start: datetime | None = None, end: datetime | None = None, subtitle: str = "",
                   scheme: str = "natural_breaks", k: int = 5, lang: str = "zh",
                   timezone: str = DEFAULT_TIMEZONE) -> MapPage:
    """Townships coloured by ``metric`` (incidents per km², resolution rate, on-time report-in rate) over
    ``[start, end)``, everything stored when a bound is None: the rates are the township evaluation's
    (:func:`~gis_enforcement.analysis.evaluation.evaluate_townships`) and the on-time rate of the assignments
    summoned in the period, by the case's township. The page says when it was written, in ``timezone``."""
    from gis_enforcement.analysis.evaluate_service import load_facts
    from gis_enforcement.analysis.evaluation import Period, evaluate_townships
    from gis_enforcement.mapping.townships_map import township_metrics, township_on_time, write_townships_map

    towns = layer_repo.read_layers(session)["township"]
    incidents = analysis_repo.incidents_frame(session, start=start, end=end)
    period = Period(start or EARLIEST, end or LATEST, subtitle)
    facts = load_facts(session, period=period, by="township")
    evaluation = evaluate_townships(facts, catalog, period=period)
    on_time = township_on_time(facts.frame("assignments"), as_of=facts.as_of)
    values = township_metrics(towns, incidents, evaluation, on_time)
    written = write_townships_map(path, towns, values, metric=metric, scheme=scheme, k=k, lang=lang,
                                  subtitle=subtitle, tz=timezone)
    return MapPage(written, len(values))


def dispatch_page(session: Session, path: Path, *, catalog: Catalog, incident_id: UUID,
                  lang: str = "zh", timezone: str = DEFAULT_TIMEZONE) -> MapPage:
    """A whistle's departments: where and when each reported in (on time or late), the geofence, who is absent."""
    from gis_enforcement.mapping.dispatch_map import write_dispatch_map

    inc = incident_repo.get_incident(session, incident_id=incident_id)
    if inc is None:
        raise NotFound(f"no incident {incident_id}", field="incident")
    checkins = dispatch_repo.check_ins_frame(session, incident_id=incident_id)
    if checkins.empty:
        raise InvalidInput(f"case {incident_id} was not whistled", field="incident")
    towns = layer_repo.read_layers(session)["township"]
    deps = catalog.departments
    checkins["department_name"] = [(deps[d].zh if lang == "zh" else deps[d].en) if d in deps else d
                                   for d in checkins["department"]]
    category = catalog.categories.get(inc.category)
    case: dict[str, Any] = {"id": str(inc.id), "lon": inc.lon, "lat": inc.lat, "category": inc.category,
                            "name": f"{inc.township_name or ''}{inc.village_name or ''}"}
    written = write_dispatch_map(path, case, checkins, towns, geofence_m=category.geofence_m if category else 500.0,
                                 lang=lang, catalog=catalog, tz=timezone)
    return MapPage(written, len(checkins))


def plan_page(session: Session, path: Path, *, catalog: Catalog, plan_id: int, lang: str = "zh",
              timezone: str = DEFAULT_TIMEZONE) -> MapPage:
    """A joint operation's targets in visit order, their windows, the route and the targets that wait; the page
    says when it was written, in ``timezone``."""
    from gis_enforcement.mapping.plan_map import write_plan_map

    plan = analysis_repo.get_plan(session, plan_id=plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id}", field="plan_id")
    towns = layer_repo.read_layers(session)["township"]
    written = write_plan_map(path, plan["route"], towns, lang=lang, catalog=catalog, tz=timezone, plan_id=plan_id)
    return MapPage(written, len(plan["route"].get("features", [])))


def hotspots_page(session: Session, path: Path, *, catalog: Catalog, timezone: str, run_id: int | None = None,
                  lang: str = "zh", basemap: Basemap | None = None) -> MapPage:
    """A stored Gi* run's cells by confidence (when ``run_id`` is None: the latest of the whole district — no
    township or category filter — or the latest of any when there is none), with the latest emerging run's
    patterns, the recurring sites and the categories' trends when the store has them. A township's own reads
    store township runs too: the district's map does not follow them."""
    from gis_enforcement.analysis.change_service import hotspot_map_layers
    from gis_enforcement.analysis.hotspot_service import stored_run
    from gis_enforcement.mapping.hotspots_map import run_caption, write_hotspots_map

    if run_id is None:
        runs = [r for r in analysis_repo.hotspot_runs(session, limit=200) if r["kind"] == "gi_star"]
        if not runs:
            raise NotFound("no hot-spot run yet: run `gis-enforcement hotspots run` first", field="run")
        whole = [r for r in runs if not _narrowed(r["parameters"])]
        run_id = int((whole or runs)[0]["id"])
    meta, cells = stored_run(session, run_id=run_id)
    towns = layer_repo.read_layers(session)["township"]
    extras = hotspot_map_layers(session, lang=lang, tz=timezone, townships=towns)
    prepare_basemap(basemap, path)
    title = "平谷区 问题热点" if lang == "zh" else "Pinggu hot spots"
    written = write_hotspots_map(path, cells, towns, title=title,
                                 subtitle=run_caption(run_id, meta.get("scale"), str(meta["summary"].get("scale", "")),
                                                      lang=lang), lang=lang,
                                 basemap=basemap, catalog=catalog, tz=timezone, **extras)
    return MapPage(written, len(cells))


def _narrowed(parameters: Any) -> bool:
    """Whether a stored run was asked for some townships or categories only (not the whole district)."""
    filters = (parameters or {}).get("filters") or {}
    return bool(filters.get("townships") or filters.get("categories") or (parameters or {}).get("categories"))


def showcase_case(session: Session) -> UUID | None:
    """A whistled case worth showing on the dispatch map: most departments, some late (None before any)."""
    return map_repo.showcase_dispatch_case(session)


def tracks_page(session: Session, path: Path, *, catalog: Catalog, caller: Any = None, start: datetime | None = None,
                end: datetime | None = None, township_code: str | None = None, subtitle: str = "",
                timezone: str = DEFAULT_TIMEZONE) -> MapPage:
    """The patrol tracks of ``[start, end)`` (everything stored when a bound is None; one township's when
    ``township_code``), night and day, with the zones' coverage, the incidents of the period and the coverage
    table (:func:`~gis_enforcement.analysis.patrol_coverage_service.coverage_for`); ``caller`` the reader (the
    district when None: the written pages are the district's). Counts the tracks drawn."""
    from gis_enforcement.analysis.patrol_coverage_service import coverage_for
    from gis_enforcement.domain.access import Caller, Role
    from gis_enforcement.mapping.tracks_map import write_tracks_map
    from gis_enforcement.storage.incident_repo import IncidentFilter

    reader = caller or Caller("maps", Role.SUPERVISOR, "district", "district")
    coverage, tracks, towns, zones = coverage_for(session, caller=reader, start=start, end=end, tz=timezone,
                                                  township=township_code)
    incidents = incident_repo.incidents_frame(session, filters=IncidentFilter(
        observed_from=start, observed_to=end, township=township_code))
    written = write_tracks_map(path, tracks, coverage, towns, zones, incidents, subtitle=subtitle, catalog=catalog,
                               tz=timezone)
    return MapPage(written, len(coverage.tracks))
