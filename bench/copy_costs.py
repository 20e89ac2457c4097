"""Benchmark: where PostgreSQL spends its time when intake COPYs incidents, as CSV and as binary, in one run.

    .venv/bin/python bench/copy_costs.py [--n 200000] [--repeat 2] [--markdown]

Ingests N simulated incidents through the real intake into a throwaway cluster (durable settings), dumps the
stored rows in both COPY formats (binary is what intake sends; CSV what it sent before), then COPYs the same
bytes into copies of the ``incident`` table that differ by one thing at a time: no indexes, without the
generated ``geom`` column, the primary key, the primary key with the four partial indexes (what a rebuild's
COPY fills), the GiST index on ``geom``, the two list b-trees, and every index. The table printed is the
server's own cost per row for each, in each format; the baseline is the bare heap as CSV."""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from pathlib import Path

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
from gis_enforcement.patrol.parse import parse_csv
from gis_enforcement.storage.cluster import LocalCluster
from gis_enforcement.storage.engine import make_engine
from gis_enforcement.storage.migrate import upgrade
from gis_enforcement.storage.tables import INCIDENT_COPY_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
console = Console()

PK = "ALTER TABLE t ADD PRIMARY KEY (id)"
GIST = "CREATE INDEX ON t USING gist (geom)"
LISTS = ["CREATE INDEX ON t (category, observed_at)",
         "CREATE INDEX ON t (township_code, status, observed_at DESC, id)"]
PARTIAL = ["CREATE INDEX ON t (recurrence_of) WHERE recurrence_of IS NOT NULL",
           "CREATE INDEX ON t (category, closed_at) WHERE status = 'closed'",
           "CREATE INDEX ON t (created_by) WHERE created_by IS NOT NULL",
           "CREATE INDEX ON t USING gin (border_townships) WHERE border_townships <> '{}'"]
WITH_GEOM = "INCLUDING DEFAULTS INCLUDING GENERATED"
FORMATS = ("csv", "binary")
#: (table, LIKE options, DDL, row order): "file" is the order the rows came in, "id" the order a rebuild sends.
VARIANTS: list[tuple[str, str, list[str], str]] = [
    ("bare heap (generated geom)", WITH_GEOM, [], "file"),
    ("bare heap, no generated geom", "INCLUDING DEFAULTS", [], "file"),
    ("+ primary key", WITH_GEOM, [PK], "file"),
    ("+ primary key, rows in id order", WITH_GEOM, [PK], "id"),
    ("+ primary key and the four partial indexes, id order (a rebuild's COPY)", WITH_GEOM, [PK, *PARTIAL], "id"),
    ("+ GiST (geom)", WITH_GEOM, [GIST], "file"),
    ("+ the two list b-trees", WITH_GEOM, LISTS, "file"),
    ("as shipped: every index filled", WITH_GEOM, [PK, GIST, *LISTS, *PARTIAL], "file"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=2, help="COPYs per table and format (best kept)")
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = ap.parse_args()
    n, repeat = args.n, args.repeat
    work = Path(tempfile.mkdtemp(prefix="gise-bench-"))
    cluster = LocalCluster(work / "pg", port=random.randint(50000, 59000), durable=True)
    results: dict[tuple[str, str], float] = {}
    try:
        with console.status(f"ingesting {n:,} simulated incidents…"):
            engine = make_engine(cluster.ensure_running())
            upgrade(engine)
            j = load_jurisdiction(ROOT / "data" / "boundaries")
            catalog = load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")
            table = simulate_incident_table(j, catalog, count=n, seed=1)
            with Session(engine) as s:
                install_layers(s, j, source={"bench": True})
                ingest(s, parse_csv(table.to_csv(index=False).encode()), locator=Locator.from_jurisdiction(j),
                       catalog=catalog)
                s.commit()
        cols = ", ".join(INCIDENT_COPY_COLUMNS)
        raw = engine.raw_connection()
        cur = raw.cursor()
        data: dict[tuple[str, str], bytes] = {}
        for fmt in FORMATS:  # the stored rows (stored in file order), as each format carries them, in each order
            for order, clause in (("file", ""), ("id", " ORDER BY id")):
                dump = io.BytesIO()
                cur.copy_expert(f"COPY (SELECT {cols} FROM incident{clause}) TO STDOUT WITH (FORMAT {fmt})", dump)
                data[(fmt, order)] = dump.getvalue()
        raw.commit()

        def timed_copy(like: str, ddl: list[str], fmt: str, order: str) -> float:
            cur.execute("DROP TABLE IF EXISTS t")
            cur.execute(f"CREATE TABLE t (LIKE incident {like})")
            for stmt in ddl:
                cur.execute(stmt)
            raw.commit()
            cur.execute("CHECKPOINT")
            t0 = time.perf_counter()
            cur.copy_expert(f"COPY t ({cols}) FROM STDIN WITH (FORMAT {fmt})", io.BytesIO(data[(fmt, order)]),
                            size=1 << 20)
            raw.commit()
            return time.perf_counter() - t0

        with console.status("warming up (a fresh cluster first creates its WAL files)"):
            timed_copy(WITH_GEOM, [], "csv", "file")
        for name, like, ddl, order in VARIANTS:
            for fmt in FORMATS:
                with console.status(f"COPY ({fmt}) into: {name}"):
                    results[(name, fmt)] = min(timed_copy(like, ddl, fmt, order) for _ in range(repeat))
        raw.close()
        with engine.connect() as conn:
            version = conn.execute(text("SELECT postgis_lib_version()")).scalar()
        engine.dispose()
    finally:
        cluster.destroy()
    base = results[(VARIANTS[0][0], "csv")]
    csv_mb, binary_mb = len(data[("csv", "file")]) / 1e6, len(data[("binary", "file")]) / 1e6
    out = Table(title=f"bench/copy_costs.py — COPY of {n:,} incident rows ({csv_mb:.0f} MB as CSV, "
                      f"{binary_mb:.0f} MB binary), PostgreSQL 15 + PostGIS {version}")
    for col in ("table", "CSV (s)", "CSV µs / row", "binary (s)", "binary µs / row", "binary / CSV",
                "CSV vs bare heap"):
        out.add_column(col, justify="left" if col == "table" else "right")
    rows = []
    for name, _, _, _ in VARIANTS:
        c, b = results[(name, "csv")], results[(name, "binary")]
        rows.append([name, f"{c:.2f}", f"{c / n * 1e6:.1f}", f"{b:.2f}", f"{b / n * 1e6:.1f}", f"{b / c:.2f}",
                     f"{c - base:+.2f} s"])
        out.add_row(*rows[-1])
    console.print(out)
    if args.markdown:
        print("| " + " | ".join(str(c.header) for c in out.columns) + " |")
        print("|" + "---|" * len(out.columns))
        for r in rows:
            print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
