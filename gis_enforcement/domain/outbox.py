"""Notification rules for the outbox: webhook signatures, retry back-off and the event stream's gap rule. Pure.

- **Signature**: every webhook body is signed with the subscription's secret, HMAC-SHA256 over the exact
  bytes sent, in the header ``X-GISE-Signature: sha256=<hex>``; a receiver recomputes it to know the body is
  ours and unchanged.
- **Back-off**: a failed delivery is retried after 30 s, then 1, 2, 4 … minutes, capped at one hour, for as
  long as it takes — a receiver that is down for a week gets the week's events, in order, when it returns.
- **Gap rule** of the event stream: events are numbered in insertion order, but transactions commit in their
  own order, so event 7 may be visible before event 6 is. The stream hands out events only up to the first
  hole, unless the event after the hole was recorded more than ``grace`` ago: a number still missing after
  that belonged to a transaction that rolled back (numbers are never reused), and waiting longer would stall
  the stream. Dispatch transactions last milliseconds; the default grace is 5 s.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

SIGNATURE_HEADER = "X-GISE-Signature"
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
STREAM_GRACE = timedelta(seconds=5)


def signature(secret: str, body: bytes) -> str:
    """The value of the signature header for ``body``: ``sha256=`` and the hex HMAC-SHA256 with ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret`` (constant-time comparison)."""
    return header is not None and hmac.compare_digest(signature(secret, body), header)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (1-based) before the next one."""
    if attempts < 1:
        return timedelta(0)
    return min(FIRST_RETRY * (2 ** (attempts - 1)), MAX_RETRY)


class Numbered(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def recorded_at(self) -> datetime: ...


E = TypeVar("E", bound=Numbered)

def releasable(events: Sequence[E], *, after: int, now: datetime,
                            grace: timedelta = STREAM_GRACE) -> list[E]:
    """The leading events (ordered by id, all with id > ``after``) the stream may hand out now: up to the first
    hole, and past a hole only when the event after it was recorded more than ``grace`` before ``now``."""
    out: list[E] = []
    expected = after + 1
    for ev in events:
        if ev.id != expected and now - ev.recorded_at <= grace:
            break
        out.append(ev)
        expected = ev.id + 1
    return out
