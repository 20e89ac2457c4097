"""Hot-spot runs against the database: read the incidents and the layers, run the pure analysis, store the run.

Read-mostly: the only write is the run itself (``hotspot_run`` and its cells), so a run can be shown again,
compared and reproduced from its stored parameters. Each run records the request it answered
(``parameters.request``) and the state of the data it read (``summary.data_state``:
:func:`~gis_enforcement.storage.analysis_repo.data_state`), so that :func:`hotspots_for_request` — what a read
(``GET /api/v1/hotspots``) calls — answers an identical request on unchanged data with the run already stored
instead of storing another: reading does not add runs, and "the latest run" moves only when something new was
asked or the incidents changed. ``gis-enforcement hotspots run`` always stores a new run. The caller owns the
transaction.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import geopandas as gpd

from gis_enforcement.analysis.hotspots import HotspotResult, run_hotspots, with_left_out, with_outside_district
from gis_enforcement.analysis.townships import resolve_townships
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.storage import Session, analysis_repo, layer_repo


def _areas(layers: dict[str, gpd.GeoDataFrame], cell: str, townships: list[str] | None) -> gpd.GeoDataFrame | None:
    if cell == "township":
        towns = layers["township"][["code", "name", "geometry"]]
        return towns[towns["code"].isin(townships)] if townships else towns
    if cell == "village":
        villages = layers["village"]
        if not villages.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            raise InvalidInput("the village layer holds points, not areas: count by h3, grid or township",
                               field="cell")
        villages = villages[["code", "name", "township_code", "geometry"]]
        return villages[villages["township_code"].isin(townships)] if townships else villages
    return None


def _sorted(values: list[str] | None) -> list[str] | None:
    return sorted({str(v) for v in values}) if values else None


def run_request(*, cell: str = "h3", resolution: int = 8, size_m: float = 500.0, distance_m: float | None = None,
                fdr: bool = True, permutations: int = 0, seed: int = 0, categories: list[str] | None = None,
                start: datetime | None = None, end: datetime | None = None, townships: list[str] | None = None,
                statuses: list[str] | None = None) -> dict[str, Any]:
    """A hot-spot request as stored with its run (``parameters.request``): what decides the result, in one
    canonical form (filters sorted, times as ISO text, the resolution only for H3, the size only for a grid, the
    seed only with permutations), so that equal requests compare equal. ``townships`` are codes."""
    return {"cell": cell, "resolution": int(resolution) if cell == "h3" else None,
            "size_m": float(size_m) if cell == "grid" else None,
            "distance_m": None if distance_m is None else float(distance_m), "fdr": bool(fdr),
            "permutations": int(permutations), "seed": int(seed) if permutations else None,
            "categories": _sorted(categories), "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None, "townships": _sorted(townships),
            "statuses": _sorted(statuses)}


def hotspots_for_request(session: Session, **request: Any) -> tuple[int, bool]:
    """The run answering ``request`` (the keyword arguments of :func:`run_and_store`): the one already stored
    for the same request on the same data when there is one (``True``: reused), else a new run (``False``).
    Same data: the same reports under the request's filters, none changed, on the same layers
    (:func:`~gis_enforcement.storage.analysis_repo.data_state`)."""
    request["townships"] = resolve_townships(session, request.get("townships"))
    key = run_request(**request)
    state = analysis_repo.data_state(session, **_state_filters(request))
    found = analysis_repo.find_hotspot_run(session, kind="gi_star", request=key, state=state)
    if found is not None:
        return found, True
    run_id, _ = run_and_store(session, **request)
    return run_id, False


def _state_filters(request: dict[str, Any]) -> dict[str, Any]:
    return {k: request.get(k) for k in ("start", "end", "categories", "townships", "statuses")}


def run_and_store(session: Session, *, cell: str = "h3", resolution: int = 8, size_m: float = 500.0,
                  distance_m: float | None = None, fdr: bool = True, permutations: int = 0, seed: int = 0,
                  categories: list[str] | None = None, start: datetime | None = None, end: datetime | None = None,
                  townships: list[str] | None = None, statuses: list[str] | None = None) -> tuple[int, HotspotResult]:
    """Run Getis-Ord Gi* hot spots on the stored incidents (filters as in
    :func:`gis_enforcement.analysis.hotspots.run_hotspots`) inside the district — or the given townships —
    keeping empty cells there, and store the run; returns its id and the result. Incidents outside the district
    are left out, and so are likely duplicates and rejected reports; the summary says how many
    (``outside_district``, ``likely_duplicates``, ``rejected``). ``townships`` are codes or names
    (:func:`~gis_enforcement.analysis.townships.resolve_townships`)."""
    townships = resolve_townships(session, townships)
    filters: dict[str, Any] = {"start": start, "end": end, "categories": categories, "townships": townships,
                               "statuses": statuses}
    request = run_request(cell=cell, resolution=resolution, size_m=size_m, distance_m=distance_m, fdr=fdr,
                          permutations=permutations, seed=seed, **filters)
    state = analysis_repo.data_state(session, **filters)
    incidents = analysis_repo.incidents_frame(session, inside_district=True, **filters)
    outside = analysis_repo.count_outside_district(session, **filters)
    layers = layer_repo.read_layers(session)
    if layers["district"].empty:
        raise InvalidInput("no jurisdiction layers are loaded; run `gis-enforcement layers load`", field="layers")
    boundary = (layers["township"][layers["township"]["code"].isin(townships)] if townships
                else layers["district"])
    result = run_hotspots(incidents, cell=cell,  # type: ignore[arg-type]
                          resolution=resolution, size_m=size_m, distance_m=distance_m, fdr=fdr,
                          permutations=permutations, seed=seed, boundary=boundary,
                          areas=_areas(layers, cell, townships), categories=categories, start=start, end=end,
                          townships=townships, statuses=statuses)
    result = with_left_out(with_outside_district(result, outside),
                           **analysis_repo.count_left_out(session, **filters))
    return store(session, result, categories=categories, request=request, state=state), result


def store(session: Session, result: HotspotResult, *, categories: list[str] | None = None,
          source: str | None = None, request: dict[str, Any] | None = None,
          state: dict[str, Any] | None = None) -> int:
    """Record a hot-spot result computed anywhere (in memory, or on a dask cluster from a dataset named by
    ``source``); returns the run id. ``request`` and the data's ``state`` make it one an identical request can
    reuse (:func:`hotspots_for_request`); a run on a dataset has neither."""
    cells = result.cells.copy()
    cells["detail"] = [{"neighbours": int(n)} for n in cells["neighbours"]]
    parameters = {**dict(result.parameters), "categories": categories}
    if source is not None:
        parameters["source"] = source
    summary = dict(result.summary)
    if request is not None and state is not None:
        parameters["request"], summary["data_state"] = request, state
    return analysis_repo.insert_hotspot_run(
        session, kind="gi_star", parameters=parameters, scale=_scale(result), summary=summary,
        n_incidents=int(result.summary["incidents"]), cells=cells)


def _scale(result: HotspotResult) -> dict[str, Any]:
    s = asdict(result.scale)
    s["profile"] = [list(p) for p in s.get("profile", ())]
    return s


def stored_run(session: Session, *, run_id: int) -> tuple[dict[str, Any], gpd.GeoDataFrame]:
    """A stored run and its cells; ``NotFound`` on ``run_id`` when there is none. The cells carry the run's
    ``id``, ``kind`` and ``parameters`` in ``attrs["run"]``, so a map of them can say what they show."""
    run, cells = analysis_repo.hotspot_run(session, run_id=run_id)
    if run is None:
        raise NotFound(f"no hot-spot run {run_id}", field="run_id")
    cells.attrs["run"] = {k: run.get(k) for k in ("id", "kind", "parameters")}
    return run, cells
