"""Emerging hot spots and the register of recurring sites, against the database.

:func:`emerging_run` counts the stored incidents per cell and time bin, runs the emerging hot-spot analysis
(:mod:`gis_enforcement.analysis.emerging`) and stores it as a run (``kind='emerging'``; each cell keeps its
category in ``pattern`` and its trend in ``detail``). :func:`refresh_sites` clusters the incidents of each
category by DBSCAN in metres, finds the sites the problem came back to after a closure
(:mod:`gis_enforcement.analysis.recurring_sites`) and refreshes the register used for 回头看 and for planning,
replacing it within the refresh's categories and townships (sites no longer found are retired).
:func:`emerging_for_request` answers a request already answered on unchanged data with the stored run, and
:func:`emerging_list` lists a run's cells most urgent first with where each is. The caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import h3
import numpy as np
import pandas as pd

from gis_enforcement.analysis.aggregate import (
    CellSpec,
    aggregate_incidents,
    cells_geodataframe,
    filter_incidents,
    grid_cell_ids,
    grid_index,
    h3_cells,
    incident_lonlat,
    project_lonlat,
)
from gis_enforcement.analysis.clusters import cluster_incidents
from gis_enforcement.analysis.emerging import CATEGORY_ZH, EmergingHotSpots, emerging_hot_spots, rank_emerging
from gis_enforcement.analysis.hotspot_scale import choose_distance_band
from gis_enforcement.analysis.hotspot_service import analysis_window, place_cells
from gis_enforcement.analysis.hotspots import few_incidents_note, left_out_notes
from gis_enforcement.analysis.recurring_sites import recurring_sites
from gis_enforcement.analysis.townships import resolve_townships
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import Session, analysis_repo, layer_repo


def _cell_of_each(incidents: pd.DataFrame, spec: CellSpec) -> np.ndarray:
    lon, lat = incident_lonlat(incidents)
    if spec.kind == "h3":
        # h3_cells names points by H3's 64-bit integers; the cell list (and the map) use H3's strings
        ids = h3_cells(lon, lat, int(spec.resolution or 8))
        names = {int(c): h3.int_to_str(int(c)) for c in np.unique(ids)}
        return np.asarray([names[int(c)] for c in ids], dtype=object)
    x, y = project_lonlat(lon, lat)
    col, row = grid_index(x, y, float(spec.size_m or 500.0))
    return np.asarray(grid_cell_ids(col, row), dtype=object)


def _local(value: datetime | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value).tz_convert(DEFAULT_TIMEZONE)


def emerging_run(session: Session, *, cell: str = "h3", resolution: int = 8, size_m: float = 500.0,
                 distance_m: float | None = None, unit: str = "month", width: int = 1, time_step: int = 0,
                 alpha: float = 0.10, fdr: bool = False, categories: list[str] | None = None,
                 start: datetime | None = None, end: datetime | None = None,
                 townships: list[str] | None = None) -> tuple[int, EmergingHotSpots, pd.DataFrame]:
    """Emerging hot spots of the stored incidents in ``[start, end)`` per H3 or grid cell and ``width``
    months/weeks/days of the district's wall clock (a period's part-month, -week or -day at either end is left
    out and the summary's warnings say how many incidents it held); empty cells inside the district (or the
    townships) count as zeros. The distance band is given or chosen on the whole period's counts (as a hot-spot
    run would). Incidents outside the district are
    left out (the summary's ``outside_district`` says how many). Stored; returns the run id, the analysis and
    the cells (GeoDataFrame with ``category``). ``townships`` are codes or names
    (:func:`~gis_enforcement.analysis.townships.resolve_townships`). Without a period (``start`` and ``end``
    None) the run reads the 12 months up to the latest report, from the month (week, day) of the first of them
    (:func:`~.hotspot_service.analysis_window`); the summary's ``window`` says what it read and how many older
    reports it left out."""
    townships = resolve_townships(session, townships)
    if cell not in ("h3", "grid"):
        raise InvalidInput("emerging hot spots count by h3 or grid cells", field="cell")
    spec = CellSpec("h3", resolution=resolution) if cell == "h3" else CellSpec("grid", size_m=size_m)
    from gis_enforcement.analysis.space_time import build_cube, whole_bins

    filters: dict[str, Any] = {"start": start, "end": end, "categories": categories, "townships": townships}
    request = emerging_request(cell=cell, resolution=resolution, size_m=size_m, distance_m=distance_m, unit=unit,
                               width=width, time_step=time_step, alpha=alpha, fdr=fdr, **filters)
    state = analysis_repo.data_state(session, **filters)  # of the request: any report under it changes it
    if unit not in ("month", "week", "day"):
        raise InvalidInput("the bin unit must be 'month', 'week' or 'day'", field="unit")
    window = analysis_window(session, start=start, end=end, categories=categories, townships=townships,
                             unit=unit)  # type: ignore[arg-type]
    start, end = window.start, window.end
    filters.update(start=start, end=end)
    incidents = filter_incidents(analysis_repo.incidents_frame(session, inside_district=True, **filters))
    outside = analysis_repo.count_outside_district(session, **filters)
    # bins are whole months, weeks or days of the district's wall clock: a period's part-bins are left out
    first, last = whole_bins(_local(start), _local(end), unit)  # type: ignore[arg-type]
    local = incidents["observed_at"].dt.tz_convert(DEFAULT_TIMEZONE)
    whole = np.ones(len(incidents), dtype=bool)
    if first is not None:
        whole &= (local >= first).to_numpy()
    if last is not None:
        whole &= (local < last).to_numpy()
    cut = int((~whole).sum())
    incidents, local = incidents.loc[whole], local.loc[whole]
    if incidents.empty:
        raise InvalidInput("no incident matches the filters", field="incidents")
    layers = layer_repo.read_layers(session)
    boundary = layers["township"][layers["township"]["code"].isin(townships)] if townships else layers["district"]
    totals = aggregate_incidents(incidents, spec, boundary=boundary)
    x, y = totals["x"].to_numpy(), totals["y"].to_numpy()
    scale = choose_distance_band(x, y, totals["count"].to_numpy(dtype=float)) if distance_m is None else None
    band = float(distance_m) if distance_m is not None else scale.distance_m  # type: ignore[union-attr]
    cube = build_cube(_cell_of_each(incidents, spec), local, unit=unit,  # type: ignore[arg-type]
                      width=width, start=first, end=last, cells=totals["cell_id"].to_numpy())
    result = emerging_hot_spots(cube, x, y, distance_m=band, time_step=time_step, alpha=alpha, fdr=fdr)
    table = result.table.set_index("cell_id").reindex(totals["cell_id"]).reset_index()
    cells = cells_geodataframe(totals, spec)
    cells["pattern"] = table["category"].astype(str).to_numpy()
    cells["z"] = table["final_z"].to_numpy(dtype=float)
    cells["gi_bin"] = table["final_status"].to_numpy(dtype=int)
    last_bin = pd.Series(cube.counts[:, -1], index=cube.cell_ids).reindex(totals["cell_id"]).fillna(0)
    cells["detail"] = [{"trend_z": float(tz), "trend_p": float(tp), "hot_bins": int(h), "cold_bins": int(c),
                        "last_bin_count": int(n)}
                       for tz, tp, h, c, n in zip(table["trend_z"], table["trend_p"], table["n_hot_bins"],
                                                  table["n_cold_bins"], last_bin.to_numpy(), strict=True)]
    patterns = cells["pattern"].value_counts().to_dict()
    summary: dict[str, Any] = {"incidents": len(incidents), "cells": len(cells), "bins": int(cube.n_bins),
                               "bin_starts": [str(b) for b in cube.bin_starts], "patterns": patterns,
                               "scale": scale.detail if scale is not None else f"{band:.0f} m as given",
                               "outside_district": outside}
    left_out = analysis_repo.count_left_out(session, **filters)
    summary.update(left_out)
    summary["data_state"] = state
    summary["window"] = window.summary()
    warnings = [f"{outside} incident(s) outside the district left out"] if outside else []
    if window.note():
        warnings.append(str(window.note()))
    warnings += left_out_notes(**left_out)
    few = few_incidents_note(len(incidents))
    if few:
        warnings.append(few)
    if cut:
        warnings.append(f"{cut} incident(s) in the period's part-{unit} at its start or end left out: bins are "
                        f"whole {unit}s")
    if warnings:
        summary["warnings"] = warnings
    parameters = {"cell": cell, "resolution": resolution if cell == "h3" else None,
                  "size_m": size_m if cell == "grid" else None, "distance_m": band, "unit": unit, "width": width,
                  "time_step": time_step, "alpha": alpha, "fdr": fdr, "categories": categories,
                  "start": start.isoformat() if start else None, "end": end.isoformat() if end else None,
                  "townships": townships, "request": request}
    run_id = analysis_repo.insert_hotspot_run(session, kind="emerging", parameters=parameters,
                                              scale={"distance_m": band}, summary=summary,
                                              n_incidents=len(incidents), cells=cells)
    return run_id, result, cells


#: the columns of :func:`emerging_list`, in order
EMERGING_LIST_COLUMNS = ("urgency", "cell_id", "pattern", "pattern_zh", "township_code", "township_name",
                         "township_short", "village_name", "lon", "lat", "count", "last_bin_count", "z", "gi_bin",
                         "trend_z", "trend_p", "hot_bins", "cold_bins")


def emerging_list(session: Session, cells: pd.DataFrame, *, locator: Locator) -> pd.DataFrame:
    """The cells of an emerging run (stored or just run) as a list a person reads, most urgent first
    (:func:`~.emerging.rank_emerging`: new and intensifying hot spots before persistent ones, each by its
    final-bin z; then cold spots, then cells without a pattern): ``urgency`` (1, 2 … for the hot spots),
    ``cell_id``, ``pattern`` and ``pattern_zh`` (新增热点 …), where it is (``township_code``,
    ``township_name``, ``township_short``, ``village_name``, ``lon``/``lat`` of its centre:
    :func:`~.hotspot_service.place_cells`), ``count`` (its incidents over the run's period), ``last_bin_count``
    (in the last bin; None for a run stored before it was kept), ``z`` and ``gi_bin`` (final bin), and the
    trend of its z-series (``trend_z``, ``trend_p``; ``hot_bins``, ``cold_bins``). The geometry is kept."""
    if "last_bin_count" not in cells.columns and "detail" in cells.columns:   # a new hot spot quiet in the last bin
        cells = cells.assign(last_bin_count=[d.get("last_bin_count") if isinstance(d, dict) else None
                                             for d in cells["detail"]])         # ranks after the persistent ones
    ranked = rank_emerging(cells)
    placed = place_cells(session, ranked, locator).set_index(ranked.index)
    details = [d if isinstance(d, dict) else {} for d in ranked.get("detail", pd.Series([None] * len(ranked)))]
    out = ranked.drop(columns=[c for c in ("detail", "p", "pseudo_p", "x", "y") if c in ranked.columns])
    out = pd.concat([out, placed], axis=1)
    out["pattern_zh"] = [CATEGORY_ZH.get(str(p), "") for p in out["pattern"]]
    for key in ("last_bin_count", "trend_z", "trend_p", "hot_bins", "cold_bins"):
        values = [d.get(key) for d in details]
        out[key] = (pd.array(values, dtype="Int64") if key in ("last_bin_count", "hot_bins", "cold_bins")
                    else np.array([np.nan if v is None else float(v) for v in values], dtype=float))
    return out[[*EMERGING_LIST_COLUMNS, "geometry"]] if "geometry" in out.columns else out[list(EMERGING_LIST_COLUMNS)]


def emerging_request(*, cell: str = "h3", resolution: int = 8, size_m: float = 500.0,
                     distance_m: float | None = None, unit: str = "month", width: int = 1, time_step: int = 0,
                     alpha: float = 0.10, fdr: bool = False, categories: list[str] | None = None,
                     start: datetime | None = None, end: datetime | None = None,
                     townships: list[str] | None = None) -> dict[str, Any]:
    """An emerging hot-spot request as stored with its run (``parameters.request``), in one canonical form so
    that equal requests compare equal (as :func:`~.hotspot_service.run_request`). ``townships`` are codes."""
    def _sorted(values: list[str] | None) -> list[str] | None:
        return sorted({str(v) for v in values}) if values else None

    return {"cell": cell, "resolution": int(resolution) if cell == "h3" else None,
            "size_m": float(size_m) if cell == "grid" else None,
            "distance_m": None if distance_m is None else float(distance_m), "unit": unit, "width": int(width),
            "time_step": int(time_step), "alpha": float(alpha), "fdr": bool(fdr), "categories": _sorted(categories),
            "start": start.isoformat() if start else None, "end": end.isoformat() if end else None,
            "townships": _sorted(townships)}


def emerging_for_request(session: Session, **request: Any) -> tuple[int, bool]:
    """The emerging run answering ``request`` (the keyword arguments of :func:`emerging_run`): the one already
    stored for the same request on the same data (``True``: reused), else a new one (``False``) — as
    :func:`~.hotspot_service.hotspots_for_request` does for Gi* runs."""
    request["townships"] = resolve_townships(session, request.get("townships"))
    key = emerging_request(**request)
    state = analysis_repo.data_state(session, **{k: request.get(k) for k in ("start", "end", "categories",
                                                                              "townships")})
    found = analysis_repo.find_hotspot_run(session, kind="emerging", request=key, state=state)
    if found is not None:
        return found, True
    run_id, _, _ = emerging_run(session, **request)
    return run_id, False


def refresh_sites(session: Session, *, locator: Locator, eps_m: float = 100.0, min_samples: int = 3,
                  follow_up_days: int = 30, categories: list[str] | None = None,
                  townships: list[str] | None = None) -> pd.DataFrame:
    """Cluster each category's incidents (DBSCAN, ``eps_m`` metres, ``min_samples``), build the site register
    with recurrences after closures and 回头看 dates, store it, and return the sites (most recurrences first).
    The refresh replaces the register within its scope (its ``categories`` and ``townships``; everything when
    neither is given): a stored site it no longer finds is retired, so the register, the API and the maps count
    the sites this refresh returned.
    Incidents outside the district are left out; ``attrs["outside_district"]`` of the returned frame says how
    many. ``townships`` are codes or names (:func:`~gis_enforcement.analysis.townships.resolve_townships`)."""
    townships = resolve_townships(session, townships)
    incidents = analysis_repo.incidents_frame(session, categories=categories, townships=townships,
                                              inside_district=True)
    outside = analysis_repo.count_outside_district(session, categories=categories, townships=townships)
    for column in ("observed_at", "closed_at"):  # 回头看 dates are the district's days
        incidents[column] = incidents[column].dt.tz_convert("Asia/Shanghai")
    parts, offset = [], 0
    for _category, group in incidents.groupby("category", sort=True):
        if len(group) < min_samples:
            continue
        clusters = cluster_incidents(group["lon"].to_numpy(), group["lat"].to_numpy(), eps_m=eps_m,
                                     min_samples=min_samples)
        labelled = group.assign(cluster=clusters.labels)
        labelled = labelled[labelled["cluster"] >= 0]
        if labelled.empty:
            continue
        labelled["cluster"] += offset  # cluster numbers unique across categories
        offset = int(labelled["cluster"].max()) + 1
        parts.append(recurring_sites(labelled, follow_up_days=follow_up_days))
    parameters = {"eps_m": eps_m, "min_samples": min_samples, "follow_up_days": follow_up_days,
                  "categories": categories, "townships": townships}
    if not parts:  # no site left: the register of this scope is emptied
        analysis_repo.replace_recurring_sites(session, sites=pd.DataFrame(), parameters=parameters,
                                              categories=categories, townships=townships)
        empty = pd.DataFrame()
        empty.attrs["outside_district"] = outside
        return empty
    sites = pd.concat(parts, ignore_index=True)
    sites = sites.drop_duplicates("site_id")  # two categories' clusters centred in one 100 m square: one site
    placed = locator.locate(sites["lon"].to_numpy(dtype=float), sites["lat"].to_numpy(dtype=float))
    sites["township_code"] = placed["township_code"].to_numpy()
    sites["village_name"] = placed["village_name"].to_numpy()
    register = pd.DataFrame({
        "site_id": sites["site_id"], "kind": sites["kind"], "categories": [(k,) for k in sites["kind"]],
        "township_code": sites["township_code"], "n_incidents": sites["n_incidents"],
        "n_recurrences": sites["n_recurrences"], "first_reported_at": sites["first_report"],
        "last_reported_at": sites["last_report"], "last_closed_at": sites["last_closure"],
        "follow_up_due": sites["follow_up_on"], "history": sites["history"], "lon": sites["lon"],
        "lat": sites["lat"]})
    analysis_repo.replace_recurring_sites(session, sites=register, parameters=parameters, categories=categories,
                                          townships=townships)
    ranked = sites.sort_values(["n_recurrences", "site_id"], ascending=[False, True]).reset_index(drop=True)
    ranked.attrs["outside_district"] = outside
    return ranked
