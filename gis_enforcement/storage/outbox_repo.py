"""The outbox in PostGIS: the global event order, webhook subscriptions and their deliveries. Never commits.

Deliveries are created by a trigger on ``case_event`` (migration 0006), in the transaction that records the
event; this module reads and settles them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A case event as the outside world sees it: its global number, when it was recorded, and its content."""

    id: int
    recorded_at: datetime
    incident_id: str
    seq: int
    at: datetime
    actor: str | None
    kind: str
    payload: dict[str, Any]
    township_code: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "incident_id": self.incident_id, "seq": self.seq, "at": self.at.isoformat(),
                "actor": self.actor, "kind": self.kind, "payload": self.payload, "township": self.township_code,
                "recorded_at": self.recorded_at.isoformat()}


_EVENT_COLUMNS = ("e.id, e.recorded_at, e.incident_id::text, e.seq, e.at, e.actor, e.kind, e.payload, "
                  "i.township_code")


def events_after(session: Session, *, after: int, limit: int, township: str | None = None,
                 kinds: Sequence[str] | None = None, department: str | None = None) -> list[StoredEvent]:
    """Events numbered above ``after`` in number order (at most ``limit``), optionally only those of cases in
    ``township``, of the given ``kinds``, or naming ``department`` (in the payload, or as one of the case's
    assignments)."""
    where = ["e.id > :after"]
    params: dict[str, Any] = {"after": after, "limit": limit}
    if township is not None:
        where.append("i.township_code = :township")
        params["township"] = township
    if kinds:
        where.append("e.kind = ANY(:kinds)")
        params["kinds"] = list(kinds)
    if department is not None:
        where.append("(e.payload->>'department' = :dep OR EXISTS (SELECT 1 FROM assignment a "
                     "WHERE a.incident_id = e.incident_id AND a.department = :dep))")
        params["dep"] = department
    rows = session.execute(
        text(f"SELECT {_EVENT_COLUMNS} FROM case_event e JOIN incident i ON i.id = e.incident_id "
             f"WHERE {' AND '.join(where)} ORDER BY e.id LIMIT :limit"),
        params,
    ).all()
    return [StoredEvent(*r) for r in rows]


def numbered_after(session: Session, *, after: int, limit: int) -> list[tuple[int, datetime]]:
    """The numbers and recording times of every event above ``after`` (no filter): the stream's gap check
    must see the holes of the whole sequence, not of a filtered view."""
    return [(int(r[0]), r[1]) for r in session.execute(
        text("SELECT id, recorded_at FROM case_event WHERE id > :after ORDER BY id LIMIT :limit"),
        {"after": after, "limit": limit},
    ).all()]


def db_now(session: Session) -> datetime:
    """The database's wall clock (the clock ``recorded_at`` was taken with)."""
    return session.execute(text("SELECT clock_timestamp()")).scalar_one()  # type: ignore[no-any-return]


def last_event_id(session: Session) -> int:
    return int(session.execute(text("SELECT COALESCE(max(id), 0) FROM case_event")).scalar_one())


# -- subscriptions --------------------------------------------------------------------------------------------
_SUB_COLUMNS = "id, url, kinds, township, active, created_at, description"


def _sub(row: Any) -> dict[str, Any]:
    m = dict(row._mapping)
    m["kinds"] = list(m["kinds"]) if m["kinds"] is not None else None
    return m


def insert_subscription(session: Session, *, url: str, secret: str, kinds: Sequence[str] | None,
                        township: str | None, description: str | None) -> dict[str, Any]:
    row = session.execute(
        text("INSERT INTO webhook_subscription (url, secret, kinds, township, description) "
             f"VALUES (:url, :secret, :kinds, :township, :description) RETURNING {_SUB_COLUMNS}"),
        {"url": url, "secret": secret, "kinds": list(kinds) if kinds else None, "township": township,
         "description": description},
    ).one()
    return _sub(row)


def subscriptions(session: Session) -> list[dict[str, Any]]:
    """Every subscription with its delivery state: ``pending`` (not yet delivered), ``delivered``, the oldest
    pending event's ``attempts``, ``next_attempt_at`` and ``last_error``."""
    rows = session.execute(text(
        f"SELECT {', '.join('s.' + c.strip() for c in _SUB_COLUMNS.split(','))}, "
        "count(d.event_id) FILTER (WHERE d.delivered_at IS NULL) AS pending, "
        "count(d.event_id) FILTER (WHERE d.delivered_at IS NOT NULL) AS delivered, "
        "o.attempts, o.next_attempt_at, o.last_error "
        "FROM webhook_subscription s LEFT JOIN webhook_delivery d ON d.subscription_id = s.id "
        "LEFT JOIN LATERAL (SELECT attempts, next_attempt_at, last_error FROM webhook_delivery x "
        "  WHERE x.subscription_id = s.id AND x.delivered_at IS NULL ORDER BY x.event_id LIMIT 1) o ON true "
        "GROUP BY s.id, o.attempts, o.next_attempt_at, o.last_error ORDER BY s.id"
    )).all()
    return [_sub(r) for r in rows]


def set_subscription_active(session: Session, *, subscription_id: int, active: bool) -> bool:
    """Pause or resume a subscription; False when there is none with that id. A paused subscription gets no
    new deliveries; what was pending stays pending."""
    return session.execute(
        text("UPDATE webhook_subscription SET active = :a WHERE id = :id RETURNING id"),
        {"a": active, "id": subscription_id},
    ).first() is not None


def delete_subscription(session: Session, *, subscription_id: int) -> bool:
    """Delete a subscription with all its deliveries (the foreign key cascades); False when there is none
    with that id. A delivery pass holding the subscription finishes first (the row lock)."""
    return session.execute(
        text("DELETE FROM webhook_subscription WHERE id = :id RETURNING id"), {"id": subscription_id},
    ).first() is not None


def due_subscriptions(session: Session, *, now: datetime) -> list[int]:
    """Active subscriptions whose oldest undelivered event is due for an attempt at ``now``."""
    return [int(r[0]) for r in session.execute(text(
        "SELECT s.id FROM webhook_subscription s JOIN LATERAL (SELECT next_attempt_at FROM webhook_delivery d "
        " WHERE d.subscription_id = s.id AND d.delivered_at IS NULL ORDER BY d.event_id LIMIT 1) o ON true "
        "WHERE s.active AND o.next_attempt_at <= :now ORDER BY s.id"), {"now": now}).all()]


def lock_pending(session: Session, *, subscription_id: int, limit: int) -> tuple[dict[str, Any] | None,
                                                                                   list[StoredEvent], int]:
    """The subscription (url, secret), its oldest undelivered events (at most ``limit``, number order) and the
    attempts made so far on the first of them — all locked until the transaction ends. A subscription another
    worker is delivering returns ``(None, [], 0)``."""
    sub = session.execute(
        text("SELECT id, url, secret FROM webhook_subscription WHERE id = :id AND active "
             "FOR UPDATE SKIP LOCKED"), {"id": subscription_id},
    ).first()
    if sub is None:
        return None, [], 0
    rows = session.execute(
        text(f"SELECT {_EVENT_COLUMNS}, d.attempts FROM webhook_delivery d "
             "JOIN case_event e ON e.id = d.event_id JOIN incident i ON i.id = e.incident_id "
             "WHERE d.subscription_id = :sid AND d.delivered_at IS NULL ORDER BY d.event_id LIMIT :limit"),
        {"sid": subscription_id, "limit": limit},
    ).all()
    attempts = int(rows[0][-1]) if rows else 0
    return dict(sub._mapping), [StoredEvent(*r[:-1]) for r in rows], attempts


def settle(session: Session, *, subscription_id: int, event_ids: Sequence[int], delivered_at: datetime | None,
           next_attempt_at: datetime | None = None, error: str | None = None) -> None:
    """Mark deliveries done (``delivered_at``), or count a failed attempt with its error and the next try."""
    if delivered_at is not None:
        session.execute(
            text("UPDATE webhook_delivery SET delivered_at = :at, attempts = attempts + 1, last_error = NULL "
                 "WHERE subscription_id = :sid AND event_id = ANY(:ids)"),
            {"at": delivered_at, "sid": subscription_id, "ids": list(event_ids)},
        )
    else:
        session.execute(
            text("UPDATE webhook_delivery SET attempts = attempts + 1, next_attempt_at = :next, last_error = :err "
                 "WHERE subscription_id = :sid AND event_id = ANY(:ids)"),
            {"next": next_attempt_at, "err": error, "sid": subscription_id, "ids": list(event_ids)},
        )

