"""Photos and their links to cases. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

_COLUMNS = "p.sha256, p.media_type, p.bytes, p.width, p.height, p.taken_at, p.lon, p.lat, p.camera, p.stored_at"


def insert_photo(session: Session, *, sha256: str, media_type: str, size: int, width: int, height: int,
                 taken_at: datetime | None, lon: float | None, lat: float | None, camera: str | None) -> bool:
    """Store a photo's facts once; False when it was stored before (same content)."""
    row = session.execute(text(
        "INSERT INTO photo (sha256, media_type, bytes, width, height, taken_at, lon, lat, camera) "
        "VALUES (:h, :t, :b, :w, :ht, :at, :x, :y, :c) ON CONFLICT (sha256) DO NOTHING RETURNING sha256"),
        {"h": sha256, "t": media_type, "b": size, "w": width, "ht": height, "at": taken_at, "x": lon, "y": lat,
         "c": camera}).first()
    return row is not None


def link_photo(session: Session, *, incident_id: UUID, sha256: str, added_by: str | None, at: datetime) -> bool:
    """Attach a stored photo to a case; False when it was attached before."""
    row = session.execute(text(
        "INSERT INTO incident_photo (incident_id, sha256, added_by, added_at) VALUES (:i, :h, :u, :t) "
        "ON CONFLICT DO NOTHING RETURNING sha256"), {"i": incident_id, "h": sha256, "u": added_by, "t": at}).first()
    return row is not None


def photos_of(session: Session, *, incident_id: UUID) -> list[dict[str, Any]]:
    rows = session.execute(text(
        f"SELECT {_COLUMNS}, l.added_by, l.added_at FROM incident_photo l JOIN photo p ON p.sha256 = l.sha256 "
        "WHERE l.incident_id = :i ORDER BY l.added_at, p.sha256"), {"i": incident_id}).mappings().all()
    return [dict(r) for r in rows]


def get_photo(session: Session, *, sha256: str) -> dict[str, Any] | None:
    row = session.execute(text(f"SELECT {_COLUMNS} FROM photo p WHERE p.sha256 = :h"), {"h": sha256}).mappings().first()
    return None if row is None else dict(row)


def cases_with_photo(session: Session, *, sha256: str) -> list[UUID]:
    return [r[0] for r in session.execute(text("SELECT incident_id FROM incident_photo WHERE sha256 = :h"),
                                          {"h": sha256}).all()]


def not_on_case(session: Session, *, incident_id: UUID, sha256s: list[str]) -> list[str]:
    """Those of ``sha256s`` that are not photos of the case (in the order given, each once)."""
    if not sha256s:
        return []
    on_case = {r[0] for r in session.execute(text(
        "SELECT sha256 FROM incident_photo WHERE incident_id = :i AND sha256 = ANY(:h)"),
        {"i": incident_id, "h": list(sha256s)}).all()}
    return [h for h in dict.fromkeys(sha256s) if h not in on_case]
