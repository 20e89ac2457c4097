"""The tamper-evident record (执法有记载): a hash chain of case events. Pure.

Each event's hash is SHA-256 over the previous hash and the event's canonical JSON (sorted keys, no spaces,
UTF-8, times in UTC ISO 8601 with microseconds). The chain of a case starts from ``GENESIS``; changing,
removing or inserting any event changes every later hash, and the case's stored head no longer matches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One entry of a case's record: who did what, when, with which details."""

    incident_id: str
    seq: int
    at: datetime
    actor: str | None
    kind: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@lru_cache(maxsize=1 << 16)
def _iso(value: datetime) -> str:
    # a whistle's payload repeats the same few due times; a bulk chain writes them hundreds of thousands of times
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    return str(value)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def _positive_zero(value: Any) -> Any:
    if isinstance(value, float) and value == 0.0:
        return 0.0
    if isinstance(value, Mapping):
        return {k: _positive_zero(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_positive_zero(v) for v in value]
    return value


def canonical(body: Mapping[str, Any]) -> bytes:
    """The canonical JSON bytes of an event body (what the hash covers). A negative zero is written as 0.0:
    the database keeps numbers as decimals, which have no sign on zero, so ``-0.0`` would not survive the round
    trip and the event would look altered."""
    text = _CANONICAL.encode(body)
    if "-0.0" in text:  # rare: look closer only then (a string may contain the same characters)
        text = _CANONICAL.encode(_positive_zero(body))
    return text.encode()


def event_hash(prev_hash: str, *, incident_id: str, seq: int, at: datetime, actor: str | None, kind: str,
               payload: Mapping[str, Any]) -> str:
    """The hash of an event that follows ``prev_hash`` in its case's chain."""
    body = {"incident_id": str(incident_id), "seq": seq, "at": at, "actor": actor, "kind": kind,
            "payload": payload}
    return hashlib.sha256(prev_hash.encode() + canonical(body)).hexdigest()


def verify_chain(events: Iterable[CaseEvent], *, head: str | None) -> str | None:
    """None when the events (in sequence order) form an unbroken chain ending at ``head``; else what is wrong."""
    prev, expected_seq = GENESIS, 1
    for ev in events:
        if ev.seq != expected_seq:
            return f"event {expected_seq} is missing (found {ev.seq})"
        if ev.prev_hash != prev:
            return f"event {ev.seq} does not follow event {ev.seq - 1}"
        recomputed = event_hash(prev, incident_id=ev.incident_id, seq=ev.seq, at=ev.at, actor=ev.actor,
                                kind=ev.kind, payload=ev.payload)
        if recomputed != ev.hash:
            return f"event {ev.seq} ({ev.kind}) was altered after it was recorded"
        prev, expected_seq = ev.hash, expected_seq + 1
    if head is not None and prev != head:
        return "the last event does not match the case's recorded head (events removed at the end?)"
    return None



@dataclass(frozen=True, slots=True)
class ChainedEvent:
    """An event chained by :func:`chain_many`, with its payload as canonical JSON text (as it is stored)."""

    incident_id: str
    seq: int
    at: datetime
    actor: str | None
    kind: str
    payload_json: str
    prev_hash: str
    hash: str


def _body_bytes(incident_id: str, seq: int, at: datetime, actor: str | None, kind: str, payload: bytes) -> bytes:
    # canonical() of the event body, assembled from its parts: the keys in sorted order
    # (actor, at, incident_id, kind, payload, seq) with the payload's own canonical bytes spliced in
    def j(v: str | None) -> bytes:
        if v is None:
            return b"null"
        if v.isascii() and v.isprintable() and '"' not in v and "\\" not in v:
            return b'"' + v.encode() + b'"'  # what json.dumps gives for such a string, without its overhead
        return json.dumps(v, ensure_ascii=False).encode()
    return (b'{"actor":' + j(actor) + b',"at":' + j(_default(at)) + b',"incident_id":' + j(incident_id)
            + b',"kind":' + j(kind) + b',"payload":' + payload + b',"seq":' + str(seq).encode() + b"}")


def chain_many(events: Iterable[tuple[str, datetime, str | None, str, Mapping[str, Any]]],
               heads: Mapping[str, tuple[int, str | None]]) -> tuple[list[ChainedEvent], dict[str, tuple[int, str]]]:
    """Chain many events at once: ``events`` are (incident id, at, actor, kind, payload) in the order they
    happened on each case; ``heads`` the (event count, head hash) each case has now. Returns the events with
    their sequence numbers and hashes — exactly those :func:`event_hash` gives one by one — and the new heads.
    """
    state = {cid: (count, head or GENESIS) for cid, (count, head) in heads.items()}
    out = []
    for cid, at, actor, kind, payload in events:
        count, prev = state[cid]
        body = canonical(payload)
        seq = count + 1
        digest = hashlib.sha256(prev.encode() + _body_bytes(cid, seq, at, actor, kind, body)).hexdigest()
        out.append(ChainedEvent(cid, seq, at, actor, kind, body.decode(), prev, digest))
        state[cid] = (seq, digest)
    return out, dict(state)
