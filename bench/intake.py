"""Benchmark: locate throughput and end-to-end intake, side by side with geopandas and PostGIS, in one run.

    .venv/bin/python bench/intake.py [--n 1000000] [--repeat 3] [--markdown]

Runs on a throwaway PostGIS cluster of its own (durable settings: fsync on), loads the shipped layers,
simulates N incidents, and prints one table:

* locate — township labels for N points: ``Locator.township_index`` (and the full ``Locator.locate``)
  against ``geopandas.sjoin(predicate="within")`` and PostGIS ``ST_Contains`` (points sent by COPY, one
  join); the labels of every point are compared with ``ST_Contains``.
* intake — a CSV file of N incidents to committed rows: ``gis_enforcement`` intake (validate, datum, locate,
  rules, idempotency, likely duplicates, COPY) against ``geopandas.read_file`` + ``sjoin`` + ``to_postgis``.
  Ours runs as ``gis-enforcement ingest`` does by default: N new rows into an empty table rebuild the secondary
  indexes around the COPY. It runs a second time into the emptied table filling the indexes row by row, as a
  batch smaller than what is stored does.
* server floor — the server's share of that first intake alone: the stored rows, dumped as binary COPY in id
  order, COPYd again into the emptied table and the secondary indexes built, with the client idle (rolled
  back). No intake can commit faster than this on the same server; it is printed beside the time 3× the
  baseline allows.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.layers import install_layers
from gis_enforcement.catalog.loader import load_catalog
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from gis_enforcement.storage import incident_repo, layer_repo
from gis_enforcement.storage.cluster import LocalCluster
from gis_enforcement.storage.engine import make_engine
from gis_enforcement.storage.migrate import upgrade
from gis_enforcement.storage.tables import INCIDENT_COPY_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
console = Console()


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def server_floor(engine: Any) -> tuple[float, float]:
    """(COPY s, index builds s) of the stored incidents written again as a rebuild writes them, from bytes
    made beforehand: the server's own share of a bulk intake. Rolled back; the table is left as it was."""
    cols = ", ".join(INCIDENT_COPY_COLUMNS)
    with Session(engine) as s:
        indexes = incident_repo.secondary_indexes(s)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        dump = io.BytesIO()
        cur.copy_expert(f"COPY (SELECT {cols} FROM incident ORDER BY id) TO STDOUT WITH (FORMAT binary)", dump)
        raw.commit()
        cur.execute("CHECKPOINT")
        raw.commit()
        cur.execute("TRUNCATE incident CASCADE")
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        dump.seek(0)
        t0 = time.perf_counter()
        cur.copy_expert(f"COPY incident ({cols}) FROM STDIN WITH (FORMAT binary)", dump, size=1 << 20)
        t_copy = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _, definition in indexes:
            cur.execute(definition)
        t_build = time.perf_counter() - t0
        raw.rollback()
    finally:
        raw.close()
    return t_copy, t_build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="incidents / points (default 1,000,000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per in-memory measurement (best kept)")
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = ap.parse_args()
    n = args.n

    work = Path(tempfile.mkdtemp(prefix="gise-bench-"))
    cluster = LocalCluster(work / "pg", port=random.randint(50000, 59000), durable=True)
    rows: list[tuple[str, str, str, str]] = []
    try:
        with console.status("starting a throwaway PostGIS cluster and loading the layers…"):
            engine = make_engine(cluster.ensure_running())
            upgrade(engine)
            j = load_jurisdiction(ROOT / "data" / "boundaries")
            catalog = load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")
            with Session(engine) as s:
                install_layers(s, j, source={"bench": True})
                s.commit()
        with console.status(f"simulating {n:,} incidents and writing the CSV…"):
            table = simulate_incident_table(j, catalog, count=n, seed=1)
            csv_path = work / "incidents.csv"
            table.to_csv(csv_path, index=False)
        lon = table["lon"].to_numpy(dtype=float)
        lat = table["lat"].to_numpy(dtype=float)
        console.print(f"{n:,} incidents, CSV {csv_path.stat().st_size / 1e6:.0f} MB")

        # ---- locate ------------------------------------------------------------------------------------
        with console.status("locate: building the locator…"):
            t0 = time.perf_counter()
            locator = Locator.from_jurisdiction(j)
            build_s = time.perf_counter() - t0
        with console.status("locate: gis_enforcement…"):
            t_fast, idx = best_of(args.repeat, lambda: locator.township_index(lon, lat))
            t_full, _ = best_of(1, lambda: locator.locate(lon, lat, table["accuracy_m"].to_numpy(dtype=float)))
        with console.status("locate: geopandas.sjoin…"):
            def sjoin() -> Any:
                pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
                return gpd.sjoin(pts, j.townships[["code", "geometry"]], how="left", predicate="within")
            t_sjoin, _ = best_of(1, sjoin)
        with console.status("locate: PostGIS ST_Contains…"):
            with Session(engine) as s:
                t0 = time.perf_counter()
                pg = layer_repo.township_codes_st_contains(s, lon=lon, lat=lat)
                t_pg = time.perf_counter() - t0
                s.rollback()
        codes = j.townships["code"].to_numpy(dtype=object)
        ours = np.where(idx >= 0, codes[np.maximum(idx, 0)], None)
        mismatches = int((ours != pg).sum())
        rows += [
            ("locate: township labels (points/s)", f"{n / t_fast:,.0f}", f"sjoin {n / t_sjoin:,.0f}",
             f"{t_sjoin / t_fast:,.0f}× sjoin"),
            ("", "", f"ST_Contains {n / t_pg:,.0f}", f"{t_pg / t_fast:,.0f}× PostGIS"),
            ("locate: full placement (points/s)", f"{n / t_full:,.0f}", "—",
             "township+village+grid+zones+flags"),
            ("labels different from ST_Contains", f"{mismatches:,} of {n:,}", "—", "must be 0"),
            ("locator build (s)", f"{build_s:.2f}", "—", ""),
        ]

        # ---- end-to-end intake --------------------------------------------------------------------------
        with console.status("intake: gis_enforcement (file → committed rows)…"):
            t0 = time.perf_counter()
            raw = read_intake_file(csv_path)
            with Session(engine) as s:
                report = ingest(s, raw, locator=locator, catalog=catalog, now=None, rebuild_indexes=None)
                s.commit()
            t_ours = time.perf_counter() - t0
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM incident")).scalar_one()
        with console.status("intake: the server's share alone (COPY from ready bytes, index builds)…"):
            floor_copy, floor_build = server_floor(engine)
        with console.status("intake: re-ingesting the same file (idempotent)…"):
            t0 = time.perf_counter()
            with Session(engine) as s:
                again = ingest(s, read_intake_file(csv_path), locator=locator, catalog=catalog)
                s.commit()
            t_again = time.perf_counter() - t0
        with console.status("intake: geopandas read_file + sjoin + to_postgis…"):
            t0 = time.perf_counter()
            base = gpd.read_file(csv_path, X_POSSIBLE_NAMES="lon", Y_POSSIBLE_NAMES="lat",
                                 KEEP_GEOM_COLUMNS="NO").set_crs(4326)
            base = gpd.sjoin(base, j.townships[["code", "geometry"]], how="left", predicate="within")
            base = base.rename(columns={"code": "township_code"}).drop(columns="index_right")
            base.to_postgis("incident_baseline", engine, if_exists="replace", index=False, chunksize=50_000)
            t_base = time.perf_counter() - t0
        with console.status("intake: again into the emptied table, filling the indexes row by row…"):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE incident, ingest_batch CASCADE"))
            t0 = time.perf_counter()
            with Session(engine) as s:
                filled = ingest(s, read_intake_file(csv_path), locator=locator, catalog=catalog,
                                rebuild_indexes=False)
                s.commit()
            t_fill = time.perf_counter() - t0
        rows += [
            ("intake: file → committed rows (rows/s)", f"{report.accepted / t_ours:,.0f}",
             f"{n / t_base:,.0f}", f"{t_base / t_ours * report.accepted / n:,.1f}× baseline"),
            ("intake: wall time (s)", f"{t_ours:.1f}", f"{t_base:.1f}",
             f"{report.accepted:,} accepted, {report.rejected:,} rejected, {stored:,} stored"),
            ("server floor: COPY + index builds (s)", f"{floor_copy:.1f} + {floor_build:.1f} = "
             f"{floor_copy + floor_build:.1f}", f"3× baseline: {t_base / 3:.1f}",
             "the server's share of the first intake alone"),
            ("intake, indexes filled row by row (rows/s)", f"{filled.accepted / t_fill:,.0f}", f"{n / t_base:,.0f}",
             f"{t_base / t_fill * filled.accepted / n:,.1f}× baseline; {t_fill:.1f} s"),
            ("intake: same file again (s)", f"{t_again:.1f}", "—",
             f"{again.accepted:,} added, {again.already_stored:,} already stored"),
            ("likely duplicates found", f"{report.likely_duplicates:,}", "—", ""),
        ]
        engine.dispose()
    finally:
        cluster.destroy()

    out = Table(title=f"bench/intake.py — {n:,} simulated incidents, 2 cores")
    for col in ("measure", "gis_enforcement", "baseline", "ratio / note"):
        out.add_column(col)
    for r in rows:
        out.add_row(*r)
    console.print(out)
    if args.markdown:
        print("| measure | gis_enforcement | baseline | ratio / note |\n|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
