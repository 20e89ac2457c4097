"""What the API test modules share: a client of the app on the test's rolled-back session, signed in as an admin.

A module that needs more (a clock it moves, a caller of another role, stored data first) defines its own
``client``, which takes precedence over this one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session
from tests.api.callers import as_admin


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    """The app on the test's session, every request made as an admin; server errors answered, not raised."""
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
