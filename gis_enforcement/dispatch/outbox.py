"""Notifications through the outbox: webhook subscriptions, their delivery with retries, and the event stream.

Every case event (whistle, report-in, action, warning, rating …) is recorded with a global number; a trigger
gives each active subscription a delivery row for it in the same transaction, so nothing is announced that
was not recorded, and nothing recorded is lost when a receiver is down. :func:`deliver_due` posts each
subscription's oldest pending events in number order (a batch per request), signed (see
:mod:`gis_enforcement.domain.outbox`); a failure holds the whole subscription back until its next try, so a
receiver always sees events in order. :func:`read_events` serves the pages' event stream.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from gis_enforcement.domain.case_flow import AssignmentAction
from gis_enforcement.domain.deadlines import require_aware
from gis_enforcement.domain.outbox import SIGNATURE_HEADER, STREAM_GRACE, releasable, retry_delay, signature
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.storage import Session, outbox_repo, user_repo
from gis_enforcement.storage.outbox_repo import StoredEvent

#: posts a body to a URL with headers and returns the HTTP status; raises on a network failure
Sender = Callable[[str, bytes, Mapping[str, str]], int]
Transaction = Callable[[], AbstractContextManager[Session]]
BATCH = 100
#: every kind of case event the dispatch services record: what a subscription's ``kinds`` may name
EVENT_KINDS = tuple(sorted({
    "triage", "whistle", "case_in_action", "enforcement_record", "photo", "resolve", "verify", "close", "reopen",
    "resume", "rating", "warning", "follow_up_request", "follow_up_done", "mark_duplicate", "reject", "reinstate",
    "reclassify",
    *(a.value for a in AssignmentAction),
}))


def http_sender(timeout_s: float = 10.0) -> Sender:
    """A :data:`Sender` over HTTP(S) with httpx; no redirects followed (a receiver says where it is)."""
    def send(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        return httpx.post(url, content=body, headers=dict(headers), timeout=timeout_s,
                          follow_redirects=False).status_code
    return send


def subscribe(session: Session, *, url: str, secret: str, kinds: Sequence[str] | None = None,
              township: str | None = None, description: str | None = None) -> dict[str, Any]:
    """Register a webhook receiver for the events recorded from now on (``kinds``, of ``EVENT_KINDS``, and
    ``township``, a code of the loaded layers, narrow them). The secret signs every body; at least 16
    characters."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"{url!r} is not an http(s) URL", field="url")
    if len(secret) < 16:
        raise InvalidInput("the secret must have at least 16 characters", field="secret")
    unknown = [k for k in kinds or () if k not in EVENT_KINDS]
    if unknown:
        raise InvalidInput(f"unknown event kind(s) {', '.join(map(repr, unknown))}; the kinds are "
                           f"{', '.join(EVENT_KINDS)}", field="kinds")
    if township is not None and township not in user_repo.township_names(session):
        raise InvalidInput(f"unknown township {township!r} (a township code of the loaded layers, e.g. "
                           "110117003)", field="township")
    return outbox_repo.insert_subscription(session, url=url, secret=secret, kinds=kinds, township=township,
                                           description=description)


def set_active(session: Session, *, subscription_id: int, active: bool) -> None:
    if not outbox_repo.set_subscription_active(session, subscription_id=subscription_id, active=active):
        raise NotFound(f"no webhook subscription {subscription_id}", field="subscription_id")


def unsubscribe(session: Session, *, subscription_id: int) -> None:
    """Remove a webhook subscription and its deliveries, pending ones included (its receiver gets nothing
    more); NotFound when there is none with that id."""
    if not outbox_repo.delete_subscription(session, subscription_id=subscription_id):
        raise NotFound(f"no webhook subscription {subscription_id}", field="subscription_id")


def body_of(events: Sequence[StoredEvent]) -> bytes:
    """The body a receiver gets: ``{"events": [...]}`` in UTF-8 JSON, events in number order."""
    return json.dumps({"events": [e.to_json() for e in events]}, ensure_ascii=False, default=str).encode()


@dataclass
class DeliveryReport:
    """What one delivery pass did: events delivered and failed attempts per subscription."""

    delivered: dict[int, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def events_delivered(self) -> int:
        return sum(self.delivered.values())


def deliver_subscription(session: Session, *, subscription_id: int, now: datetime, send: Sender,
                         batch: int = BATCH) -> tuple[int, str | None]:
    """Post one subscription's oldest pending events (up to ``batch``) and settle them: delivered on a 2xx,
    otherwise one more attempt counted and the next try set by the back-off. Returns (delivered, error)."""
    now = require_aware(now, "now")
    sub, events, attempts = outbox_repo.lock_pending(session, subscription_id=subscription_id, limit=batch)
    if sub is None or not events:
        return 0, None
    body = body_of(events)
    headers = {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: signature(sub["secret"], body),
               "X-GISE-Delivery": str(uuid.uuid4()), "X-GISE-Events": f"{events[0].id}-{events[-1].id}"}
    ids = [e.id for e in events]
    try:
        status = send(sub["url"], body, headers)
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except Exception as exc:  # noqa: BLE001 — any failure to reach the receiver is a failed attempt
        error = f"{type(exc).__name__}: {exc}"[:500]
    if error is None:
        outbox_repo.settle(session, subscription_id=subscription_id, event_ids=ids, delivered_at=now)
        return len(ids), None
    outbox_repo.settle(session, subscription_id=subscription_id, event_ids=ids, delivered_at=None,
                       next_attempt_at=now + retry_delay(attempts + 1), error=error)
    return 0, error


def deliver_due(transaction: Transaction, *, now: Callable[[], datetime], send: Sender,
                batch: int = BATCH, max_batches: int = 50) -> DeliveryReport:
    """One delivery pass: every subscription that is due gets its pending events, a batch per transaction,
    until it is drained, fails, or ``max_batches`` were sent for it. Each batch commits on its own, so a
    failure later in the pass keeps what was delivered before it."""
    report = DeliveryReport()
    with transaction() as session:
        due = outbox_repo.due_subscriptions(session, now=now())
    for sid in due:
        for _ in range(max_batches):
            with transaction() as session:
                done, error = deliver_subscription(session, subscription_id=sid, now=now(), send=send, batch=batch)
            if error is not None:
                report.failed[sid] = error
                break
            if done == 0:
                break
            report.delivered[sid] = report.delivered.get(sid, 0) + done
            if done < batch:
                break
    return report


@dataclass(frozen=True, slots=True)
class EventPage:
    """A page of the event stream: the events and the cursor to ask for the next page with."""

    events: list[StoredEvent]
    next_after: int


def read_events(session: Session, *, after: int = 0, limit: int = 100, township: str | None = None,
                kinds: Sequence[str] | None = None, department: str | None = None,
                grace: timedelta = STREAM_GRACE) -> EventPage:
    """The events after the cursor ``after`` that may be handed out now (the gap rule of
    :mod:`gis_enforcement.domain.outbox`), filtered; ``next_after`` is where the next call continues — past
    events that were filtered out, never past a hole that may still fill."""
    if after < 0:
        raise InvalidInput("the cursor is a non-negative event number", field="after")
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000", field="limit")
    now = outbox_repo.db_now(session)
    numbered = [_Num(i, t) for i, t in outbox_repo.numbered_after(session, after=after, limit=limit)]
    ready = releasable(numbered, after=after, now=now, grace=grace)
    if not ready:
        return EventPage([], after)
    upto = ready[-1].id
    events = [e for e in outbox_repo.events_after(session, after=after, limit=limit, township=township,
                                                  kinds=kinds, department=department) if e.id <= upto]
    return EventPage(events, upto)


@dataclass(frozen=True, slots=True)
class _Num:
    id: int
    recorded_at: datetime


def follow(transaction: Transaction, *, after: int, wait: Callable[[float], bool], poll_s: float = 1.0,
           **filters: Any) -> Iterator[StoredEvent | None]:
    """Events as they are recorded, from the cursor on, for a long-lived stream: yields each event, and None
    after every poll that found nothing (a chance to send a heartbeat). Stops when ``wait(poll_s)`` is true."""
    cursor = after
    while True:
        with transaction() as session:
            page = read_events(session, after=cursor, limit=500, **filters)
        cursor = page.next_after
        yield from page.events
        if not page.events:
            yield None
            if wait(poll_s):
                return
