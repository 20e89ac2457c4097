"""Incident sites by DBSCAN in metres: where reports pile up on the same yard, pit or workshop.

Positions arrive as lon/lat (EPSG:4326); DBSCAN needs a metric space, so they are projected to CGCS2000 /
3-degree Gauss-Kruger CM 117E (EPSG:4548) with a pyproj ``Transformer`` (``always_xy``), where ``eps`` is in
metres (scale error under 0.01 % across the district). scikit-learn's DBSCAN runs on a k-d tree. Labels follow
scikit-learn: 0, 1, 2, … per cluster in order of discovery (deterministic for a given input order), −1 for
noise. The cluster table is computed with array operations over all incidents at once; only the per-cluster
category dictionaries are built cluster by cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_enforcement.analysis.grid_dbscan import grid_dbscan
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.projection import METRIC_CRS, WGS84, reproject, transformer

NOISE = -1
TABLE_COLUMNS = (
    "cluster_id",
    "n",
    "lon",
    "lat",
    "x",
    "y",
    "radius_m",
    "area_m2",
    "dominant_category",
    "categories",
    "first_at",
    "last_at",
    "geometry",
)


@dataclass(frozen=True)
class IncidentClusters:
    """DBSCAN result: one label per incident (``−1`` noise) and the table of clusters (see
    :func:`cluster_table`)."""

    labels: np.ndarray
    table: gpd.GeoDataFrame

    @property
    def n_clusters(self) -> int:
        return len(self.table)


def project_to_metres(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat in degrees (EPSG:4326) → easting/northing in metres (EPSG:4548), through a cached pyproj
    ``Transformer`` built with ``always_xy=True``. Raises :class:`InvalidInput` for mismatched lengths or
    coordinates that are not finite or out of range."""
    lons = np.asarray(lon, dtype=float)
    lats = np.asarray(lat, dtype=float)
    if lons.ndim != 1 or lons.shape != lats.shape:
        raise InvalidInput("lon and lat must be 1-D arrays of the same length", field="lon")
    if not (np.isfinite(lons).all() and np.isfinite(lats).all()):
        raise InvalidInput("coordinates must be finite numbers", field="lon")
    if lons.size and (np.abs(lons).max() > 180 or np.abs(lats).max() > 90):
        raise InvalidInput("longitude must lie in [-180, 180] and latitude in [-90, 90]", field="lon")
    x, y = transformer(WGS84, METRIC_CRS).transform(lons, lats)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def to_lonlat(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Metres in EPSG:4548 back to lon/lat (EPSG:4326)."""
    lon, lat = transformer(METRIC_CRS, WGS84).transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def dbscan_labels(
    x: np.ndarray, y: np.ndarray, *, eps_m: float, min_samples: int, n_jobs: int | None = None
) -> np.ndarray:
    """DBSCAN labels of points in metres: a point with at least ``min_samples`` points (itself included) within
    ``eps_m`` metres is a core point; clusters are core points chained by ``eps_m`` plus the border points they
    reach; the rest is noise (−1). Computed on a grid (:func:`~.grid_dbscan.grid_dbscan`: the same core points,
    noise and clusters as scikit-learn's DBSCAN, numbered the same way, without building neighbour lists);
    ``n_jobs`` is kept for callers and unused. Raises :class:`InvalidInput` for a non-positive ``eps_m`` or
    ``min_samples`` below 1."""
    if not np.isfinite(eps_m) or eps_m <= 0:
        raise InvalidInput("eps must be a positive number of metres", field="eps_m")
    if not isinstance(min_samples, int | np.integer) or isinstance(min_samples, bool) or min_samples < 1:
        raise InvalidInput("min_samples must be a whole number ≥ 1", field="min_samples")
    points = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
    if len(points) == 0:
        return np.empty(0, dtype=np.int64)
    del n_jobs
    return grid_dbscan(points[:, 0], points[:, 1], eps=float(eps_m), min_samples=int(min_samples))


def _category_summary(labels: np.ndarray, categories: Any, n_clusters: int) -> tuple[list[Any], list[dict[str, int]]]:
    frame = pd.DataFrame({"cluster": labels, "category": np.asarray(categories, dtype=object)})
    frame = frame[frame["cluster"] >= 0]
    sizes = frame.groupby(["cluster", "category"], sort=False).size().reset_index(name="count")
    # most frequent first, then by name, so the dominant category is deterministic on ties
    sizes = sizes.sort_values(["cluster", "count", "category"], ascending=[True, False, True], kind="stable")
    cluster = sizes["cluster"].to_numpy()
    names = sizes["category"].to_numpy(dtype=object)
    counts = sizes["count"].to_numpy(dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, cluster[1:] != cluster[:-1]])
    dominant: list[Any] = [None] * n_clusters
    summary: list[dict[str, int]] = [{} for _ in range(n_clusters)]
    for c, first, chunk_names, chunk_counts in zip(
        cluster[starts].tolist(),
        names[starts].tolist(),
        np.split(names, starts[1:]),
        np.split(counts, starts[1:]),
        strict=True,
    ):
        dominant[c] = first
        summary[c] = dict(zip(chunk_names.tolist(), chunk_counts.tolist(), strict=True))
    return dominant, summary


def cluster_table(
    x: np.ndarray,
    y: np.ndarray,
    labels: np.ndarray,
    *,
    categories: Any = None,
    times: Any = None,
) -> gpd.GeoDataFrame:
    """One row per cluster (noise left out) from points in metres (EPSG:4548) and their DBSCAN ``labels``:
    ``cluster_id``, ``n`` incidents, centroid (mean position) as ``lon``/``lat`` and ``x``/``y``, ``radius_m``
    (farthest member from the centroid), ``area_m2`` of the convex hull, ``dominant_category`` and ``categories``
    (``{category: count}``, most frequent first; None without ``categories``), ``first_at``/``last_at`` (NaT
    without ``times``), and the convex hull in lon/lat as the geometry (a point or a line for one or two distinct
    positions) in EPSG:4326."""
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    lab = np.asarray(labels, dtype=np.int64)
    if xs.shape != ys.shape or xs.shape != lab.shape:
        raise InvalidInput("x, y and labels must have the same length", field="labels")
    member = lab >= 0
    n_clusters = int(lab.max()) + 1 if member.any() else 0
    ids = lab[member]
    n = np.bincount(ids, minlength=n_clusters)
    if (n == 0).any():
        raise InvalidInput("cluster labels must run 0, 1, 2, … without gaps", field="labels")
    mx, my = xs[member], ys[member]
    cx = np.bincount(ids, weights=mx, minlength=n_clusters) / np.maximum(n, 1)
    cy = np.bincount(ids, weights=my, minlength=n_clusters) / np.maximum(n, 1)
    radius = np.zeros(n_clusters)
    np.maximum.at(radius, ids, np.hypot(mx - cx[ids], my - cy[ids]))
    order = np.argsort(ids, kind="stable")
    hulls_m = shapely.convex_hull(shapely.multipoints(np.column_stack([mx, my])[order], indices=ids[order]))
    hulls_m = np.asarray(hulls_m, dtype=object).reshape(-1)
    lon, lat = to_lonlat(cx, cy)
    table = pd.DataFrame(
        {
            "cluster_id": np.arange(n_clusters, dtype=np.int64),
            "n": n.astype(np.int64),
            "lon": lon,
            "lat": lat,
            "x": cx,
            "y": cy,
            "radius_m": radius,
            "area_m2": shapely.area(hulls_m) if n_clusters else np.zeros(0),
        }
    )
    if categories is not None:
        if len(categories) != len(lab):
            raise InvalidInput("one category per incident is needed", field="categories")
        dominant, summary = _category_summary(lab, categories, n_clusters)
        table["dominant_category"] = pd.Series(dominant, dtype=object)
        table["categories"] = pd.Series(summary, dtype=object)
    else:
        table["dominant_category"] = pd.Series([None] * n_clusters, dtype=object)
        table["categories"] = pd.Series([None] * n_clusters, dtype=object)
    if times is not None:
        ts = pd.Series(pd.to_datetime(times))
        if len(ts) != len(lab):
            raise InvalidInput("one time per incident is needed", field="times")
        bounds = ts[member].groupby(ids).agg(["min", "max"])
        table["first_at"] = bounds["min"].reindex(range(n_clusters)).to_numpy()
        table["last_at"] = bounds["max"].reindex(range(n_clusters)).to_numpy()
    else:
        table["first_at"] = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]")
        table["last_at"] = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]")
    hulls = reproject(hulls_m, src=METRIC_CRS, dst=WGS84) if n_clusters else np.empty(0, dtype=object)
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(hulls, crs=WGS84), crs=WGS84)[list(TABLE_COLUMNS)]


def cluster_incidents(
    lon: Any,
    lat: Any,
    *,
    eps_m: float = 100.0,
    min_samples: int = 5,
    categories: Any = None,
    times: Any = None,
    n_jobs: int | None = None,
) -> IncidentClusters:
    """Cluster incident positions (lon/lat, EPSG:4326) by DBSCAN with ``eps_m`` in metres and ``min_samples``
    (itself included) after projecting to EPSG:4548; returns the label of every incident (−1 noise) and the
    cluster table of :func:`cluster_table` (optionally with the categories and first/last times of the
    incidents). Raises :class:`InvalidInput` for bad coordinates or parameters."""
    x, y = project_to_metres(lon, lat)
    labels = dbscan_labels(x, y, eps_m=eps_m, min_samples=min_samples, n_jobs=n_jobs)
    return IncidentClusters(labels=labels, table=cluster_table(x, y, labels, categories=categories, times=times))
