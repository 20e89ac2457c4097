"""Test database: a throwaway PostGIS cluster of the tests' own (never the demo's data), the schema built by
the migrations, the shipped layers loaded once; each test runs in a transaction rolled back at its end."""

from __future__ import annotations

import os
import random
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_enforcement.admin.layers import install_layers
from gis_enforcement.admin.platform import Platform
from gis_enforcement.catalog.loader import load_catalog
from gis_enforcement.cli import app
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction, load_jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.settings import Settings, get_settings
from gis_enforcement.storage.cluster import LocalCluster
from gis_enforcement.storage.engine import make_engine
from gis_enforcement.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """GISE_TEST_DATABASE_URL when given (an empty database the tests may fill), else a fresh local cluster."""
    given = os.environ.get("GISE_TEST_DATABASE_URL")
    if given:
        yield given
        return
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="gise-test-")), port=random.randint(40000, 49000),
                           durable=False)
    try:
        yield cluster.ensure_running()
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction(ROOT / "data" / "boundaries")


@pytest.fixture(scope="session")
def locator(jurisdiction: Jurisdiction) -> Locator:
    return Locator.from_jurisdiction(jurisdiction)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")


@pytest.fixture(scope="session")
def loaded_engine(engine: Engine, jurisdiction: Jurisdiction) -> Engine:
    """The engine with the shipped layers committed once for the whole session."""
    with Session(engine) as session:
        install_layers(session, jurisdiction, source={"directory": "data/boundaries (tests)"})
        session.commit()
    return engine


@pytest.fixture
def db(loaded_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test (commits become savepoints)."""
    connection = loaded_engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return get_settings(database_url=database_url, data_dir=tmp_path_factory.mktemp("gise-data"))


@pytest.fixture(scope="session")
def platform(settings: Settings, loaded_engine: Engine, database_url: str) -> Platform:
    p = Platform(settings=settings, url=database_url)
    p.__dict__["engine"] = loaded_engine
    return p


@pytest.fixture(scope="session", autouse=True)
def openapi_examples() -> Iterator[None]:
    """With GISE_OPENAPI_EXAMPLES_OUT set (``make openapi-examples``), the first successful JSON answer of each API
    operation that the tests get through a TestClient is recorded and written to that file at the end: the
    examples of the API's description are real answers (``gis_enforcement/api/examples.py``)."""
    out = os.environ.get("GISE_OPENAPI_EXAMPLES_OUT")
    if not out:
        yield
        return
    import re

    from fastapi.testclient import TestClient

    from gis_enforcement.api.examples import write_examples

    captured: dict[str, dict[str, object]] = {}
    original = TestClient.request
    templates: dict[int, list[tuple[re.Pattern[str], str, str]]] = {}  # per app: (path regex, method, operation)

    def operation(app: object, method: str, path: str) -> str | None:
        """The operation of the app's description whose path template matches (the most literal one first)."""
        if id(app) not in templates:
            spec = app.openapi()  # type: ignore[attr-defined]
            found = [(re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(t)) + "$"), m.upper(),
                      op["operationId"], len(re.sub(r"{[^}]*}", "", t)))
                     for t, ops in spec["paths"].items() for m, op in ops.items()]
            templates[id(app)] = [(rx, m, op) for rx, m, op, _ in sorted(found, key=lambda f: -f[3])]
        return next((op for rx, m, op in templates[id(app)] if m == method and rx.match(path)), None)

    def request(self: TestClient, method: str, url: object, *args: object, **kwargs: object) -> object:
        r = original(self, method, url, *args, **kwargs)  # type: ignore[arg-type]
        if 200 <= r.status_code < 300 and "json" in r.headers.get("content-type", "") and hasattr(self.app, "openapi"):
            op = operation(self.app, r.request.method, r.request.url.path)
            if op is not None and op not in captured:
                captured[op] = {"status": r.status_code, "body": r.json()}
        return r

    TestClient.request = request  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        TestClient.request = original  # type: ignore[method-assign]
        write_examples(Path(out), captured)  # type: ignore[arg-type]


# -- the CLI in-process, on a database of its own in the test cluster: the CLI commits, so these tests cannot share
# the rolled-back session of the others; each module that asks gets a fresh database with the layers loaded
@pytest.fixture(scope="module")
def cli_env(engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a CLI run: a new database, and data and map folders of its own."""
    name = f"gise_cli_{uuid.uuid4().hex[:8]}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    base, query = database_url.split("?", 1)
    yield {"DATABASE_URL": base.rsplit("/", 1)[0] + f"/{name}?{query}",
           "GISE_DATA_DIR": str(tmp_path_factory.mktemp("cli-data")),
           "GISE_MAPS_DIR": str(tmp_path_factory.mktemp("cli-maps"))}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(scope="module")
def runner(cli_env: dict[str, str]) -> CliRunner:
    """A CLI runner on that database, with the shipped layers loaded."""
    r = CliRunner(env=cli_env)
    result = r.invoke(app, ["layers", "load"])
    assert result.exit_code == 0, result.output
    return r
