"""A hot-spot run over incidents: aggregate to cells, choose the distance band, Gi*, FDR, confidence bins.

The workflow is Esri's Optimized Hot Spot Analysis for incident points: count incidents in cells (H3 hexagons,
a square grid in metres, or townships/villages), pick the scale of analysis from the data
(:mod:`.hotspot_scale`) unless one is given, compute Getis-Ord Gi* z-scores over binary distance-band weights
between cell centroids (:mod:`.gi_star`), and bin every cell as a hot or cold spot at 90/95/99 % confidence
with the False Discovery Rate correction (:mod:`.fdr`). Optionally a conditional permutation test gives pseudo
p-values, which then decide the bins. Pure: a DataFrame in, a :class:`HotspotResult` out; the same input,
parameters and ``seed`` give the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from gis_enforcement.analysis.aggregate import CellSpec, aggregate_incidents, cells_geodataframe, filter_incidents
from gis_enforcement.analysis.fdr import classify_confidence
from gis_enforcement.analysis.gi_star import distance_band_weights, gi_star_permutation, gi_star_z, p_values_from_z
from gis_enforcement.analysis.hotspot_scale import ScaleChoice, choose_distance_band
from gis_enforcement.errors import InvalidInput

CellName = Literal["h3", "grid", "township", "village"]
#: Esri: with fewer features Gi* results are not reliable; the run still goes on and says so
RELIABLE_MIN_CELLS = 30
#: fewer incidents than this make a run say so (注意 样本过少): a handful of points says little about where problems
#: cluster, whatever the cells; Esri's guidance asks for at least 30 features
MIN_RELIABLE_INCIDENTS = 30
#: the code column each kind of area is counted by
AREA_COLUMNS: Mapping[str, str] = MappingProxyType({"township": "township_code", "village": "village_code"})


@dataclass(frozen=True)
class HotspotResult:
    """Outcome of :func:`run_hotspots`: ``cells`` (GeoDataFrame in EPSG:4326, one row per cell: ``cell_id``,
    ``count``, ``x``/``y`` in EPSG:4548, ``neighbours`` (self included), ``neighbourhood_count`` (the incidents
    of the cell and its neighbours: the sum Gi* weighs), ``z``, ``p`` (two-sided, uncorrected),
    ``pseudo_p`` when permutations were run, ``gi_bin`` in −3…3), the run's ``parameters``, the
    ``scale`` chosen and a ``summary`` (incident and cell counts, hot/cold cells per confidence, ``few_incidents``
    when there are fewer than :data:`MIN_RELIABLE_INCIDENTS`, warnings)."""

    cells: gpd.GeoDataFrame
    parameters: Mapping[str, Any]
    scale: ScaleChoice
    summary: Mapping[str, Any]


def cell_spec(cell: CellName, *, resolution: int = 8, size_m: float = 500.0) -> CellSpec:
    """The :class:`CellSpec` of a run's ``cell`` choice: H3 at ``resolution``, a grid of ``size_m`` metres, or
    townships/villages by their code column."""
    if cell == "h3":
        return CellSpec("h3", resolution=resolution)
    if cell == "grid":
        return CellSpec("grid", size_m=size_m)
    if cell in AREA_COLUMNS:
        return CellSpec("area", code_column=AREA_COLUMNS[cell])
    raise InvalidInput(f"unknown cell kind {cell!r}; use h3, grid, township or village", field="cell")


def json_ready(value: Any) -> Any:
    """A filter value as JSON-ready data (the run's parameters are meant to be stored): times as ISO 8601, any
    collection of codes as a list of strings."""
    if isinstance(value, datetime | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return [str(v) for v in value]


def with_outside_district(result: HotspotResult, outside: int) -> HotspotResult:
    """``result`` with the incidents left out for lying outside the district in its summary:
    ``outside_district`` (their number) and, when there are any, a warning saying so. A point far outside the
    study area would otherwise stretch the distance band (and the emerging cube) over empty country."""
    summary = dict(result.summary)
    summary["outside_district"] = int(outside)
    if outside:
        summary["warnings"] = [*summary.get("warnings", []),
                               f"{outside} incident(s) outside the district left out"]
    return replace(result, summary=MappingProxyType(summary))


def left_out_notes(*, likely_duplicates: int, rejected: int) -> list[str]:
    """What an analysis of the accepted reports says about the ones it did not count: likely duplicates (each
    repeats a report that is counted) and rejected reports, a note for each kind there is."""
    notes = []
    if likely_duplicates:
        notes.append(f"{likely_duplicates} likely duplicate(s) left out (疑似重复: the report each repeats is counted)")
    if rejected:
        notes.append(f"{rejected} rejected report(s) left out (不予受理)")
    return notes


def few_incidents_note(n_incidents: int) -> str | None:
    """The caution a hot-spot or emerging hot-spot run carries on fewer than :data:`MIN_RELIABLE_INCIDENTS`."""
    if n_incidents >= MIN_RELIABLE_INCIDENTS:
        return None
    return (f"样本过少 only {n_incidents} incident(s): with fewer than {MIN_RELIABLE_INCIDENTS} the hot and cold "
            "spots say little")


def with_left_out(result: HotspotResult, *, likely_duplicates: int, rejected: int = 0) -> HotspotResult:
    """``result`` with the reports left out as not (or not separately) accepted in its summary:
    ``likely_duplicates`` (each repeats a report that is counted) and ``rejected``, and for each a warning when
    there are any, so the run's incident count can be reconciled with the count of every report."""
    summary = dict(result.summary)
    summary["likely_duplicates"], summary["rejected"] = int(likely_duplicates), int(rejected)
    notes = left_out_notes(likely_duplicates=likely_duplicates, rejected=rejected)
    if notes:
        summary["warnings"] = [*summary.get("warnings", []), *notes]
    return replace(result, summary=MappingProxyType(summary))


def _bin_counts(gi_bin: np.ndarray) -> dict[str, int]:
    names = {3: "hot_99", 2: "hot_95", 1: "hot_90", -1: "cold_90", -2: "cold_95", -3: "cold_99"}
    return {name: int((gi_bin == level).sum()) for level, name in names.items()}


def run_hotspots(
    incidents: pd.DataFrame,
    *,
    cell: CellName = "h3",
    resolution: int = 8,
    size_m: float = 500.0,
    distance_m: float | None = None,
    fdr: bool = True,
    permutations: int = 0,
    seed: int = 0,
    boundary: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    categories: str | Iterable[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    townships: str | Iterable[str] | None = None,
    statuses: str | Iterable[str] | None = None,
) -> HotspotResult:
    """Hot and cold spots of incident counts. Filters the incidents (``categories``, period ``[start, end)``,
    ``townships``, ``statuses``), counts them per ``cell`` (``"h3"`` at ``resolution``, ``"grid"`` of ``size_m``
    metres, ``"township"``/``"village"`` by code, polygons from ``areas``), keeping empty cells inside
    ``boundary`` or ``areas`` as Esri does; takes ``distance_m`` as the band or chooses it
    (:func:`~.hotspot_scale.choose_distance_band`); computes Gi* z and two-sided p per cell and, with
    ``permutations`` > 0, pseudo p-values from a conditional permutation test seeded by ``seed`` (these then
    decide the bins); and bins cells at 90/95/99 % with (``fdr``) or without False Discovery Rate correction.
    Raises :class:`InvalidInput` when fewer than 3 cells or no incident remain."""
    if permutations < 0:
        raise InvalidInput("permutations cannot be negative", field="permutations")
    spec = cell_spec(cell, resolution=resolution, size_m=size_m)
    filters: dict[str, Any] = {"categories": categories, "start": start, "end": end, "townships": townships,
                               "statuses": statuses}
    chosen = filter_incidents(incidents, **filters)
    if len(chosen) == 0:
        raise InvalidInput("no incident matches the filters", field="incidents")
    counts = aggregate_incidents(chosen, spec, areas=areas, boundary=boundary)
    parameters = {
        "cell": cell, "resolution": resolution if cell == "h3" else None, "size_m": size_m if cell == "grid" else None,
        "distance_m": distance_m, "distance_given": distance_m is not None, "fdr": fdr,
        "permutations": permutations, "seed": seed, "boundary": boundary is not None,
        "filters": {k: json_ready(v) for k, v in filters.items() if v is not None},
    }
    return hotspots_from_counts(counts, spec, int(len(chosen)), parameters=parameters, distance_m=distance_m,
                                fdr=fdr, permutations=permutations, seed=seed, areas=areas)


def hotspots_from_counts(counts: pd.DataFrame, spec: CellSpec, n_incidents: int, *, parameters: dict[str, Any],
                    distance_m: float | None, fdr: bool, permutations: int, seed: int,
                    areas: gpd.GeoDataFrame | None) -> HotspotResult:
    """Hot spots from a table of counts per cell (``cell_id``, ``count``, ``x``/``y`` in EPSG:4548, and what
    :func:`~.aggregate.cells_geodataframe` needs for ``spec``): the distance band (given or chosen), Gi* z and p,
    the permutation test when asked, the FDR bins and the summary. A cell with no neighbour within the band
    (a locational outlier the band was not widened for) keeps its z but is left out of the bins (``gi_bin`` 0,
    and out of the FDR count); the summary warns about it. :func:`run_hotspots` calls it after counting in
    memory; :mod:`~.distributed` after counting on a dask cluster."""
    n_cells = len(counts)
    if n_cells < 3:
        raise InvalidInput(f"only {n_cells} cell(s) hold incidents; hot spots need at least 3", field="cell")
    x, y = counts["x"].to_numpy(), counts["y"].to_numpy()
    values = counts["count"].to_numpy(dtype=float)
    if distance_m is None:
        scale = choose_distance_band(x, y, values)
    else:
        if not np.isfinite(distance_m) or distance_m <= 0:
            raise InvalidInput("the distance band must be a positive number of metres", field="distance_m")
        scale = ScaleChoice(distance_m=float(distance_m), method="given", detail=f"{distance_m:.0f} m as given")
    weights = distance_band_weights(x, y, scale.distance_m)
    z = gi_star_z(values, weights)
    table = counts.copy()
    table["neighbours"] = np.diff(weights.indptr).astype(np.int64)
    # the incidents of the Gi* window (the cell and its neighbours): what makes a cell with none of its own hot
    table["neighbourhood_count"] = np.rint(weights @ values).astype(np.int64)
    table["z"] = z
    table["p"] = decide = p_values_from_z(z)
    if permutations:
        table["pseudo_p"] = decide = gi_star_permutation(values, weights, permutations=permutations, seed=seed).p
    # a cell with no neighbour but itself has a Gi* that only restates its own count: it is not tested
    has_neighbour = table["neighbours"].to_numpy() > 1
    gi_bin = np.zeros(n_cells, dtype=np.int8)
    gi_bin[has_neighbour] = classify_confidence(z[has_neighbour], np.asarray(decide)[has_neighbour], fdr=fdr)
    table["gi_bin"] = gi_bin
    warnings: list[str] = []
    few = few_incidents_note(n_incidents)
    if few:
        warnings.append(few)
    if n_cells < RELIABLE_MIN_CELLS:
        warnings.append(f"only {n_cells} cells: Gi* results with fewer than {RELIABLE_MIN_CELLS} are not reliable")
    alone = int((~has_neighbour).sum())
    if alone:
        warnings.append(f"{alone} cell(s) have no neighbour within {scale.distance_m:.0f} m and are left out of "
                        "the hot and cold spots")
    summary = {"incidents": n_incidents, "counted_incidents": int(values.sum()), "cells": n_cells,
               "empty_cells": int((values == 0).sum()), "mean_neighbours": float(table["neighbours"].mean()),
               **_bin_counts(gi_bin), "hot": int((gi_bin > 0).sum()), "cold": int((gi_bin < 0).sum()),
               "scale": scale.detail, "few_incidents": few is not None, "warnings": warnings}
    return HotspotResult(cells=cells_geodataframe(table, spec, areas=areas),
                         parameters=MappingProxyType({**parameters, "distance_m": scale.distance_m}), scale=scale,
                         summary=MappingProxyType(summary))


#: how the top hot cells are ordered, as their table's caption says it
TOP_ORDER_ZH = "本格有事件的热点，按置信度、本格事件数、邻域事件数排序"
TOP_ORDER_EN = "hot cells holding incidents of their own, by confidence, then own incidents, then the neighbourhood's"


def _column_or_detail(cells: pd.DataFrame, column: str, key: str) -> np.ndarray:
    """A per-cell number from ``column``, else from each stored cell's ``detail`` (NaN where it has none: a run
    stored before the number was kept)."""
    if column in cells.columns:
        return cells[column].to_numpy(dtype=float)
    if "detail" in cells.columns:
        return np.array([float(d[key]) if isinstance(d, Mapping) and d.get(key) is not None else np.nan
                         for d in cells["detail"]], dtype=float)
    return np.full(len(cells), np.nan)


def top_hot_cells(cells: pd.DataFrame, n: int = 10) -> tuple[pd.DataFrame, int]:
    """The hot cells a reader should look at first, and how many hot cells were passed over for holding no
    incident of their own. Gi* scores a cell by its neighbourhood, so a cell with no incident beside busy ones
    can top the z-scores; a list read as "where to send a patrol" leads instead with the places that hold
    incidents: significant hot cells (``gi_bin`` > 0) with ``count`` > 0, by confidence (``gi_bin``), then
    their own ``count``, then ``neighbourhood_count`` (the Gi* window's incidents; from ``detail`` for a stored
    run, NaN for one stored before it was kept), then ``z`` — the first ``n``, with ``neighbourhood_count``
    as a column."""
    frame = cells.assign(neighbourhood_count=_column_or_detail(cells, "neighbourhood_count",
                                                               "neighbourhood_count"))
    hot = frame[frame["gi_bin"] > 0]
    own = hot[hot["count"] > 0]
    ranked = own.sort_values(["gi_bin", "count", "neighbourhood_count", "z", "cell_id"],
                             ascending=[False, False, False, False, True], na_position="last", kind="stable")
    return ranked.head(n), int(len(hot) - len(own))
