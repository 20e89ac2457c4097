"""Notifications through the outbox: a real HTTP receiver that is down, then up, gets every event exactly once
and in order, signed; the event stream's cursor and filters."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.outbox import deliver_due, http_sender, subscribe
from gis_enforcement.dispatch.outbox import read_events as _read_events
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.outbox import SIGNATURE_HEADER, signature_valid
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import outbox_repo
from tests.dispatch.helpers import T0, new_case

SECRET = "s3cret-shared-with-the-receiver"


class Receiver:
    """A webhook receiver on a real socket: it can be down (nothing listening), failing (HTTP 503) or up."""

    def __init__(self) -> None:
        with socket.socket() as s:  # a free port, then nothing listens on it until start()
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.bodies: list[bytes] = []
        self.signatures: list[str | None] = []
        self.status = 200
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.status == 200:
                    receiver.bodies.append(body)
                    receiver.signatures.append(self.headers.get(SIGNATURE_HEADER))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self) -> list[dict]:
        return [e for b in self.bodies for e in json.loads(b)["events"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


def _transactions(db: Session):
    @contextmanager
    def transaction() -> Iterator[Session]:
        yield db  # the test's rolled-back session stands in for committed transactions
    return transaction


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _chain(db: Session, locator: Locator, catalog: Catalog, site) -> tuple[object, list]:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=result.assignments[0].department,
                      lon=x, lat=y, accuracy_m=5, server_time=T0 + timedelta(minutes=12))
    return inc, result.assignments


def test_a_receiver_that_is_down_loses_nothing(db: Session, locator: Locator, catalog: Catalog, site,
                                               receiver: Receiver) -> None:
    sub = subscribe(db, url=receiver.url, secret=SECRET)
    everything_else = subscribe(db, url=receiver.url + "?only=report_in", secret=SECRET, kinds=["report_in"])
    db.execute(text("UPDATE webhook_subscription SET active = false WHERE id = :id"), {"id": everything_else["id"]})
    inc, _ = _chain(db, locator, catalog, site)
    recorded = [e.id for e in outbox_repo.events_after(db, after=0, limit=1000) if e.incident_id == str(inc.id)]
    assert len(recorded) >= 3  # triage, whistle, report-in
    pending = db.execute(text("SELECT event_id FROM webhook_delivery WHERE subscription_id = :s ORDER BY 1"),
                         {"s": sub["id"]}).scalars().all()
    assert pending == recorded  # the trigger queued every event for the active subscription, none for the paused

    clock = Clock(datetime.now(UTC) + timedelta(seconds=1))
    send = http_sender(timeout_s=2)
    down = deliver_due(_transactions(db), now=clock, send=send)  # nothing listens on the port
    assert down.events_delivered == 0 and "ConnectError" in down.failed[sub["id"]]
    state = next(s for s in outbox_repo.subscriptions(db) if s["id"] == sub["id"])
    assert (state["pending"], state["delivered"], state["attempts"]) == (len(recorded), 0, 1)
    assert state["next_attempt_at"] == clock.now + timedelta(seconds=30)

    receiver.start()
    receiver.status = 503  # up but failing: a second attempt, a longer wait
    clock.now += timedelta(seconds=31)
    failing = deliver_due(_transactions(db), now=clock, send=send)
    assert failing.failed[sub["id"]] == "HTTP 503"
    state = next(s for s in outbox_repo.subscriptions(db) if s["id"] == sub["id"])
    assert state["attempts"] == 2 and state["next_attempt_at"] == clock.now + timedelta(minutes=1)

    receiver.status = 200
    clock.now += timedelta(seconds=30)  # not yet due: no attempt
    assert deliver_due(_transactions(db), now=clock, send=send).failed == {}
    assert receiver.bodies == []
    clock.now += timedelta(seconds=31)
    up = deliver_due(_transactions(db), now=clock, send=send)
    assert up.delivered == {sub["id"]: len(recorded)}
    got = receiver.events()
    assert [e["id"] for e in got] == recorded  # every event, once, in order
    assert [e["kind"] for e in got][:3] == ["triage", "whistle", "report_in"]
    assert all(signature_valid(SECRET, b, s) for b, s in zip(receiver.bodies, receiver.signatures, strict=True))
    assert not signature_valid("another-secret-entirely", receiver.bodies[0], receiver.signatures[0])

    clock.now += timedelta(minutes=5)
    assert deliver_due(_transactions(db), now=clock, send=send).events_delivered == 0  # exactly once
    assert len(receiver.events()) == len(recorded)


def test_subscriptions_filter_by_kind_and_township(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    _, _, township = site
    only_checkins = subscribe(db, url="http://127.0.0.1:9/a", secret=SECRET, kinds=["report_in"])
    other = "110117001" if township != "110117001" else "110117003"  # another township of the layers
    elsewhere = subscribe(db, url="http://127.0.0.1:9/b", secret=SECRET, township=other)
    here = subscribe(db, url="http://127.0.0.1:9/c", secret=SECRET, township=township)
    _chain(db, locator, catalog, site)
    counts = dict(db.execute(text("SELECT subscription_id, count(*) FROM webhook_delivery GROUP BY 1")).all())
    assert counts.get(only_checkins["id"]) == 1
    assert elsewhere["id"] not in counts
    assert counts[here["id"]] >= 3
    with pytest.raises(InvalidInput) as bad:
        subscribe(db, url="ftp://example.org/x", secret=SECRET)
    assert bad.value.field == "url"
    with pytest.raises(InvalidInput) as short:
        subscribe(db, url="https://example.org/x", secret="short")
    assert short.value.field == "secret"


def test_event_stream_pages_and_filters(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    start = outbox_repo.last_event_id(db)
    inc, assignments = _chain(db, locator, catalog, site)
    # numbers taken by the rolled-back transactions of earlier tests are holes before these events: the
    # stream waits at a fresh hole (it may still fill) ...
    assert _read_events(db, after=start).events == [] or db.execute(text(
        "SELECT min(id) FROM case_event WHERE id > :s"), {"s": start}).scalar_one() == start + 1
    # ... and, with no grace, serves what follows it
    read = partial(_read_events, grace=timedelta(0))
    first = read(db, after=start, limit=2)
    assert [e.kind for e in first.events] == ["triage", "whistle"] and first.next_after == first.events[-1].id
    rest = read(db, after=first.next_after, limit=100)
    assert [e.kind for e in rest.events] == ["report_in"]
    assert read(db, after=rest.next_after).events == []
    checkins = read(db, after=start, kinds=["report_in"])
    assert [e.kind for e in checkins.events] == ["report_in"] and checkins.next_after == rest.next_after
    assert read(db, after=start, township="110117999").events == []
    lead = assignments[0].department
    assert len(read(db, after=start, department=lead).events) == 3
    with pytest.raises(InvalidInput) as bad:
        read(db, after=-1)
    assert bad.value.field == "after"
