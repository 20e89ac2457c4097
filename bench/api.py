"""Benchmark: the HTTP API under a steady load (issue #6) — single-incident POST latency at an open-loop rate from
a second process, and the read of a township's open cases, beside the issue's target in one run.

    .venv/bin/python bench/api.py [--seconds 60] [--rate 200] [--reads 500] [--markdown]

Runs on a scratch database made in the project's cluster (``gis-enforcement db url``, or DATABASE_URL's; its
role must be allowed to create databases) and dropped at the end, so the demo's data is untouched: migrations,
the shipped layers, a simulated season (``--season`` incidents), a township dispatcher with an API key. Then
``python -m gis_enforcement serve --workers`` (``--workers``, default 4: two per core, so that while one process's
intake thread waits for PostgreSQL another's runs) on a free loopback port, and
a load generator in a second process (``bench/loadgen.py``: requests encoded before the clock starts, written on
keep-alive connections over raw asyncio streams, so that the client costs well under a millisecond of CPU
per request) that

1. warms the server up (``--warmup`` POSTs one after another, not measured);
2. POSTs ``--serial`` single incidents one after another (GeoJSON Features with fresh ids, at village points
   anywhere in the district, observed in the last two hours): the service time, with no queue;
3. POSTs them at 10 requests/s for ``--seconds`` — the reference, a lightly loaded server;
4. POSTs them at ``--rate`` requests/s for ``--seconds``;
5. reads ``GET /api/v1/incidents?township=<code>&status=reported&limit=100`` ``--reads`` times, one after another.

Open loop: request i is sent at start + i/rate by the wall clock whether or not earlier ones have been answered,
so a slow server meets the same arrivals as a fast one (the achieved sending rate is reported). Latency is
``time.perf_counter()`` around each request, waiting for a free connection included; a request not answered
within ``--timeout`` counts as an error, and in the percentiles as at least the timeout. Between phases the bench
waits until the server is idle and answers a read within a second, so one phase's backlog does not land in the
next (after ``--drain`` seconds it restarts the server instead). CPU time of the server, its PostgreSQL backends,
the load generator and the whole machine is read from /proc, so a run contended by other work says so.
Target (issue #6): POST p99 < 20 ms at 200 requests/s on 2 cores — the baseline named by the issue, printed
beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import closed_loop, encode_request, open_loop  # noqa: E402  (bench/loadgen.py, beside this file)
from loadgen import run as run_phase  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
console = Console(width=None if Console().is_terminal else 150)
TARGET_P99_MS = 20.0
REFERENCE_RATE = 10.0
TICKS = os.sysconf("SC_CLK_TCK")


# -- CPU accounting (/proc) -----------------------------------------------------------------------------------


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its children (``serve --workers N`` forks N worker processes)."""
    total = _proc_cpu_s(pid)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if parent == str(pid):
                total += _proc_cpu_s(int(entry.name))
    return total


def _backend_pids(database: str) -> list[int]:
    """The PostgreSQL backends connected to ``database`` (their command line names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmd.startswith(b"postgres:") and f" {database} ".encode() in cmd:
                pids.append(int(entry.name))
    return pids


def _machine_cpu() -> tuple[float, float, float]:
    """(busy, total, steal) jiffies of the whole machine since boot. Steal is the time the hypervisor gave this
    virtual machine's cores to someone else while they had work: on a shared host it comes in bursts, and a
    burst stalls every request in flight (it counts as busy, and as other work than this bench's)."""
    values = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    steal = values[7] if len(values) > 7 else 0.0
    return sum(values) - idle, sum(values), steal


@dataclass
class CpuMeter:
    """CPU used by the server process, its database backends, this process and the whole machine over a phase."""

    server_pid: int
    database: str
    start: dict[str, float] = field(default_factory=dict)
    backends: dict[int, float] = field(default_factory=dict)

    def __enter__(self) -> CpuMeter:
        busy, total, steal = _machine_cpu()
        self.backends = {p: _proc_cpu_s(p) for p in _backend_pids(self.database)}
        self.start = {"server": _tree_cpu_s(self.server_pid), "client": time.process_time(), "busy": busy,
                      "total": total, "steal": steal, "wall": time.perf_counter()}
        return self

    def __exit__(self, *exc: object) -> None:
        busy, total, steal = _machine_cpu()
        pids = set(self.backends) | set(_backend_pids(self.database))
        self.server_s = _tree_cpu_s(self.server_pid) - self.start["server"]
        # a backend that ended during the phase (the pool closes its overflow connections) is not counted
        self.postgres_s = sum(max(0.0, _proc_cpu_s(p) - self.backends.get(p, 0.0)) for p in pids)
        self.client_s = time.process_time() - self.start["client"]
        self.machine_busy = (busy - self.start["busy"]) / max(total - self.start["total"], 1.0)
        self.machine_steal = (steal - self.start["steal"]) / max(total - self.start["total"], 1.0)
        self.wall_s = time.perf_counter() - self.start["wall"]


# -- the load generator (runs in the second process) ---------------------------------------------------------


@dataclass
class Phase:
    """What one phase measured: per request the latency (ms; inf when unanswered) and the outcome."""

    name: str
    rate: float
    latency_ms: np.ndarray
    outcome: list[str]  # HTTP status as text, or the transport error's name
    send_span_s: float  # first to last send
    answer_span_s: float  # first send to last answer
    late_sends: int  # sends more than 5 ms behind their schedule
    wall_s: float = 0.0
    server_cpu_s: float = 0.0
    postgres_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    machine_busy: float = 0.0
    machine_steal: float = 0.0  # share of the machine's CPU time the hypervisor took (see _machine_cpu)
    note: str = ""
    closed_loop: bool = False  # one request after another (the rate is what the server allowed)
    drained: str = "—"  # how long the server stayed busy after the phase
    server_errors: tuple[int, int] = (0, 0)  # unhandled errors logged during the phase, of them pool exhausted

    @property
    def sent(self) -> int:
        return len(self.outcome)

    @property
    def ok(self) -> int:
        return sum(o.startswith("2") for o in self.outcome)

    @property
    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcome:
            if not o.startswith("2"):
                out[o] = out.get(o, 0) + 1
        return out

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latency_ms, q, method="higher")) if len(self.latency_ms) else float("nan")


def _bodies(n: int, points: list[tuple[float, float]], categories: list[str], seed: int) -> list[bytes]:
    """n single-incident Features with fresh ids, encoded before the clock starts."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    out = []
    for _ in range(n):
        lon, lat = rng.choice(points)
        observed = now - timedelta(minutes=rng.uniform(1, 120))
        out.append(json.dumps({
            "type": "Feature", "id": str(uuid.uuid4()),
            "geometry": {"type": "Point", "coordinates": [round(lon + rng.uniform(-3e-3, 3e-3), 7),
                                                          round(lat + rng.uniform(-3e-3, 3e-3), 7)]},
            "properties": {"category": rng.choice(categories), "observed_at": observed.isoformat(timespec="seconds"),
                           "accuracy_m": rng.choice([5, 8, 10, 15]), "reporter": "平谷区城管执法队 (bench)"},
        }, ensure_ascii=False).encode())
    return out


def _posts(base_url: str, api_key: str, bodies: list[bytes]) -> list[bytes]:
    headers = {"X-API-Key": api_key, "Content-Type": "application/json"}
    return [encode_request("POST", f"{base_url}/api/v1/incidents", headers=headers, body=b) for b in bodies]


def post_phase(name: str, base_url: str, api_key: str, points: list[tuple[float, float]], categories: list[str],
               rate: float, seconds: float, timeout_s: float, connections: int, server_pid: int, database: str,
               seed: int) -> Phase:
    """POST single incidents at ``rate`` per second for ``seconds`` (open loop); run in the load process."""
    requests = _posts(base_url, api_key, _bodies(max(1, round(rate * seconds)), points, categories, seed))
    with CpuMeter(server_pid, database) as cpu:
        r = run_phase(open_loop(base_url, requests, rate, timeout_s=timeout_s, connections=connections))
    send_span = float(r.sent_at.max() - r.sent_at.min()) if len(requests) > 1 else 0.0
    answer_span = float(r.done_at.max() - r.sent_at.min())
    return Phase(name, rate, r.latency_ms, r.outcome, send_span, answer_span, r.late_sends, cpu.wall_s,
                 server_cpu_s=cpu.server_s, postgres_cpu_s=cpu.postgres_s, client_cpu_s=cpu.client_s,
                 machine_busy=cpu.machine_busy, machine_steal=cpu.machine_steal)


def serial_phase(base_url: str, api_key: str, points: list[tuple[float, float]], categories: list[str], n: int,
                 timeout_s: float, server_pid: int, database: str, seed: int) -> Phase:
    """``n`` POSTs one after another on one keep-alive connection: the service time, with no queue (also the
    warm-up of the server's caches and pools and of the database)."""
    requests = _posts(base_url, api_key, _bodies(n, points, categories, seed))
    with CpuMeter(server_pid, database) as cpu:
        r, _ = run_phase(closed_loop(base_url, requests, timeout_s=timeout_s))
    span = float(r.done_at.max() - r.sent_at.min())
    return Phase("serial", n / span, r.latency_ms, r.outcome, span, span, 0, cpu.wall_s, server_cpu_s=cpu.server_s,
                 postgres_cpu_s=cpu.postgres_s, client_cpu_s=cpu.client_s, machine_busy=cpu.machine_busy,
                 machine_steal=cpu.machine_steal,
                 closed_loop=True)


def read_phase(base_url: str, api_key: str, township: str, n: int, timeout_s: float, server_pid: int,
               database: str) -> Phase:
    """GET a township's open cases ``n`` times, one after another on one keep-alive connection."""
    url = f"{base_url}/api/v1/incidents?township={township}&status=reported&limit=100"
    get = encode_request("GET", url, headers={"X-API-Key": api_key})
    run_phase(closed_loop(base_url, [get], timeout_s=timeout_s))  # the key proved, the server warm
    with CpuMeter(server_pid, database) as cpu:
        r, last = run_phase(closed_loop(base_url, [get] * n, timeout_s=timeout_s))
    span = float(r.done_at.max() - r.sent_at.min())
    matched = json.loads(last)["numberMatched"] if last else 0
    return Phase("read", n / span, r.latency_ms, r.outcome, span, span, 0, cpu.wall_s, server_cpu_s=cpu.server_s,
                 postgres_cpu_s=cpu.postgres_s, client_cpu_s=cpu.client_s, machine_busy=cpu.machine_busy,
                 machine_steal=cpu.machine_steal,
                 note=f"{matched:,} matched, 100 returned", closed_loop=True)


# -- the orchestrator -----------------------------------------------------------------------------------------


def wait_quiet(base_url: str, api_key: str, server_pid: int, *, limit_s: float) -> tuple[float, bool]:
    """Wait until the server has finished its backlog: its CPU idle over half a second and an authenticated read
    answered within a second (CPU alone is fooled by a server stuck waiting for a database connection). Returns
    the seconds waited and whether it got quiet within ``limit_s``."""
    t0 = time.perf_counter()
    with httpx.Client(base_url=base_url, headers={"X-API-Key": api_key}) as client:
        while (left := limit_s - (time.perf_counter() - t0)) > 0:
            before = _tree_cpu_s(server_pid)
            time.sleep(0.5)
            if (_tree_cpu_s(server_pid) - before) / 0.5 > 0.05:
                continue
            t1 = time.perf_counter()
            try:
                answered = client.get("/api/v1/incidents", params={"limit": "1"},
                                      timeout=max(0.1, min(5.0, left))).is_success
            except httpx.TransportError:
                answered = False
            if answered and time.perf_counter() - t1 < 1.0:
                return time.perf_counter() - t0, True
    return time.perf_counter() - t0, False


def _server_errors(log: Path) -> tuple[int, int]:
    """(unhandled errors, of which the database connection pool was exhausted) in the server's log so far."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return text.count("Exception in ASGI application"), text.count("QueuePool limit")


def _ms(v: float, timeout_s: float) -> str:
    if not np.isfinite(v):
        return f"≥ {timeout_s * 1000:,.0f} (timeout)"
    return f"{v:,.1f}"


def _verdict(p99: float, timeout_s: float) -> str:
    if p99 < TARGET_P99_MS:
        return "**met**"
    if not np.isfinite(p99):
        return f"**missed**: over 1 % unanswered in {timeout_s:.0f} s"
    return f"**missed** by {p99 - TARGET_P99_MS:,.0f} ms ({p99 / TARGET_P99_MS:,.1f}×)"


Row = tuple[str, ...]


def post_rows(phases: list[Phase], timeout_s: float) -> list[Row]:
    """The POST rows of the table: one value column per phase, then the target or a note."""
    main = phases[0]

    def row(measure: str, value: Callable[[Phase], str], note: str = "") -> Row:
        return (measure, *(value(p) for p in phases), note)

    def errors(p: Phase) -> str:
        e = p.errors
        return f"{sum(e.values()):,}" + (" (" + ", ".join(f"{k} {v:,}" for k, v in sorted(e.items())) + ")"
                                         if e else "")

    def per_post(cpu_s: Callable[[Phase], float]) -> Callable[[Phase], str]:
        return lambda p: f"{cpu_s(p) / p.ok * 1000:,.1f}" if p.ok else "—"

    def answered(p: Phase) -> str:
        ok = p.latency_ms[np.isfinite(p.latency_ms)]
        return " / ".join(f"{np.percentile(ok, q, method='higher'):,.1f}" for q in (50, 99)) if len(ok) else "—"

    def others(p: Phase) -> str:
        ours = (p.server_cpu_s + p.postgres_cpu_s + p.client_cpu_s) / max(p.wall_s * (os.cpu_count() or 1), 1e-9)
        return f"{max(0.0, p.machine_busy - ours) * 100:.0f}"

    def sending(p: Phase) -> str:
        if p.closed_loop:
            return f"{p.rate:,.1f} (one at a time)"
        return f"{(p.sent - 1) / max(p.send_span_s, 1e-9):,.1f} ({p.late_sends:,} sends > 5 ms late)"

    return [
        ("baseline (issue #6): POST p99 at 200 req/s, 2 cores", *("—" for _ in phases), f"< {TARGET_P99_MS:.0f} ms"),
        row("POST: requests sent", lambda p: f"{p.sent:,}"),
        row("POST: achieved sending rate (req/s)", sending, " / ".join(f"{p.rate:g}" for p in phases if
                                                                         not p.closed_loop) + " asked"),
        row("POST: answered 2xx", lambda p: f"{p.ok:,}", "every one"),
        row("POST: errors", errors, "0"),
        row("POST: answered per second", lambda p: f"{p.ok / max(p.answer_span_s, 1e-9):,.1f}",
            "= the sending rate"),
        row("POST latency p50 (ms)", lambda p: _ms(p.pct(50), timeout_s)),
        row("POST latency p95 (ms)", lambda p: _ms(p.pct(95), timeout_s)),
        row("POST latency p99 (ms)", lambda p: _ms(p.pct(99), timeout_s),
            f"< {TARGET_P99_MS:.0f} at {main.rate:g}/s: {_verdict(main.pct(99), timeout_s)}"),
        row("POST latency max (ms)", lambda p: _ms(p.pct(100), timeout_s)),
        row("POST latency of the answered only, p50 / p99 (ms)", answered, "errors left out"),
        row("server still busy after the phase (s)", lambda p: p.drained, "its backlog, not in the latencies"),
        row("server: unhandled errors logged (500)", lambda p: f"{p.server_errors[0]:,}",
            "0; " + " / ".join(f"{p.server_errors[1]:,}" for p in phases) + " of them: database pool exhausted"),
        row("server CPU per answered POST (ms)", per_post(lambda p: p.server_cpu_s),
            f"< {1000 / main.rate:.0f} to keep up with {main.rate:g}/s on one core"),
        row("PostgreSQL CPU per answered POST (ms)", per_post(lambda p: p.postgres_cpu_s), "the server's backends"),
        row("load generator CPU per request (ms)", lambda p: f"{p.client_cpu_s / max(p.sent, 1) * 1000:,.2f}",
            "the second process"),
        row("machine CPU busy (%)", lambda p: f"{p.machine_busy * 100:.0f}", "both cores, everything running"),
        row("… of it other work than this bench (%)", others, "above ~5: a contended run"),
        row("… of that the hypervisor's steal (%)", lambda p: f"{p.machine_steal * 100:.1f}",
            "cores taken by the host; comes in bursts that stall every request in flight"),
    ]


def read_rows(read: Phase, timeout_s: float, columns: int) -> list[Row]:
    blank = ("—",) * (columns - 1)
    return [
        ("GET township's open cases: requests", f"{read.sent:,}", *blank, read.note),
        ("GET latency p50 / p95 / p99 (ms)", " / ".join(_ms(read.pct(q), timeout_s) for q in (50, 95, 99)), *blank,
         "one client, one request after another"),
        ("GET: errors / reads per second", f"{sum(read.errors.values()):,} / {read.rate:,.1f}", *blank, ""),
        ("server CPU per GET (ms)", f"{read.server_cpu_s / max(read.ok, 1) * 1000:,.1f}", *blank, ""),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each POST phase (default 60)")
    ap.add_argument("--rate", type=float, default=200.0, help="POSTs per second of the main phase (default 200)")
    ap.add_argument("--reads", type=int, default=500, help="GETs of a township's open cases (default 500)")
    ap.add_argument("--season", type=int, default=3000, help="simulated incidents stored first (default 3000)")
    ap.add_argument("--warmup", type=int, default=100, help="POSTs before measuring (default 100)")
    ap.add_argument("--serial", type=int, default=200, help="POSTs one at a time, the service time (default 200)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as failed")
    ap.add_argument("--connections", type=int, default=64, help="keep-alive connections of the load generator")
    ap.add_argument("--workers", type=int, default=4, help="server processes (`serve --workers`; default 4)")
    ap.add_argument("--drain", type=float, default=60.0,
                    help="seconds to wait for the server's backlog after a phase before restarting it (default 60)")
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = ap.parse_args()

    # the live-server helpers are shared with the tests (tests/live_server.py)
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import make_url
    from sqlalchemy.orm import Session

    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.demo.season import simulate_incident_table
    from gis_enforcement.layers.jurisdiction import load_jurisdiction
    from gis_enforcement.layers.locator import Locator
    from gis_enforcement.patrol.intake import ingest
    from gis_enforcement.patrol.parse import read_intake_file
    from gis_enforcement.settings import get_settings
    from gis_enforcement.storage.engine import make_engine, resolve_database_url
    from tests.live_server import LiveServer, add_api_caller, prepare_database, scratch_database

    load_before = os.getloadavg()
    j = load_jurisdiction(ROOT / "data" / "boundaries")
    catalog = load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")
    township = str(j.villages.iloc[20]["township_code"])
    points = [(float(g.x), float(g.y)) for g in j.villages.geometry]
    categories = sorted(catalog.categories)
    work = Path(tempfile.mkdtemp(prefix="gise-bench-api-"))

    try:
        with scratch_database(resolve_database_url(get_settings()), prefix="gise_bench_api") as url:
            database = str(make_url(url).database)
            with console.status(f"scratch database {database}: migrations, layers, a season of {args.season:,}…"):
                prepare_database(url, jurisdiction=j, source="bench/api.py")
                if args.season:
                    season = work / "season.csv"
                    simulate_incident_table(j, catalog, count=args.season, seed=6).to_csv(season, index=False)
                    engine = make_engine(url)
                    with Session(engine) as s:
                        ingest(s, read_intake_file(season), locator=Locator.from_jurisdiction(j), catalog=catalog)
                        s.commit()
                    engine.dispose()
                key = add_api_caller(url, catalog=catalog, username="bench_dispatcher", role="township_dispatcher",
                                     unit=township)
            server = LiveServer(url, work / "server", env={"GISE_INTAKE_REQUESTS_PER_MINUTE": "100000000",
                                                           "GISE_API_WORKERS": str(args.workers)})
            with console.status("starting `gis-enforcement serve`…"):
                server.start()
            errors_seen = (0, 0)

            def settle(phase: Phase) -> None:
                """Wait out the phase's backlog (restart the server when it does not end); note both."""
                nonlocal errors_seen
                with console.status(f"{phase.name}: waiting for the server to finish its backlog…"):
                    waited, quiet = wait_quiet(server.base_url, key, server.pid, limit_s=args.drain)
                logged = _server_errors(server.log_path)
                phase.server_errors = (logged[0] - errors_seen[0], logged[1] - errors_seen[1])
                phase.drained = f"{waited:,.1f}" if quiet else f"> {args.drain:g} (restarted)"
                console.log(f"{phase.name}: {phase.ok:,} of {phase.sent:,} answered 2xx; server busy "
                            f"{phase.drained} s after it")
                if not quiet:
                    with console.status("restarting the server…"):
                        server.stop()
                        server.start()
                errors_seen = _server_errors(server.log_path)

            try:
                with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as load:
                    common = (server.base_url, key, points, categories)
                    with console.status(f"warm-up: {args.warmup} POSTs…"):
                        load.submit(serial_phase, *common, args.warmup, args.timeout, server.pid, database,
                                    0).result()
                    errors_seen = _server_errors(server.log_path)
                    with console.status(f"{args.serial} POSTs one at a time…"):
                        serial = load.submit(serial_phase, *common, args.serial, args.timeout, server.pid,
                                             database, 1).result()
                    settle(serial)
                    measured: list[Phase] = []
                    for name, rate, seed in (("reference", REFERENCE_RATE, 2), ("main", args.rate, 3)):
                        with console.status(f"{name}: {rate:g} POSTs/s for {args.seconds:g} s…"):
                            phase = load.submit(post_phase, name, *common, rate, args.seconds, args.timeout,
                                                args.connections, server.pid, database, seed).result()
                        settle(phase)
                        measured.append(phase)
                    with console.status(f"{args.reads} reads of township {township}'s open cases…"):
                        read = load.submit(read_phase, server.base_url, key, township, args.reads, args.timeout,
                                           server.pid, database).result()
            finally:
                server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    phases = [measured[1], measured[0], serial]
    rows = post_rows(phases, args.timeout) + read_rows(read, args.timeout, len(phases))
    load_note = ", ".join(f"{v:.2f}" for v in load_before)
    title = (f"bench/api.py — single-incident POST, open loop from a second process, {args.seconds:g} s per rate; "
             f"{os.cpu_count()} cores; server: {args.workers} worker process(es); load average before: {load_note}")
    columns = ("measure", f"at {args.rate:g} req/s", f"reference: {REFERENCE_RATE:g} req/s",
               f"one at a time ({args.serial})", "target / note")
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for r in rows:
        table.add_row(*(c.replace("**", "") for c in r))
    console.print(table)
    if args.markdown:
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for r in rows:
            print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
