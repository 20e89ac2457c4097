"""Benchmark: the maps of incidents at scale — build time, page size and first paint in headless Chromium — the
status map (one canvas, packed columns) and the incidents map (one GeoJSON layer per category) side by side with
folium's MarkerCluster and CircleMarker on the same incidents, in one run.

    .venv/bin/python bench/maps.py [--n 100000] [--baseline-n 100000]

Incidents come from the demo's simulator (a season over Pinggu); for the status map each gets a status and
chain milestones drawn at random (the shape of the store's case-status frame). "First paint" is the time from
opening the page (offline, from disk) until the cases are drawn (the status map) or every incident layer exists
(the others) and a frame has been drawn, measured with Playwright driving Debian's Chromium. Targets (issue #5):
build < 1 s, HTML < 5 MB, first paint < 2 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.plugins import MarkerCluster
from rich.console import Console
from rich.table import Table

from gis_enforcement.catalog.loader import load_catalog
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping.incidents_map import write_incidents_map
from gis_enforcement.mapping.offline import offline_map
from gis_enforcement.mapping.status_map import STATUS_GROUPS, write_status_map

ROOT = Path(__file__).resolve().parent.parent
console = Console(width=None if Console().is_terminal else 150)
PAINTED = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"""


def incidents(n: int) -> gpd.GeoDataFrame:
    j = load_jurisdiction(ROOT / "data" / "boundaries")
    catalog = load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")
    table = simulate_incident_table(j, catalog, count=n, seed=4)
    g = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=4326)
    return g.drop(columns=["lon", "lat"])


def with_statuses(g: gpd.GeoDataFrame, seed: int = 4) -> pd.DataFrame:
    """The incidents as a case-status frame: a status and the chain's milestones for each, at random."""
    rng = np.random.default_rng(seed)
    n = len(g)
    frame = pd.DataFrame(g.drop(columns="geometry"))
    frame["lon"], frame["lat"] = g.geometry.x.to_numpy(), g.geometry.y.to_numpy()
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True, format="ISO8601")
    frame["status"] = rng.choice([s for _, group, *_ in STATUS_GROUPS for s in group], n)
    whistled = ~frame["status"].isin(["reported", "triaged", "rejected", "duplicate"])
    frame["whistled_at"] = (frame["observed_at"] + pd.to_timedelta(rng.integers(5, 600, n), "m")).where(whistled)
    frame["n_summoned"] = np.where(whistled, rng.integers(1, 5, n), 0)
    frame["n_reported_in"] = np.minimum(frame["n_summoned"], rng.integers(0, 5, n))
    frame["n_late"] = np.minimum(frame["n_reported_in"], rng.integers(0, 2, n))
    frame["first_report_in_at"] = (frame["whistled_at"] + pd.to_timedelta(rng.integers(3, 90, n), "m")).where(
        frame["n_reported_in"] > 0)
    closed = frame["status"].isin(["verified", "closed"])
    frame["lead_done_at"] = (frame["observed_at"] + pd.to_timedelta(rng.integers(1, 72, n), "h")).where(closed)
    frame["closed_at"] = (frame["lead_done_at"] + pd.to_timedelta(rng.integers(1, 48, n), "h")).where(closed)
    frame["township_name"] = "平谷镇"
    frame["village_name"] = "西寺渠村委会"
    frame["lead_department"] = "TOWN"
    frame["flags"] = ""
    frame["likely_duplicate_of"] = None
    return frame


def first_paint(browser: Any, path: Path, ready: str, timeout_s: float = 120.0) -> float:
    page = browser.new_context(viewport={"width": 1100, "height": 800}, offline=True).new_page()
    t0 = time.perf_counter()
    page.goto(path.as_uri(), timeout=timeout_s * 1000)
    page.wait_for_function(ready, timeout=timeout_s * 1000)
    page.evaluate(PAINTED)
    elapsed = time.perf_counter() - t0
    page.context.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="incidents (default 100,000)")
    ap.add_argument("--baseline-n", type=int, default=None, help="incidents for the folium baselines (default: n)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="gise-maps-"))
    with console.status(f"simulating {args.n:,} incidents…"):
        data = incidents(args.n)
        towns = load_jurisdiction(ROOT / "data" / "boundaries").townships
        catalog = load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")
    rows: list[tuple[str, str, str, str, str]] = []
    n_base = min(args.baseline_n or args.n, args.n)
    base = data.iloc[:n_base]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])

        cases = with_statuses(data)
        with console.status("ours: status map…"):
            t0 = time.perf_counter()
            status = write_status_map(work / "status.html", cases, towns, catalog=catalog)
            build = time.perf_counter() - t0
            paint = first_paint(browser, status, f"() => window.giseCases && giseCases.counts.total === {len(cases)}")
        rows.append(("gis_enforcement status map (canvas)", f"{args.n:,}", f"{build:.2f}",
                     f"{status.stat().st_size / 1e6:.1f}", f"{paint:.2f}"))

        with console.status("ours: incidents map…"):
            t0 = time.perf_counter()
            ours = write_incidents_map(work / "ours.html", data, towns, catalog=catalog)
            build = time.perf_counter() - t0
            paint = first_paint(browser, ours, "() => window.L && Object.values(window).filter("
                                                "v => v instanceof L.GeoJSON).length > 1")
        rows.append(("gis_enforcement incidents map (GeoJSON layers)", f"{args.n:,}", f"{build:.2f}",
                     f"{ours.stat().st_size / 1e6:.1f}", f"{paint:.2f}"))

        with console.status(f"folium CircleMarker × {n_base:,}…"):
            t0 = time.perf_counter()
            m = folium.Map(location=[40.2, 117.2], zoom_start=11, prefer_canvas=True)
            for pt in base.geometry:
                folium.CircleMarker([pt.y, pt.x], radius=4, weight=1, fill=True).add_to(m)
            offline_map(m).save(str(work / "circles.html"))  # Leaflet inlined, as ours, so it paints offline
            build = time.perf_counter() - t0
            paint = first_paint(browser, work / "circles.html", "() => document.readyState === 'complete' && window.L")
        rows.append(("folium CircleMarker", f"{n_base:,}", f"{build:.2f}",
                     f"{(work / 'circles.html').stat().st_size / 1e6:.1f}", f"{paint:.2f}"))

        with console.status(f"folium MarkerCluster × {n_base:,}…"):
            t0 = time.perf_counter()
            m = folium.Map(location=[40.2, 117.2], zoom_start=11)
            cluster = MarkerCluster().add_to(m)
            for pt in base.geometry:
                folium.Marker([pt.y, pt.x]).add_to(cluster)
            m.save(str(work / "cluster.html"))
            build = time.perf_counter() - t0
        rows.append(("folium MarkerCluster", f"{n_base:,}", f"{build:.2f}",
                     f"{(work / 'cluster.html').stat().st_size / 1e6:.1f}",
                     "— (its plugin comes from a CDN: nothing paints offline)"))
        browser.close()

    table = Table(title="bench/maps.py — maps of incidents at scale (targets: build < 1 s, HTML < 5 MB, paint < 2 s)")
    for col in ("map", "incidents", "build (s)", "HTML (MB)", "first paint (s)"):
        table.add_column(col, justify="left" if col == "map" else "right")
    for r in rows:
        table.add_row(*r)
    console.print(table)


if __name__ == "__main__":
    main()
