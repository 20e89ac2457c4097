"""Credentials: passwords (argon2), API keys for machine clients, and the signed tokens of a signed-in user.

- Passwords are hashed with argon2id (``argon2-cffi``'s defaults), re-hashed on sign-in when the parameters
  change. A sign-in with a wrong password and one with an unknown user cost the same and say the same thing.
- An API key is ``gise_<prefix>_<secret>``: the 12-character prefix finds it, the SHA-256 of the whole key
  proves it (the key has 192 random bits, so a fast hash is enough); only the hash is stored. Proving a key
  records its last use. A server keeps the keys it proved for ``api_key_cache_s`` (:class:`KeyCache`), so a
  machine client sending many requests a second costs one database read per key per interval, not one per
  request; a key revoked or a user disabled is refused at the latest that long after.
- Access tokens are JWTs (HS256) naming the user, role and unit, valid for ``access_token_minutes``; refresh
  tokens are JWTs with an id that the store spends once (``refresh_token``): using one gives a new pair.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gis_enforcement.domain.access import Caller, Role, UserRecord
from gis_enforcement.domain.wording import with_article
from gis_enforcement.errors import Unauthenticated
from gis_enforcement.settings import Settings
from gis_enforcement.storage import Session, user_repo

__all__ = ["KeyCache", "TokenPair", "authenticate_key", "authenticate_password", "caller_from_token", "hash_password",
           "issue_tokens", "new_api_key", "refresh", "signing_secret"]

_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not a password of anyone")
_ALGORITHM = "HS256"
_ISSUER = "gis_enforcement"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


_SECRETS: dict[Path, str] = {}  # secret files already read, by path (they never change once written)


def signing_secret(settings: Settings) -> str:
    """GISE_JWT_SECRET, else the secret kept in DATA_DIR/jwt_secret (made on first use, mode 0600)."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = Path(settings.data_dir) / "jwt_secret"
    known = _SECRETS.get(path)
    if known is not None and path.exists():  # every request checks a token: read the file once
        return known
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it a moment ago
            pass
        else:
            try:
                os.write(fd, secrets.token_urlsafe(48).encode())
            finally:
                os.close(fd)
    secret = _SECRETS[path] = path.read_text().strip()
    return secret


def authenticate_password(session: Session, *, username: str, password: str) -> UserRecord:
    """The user whose password this is; Unauthenticated (the same message) for a wrong name or password or a
    disabled user."""
    found = user_repo.password_hash(session, username=username)
    stored = found[1] if found else _DUMMY
    try:
        _HASHER.verify(stored, password)
        ok = found is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or found is None or found[0].disabled:
        raise Unauthenticated("wrong user name or password", field="password")
    user = found[0]
    if _HASHER.check_needs_rehash(stored):
        user_repo.set_password(session, username=user.username, password_hash=hash_password(password))
    return user


def new_api_key() -> tuple[str, str, str]:
    """A fresh key: (the key to hand out once, its prefix, its hash)."""
    prefix = secrets.token_hex(6)
    key = f"gise_{prefix}_{secrets.token_urlsafe(24)}"
    return key, prefix, _key_hash(key)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def authenticate_key(session: Session, *, key: str, at: datetime | None = None) -> Caller:
    """The caller an API key stands for, recording the key's use (``at``, default now); Unauthenticated when it
    is malformed, unknown, revoked or its user is disabled."""
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "gise":
        raise Unauthenticated("not an API key of this platform", field="X-API-Key")
    found = user_repo.api_key(session, prefix=parts[1])
    if found is None or not hmac.compare_digest(found[1], _key_hash(key)) or found[2] or found[0].disabled:
        raise Unauthenticated("unknown or revoked API key", field="X-API-Key")
    user_repo.touch_api_key(session, prefix=parts[1], at=at or datetime.now(UTC))
    return found[0].caller(via="api_key")


class KeyCache:
    """The API keys a server proved in the last ``ttl_s`` seconds, by the SHA-256 of the key, with the caller
    each stands for. ``ttl_s`` 0 keeps nothing (every request reads the store). At most ``max_keys`` are kept;
    when full, the oldest proofs are forgotten first. Safe to share between threads."""

    def __init__(self, ttl_s: float, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self.clock = clock
        self._proved: dict[str, tuple[Caller, float]] = {}  # insertion order = order proved
        self._lock = threading.Lock()

    def get(self, key: str) -> Caller | None:
        """The caller of ``key`` if it was proved less than ``ttl_s`` ago."""
        entry = self._proved.get(_key_hash(key))
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def put(self, key: str, caller: Caller) -> None:
        """Remember that ``key`` was just proved to stand for ``caller``."""
        if self.ttl_s <= 0:
            return
        digest = _key_hash(key)
        with self._lock:
            self._proved.pop(digest, None)
            self._proved[digest] = (caller, self.clock() + self.ttl_s)
            while len(self._proved) > self.max_keys:
                del self._proved[next(iter(self._proved))]

    def clear(self) -> None:
        with self._lock:
            self._proved.clear()


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    token_type: str = "bearer"


def issue_tokens(session: Session, settings: Settings, user: UserRecord, *, at: datetime | None = None) -> TokenPair:
    """A new access token and a new (stored, single-use) refresh token for ``user``."""
    now = at or datetime.now(UTC)
    secret = signing_secret(settings)
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    claims = {"iss": _ISSUER, "sub": user.username, "role": user.role.value, "unit_kind": user.unit_kind,
              "unit": user.unit_code, "typ": "access", "iat": now, "exp": now + access_ttl}
    if user.team_township is not None:
        claims["team_township"] = user.team_township
    access = jwt.encode(claims, secret, algorithm=_ALGORITHM)
    jti = uuid.uuid4().hex
    expires = now + timedelta(hours=settings.refresh_token_hours)
    user_repo.insert_refresh_token(session, jti=jti, user_id=user.id, issued_at=now, expires_at=expires)
    refresh_token = jwt.encode({"iss": _ISSUER, "sub": user.username, "typ": "refresh", "jti": jti, "iat": now,
                                "exp": expires}, secret, algorithm=_ALGORITHM)
    return TokenPair(access, refresh_token, int(access_ttl.total_seconds()))


def _decode(token: str, settings: Settings, typ: str, *, field: str = "Authorization") -> dict[str, Any]:
    """The claims of a token of type ``typ``; Unauthenticated naming ``field``, where the token was sent."""
    try:
        claims: dict[str, Any] = jwt.decode(token, signing_secret(settings), algorithms=[_ALGORITHM],
                                            issuer=_ISSUER, options={"require": ["exp", "sub", "typ"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired: sign in again or refresh", field=field) from None
    except jwt.PyJWTError:
        raise Unauthenticated("not a valid token", field=field) from None
    if claims.get("typ") != typ:
        raise Unauthenticated(f"not {with_article(typ)} token", field=field)
    return claims


def caller_from_token(token: str, settings: Settings) -> Caller:
    """The caller an access token names (no database read: roles change take effect at the next sign-in or
    refresh, at most ``access_token_minutes`` later)."""
    claims = _decode(token, settings, "access")
    try:
        team = claims.get("team_township")
        return Caller(str(claims["sub"]), Role(claims["role"]), str(claims["unit_kind"]), str(claims["unit"]),
                      team_township=None if team is None else str(team))
    except (KeyError, ValueError):
        raise Unauthenticated("not a valid token", field="Authorization") from None


def refresh(session: Session, settings: Settings, *, token: str, at: datetime | None = None) -> TokenPair:
    """Spend a refresh token for a new pair; a token used twice, expired, or of a disabled user is refused."""
    now = at or datetime.now(UTC)
    claims = _decode(token, settings, "refresh", field="refresh_token")
    user_id = user_repo.use_refresh_token(session, jti=str(claims.get("jti", "")), at=now)
    user = user_repo.user_by_id(session, user_id=user_id) if user_id is not None else None
    if user is None or user.disabled or user.username != claims["sub"]:
        raise Unauthenticated("this refresh token was used, revoked or has expired: sign in again",
                              field="refresh_token")
    return issue_tokens(session, settings, user, at=now)
