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
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.api.callers import as_admin
from tests.dispatch.helpers import new_case


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    """The app on the test's session, every request made as an admin; server errors answered, not raised."""
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def mining_township(db: Session, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog) -> str:
    """The code of the township with the most villages, with one open MIN-02 (sand extraction) case at its
    first village: something a joint operation there can plan for."""
    v = jurisdiction.villages
    code = str(v["township_code"].value_counts().index[0])
    p = v[v["township_code"] == code].geometry.iloc[0]
    new_case(db, locator, catalog, p.x, p.y, category="MIN-02")
    return code
