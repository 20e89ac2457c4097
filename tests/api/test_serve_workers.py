"""``serve --workers 2`` (``GISE_API_WORKERS``): two server processes share the port and the database; a client's
POSTs land in both, each exactly once, an API key proved by one process works in the other, and stopping the
server (SIGTERM) stops its workers too.

Runs against a live server on a committed database of its own (``tests/live_server.py``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from tests.api.live import site_for_tests
from tests.live_server import LiveSite


def _children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                    out.add(int(entry.name))
            except (OSError, IndexError):
                continue
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.fixture(scope="module")
def site(database_url: str, jurisdiction: Jurisdiction, catalog: Catalog,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with site_for_tests(database_url, jurisdiction, catalog, tmp_path_factory, name="workers",
                        env={"GISE_API_WORKERS": "2"}) as s:
        yield s


def test_two_workers_share_the_port_and_the_store_and_stop_together(site: LiveSite,
                                                                      jurisdiction: Jurisdiction) -> None:
    workers = _children(site.server.pid)
    python_workers = {p for p in workers if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()}
    assert len(python_workers) == 2, workers  # the supervisor forked two server processes

    villages = jurisdiction.villages.geometry
    now = datetime.now(UTC)
    features = [{
        "type": "Feature", "id": str(uuid.uuid4()),
        "geometry": {"type": "Point", "coordinates": [villages.iloc[k % len(villages)].x + 1e-4,
                                                      villages.iloc[k % len(villages)].y]},
        "properties": {"category": "ENV-01", "observed_at": (now - timedelta(minutes=k)).isoformat(),
                       "accuracy_m": 8, "reporter": "双进程测试"},
    } for k in range(40)]

    def post(f: dict) -> int:  # a new connection each time: the kernel spreads them over both processes
        with httpx.Client(base_url=site.base_url, headers=site.headers, timeout=30) as c:
            return c.post("/api/v1/incidents", json=f).status_code

    with ThreadPoolExecutor(8) as pool:
        first = list(pool.map(post, features))
        again = list(pool.map(post, features))  # the same ids and content, to either process
    assert first == [201] * len(features) and again == [200] * len(features)
    engine = create_engine(site.database_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*), count(DISTINCT id) FROM incident WHERE id = ANY(:ids)"),
                                  {"ids": [uuid.UUID(f["id"]) for f in features]}).one()
            served_by = conn.execute(text(
                "SELECT count(DISTINCT pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")).scalar_one()
    finally:
        engine.dispose()
    assert tuple(stored) == (len(features), len(features))
    assert served_by >= 2  # both processes opened connections of their own

    site.server.stop()
    assert not _alive(site.server.pid)
    assert not any(_alive(p) for p in python_workers), "a worker outlived the server"
