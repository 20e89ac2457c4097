"""Writing to a case's tamper-evident record (执法有记载)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gis_enforcement.domain.audit import GENESIS, CaseEvent, canonical, event_hash, verify_chain
from gis_enforcement.domain.records import CaseState
from gis_enforcement.storage import Session, dispatch_repo


class CaseRecorder:
    """Appends events to the chains of cases locked in this transaction, keeping each head in step."""

    def __init__(self, session: Session, cases: Mapping[Any, CaseState]) -> None:
        self.session = session
        self._heads = {cid: (c.event_count, c.event_head or GENESIS) for cid, c in cases.items()}

    def add(self, case_id: Any, *, at: datetime, actor: str | None, kind: str, payload: Mapping[str, Any]) -> CaseEvent:
        """Record one event on a case; the payload is normalised to plain JSON first so the stored copy hashes
        exactly as it did when written."""
        count, prev = self._heads[case_id]
        body = json.loads(canonical(payload))
        seq = count + 1
        digest = event_hash(prev, incident_id=str(case_id), seq=seq, at=at, actor=actor, kind=kind, payload=body)
        event = CaseEvent(str(case_id), seq, at, actor, kind, body, prev, digest)
        dispatch_repo.append_event(self.session, event=event)
        self._heads[case_id] = (seq, digest)
        return event


def verify_case_record(session: Session, *, incident_id: Any) -> str | None:
    """None when the case's record is intact; otherwise a sentence saying where it was broken."""
    events, head = dispatch_repo.events_of(session, incident_id=incident_id)
    return verify_chain(events, head=head)
