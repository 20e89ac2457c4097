"""Back-off, signatures and the event stream's gap rule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gis_enforcement.domain.outbox import releasable, retry_delay, signature, signature_valid


def test_retry_delay_doubles_and_is_capped() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(30) == timedelta(hours=1)


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert signature("Jefe", b"what do ya want for nothing?") == "sha256=" + expected
    assert signature_valid("Jefe", b"what do ya want for nothing?", "sha256=" + expected)
    assert not signature_valid("Jefe", b"what do ya want for nothing!", "sha256=" + expected)
    assert not signature_valid("Jefe", b"x", None)


@dataclass
class Ev:
    id: int
    recorded_at: datetime


def test_the_stream_waits_at_a_hole_until_the_grace_has_passed() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    fresh, old = now - timedelta(seconds=1), now - timedelta(seconds=30)
    events = [Ev(5, fresh), Ev(6, fresh), Ev(8, fresh), Ev(9, fresh)]
    assert [e.id for e in releasable(events, after=4, now=now)] == [5, 6]  # 7 may still commit
    events[2] = Ev(8, old)
    assert [e.id for e in releasable(events, after=4, now=now)] == [5, 6, 8, 9]  # 7 rolled back long ago
    assert releasable([Ev(3, fresh)], after=1, now=now) == []


def test_chain_many_hashes_exactly_as_one_by_one() -> None:
    from gis_enforcement.domain.audit import GENESIS, canonical, chain_many, event_hash

    at = datetime(2026, 5, 12, 15, 40, 0, 123456, tzinfo=UTC)
    payloads = [{"by": "镇", "summoned": [{"department": "WATER", "due": at}]}, {"x": None, "n": 1.5, "b": True}]
    events = [("case-a", at, None, "triage", payloads[0]), ("case-a", at, "调度员", "whistle", payloads[1]),
              ("case-b", at, "x", "k", {}), ("case-b", at, 'a"b\\c\n\t', "k", {"s": 'q"\u2028'})]
    chained, heads = chain_many(events, {"case-a": (2, "f" * 64), "case-b": (0, None)})
    prev = {"case-a": (2, "f" * 64), "case-b": (0, GENESIS)}
    for (cid, when, actor, kind, payload), got in zip(events, chained, strict=True):
        n, head = prev[cid]
        body = json.loads(canonical(payload))
        want = event_hash(head, incident_id=cid, seq=n + 1, at=when, actor=actor, kind=kind, payload=body)
        assert (got.seq, got.prev_hash, got.hash) == (n + 1, head, want)
        assert json.loads(got.payload_json) == body
        prev[cid] = (n + 1, want)
    assert heads == prev


def test_a_negative_zero_survives_the_database_round_trip() -> None:
    from gis_enforcement.domain.audit import canonical

    # jsonb keeps numbers as decimals: -0.0 comes back as 0.0, so the canonical form must already say 0.0
    assert canonical({"minutes_late": -0.0, "s": "-0.0", "xs": [-0.0, 1.5]}) == \
        canonical({"minutes_late": 0.0, "s": "-0.0", "xs": [0.0, 1.5]})
    assert b'"s":"-0.0"' in canonical({"s": "-0.0"})  # text is left alone
