"""Benchmark: where PostgreSQL spends its time when intake COPYs incidents, in one run.

    .venv/bin/python bench/copy_costs.py [--n 200000]

Ingests N simulated incidents through the real intake into a throwaway cluster (durable settings), dumps the
stored rows as the CSV intake sends, then COPYs the same bytes into copies of the ``incident`` table that
differ by one thing at a time: no indexes, the primary key, the GiST index on ``geom``, the two b-tree
indexes, two foreign keys (as an earlier schema had), without the generated ``geom`` column. The table printed
is the server's own cost per row for each; the baseline row is the bare heap.
"""

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

VARIANTS: list[tuple[str, str, list[str]]] = [
    ("bare heap (generated geom)", "INCLUDING DEFAULTS INCLUDING GENERATED", []),
    ("bare heap, no generated geom", "INCLUDING DEFAULTS", []),
    ("+ primary key", "INCLUDING DEFAULTS INCLUDING GENERATED", ["ALTER TABLE t ADD PRIMARY KEY (id)"]),
    ("+ GiST (geom)", "INCLUDING DEFAULTS INCLUDING GENERATED", ["CREATE INDEX ON t USING gist (geom)"]),
    ("+ b-trees (category, observed_at), (township_code)", "INCLUDING DEFAULTS INCLUDING GENERATED",
     ["CREATE INDEX ON t (category, observed_at)", "CREATE INDEX ON t (township_code)"]),
    ("+ FKs rule_snapshot, ingest_batch", "INCLUDING DEFAULTS INCLUDING GENERATED",
     ["ALTER TABLE t ADD FOREIGN KEY (rule_snapshot_id) REFERENCES rule_snapshot (id)",
      "ALTER TABLE t ADD FOREIGN KEY (batch_id) REFERENCES ingest_batch (id)"]),
    ("as shipped: PK + GiST + 2 b-trees", "INCLUDING DEFAULTS INCLUDING GENERATED",
     ["ALTER TABLE t ADD PRIMARY KEY (id)", "CREATE INDEX ON t USING gist (geom)",
      "CREATE INDEX ON t (category, observed_at)", "CREATE INDEX ON t (township_code)"]),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000)
    n = ap.parse_args().n
    work = Path(tempfile.mkdtemp(prefix="gise-bench-"))
    cluster = LocalCluster(work / "pg", port=random.randint(50000, 59000), durable=True)
    results: list[tuple[str, float]] = []
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
        dump = io.BytesIO()
        cur.copy_expert(f"COPY (SELECT {cols} FROM incident) TO STDOUT WITH (FORMAT csv)", dump)
        data = dump.getvalue()
        raw.commit()
        for name, like, ddl in VARIANTS:
            with console.status(f"COPY into: {name}"):
                cur.execute("DROP TABLE IF EXISTS t")
                cur.execute(f"CREATE TABLE t (LIKE incident {like})")
                for stmt in ddl:
                    cur.execute(stmt)
                raw.commit()
                t0 = time.perf_counter()
                cur.copy_expert(f"COPY t ({cols}) FROM STDIN WITH (FORMAT csv)", io.BytesIO(data), size=1 << 20)
                raw.commit()
                results.append((name, time.perf_counter() - t0))
        raw.close()
        with engine.connect() as conn:
            version = conn.execute(text("SELECT postgis_lib_version()")).scalar()
        engine.dispose()
    finally:
        cluster.destroy()
    base = results[0][1]
    out = Table(title=f"bench/copy_costs.py — COPY of {n:,} incident rows ({len(data) / 1e6:.0f} MB CSV), "
                      f"PostgreSQL 15 + PostGIS {version}")
    for col in ("table", "seconds", "µs / row", "vs bare heap"):
        out.add_column(col, justify="left" if col == "table" else "right")
    for name, secs in results:
        out.add_row(name, f"{secs:.2f}", f"{secs / n * 1e6:.1f}", f"{secs - base:+.2f} s")
    console.print(out)


if __name__ == "__main__":
    main()
