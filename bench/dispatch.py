"""Benchmark: a simulated year of the district through the whistle chain, and its evaluation, in one run.

    .venv/bin/python bench/dispatch.py [--n 110000] [--sample 300] [--markdown]

Runs on a throwaway PostGIS cluster of its own (durable: fsync on). Simulates N incidents over 2026 and takes
them through intake; then, month by month, each township whistles its day's cases as one joint whistle
(街乡吹哨), departments report in on site (most on time, some late, a few never: arrival minutes drawn from a
log-normal, slower at night), leads act and resolve — through the bulk chain
(:mod:`gis_enforcement.dispatch.bulk`), the months shared among ``--workers`` processes (one per core by
default; months are independent, as they would be in a real replay). Then ``evaluate`` for the year, by
department and by township.

The baseline is the single-case services (the HTTP routes' path) on ``--sample`` cases of the same year,
timed in the same run and scaled to the year's counts. Targets (issue #3): whistle → report-in → resolve for
≥ 100 k cases and ≥ 300 k assignments in < 2 min; evaluate the year in < 5 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.layers import install_layers
from gis_enforcement.analysis.evaluate_service import evaluate
from gis_enforcement.catalog.loader import load_catalog
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.dispatch import bulk, on_site, resolution
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from gis_enforcement.storage.cluster import LocalCluster
from gis_enforcement.storage.engine import make_engine
from gis_enforcement.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
console = Console()
METRE = 1 / 111_320


def _cases(engine) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        frame = pd.read_sql(text(
            "SELECT id::text AS incident_id, township_code AS whistler, observed_at, lon, lat FROM incident "
            "WHERE township_code IS NOT NULL AND rule_snapshot_id IS NOT NULL AND likely_duplicate_of IS NULL "
            "ORDER BY observed_at"), c)
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    local = frame["observed_at"].dt.tz_convert(TZ)
    # the township whistles the day's cases together at the end of the day they were reported (joint whistle)
    frame["at"] = (local.dt.floor("D") + pd.Timedelta(hours=20)).where(local.dt.hour < 20,
                                                                       local + pd.Timedelta(minutes=15))
    frame["month"] = local.dt.month
    return frame


def _arrivals(assignments: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Check-ins: 3 % never come; the others arrive after a log-normal number of minutes (median ~ 60 % of the
    deadline, slower at night), from within the geofence."""
    n = len(assignments)
    allowed = (assignments["report_in_due"] - assignments["summoned_at"]).dt.total_seconds().to_numpy() / 60
    night = assignments["summoned_at"].dt.tz_convert(TZ).dt.hour.isin([20, 21, 22, 23, 0, 1, 2, 3, 4, 5]).to_numpy()
    minutes = allowed * 0.6 * np.exp(rng.normal(0.0, 0.35, n)) * np.where(night, 1.25, 1.0)
    come = rng.random(n) >= 0.03
    out = assignments.loc[come, ["assignment_id", "incident_id", "summoned_at"]].copy()
    out["server_time"] = out["summoned_at"] + pd.to_timedelta(minutes[come], unit="m")
    return out


def _replay(url: str, months: list[pd.DataFrame], seed: int) -> dict[str, float]:
    """One worker: its months through whistle → report-in → resolve with the bulk chain; times per stage."""
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    catalog = load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")
    out = dict.fromkeys(("whistle", "report_in", "resolve", "assignments", "checkins", "resolved", "refused"), 0.0)
    for part in months:
        t0 = time.perf_counter()
        with Session(engine) as s:
            w = bulk.whistle_many(s, catalog=catalog, cases=part[["incident_id", "whistler", "at"]])
            s.commit()
        out["whistle"] += time.perf_counter() - t0
        assert w.assignments is not None
        out["assignments"] += len(w.assignments)
        arrivals = _arrivals(w.assignments, rng)
        pos = part.set_index("incident_id").loc[arrivals["incident_id"], ["lon", "lat"]].to_numpy()
        bearing = rng.uniform(0, 2 * np.pi, len(arrivals))
        dist = rng.uniform(0, 150, len(arrivals))
        checkins = pd.DataFrame({
            "assignment_id": arrivals["assignment_id"].to_numpy(),
            "lon": pos[:, 0] + dist * np.sin(bearing) * METRE / np.cos(np.radians(pos[:, 1])),
            "lat": pos[:, 1] + dist * np.cos(bearing) * METRE, "accuracy_m": rng.uniform(3, 25, len(arrivals)),
            "server_time": arrivals["server_time"].to_numpy()})
        t0 = time.perf_counter()
        with Session(engine) as s:
            r = bulk.report_in_many(s, catalog=catalog, checkins=checkins)
            s.commit()
        out["report_in"] += time.perf_counter() - t0
        out["checkins"] += r.done
        out["refused"] += len(r.refused) + len(w.refused)
        leads = w.assignments[w.assignments["role"] == "lead"]
        came = leads[leads["assignment_id"].isin(arrivals["assignment_id"])]
        start = pd.DatetimeIndex(arrivals.set_index("assignment_id").loc[came["assignment_id"], "server_time"])
        work_h = pd.to_timedelta(rng.gamma(2.0, 3.0, len(came)), unit="h")
        res = pd.DataFrame({"incident_id": came["incident_id"].to_numpy(), "started_at": start,
                            "done_at": start + work_h, "resolved_at": start + work_h + pd.Timedelta(minutes=30),
                            "summary": "已现场处置"})
        t0 = time.perf_counter()
        with Session(engine) as s:
            done = bulk.resolve_many(s, resolutions=res)
            s.commit()
        out["resolve"] += time.perf_counter() - t0
        out["resolved"] += done.done
        out["refused"] += len(done.refused)
    engine.dispose()
    return {k: (int(v) if k in ("assignments", "checkins", "resolved", "refused") else v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=110_000, help="simulated incidents in the year (default 110,000)")
    ap.add_argument("--sample", type=int, default=300, help="cases through the single-case services (baseline)")
    ap.add_argument("--verify", type=int, default=2000, help="random case records whose hash chain is checked")
    ap.add_argument("--workers", type=int, default=2, help="processes sharing the months (default 2, one per core)")
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gise-bench-"))
    cluster = LocalCluster(work / "pg", port=random.randint(50000, 59000), durable=True)
    rows: list[tuple[str, str, str, str]] = []
    try:
        with console.status("starting a throwaway PostGIS cluster, loading layers, intake of the year…"):
            engine = make_engine(cluster.ensure_running())
            upgrade(engine)
            j = load_jurisdiction(ROOT / "data" / "boundaries")
            catalog = load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")
            with Session(engine) as s:
                install_layers(s, j, source={"bench": True})
                s.commit()
            table = simulate_incident_table(j, catalog, count=args.n, seed=3, start=date(2026, 1, 1), days=365)
            table.to_csv(work / "year.csv", index=False)
            locator = Locator.from_jurisdiction(j)
            with Session(engine) as s:
                ingest(s, read_intake_file(work / "year.csv"), locator=locator, catalog=catalog)
                s.commit()
            cases = _cases(engine)
        sample = cases.sample(n=min(args.sample, len(cases)), random_state=1)
        year = cases.drop(sample.index)
        console.print(f"{len(cases):,} cases to whistle ({len(year):,} in bulk, {len(sample):,} one by one)")

        # ---- bulk, month by month, the months shared among --workers processes ---------------------------------
        url = engine.url.render_as_string(hide_password=False)
        months = [part for _, part in year.groupby("month")]
        shares = [months[k::args.workers] for k in range(args.workers)]
        with console.status(f"bulk chain: {len(months)} months on {args.workers} worker(s)…"):
            t0 = time.perf_counter()
            if args.workers == 1:
                results = [_replay(url, shares[0], 7)]
            else:
                ctx = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
                    results = list(pool.map(_replay, [url] * args.workers, shares, range(7, 7 + args.workers)))
            chain_wall = time.perf_counter() - t0
        t = {k: sum(r[k] for r in results) for k in ("whistle", "report_in", "resolve")}
        n_assign, n_checkin, n_resolved, n_refused = (sum(r[k] for r in results)
                                                      for k in ("assignments", "checkins", "resolved", "refused"))
        chain_s = chain_wall

        # ---- baseline: the single-case services on the sample ------------------------------------------------
        tb = {"whistle": 0.0, "report_in": 0.0, "resolve": 0.0}
        b_assign = b_checkin = b_resolved = 0
        with console.status(f"single-case services on {len(sample):,} cases…"):
            with Session(engine) as s:
                for c in sample.itertuples(index=False):
                    at = c.at.to_pydatetime()
                    t0 = time.perf_counter()
                    result = whistle(s, catalog=catalog, incident_ids=[UUID(c.incident_id)], mode=TOWNSHIP,
                                     whistler=c.whistler, at=at)
                    tb["whistle"] += time.perf_counter() - t0
                    b_assign += len(result.assignments)
                    t0 = time.perf_counter()
                    for k, a in enumerate(result.assignments):
                        on_site.report_in(s, catalog=catalog, incident_id=a.incident_id, department=a.department,
                                          lon=float(c.lon), lat=float(c.lat), accuracy_m=5.0,
                                          server_time=at + timedelta(minutes=10 + k))
                        b_checkin += 1
                    tb["report_in"] += time.perf_counter() - t0
                    lead = result.assignments[0]
                    t0 = time.perf_counter()
                    on_site.start_action(s, incident_id=lead.incident_id, department=lead.department,
                                         at=at + timedelta(minutes=40))
                    on_site.complete(s, incident_id=lead.incident_id, department=lead.department,
                                     at=at + timedelta(hours=3))
                    resolution.resolve(s, incident_id=lead.incident_id, department=lead.department,
                                       at=at + timedelta(hours=3), summary="已现场处置")
                    tb["resolve"] += time.perf_counter() - t0
                    b_resolved += 1
                s.commit()
        scale = {"whistle": len(year) / len(sample), "report_in": n_checkin / max(b_checkin, 1),
                 "resolve": n_resolved / max(b_resolved, 1)}
        base = {k: tb[k] * scale[k] for k in tb}

        # ---- evaluation of the year ---------------------------------------------------------------------------
        start, end = datetime(2026, 1, 1, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ)
        with console.status("evaluate the year…"):
            timings = {}
            for by in ("department", "township"):
                t0 = time.perf_counter()
                with Session(engine) as s:
                    table_ = evaluate(s, catalog=catalog, start=start, end=end, by=by, as_of=end + timedelta(days=30))
                timings[by] = time.perf_counter() - t0
            dep = table_ if by == "department" else None
        with console.status(f"audit: verifying {args.verify:,} random case records…"):
            with Session(engine) as s:
                ids = [r[0] for r in s.execute(text(
                    "SELECT id FROM incident WHERE event_count > 0 ORDER BY random() LIMIT :n"),
                    {"n": args.verify}).all()]
                problems = [(i, p) for i in ids if (p := verify_case_record(s, incident_id=i)) is not None]
                broken = len(problems)
                for case_id, problem in problems[:5]:
                    console.print(f"[red]broken record[/] {case_id}: {problem}")
        with engine.connect() as c:
            counts = dict(c.execute(text(
                "SELECT 'cases', count(*) FROM incident WHERE whistled_at IS NOT NULL UNION ALL "
                "SELECT 'assignments', count(*) FROM assignment UNION ALL SELECT 'events', count(*) FROM case_event"
            )).all())
        del dep
        rows += [
            ("cases whistled / assignments / events", f"{counts['cases']:,} / {counts['assignments']:,} / "
             f"{counts['events']:,}", "—", f"{n_refused:,} rows refused"),
            ("whistle (s)", f"{t['whistle']:.1f}", f"{base['whistle']:.0f}",
             f"{base['whistle'] / t['whistle']:,.0f}× single-case ({len(year):,} cases, {n_assign:,} assignments)"),
            ("report-in (s)", f"{t['report_in']:.1f}", f"{base['report_in']:.0f}",
             f"{base['report_in'] / t['report_in']:,.0f}× ({n_checkin:,} check-ins)"),
            ("act + resolve (s)", f"{t['resolve']:.1f}", f"{base['resolve']:.0f}",
             f"{base['resolve'] / t['resolve']:,.0f}× ({n_resolved:,} cases)"),
            ("whistle → report-in → resolve, wall (s)", f"{chain_s:.1f}", f"{sum(base.values()):.0f}",
             f"target < 120 s; {args.workers} worker(s), stage times above are summed over workers"),
            ("evaluate the year, by department (s)", f"{timings['department']:.2f}", "—", "target < 5 s"),
            ("evaluate the year, by township (s)", f"{timings['township']:.2f}", "—", "target < 5 s"),
            (f"case records broken ({len(ids):,} checked)", f"{broken}", "—", "must be 0"),
        ]
        engine.dispose()
    finally:
        cluster.destroy()

    out = Table(title=f"bench/dispatch.py — a simulated year ({args.n:,} incidents), 2 cores")
    for col in ("measure", "gis_enforcement (bulk)", "single-case services, scaled", "ratio / note"):
        out.add_column(col)
    for r in rows:
        out.add_row(*r)
    console.print(out)
    if args.markdown:
        print("| measure | bulk | single-case, scaled | ratio / note |\n|---|---|---|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
