"""An app for tests that sign in for real (password flow, tokens, API keys) on the test's session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.auth import _limiters
from gis_enforcement.api.deps import get_session, get_transactions

#: the password the sign-in tests give their users
PASSWORD = "a-long-test-password"


@contextmanager
def signin_client(platform: Platform, db: Session) -> Iterator[TestClient]:
    """A client of the app with fresh rate limits and an empty API-key cache, whose requests use ``db``."""
    for limiter in _limiters.values():
        limiter.reset()
    platform.keys.clear()

    @contextmanager
    def transaction() -> Iterator[Session]:  # an API key is proved in a transaction of its own: share the test's
        yield db

    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_transactions] = lambda: transaction
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            yield c
    finally:
        platform.keys.clear()


def sign_in(client: TestClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """The answer to a password sign-in (the OAuth2 password flow)."""
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})
