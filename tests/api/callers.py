"""Callers for API tests that are about something else than access: the admin (every action, district-wide)
stands in for the signed-in user. Access itself is tested with real sign-in in test_auth_api.py and
test_access_matrix.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from gis_enforcement.domain.access import Caller, Role

ADMIN = Caller("test-admin", Role.ADMIN, "district", "district")


def as_admin(app) -> None:  # type: ignore[no-untyped-def]
    from gis_enforcement.api.auth import get_caller

    app.dependency_overrides[get_caller] = lambda: ADMIN


class SwitchedClient:
    """A test client of the app on the test's session whose caller (and clock) the test sets per request, for
    the scope tests of lists and reads (no sign-in: the caller is put in place of the authenticated one)."""

    def __init__(self, client: Any, now: datetime) -> None:
        self.client = client
        self.caller = ADMIN
        self.now = now

    def call(self, method: str, path: str, caller: Caller, **kwargs: Any) -> Any:
        self.caller = caller
        return self.client.request(method, path, **kwargs)


S = TypeVar("S", bound=SwitchedClient)


@contextmanager
def switched_client(platform: Any, db: Any, now: datetime, cls: type[S]) -> Iterator[S]:
    """The app on ``db`` served by a ``cls`` (a :class:`SwitchedClient` with the test's own shortcuts)."""
    from fastapi.testclient import TestClient

    from gis_enforcement.api import create_app
    from gis_enforcement.api.auth import get_caller
    from gis_enforcement.api.deps import get_session
    from gis_enforcement.api.routers.dispatch import get_clock

    app = create_app(platform.settings, platform=platform)
    with TestClient(app, raise_server_exceptions=False) as c:
        switched = cls(c, now)
        app.dependency_overrides[get_session] = lambda: db
        app.dependency_overrides[get_caller] = lambda: switched.caller
        app.dependency_overrides[get_clock] = lambda: (lambda: switched.now)
        yield switched
