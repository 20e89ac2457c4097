"""Crash safety of intake (issue #6): the server is killed with SIGKILL in the middle of a burst of POSTs from
several clients; after a restart every POST that got a 2xx is stored, and the clients' retries of the rest (with
the same ids) land exactly once — 200 for those the dead server had committed, 201 for the others. One phone
hangs up on its first POST before the answer, so at least one incident is committed but unknown to its sender.
Afterwards the store holds every id sent, once, and nothing half-written.

Runs against a live server on a committed database of its own (``tests/live_server.py``).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from tests.api.live import site_for_tests
from tests.live_server import LiveSite

CLIENTS = 6
KILL_AFTER_S = 1.0  # into the burst
MIN_STORED_BEFORE_KILL = 8  # the kill waits (up to BURST_WAIT_S) until the server has answered this many
BURST_WAIT_S = 10.0
RETRY_DEADLINE_S = 15.0


@pytest.fixture(scope="module")
def site(database_url: str, jurisdiction: Jurisdiction, catalog: Catalog,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with site_for_tests(database_url, jurisdiction, catalog, tmp_path_factory, name="crash",
                        env={"GISE_INTAKE_REQUESTS_PER_MINUTE": "100000"}) as s:
        yield s


@dataclass
class Outcome:
    feature: dict[str, Any]
    status: int | None = None  # the HTTP status before the kill; None: no answer (the connection failed)
    error: str | None = None
    retry_status: int | None = None
    retries: int = 0


@dataclass
class PatrolClient:
    """One phone: sends new incidents back to back until told to stop, then retries what got no 2xx."""

    site: LiveSite
    points: list[tuple[float, float]]
    seed: int
    outcomes: list[Outcome] = field(default_factory=list)

    def feature(self, rng: random.Random) -> dict[str, Any]:
        lon, lat = rng.choice(self.points)
        return {"type": "Feature", "id": str(uuid.uuid4()),
                "geometry": {"type": "Point", "coordinates": [lon + rng.uniform(-2e-3, 2e-3),
                                                              lat + rng.uniform(-2e-3, 2e-3)]},
                "properties": {"category": rng.choice(["MIN-02", "ENV-01"]),
                               "observed_at": "2026-05-12T23:40:00+08:00", "accuracy_m": 8,
                               "reporter": f"巡查队{self.seed}"}}

    def lose_an_answer(self) -> Outcome:
        """Send one incident and hang up before the answer (a phone losing its signal): the server stores it, the
        phone does not know."""
        out = Outcome(self.feature(random.Random(self.seed + 100)))
        self.outcomes.append(out)
        with self.site.client(timeout=httpx.Timeout(10, read=0.001)) as client, \
                contextlib.suppress(httpx.ReadTimeout):
            out.status = client.post("/api/v1/incidents", json=out.feature).status_code
        return out

    def burst(self, stop: threading.Event) -> None:
        rng = random.Random(self.seed)
        with self.site.client(timeout=10) as client:
            while not stop.is_set():
                out = Outcome(self.feature(rng))
                self.outcomes.append(out)
                try:
                    out.status = client.post("/api/v1/incidents", json=out.feature).status_code
                except httpx.TransportError as exc:
                    out.error = type(exc).__name__
                    return  # the server is gone: this phone waits for the network to come back

    def retry(self, deadline: float) -> None:
        with self.site.client(timeout=10) as client:
            for out in self.outcomes:
                if out.status is not None and 200 <= out.status < 300:
                    continue
                while time.monotonic() < deadline:
                    out.retries += 1
                    try:
                        out.retry_status = client.post("/api/v1/incidents", json=out.feature).status_code
                    except httpx.TransportError:
                        time.sleep(0.1)
                        continue
                    if 200 <= out.retry_status < 300:
                        break
                    time.sleep(0.1)


def _stored_ids(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(text("SELECT id::text FROM incident"))}
    finally:
        engine.dispose()


def _wait_stored(url: str, incident_id: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while incident_id not in _stored_ids(url):
        assert time.monotonic() < deadline, f"{incident_id} was never stored"
        time.sleep(0.05)


def test_sigkill_mid_burst_loses_nothing_and_retries_land_once(site: LiveSite, jurisdiction: Jurisdiction) -> None:
    township = site.unit
    villages = jurisdiction.villages[jurisdiction.villages["township_code"] == township]
    points = [(float(g.x), float(g.y)) for g in villages.geometry]
    phones = [PatrolClient(site, points, seed=i) for i in range(CLIENTS)]
    # one answer lost before the burst: stored by the server that is about to die, so its retry must be a replay
    lost = phones[0].lose_an_answer()
    assert lost.status is None
    _wait_stored(site.database_url, lost.feature["id"])
    stop = threading.Event()
    threads = [threading.Thread(target=p.burst, args=(stop,), daemon=True) for p in phones]

    # the burst, and SIGKILL in the middle of it
    started = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(KILL_AFTER_S)
    while (sum(o.status is not None for p in phones for o in p.outcomes) < MIN_STORED_BEFORE_KILL
           and time.monotonic() - started < BURST_WAIT_S):
        time.sleep(0.05)
    in_flight = sum(1 for p in phones if p.outcomes and p.outcomes[-1].status is None)
    pid = site.server.pid  # the uvicorn process itself, not a wrapper around it
    assert b"serve" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert not any(Path(f"/proc/{pid}/task/{t.name}/children").read_text().split()
                   for t in Path(f"/proc/{pid}/task").iterdir())
    site.server.kill()
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert not any(t.is_alive() for t in threads)
    with pytest.raises(httpx.TransportError):  # it is really down
        httpx.get(f"{site.base_url}/", timeout=2)

    outcomes = [o for p in phones for o in p.outcomes]
    ids = [o.feature["id"] for o in outcomes]
    ok_before = {o.feature["id"] for o in outcomes if o.status is not None and 200 <= o.status < 300}
    unanswered = [o for o in outcomes if o.status is None]
    refused = [(o.status, o.feature["id"]) for o in outcomes if o.status is not None and o.status >= 300]
    assert refused == [], "the server refused a well-formed incident before the kill"
    assert len(ok_before) >= MIN_STORED_BEFORE_KILL and unanswered, (len(ok_before), len(unanswered), in_flight)

    # what the dead server left committed: every 2xx, and perhaps some whose answer never arrived
    at_kill = _stored_ids(site.database_url)
    assert ok_before <= at_kill, f"answered 2xx but not stored: {sorted(ok_before - at_kill)}"
    assert at_kill <= set(ids), "stored an id nobody sent"
    assert lost.feature["id"] in at_kill - ok_before

    # restart on the same database; every phone retries what got no 2xx, with the same ids
    site.server.start()
    deadline = time.monotonic() + RETRY_DEADLINE_S
    retriers = [threading.Thread(target=p.retry, args=(deadline,), daemon=True) for p in phones]
    for t in retriers:
        t.start()
    for t in retriers:
        t.join(timeout=RETRY_DEADLINE_S + 10)
    for o in unanswered:
        # exactly once: a replay (200) when the dead server had committed it, new (201) when it had not
        expected = 200 if o.feature["id"] in at_kill else 201
        assert o.retry_status == expected, (o.feature["id"], o.retry_status, o.retries)

    engine = create_engine(site.database_url)
    try:
        with engine.connect() as conn:
            stored = [r[0] for r in conn.execute(text("SELECT id::text FROM incident"))]
            assert len(stored) == len(set(stored)) == len(set(ids)) == len(ids)
            assert set(stored) == set(ids)
            # nothing half-written: every incident has its batch and its rule snapshot, located and assigned a
            # lead; every batch holds exactly the incidents it says it accepted
            orphans = conn.execute(text(
                "SELECT count(*) FROM incident i"
                " WHERE NOT EXISTS (SELECT 1 FROM ingest_batch b WHERE b.id = i.batch_id)"
                " OR NOT EXISTS (SELECT 1 FROM rule_snapshot r WHERE r.id = i.rule_snapshot_id)"
                " OR i.township_code IS NULL OR i.lead_department IS NULL")).scalar_one()
            assert orphans == 0
            uneven = conn.execute(text(
                "SELECT b.id, b.accepted, count(i.id) FROM ingest_batch b LEFT JOIN incident i ON i.batch_id = b.id"
                " GROUP BY b.id, b.accepted HAVING count(i.id) <> b.accepted")).all()
            assert uneven == []
            assert conn.execute(text("SELECT count(*) FROM incident WHERE created_by = :u"),
                                {"u": site.username}).scalar_one() == len(ids)
        with Session(engine) as session:
            for incident_id in random.Random(6).sample(stored, min(20, len(stored))):
                assert verify_case_record(session, incident_id=uuid.UUID(incident_id)) is None
    finally:
        engine.dispose()
    assert "Traceback" not in site.server.log_tail(200_000)
    print(f"{len(ids)} sent, {len(ok_before)} answered 2xx before the kill, {len(unanswered)} unanswered "
          f"({len(at_kill) - len(ok_before)} of them committed by the dead server, one answer lost on purpose)")
