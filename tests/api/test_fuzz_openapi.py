"""Schemathesis against the app's own OpenAPI, signed in as each role (issue #6).

For every role the whole API is fuzzed in-process on real PostGIS (the test's rolled-back session): valid and
invalid requests generated from the published schema, a share of them aimed at seeded cases, assignments and
photos so the routes get past "not found". Every answer must be 0 server errors and conform to the schema:
a documented status, the documented content type and a body (and headers) matching the documented model.

Bounded and deterministic for CI: ``MAX_EXAMPLES`` per operation per role, Hypothesis derandomized and without
its example database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from gis_enforcement.admin.credentials import issue_tokens
from gis_enforcement.admin.platform import Platform
from gis_enforcement.admin.users import add_user
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session, get_transactions
from gis_enforcement.api.routers.dispatch import get_clock
from gis_enforcement.dispatch.photos import add_photo
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.api.test_photos_api import jpeg
from tests.dispatch.helpers import T0, new_case

#: examples per operation per role (the explicit examples of the schema come on top)
MAX_EXAMPLES = 20
PASSWORD = "fuzz-test-password-1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
ROLES = ("patrol", "township_dispatcher", "department_officer", "department_chief", "supervisor", "admin")


def _excluded(op: Any) -> str | None:
    """Why an operation is not fuzzed here, or None."""
    if op.path.startswith("/ogc"):
        return "OGC API Features is being finished in ogc.py (tests/api/test_ogc_*)"
    return None


@dataclass(frozen=True)
class Seeds:
    """Real values for path parameters, by parameter name; units to sign in with, by role."""

    path_values: dict[str, tuple[Any, ...]]
    units: dict[str, str]


@pytest.fixture
def seeds(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction, platform: Platform) -> Seeds:
    villages = jurisdiction.villages
    village = villages.iloc[20]
    town = village["township_code"]
    case = new_case(db, locator, catalog, village.geometry.x, village.geometry.y, category="MIN-02")
    other = villages[villages["township_code"] != town].iloc[0]
    quiet = new_case(db, locator, catalog, other.geometry.x, other.geometry.y, category="ENV-01")
    result = whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=town, at=T0)
    assignments = dispatch_repo.assignments_of(db, incident_id=case.id)
    photo = add_photo(db, photos_dir=platform.settings.photos_dir, incident_id=case.id, data=jpeg(), added_by=None,
                      at=T0, tz="Asia/Shanghai", max_bytes=10**7, max_pixels=10**7)
    db.commit()  # a savepoint of the test's transaction: each request's own rollback keeps the seeds
    lead = result.assignments[0].department
    cases = (str(case.id), str(quiet.id))
    return Seeds(
        path_values={
            "incident_id": cases, "request_id": cases, "token": cases,
            "department": tuple(a.department for a in assignments),
            "assignment_id": tuple(a.id for a in assignments),
            "sha256": (photo.sha256,),
            "service_code": ("MIN-02", "ENV-01"),
            "fmt": ("json", "xml"),
        },
        units={"patrol": town, "township_dispatcher": town, "department_officer": lead, "department_chief": lead,
               "supervisor": "district", "admin": "district"},
    )


@pytest.fixture
def app(platform: Platform, db: Session) -> FastAPI:
    def session() -> Iterator[Session]:
        try:
            yield db
        finally:
            db.rollback()  # as the real dependency: what a route did not commit is discarded

    @contextmanager
    def transaction() -> Iterator[Session]:
        yield db

    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = session
    app.dependency_overrides[get_transactions] = lambda: transaction
    app.dependency_overrides[get_clock] = lambda: (lambda: T0 + timedelta(minutes=20))
    return app


def _token(db: Session, platform: Platform, catalog: Catalog, role: str, unit: str) -> str:
    user = add_user(db, catalog=catalog, username=f"fuzz-{role}", password=PASSWORD, role=role, unit=unit)
    token = issue_tokens(db, platform.settings, user).access_token
    db.commit()
    return token


def _strategy(op: Any, seeds: Seeds) -> Any:
    """Valid and invalid requests, and valid ones aimed at the seeded records (when the path names any)."""
    modes = [op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE)]
    names = [p.name for p in op.path_parameters]
    if any(n in seeds.path_values for n in names):
        real = st.fixed_dictionaries({n: st.sampled_from(seeds.path_values[n]) for n in names
                                      if n in seeds.path_values})
        modes.append(real.flatmap(lambda values: op.as_strategy(GenerationMode.POSITIVE, path_parameters=values)))
    return st.one_of(modes)


def _fuzz(op: Any, strategy: Any, call: Callable[[Any], None]) -> None:
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        call(case)

    run()


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_every_operation(role: str, app: FastAPI, seeds: Seeds, db: Session, platform: Platform,
                              catalog: Catalog) -> None:
    headers = {"Authorization": f"Bearer {_token(db, platform, catalog, role, seeds.units[role])}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)

    def call(case: Any) -> None:
        if case.operation.definition.raw.get("operationId") == "stream_events":
            case.query = {**(case.query or {}), "timeout": 0.2}  # the stream ends by itself, soon
        case.call_and_validate(headers=headers, checks=CHECKS)

    failures: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        if _excluded(op):
            continue
        try:
            _fuzz(op, _strategy(op, seeds), call)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            failures.append(f"{op.label} as {role}:\n{exc}")
    assert not failures, "\n\n".join(failures)
