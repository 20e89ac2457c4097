"""Benchmark: emerging hot spots and incident clusters, side by side with their baselines, in one table.

    .venv/bin/python bench/analysis_time.py [--n 1000000] [--pg-n N] [--dsn URL] [--repeat 7] [--no-postgis]

Data: the demo simulator's season (:func:`gis_enforcement.demo.season.simulate_incident_table`) over one year,
placed on the shipped Pinggu layers — recurring sites, river and mining areas, villages, as in ``bench/intake.py``.

* emerging hot spots — the incidents counted on a 240 m lattice of EPSG:4548 clipped to the district (≈ 16,000
  cells, empty ones included) × 12 monthly bins, neighbours within 500 m:
  - trend + classes: our vectorised Mann-Kendall + Esri categories on the Gi* z matrix, against a loop of
    ``pymannkendall.original_test`` over the cells (the trend alone; the results are checked to agree);
  - whole analysis: weights, Gi* per bin, trend and classes, against esda ``G_Local`` (one call per bin) plus
    the ``pymannkendall`` loop.
* DBSCAN, eps 100 m, min_samples 5: lon/lat projected to EPSG:4548 and scikit-learn DBSCAN (k-d tree, all
  cores), against PostGIS ``ST_ClusterDBSCAN(geom, 100, 5) OVER ()`` on the same points already stored in
  EPSG:4548 in a temporary table (loading and projecting them is not timed). The partitions are compared.
  PostGIS runs on ``--pg-n`` points (default: all of ``--n``); the row label says when it is fewer.

The database is the project's own cluster: ``--dsn`` or else the URL printed by ``gis-enforcement db url``
(which starts the cluster when needed). Only a temporary table is created.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from rich.console import Console
from rich.table import Table

from gis_enforcement.analysis.clusters import cluster_table, dbscan_labels, project_to_metres
from gis_enforcement.analysis.emerging import emerging_from_z, emerging_hot_spots
from gis_enforcement.analysis.space_time import build_cube
from gis_enforcement.catalog.loader import load_catalog
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.layers.projection import reproject

ROOT = Path(__file__).resolve().parent.parent
console = Console(width=200)
CELL_M = 240.0
BAND_M = 500.0
EPS_M = 100.0
MIN_SAMPLES = 5


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def lattice_cube(jurisdiction: Any, incidents: pd.DataFrame) -> tuple[Any, np.ndarray, np.ndarray]:
    """Counts on the CELL_M lattice of EPSG:4548 whose centres lie in the district, 12 months from January."""
    district = reproject(jurisdiction.district.geometry.to_numpy())[0]
    xmin, ymin, xmax, ymax = district.bounds
    gx, gy = np.meshgrid(
        np.arange(np.floor(xmin / CELL_M), np.ceil(xmax / CELL_M)),
        np.arange(np.floor(ymin / CELL_M), np.ceil(ymax / CELL_M)),
    )
    gx, gy = gx.ravel().astype(np.int64), gy.ravel().astype(np.int64)
    inside = shapely.contains_xy(district, (gx + 0.5) * CELL_M, (gy + 0.5) * CELL_M)
    gx, gy = gx[inside], gy[inside]
    cell_ids = gx * 1_000_000 + gy
    x, y = project_to_metres(incidents["lon"].to_numpy(), incidents["lat"].to_numpy())
    labels = np.floor(x / CELL_M).astype(np.int64) * 1_000_000 + np.floor(y / CELL_M).astype(np.int64)
    known = np.isin(labels, cell_ids)
    times = pd.to_datetime(incidents["observed_at"], format="ISO8601")
    cube = build_cube(labels[known], times[known], unit="month", width=1, cells=cell_ids)
    return cube, (gx + 0.5) * CELL_M, (gy + 0.5) * CELL_M


def pymannkendall_loop(z: np.ndarray) -> np.ndarray:
    import pymannkendall

    return np.array([pymannkendall.original_test(row, alpha=0.10).z for row in z])


def esda_baseline(counts: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand

    w = DistanceBand(np.column_stack([x, y]), threshold=BAND_M, binary=True, silence_warnings=True)
    z = np.column_stack(
        [
            G_Local(counts[:, t].astype(float), w, transform="B", star=True, permutations=0).Zs
            for t in range(counts.shape[1])
        ]
    )
    return z, pymannkendall_loop(z)


def dsn_from_cli() -> str:
    exe = Path(sys.executable).with_name("gis-enforcement")
    url = subprocess.run([str(exe), "db", "url"], check=True, capture_output=True, text=True).stdout.strip()
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def postgis_dbscan(dsn: str, lon: np.ndarray, lat: np.ndarray) -> tuple[float, np.ndarray]:
    import psycopg2

    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_points (i integer, lon float8, lat float8) ON COMMIT DROP")
        buf = io.StringIO()
        np.savetxt(buf, np.column_stack([np.arange(len(lon)), lon, lat]), fmt=["%d", "%.9f", "%.9f"], delimiter=",")
        buf.seek(0)
        cur.copy_expert("COPY bench_points FROM STDIN WITH (FORMAT csv)", buf)
        cur.execute("ALTER TABLE bench_points ADD COLUMN geom geometry(Point, 4548)")
        cur.execute("UPDATE bench_points SET geom = ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), 4548)")
        t0 = time.perf_counter()
        cur.execute(
            "SELECT i, ST_ClusterDBSCAN(geom, eps := %s, minpoints := %s) OVER () FROM bench_points",
            (EPS_M, MIN_SAMPLES),
        )
        rows = np.array([(i, -1 if c is None else c) for i, c in cur.fetchall()], dtype=np.int64)
        seconds = time.perf_counter() - t0
        con.rollback()
    labels = np.full(len(lon), -1, dtype=np.int64)
    labels[rows[:, 0]] = rows[:, 1]
    return seconds, labels


def same_partition(a: np.ndarray, b: np.ndarray) -> float:
    """Share of points whose cluster maps one-to-one between two labellings (noise must match noise). Border
    points reachable from two clusters may legitimately differ between DBSCAN implementations."""
    pairs = pd.DataFrame({"a": a, "b": b})
    clustered = pairs[(pairs["a"] >= 0) & (pairs["b"] >= 0)]
    best = clustered.groupby("a")["b"].agg(lambda s: s.value_counts().index[0])
    mapped = pairs["a"].map(best).fillna(-1).to_numpy()
    return float(np.mean(np.where(a >= 0, mapped == b, b < 0)))


def trend_rows(n: int, *, repeat: int = 7, dsn: str | None = None, pg_n: int | None = None,
               postgis: bool = True) -> list[tuple[str, float, str, float | None]]:
    """The emerging-hot-spot and DBSCAN measurements on a simulated year of ``n`` incidents, as rows of
    (step, ours s, baseline, baseline s); ``bench/analysis.py`` prints them with its own."""
    rows: list[tuple[str, float, str, float | None]] = []
    with console.status(f"simulating {n:,} incidents over a year…"):
        jurisdiction = load_jurisdiction(ROOT / "data" / "boundaries")
        catalog = load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")
        incidents = simulate_incident_table(jurisdiction, catalog, count=n, seed=1, start=date(2025, 1, 1), days=365)

    with console.status("emerging hot spots…"):
        cube, cx, cy = lattice_cube(jurisdiction, incidents)
        label = f"{cube.n_cells:,} cells × {cube.n_bins} months"
        full_s, result = best_of(repeat, lambda: emerging_hot_spots(cube, cx, cy, distance_m=BAND_M))
        z = result.z
        ours_s, ours = best_of(repeat, lambda: emerging_from_z(z))
        loop_s, loop_z = best_of(1, lambda: pymannkendall_loop(z))
        np.testing.assert_allclose(ours.table["trend_z"].to_numpy(), loop_z, rtol=1e-12, atol=1e-12)
        rows.append((f"emerging: MK trend + classes, {label}", ours_s, "pymannkendall.original_test loop", loop_s))
        esda_s, (esda_z, _) = best_of(1, lambda: esda_baseline(cube.counts, cx, cy))
        np.testing.assert_allclose(z, esda_z, rtol=1e-9, atol=1e-9)
        rows.append((f"emerging: whole analysis (weights, Gi*, MK, classes), {label}", full_s,
                     "esda G_Local per bin + pymannkendall loop", esda_s))

    with console.status(f"DBSCAN on {n:,} incidents…"):
        lon, lat = incidents["lon"].to_numpy(), incidents["lat"].to_numpy()
        t0 = time.perf_counter()
        x, y = project_to_metres(lon, lat)
        labels = dbscan_labels(x, y, eps_m=EPS_M, min_samples=MIN_SAMPLES, n_jobs=-1)
        dbscan_s = time.perf_counter() - t0
    n_clusters = int(labels.max()) + 1
    pg_n = min(pg_n or n, n)
    pg_s: float | None = None
    pg_name = "PostGIS ST_ClusterDBSCAN"
    agree = ""
    if postgis:
        dsn = dsn or dsn_from_cli()
        with console.status(f"PostGIS ST_ClusterDBSCAN on {pg_n:,} points…"):
            pg_s, pg_labels = postgis_dbscan(dsn, lon[:pg_n], lat[:pg_n])
        if pg_n == n:
            agree = f"; same partition for {same_partition(labels, pg_labels):.2%} of points"
        else:
            pg_name += f" on {pg_n:,} points only"
            own = dbscan_labels(x[:pg_n], y[:pg_n], eps_m=EPS_M, min_samples=MIN_SAMPLES, n_jobs=-1)
            agree = f"; same partition on those {pg_n:,}: {same_partition(own, pg_labels):.2%}"
    rows.append((f"DBSCAN eps {EPS_M:.0f} m, {n:,} incidents ({n_clusters:,} clusters{agree})", dbscan_s, pg_name,
                 pg_s))
    categories, times = incidents["category"].to_numpy(), pd.to_datetime(incidents["observed_at"], format="ISO8601")
    table_s, _ = best_of(1, lambda: cluster_table(x, y, labels, categories=categories, times=times))
    rows.append((f"cluster table (hulls, centroids, radius, categories), {n_clusters:,} clusters", table_s, "—", None))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="incidents for DBSCAN and the cube (default 1,000,000)")
    ap.add_argument("--pg-n", type=int, default=None, help="points given to PostGIS (default: --n)")
    ap.add_argument("--dsn", default=None, help="PostgreSQL URL (default: `gis-enforcement db url`)")
    ap.add_argument("--repeat", type=int, default=7, help="runs per fast in-memory measurement (best kept)")
    ap.add_argument("--no-postgis", action="store_true", help="skip the PostGIS baseline")
    args = ap.parse_args()
    rows = trend_rows(args.n, repeat=args.repeat, dsn=args.dsn, pg_n=args.pg_n, postgis=not args.no_postgis)
    out = Table(title="analysis timings (best of runs; seconds)")
    for col in ("step", "ours (s)", "baseline", "baseline (s)", "speed-up"):
        out.add_column(col, justify="right" if col not in ("step", "baseline") else "left")
    for step, ours_time, base_name, base_time in rows:
        out.add_row(step, f"{ours_time:.3f}", base_name, "—" if base_time is None else f"{base_time:.3f}",
                    "—" if base_time is None else f"{base_time / ours_time:.1f}×")
    console.print(out)


if __name__ == "__main__":
    main()
