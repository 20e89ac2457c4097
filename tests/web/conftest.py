"""The pages in a real browser (Debian Chromium driven by Playwright) against a live server on loopback, on
a scratch database with committed users: a patrol, the township's dispatcher, an officer and a chief of the
lead department and a district supervisor. Screenshots of each step go to ``GISE_ARTIFACTS`` (default
``test-artifacts/web``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from gis_enforcement.admin.users import add_user
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.storage.engine import make_engine
from tests.browser import chromium
from tests.live_server import LiveServer, prepare_database, scratch_database

PASSWORD = "pages-test-secret-1"
#: the case of the browser tests: a polluting workshop (its general rule names a lead department)
CATEGORY = "ENV-01"


@dataclass(frozen=True)
class Site:
    base_url: str
    database_url: str
    township: str
    township_name: str
    neighbour: str
    department: str
    point: tuple[float, float]   # lon, lat of a village of the township (WGS84)
    users: dict[str, str]        # role → user name
    maps_dir: Path               # the server's MAPS_DIR

    def token(self, role: str) -> str:
        r = httpx.post(f"{self.base_url}/api/v1/auth/token",
                       data={"username": self.users[role], "password": PASSWORD}, timeout=10)
        r.raise_for_status()
        return str(r.json()["access_token"])

    def client(self, role: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token(role)}"},
                            timeout=30)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(os.environ.get("GISE_ARTIFACTS", "test-artifacts/web"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(database_url: str, jurisdiction: Jurisdiction, catalog: Catalog,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    village = jurisdiction.villages.iloc[20]
    township = str(village["township_code"])
    towns = jurisdiction.townships
    name = str(towns.loc[towns["code"] == township, "name"].iloc[0])
    neighbour = str(towns.loc[towns["code"] != township, "code"].iloc[0])
    lead = _general_lead(catalog)
    users = {"patrol": "patrol_li", "township_dispatcher": "dispatch_wang", "department_officer": "officer_zhao",
             "department_chief": "chief_sun", "supervisor": "supervisor_chen"}
    units = {"patrol": township, "township_dispatcher": township, "department_officer": lead,
             "department_chief": lead, "supervisor": "district"}
    with scratch_database(database_url, prefix="gise_web") as url:
        prepare_database(url, jurisdiction=jurisdiction, source="browser tests")
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                for role, username in users.items():
                    add_user(session, catalog=catalog, username=username, password=PASSWORD, role=role,
                             unit=units[role], display_name=username)
                session.commit()
        finally:
            engine.dispose()
        workdir = tmp_path_factory.mktemp("web-server")
        # some twenty-five sign-ins, several as one user, can fall within a minute on a fast host: the sign-in
        # limit (tested in tests/api/test_auth_api.py) is lifted here so it never decides a page test
        with LiveServer(url, workdir, env={"GISE_LOGIN_ATTEMPTS_PER_MINUTE": "10000"}) as server:
            yield Site(base_url=server.base_url, database_url=url, township=township, township_name=name,
                       neighbour=neighbour, department=lead,
                       point=(float(village.geometry.x), float(village.geometry.y)), users=users,
                       maps_dir=workdir / "maps")


def _general_lead(catalog: Catalog) -> str:
    rules = [r for r in catalog.rules if r.category == CATEGORY and r.zone_kind is None]
    return rules[0].lead


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


class ConsoleErrors(list[str]):
    """Console errors and uncaught exceptions of the pages it watches."""

    def watch(self, page: Any) -> Any:
        page.on("console", lambda m: self.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.append(f"{page.url}: {e}"))
        return page


def sign_in(page: Any, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin button[type=submit]")
