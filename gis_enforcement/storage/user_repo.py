"""Users, API keys and refresh tokens; the facts about a case the access rules need. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.access import CaseFacts, Role, UserRecord

_USER = "id, username, display_name, role, unit_kind, unit_code, disabled, team_township"


def _user(row: Any) -> UserRecord:
    return UserRecord(id=int(row.id), username=row.username, display_name=row.display_name, role=Role(row.role),
                      unit_kind=row.unit_kind, unit_code=row.unit_code, disabled=bool(row.disabled),
                      team_township=row.team_township)


def insert_user(session: Session, *, username: str, display_name: str | None, role: str, unit_kind: str,
                unit_code: str, password_hash: str, team_township: str | None = None) -> UserRecord:
    row = session.execute(text(
        "INSERT INTO app_user (username, display_name, role, unit_kind, unit_code, password_hash, team_township) "
        f"VALUES (:u, :d, :r, :k, :c, :h, :t) ON CONFLICT (username) DO NOTHING RETURNING {_USER}"),
        {"u": username, "d": display_name, "r": role, "k": unit_kind, "c": unit_code, "h": password_hash,
         "t": team_township}).first()
    return None if row is None else _user(row)  # type: ignore[return-value]


def name_taken(session: Session, *, username: str) -> str | None:
    """The stored user name that is ``username`` but for letter case, if any."""
    return session.execute(text("SELECT username FROM app_user WHERE lower(username) = lower(:u) LIMIT 1"),
                           {"u": username}).scalar_one_or_none()


def get_user(session: Session, *, username: str) -> UserRecord | None:
    row = session.execute(text(f"SELECT {_USER} FROM app_user WHERE username = :u"), {"u": username}).first()
    return None if row is None else _user(row)


def user_by_id(session: Session, *, user_id: int) -> UserRecord | None:
    row = session.execute(text(f"SELECT {_USER} FROM app_user WHERE id = :i"), {"i": user_id}).first()
    return None if row is None else _user(row)


def password_hash(session: Session, *, username: str) -> tuple[UserRecord, str] | None:
    row = session.execute(text(f"SELECT {_USER}, password_hash FROM app_user WHERE username = :u"),
                          {"u": username}).first()
    return None if row is None else (_user(row), str(row.password_hash))


def list_users(session: Session) -> list[UserRecord]:
    return [_user(r) for r in session.execute(text(f"SELECT {_USER} FROM app_user ORDER BY username")).all()]


def set_disabled(session: Session, *, username: str, disabled: bool) -> bool:
    n = session.execute(text("UPDATE app_user SET disabled = :d, updated_at = now() WHERE username = :u"),
                        {"d": disabled, "u": username}).rowcount  # type: ignore[attr-defined]
    return bool(n)


def set_password(session: Session, *, username: str, password_hash: str) -> bool:
    n = session.execute(text("UPDATE app_user SET password_hash = :h, updated_at = now() WHERE username = :u"),
                        {"h": password_hash, "u": username}).rowcount  # type: ignore[attr-defined]
    return bool(n)


def forget_refresh_tokens(session: Session, *, user_id: int, at: datetime) -> None:
    """Mark every unused refresh token of the user used (after a password reset or disabling)."""
    session.execute(text("UPDATE refresh_token SET used_at = :t WHERE user_id = :u AND used_at IS NULL"),
                    {"t": at, "u": user_id})


def insert_api_key(session: Session, *, user_id: int, name: str, prefix: str, key_hash: str) -> None:
    session.execute(text("INSERT INTO api_key (user_id, name, prefix, key_hash) VALUES (:u, :n, :p, :h)"),
                    {"u": user_id, "n": name, "p": prefix, "h": key_hash})


def api_key(session: Session, *, prefix: str) -> tuple[UserRecord, str, bool] | None:
    """The key's user, its hash and whether it was revoked."""
    row = session.execute(text(
        f"SELECT {', '.join('u.' + c.strip() for c in _USER.split(','))}, k.key_hash, k.revoked_at IS NOT NULL "
        "AS revoked FROM api_key k JOIN app_user u ON u.id = k.user_id WHERE k.prefix = :p"), {"p": prefix}).first()
    return None if row is None else (_user(row), str(row.key_hash), bool(row.revoked))


def revoke_api_key(session: Session, *, prefix: str, at: datetime) -> bool:
    n = session.execute(text("UPDATE api_key SET revoked_at = :t WHERE prefix = :p AND revoked_at IS NULL"),
                        {"t": at, "p": prefix}).rowcount  # type: ignore[attr-defined]
    return bool(n)


def api_keys(session: Session, *, username: str | None = None) -> list[dict[str, Any]]:
    rows = session.execute(text(
        "SELECT u.username, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked_at FROM api_key k "
        "JOIN app_user u ON u.id = k.user_id WHERE (CAST(:u AS text) IS NULL OR u.username = :u) "
        "ORDER BY u.username, k.created_at"), {"u": username}).mappings().all()
    return [dict(r) for r in rows]


def touch_api_key(session: Session, *, prefix: str, at: datetime) -> None:
    session.execute(text("UPDATE api_key SET last_used_at = :t WHERE prefix = :p"), {"t": at, "p": prefix})


def insert_refresh_token(session: Session, *, jti: str, user_id: int, issued_at: datetime,
                         expires_at: datetime) -> None:
    session.execute(text("INSERT INTO refresh_token (jti, user_id, issued_at, expires_at) VALUES (:j, :u, :i, :e)"),
                    {"j": jti, "u": user_id, "i": issued_at, "e": expires_at})


def use_refresh_token(session: Session, *, jti: str, at: datetime) -> int | None:
    """Spend a refresh token once: its user id, or None when unknown, used before or expired."""
    row = session.execute(text(
        "UPDATE refresh_token SET used_at = :t WHERE jti = :j AND used_at IS NULL AND expires_at > :t "
        "RETURNING user_id"), {"t": at, "j": jti}).first()
    return None if row is None else int(row[0])


def case_facts(session: Session, *, incident_id: UUID) -> CaseFacts | None:
    """The case's township, the townships whose border it is near, the departments summoned (and the township
    each was summoned for), its filer."""
    row = session.execute(text(
        "SELECT i.township_code, i.border_townships, i.created_by, "
        "ARRAY(SELECT a.department FROM assignment a WHERE a.incident_id = i.id ORDER BY a.department) AS depts, "
        "ARRAY(SELECT a.township_code FROM assignment a WHERE a.incident_id = i.id ORDER BY a.department) AS towns "
        "FROM incident i WHERE i.id = :id"), {"id": incident_id}).first()
    if row is None:
        return None
    depts = tuple(row.depts or ())
    return CaseFacts(township_code=row.township_code, border_townships=tuple(row.border_townships or ()),
                     departments=depts, created_by=row.created_by,
                     summoned=tuple(zip(depts, row.towns or (), strict=True)))


def township_names(session: Session) -> dict[str, str]:
    """Township code → name, for checking the unit a user is given."""
    return {r[0]: r[1] for r in session.execute(text("SELECT code, name FROM township ORDER BY code")).all()}
