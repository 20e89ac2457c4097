"""Hot-spot runs against the database: read the incidents and the layers, run the pure analysis, store the run.

Read-mostly: the only write is the run itself (``hotspot_run`` and its cells), so a run can be shown again,
compared and reproduced from its stored parameters. Each run records the request it answered
(``parameters.request``) and the state of the data it read (``summary.data_state``:
:func:`~gis_enforcement.storage.analysis_repo.data_state`), so that :func:`hotspots_for_request` — what a read
(``GET /api/v1/hotspots``) calls — answers an identical request on unchanged data with the run already stored
instead of storing another: reading does not add runs, and "the latest run" moves only when something new was
asked or the incidents changed. ``gis-enforcement hotspots run`` always stores a new run. The caller owns the
transaction.

Without a period, the analyses read a window rather than everything stored (:func:`analysis_window`): the
:data:`~.space_time.DEFAULT_WINDOW_MONTHS` months up to the latest report under the filters, so that one report
observed long ago (intake takes any past ``observed_at``) does not stretch them over the empty years between;
each run says the window it read (``summary.window``) and how many older reports it left out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_enforcement.analysis.hotspots import HotspotResult, run_hotspots, with_left_out, with_outside_district
from gis_enforcement.analysis.space_time import DEFAULT_WINDOW_MONTHS, BinUnit, bin_floor, recent_window
from gis_enforcement.analysis.townships import resolve_townships
from gis_enforcement.domain.names import short_township
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import Session, analysis_repo, layer_repo, user_repo


def _iso(t: datetime | None) -> str | None:
    return None if t is None else pd.Timestamp(t).isoformat()


def _time(text: Any) -> datetime | None:
    return pd.Timestamp(text).to_pydatetime() if text else None


@dataclass(frozen=True)
class AnalysisWindow:
    """The time an analysis reads. ``start``/``end`` go to the query (None: open); ``asked`` is True when a
    period was given (then nothing else is set). Without one, ``first`` and ``latest`` are the first and latest
    report read, and ``start`` — when reports more than ``months`` before the latest were left out (``older``
    of them) — the day (or bin) of the first report within those months; None when none was left out."""

    start: datetime | None = None
    end: datetime | None = None
    asked: bool = False
    first: datetime | None = None
    latest: datetime | None = None
    older: int = 0
    months: int = DEFAULT_WINDOW_MONTHS

    def summary(self) -> dict[str, Any]:
        """What a run keeps about its window (``summary.window``): ``default`` (no period was asked for),
        ``months``, ``start`` (ISO; None: from the first report), ``first``, ``latest`` and ``older_left_out``."""
        return {"default": not self.asked, "months": self.months, "start": _iso(self.start),
                "first": _iso(self.first), "latest": _iso(self.latest), "older_left_out": int(self.older)}

    @classmethod
    def from_summary(cls, kept: Any) -> AnalysisWindow | None:
        """The window a stored run kept (:meth:`summary`); None for a run stored before windows were kept."""
        if not isinstance(kept, dict):
            return None
        return cls(start=_time(kept.get("start")), asked=not kept.get("default", False),
                   first=_time(kept.get("first")), latest=_time(kept.get("latest")),
                   older=int(kept.get("older_left_out") or 0), months=int(kept.get("months") or DEFAULT_WINDOW_MONTHS))

    def said(self, tz: str = DEFAULT_TIMEZONE) -> str:
        """The window in a line (empty for a period asked for: the period says it): '2026-03-01 — 2026-08-30 · no
        period given: the reports of the 12 months up to the latest; 1 older report(s) left out (choose with a
        period)'."""
        if self.asked or self.latest is None:
            return ""

        def day(t: datetime | None) -> str:
            return f"{pd.Timestamp(t).tz_convert(tz):%Y-%m-%d}"

        if self.start is None:
            return (f"{day(self.first)} — {day(self.latest)} · no period given: every report (all within the "
                    f"{self.months} months before the latest, the default window)")
        return (f"{day(self.start)} — {day(self.latest)} · no period given: the reports of the {self.months} months "
                f"up to the latest; {self.older} older report(s) left out (choose with a period)")

    def note(self, tz: str = DEFAULT_TIMEZONE) -> str | None:
        """The warning a run carries when the window left reports out."""
        if self.asked or not self.older or self.start is None:
            return None
        return (f"{self.older} report(s) observed before {pd.Timestamp(self.start).tz_convert(tz):%Y-%m-%d} left "
                f"out: without a period the analysis reads the {self.months} months up to the latest report")


def analysis_window(session: Session, *, start: datetime | None, end: datetime | None,
                    categories: list[str] | None = None, townships: list[str] | None = None,
                    statuses: list[str] | None = None, inside_district: bool = True, tz: str = DEFAULT_TIMEZONE,
                    unit: BinUnit | None = None) -> AnalysisWindow:
    """The window an analysis under these filters reads: the period asked for (``start``/``end``, either given),
    else the reports of the :func:`~.space_time.recent_window` of the latest one under the filters (``unit``:
    whole bins of it), from the district day — or the bin of ``unit`` — of the first of them; cut only when some
    report lies before the window. ``inside_district`` as the analysis reads."""
    if start is not None or end is not None:
        return AnalysisWindow(start=start, end=end, asked=True)
    filters: dict[str, Any] = {"categories": categories, "townships": townships, "statuses": statuses,
                               "inside_district": inside_district}
    first, latest, _ = analysis_repo.observed_extent(session, **filters)
    if first is None or latest is None:
        return AnalysisWindow()
    begin, _ = recent_window(latest, tz=tz, unit=unit)
    if pd.Timestamp(first) >= begin:
        return AnalysisWindow(first=first, latest=latest)
    # the window's reports start where the first of them does (floored to its bin or day), not at the window's
    # edge: a window longer than the season would otherwise open with empty bins that read as a rise
    first_in, _, _ = analysis_repo.observed_extent(session, start=begin.to_pydatetime(), **filters)
    opens = bin_floor(pd.Timestamp(first_in).tz_convert(tz), unit or "day").to_pydatetime()
    _, _, older = analysis_repo.observed_extent(session, end=opens, **filters)
    return AnalysisWindow(start=opens, first=first_in, latest=latest, older=older)


def with_window(result: HotspotResult, window: AnalysisWindow) -> HotspotResult:
    """``result`` with the window it read in its summary (``window``) and, when the window left older reports
    out, a warning saying so."""
    summary = {**dict(result.summary), "window": window.summary()}
    note = window.note()
    if note:
        summary["warnings"] = [*summary.get("warnings", []), note]
    return replace(result, summary=MappingProxyType(summary))


def place_cells(session: Session, cells: gpd.GeoDataFrame, locator: Locator) -> pd.DataFrame:
    """Where each cell is, for a person reading a list of them: ``lon``, ``lat`` (its centre, WGS84),
    ``township_code``, ``township_name`` (as stored; a centre outside every township takes the nearest within
    250 m, else None), ``township_short`` (as the tables print it) and ``village_name`` (the village the centre
    lies in, else the nearest of its township). One row per cell, in the cells' order."""
    geoms = cells.to_crs(4326).geometry.to_numpy() if cells.crs is not None else cells.geometry.to_numpy()
    centre = shapely.centroid(geoms)
    centre = np.where(shapely.contains(geoms, centre), centre, shapely.point_on_surface(geoms))  # an odd shape
    lon, lat = shapely.get_x(centre), shapely.get_y(centre)
    placed = locator.locate(lon, lat)
    codes = [c if isinstance(c, str) else n if isinstance(n, str) else None
             for c, n in zip(placed["township_code"], placed["nearest_township_code"], strict=True)]
    names = user_repo.township_names(session)
    name = [names.get(c) if c is not None else None for c in codes]
    return pd.DataFrame({"lon": np.round(lon, 6), "lat": np.round(lat, 6), "township_code": codes,
                         "township_name": name, "township_short": [short_township(n) if n else None for n in name],
                         "village_name": [v if isinstance(v, str) else None for v in placed["village_name"]]})


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
    (:func:`~gis_enforcement.analysis.townships.resolve_townships`). Without a period the run reads the 12
    months up to the latest report (:func:`analysis_window`; the summary's ``window`` says what it read)."""
    townships = resolve_townships(session, townships)
    filters: dict[str, Any] = {"start": start, "end": end, "categories": categories, "townships": townships,
                               "statuses": statuses}
    request = run_request(cell=cell, resolution=resolution, size_m=size_m, distance_m=distance_m, fdr=fdr,
                          permutations=permutations, seed=seed, **filters)
    state = analysis_repo.data_state(session, **filters)  # of the request: any report under it changes it
    window = analysis_window(session, start=start, end=end, categories=categories, townships=townships,
                             statuses=statuses)
    start, end = window.start, window.end
    filters.update(start=start, end=end)
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
    result = with_left_out(with_outside_district(with_window(result, window), outside),
                           **analysis_repo.count_left_out(session, **filters))
    return store(session, result, categories=categories, request=request, state=state), result


def store(session: Session, result: HotspotResult, *, categories: list[str] | None = None,
          source: str | None = None, request: dict[str, Any] | None = None,
          state: dict[str, Any] | None = None) -> int:
    """Record a hot-spot result computed anywhere (in memory, or on a dask cluster from a dataset named by
    ``source``); returns the run id. ``request`` and the data's ``state`` make it one an identical request can
    reuse (:func:`hotspots_for_request`); a run on a dataset has neither."""
    cells = result.cells.copy()
    cells["detail"] = [{"neighbours": int(n), "neighbourhood_count": int(m)}
                       for n, m in zip(cells["neighbours"], cells["neighbourhood_count"], strict=True)]
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
