"""Intake under load: it runs off the event loop, and the server's threads and connections are sized together."""

from __future__ import annotations

import gc
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session
from gis_enforcement.api.routers import incidents
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.settings import Settings, get_settings
from tests.api.callers import as_admin

WAIT_S = 30.0  # how long a held request waits to be let go: far beyond what a passing test needs


def feature(jurisdiction: Jurisdiction) -> dict[str, Any]:
    v = jurisdiction.villages.iloc[30]
    return {"type": "Feature", "id": str(uuid.uuid4()),
            "geometry": {"type": "Point", "coordinates": [v.geometry.x, v.geometry.y]},
            "properties": {"category": "ENV-01", "observed_at": "2026-05-12T23:40:00+08:00", "accuracy_m": 8}}


class HeldIntake:
    """Replaces the route's ``submit_one`` with one that waits until the test lets it go."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        real = incidents.submit_one

        def held(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            self.release.wait(WAIT_S)
            return real(*args, **kwargs)

        monkeypatch.setattr(incidents, "submit_one", held)

    def post_in_background(self, client: TestClient, body: dict[str, Any]) -> tuple[threading.Thread, dict]:
        result: dict[str, Any] = {}

        def send() -> None:
            result["response"] = client.post("/api/v1/incidents", json=body)

        worker = threading.Thread(target=send)
        worker.start()
        assert self.entered.wait(WAIT_S), "the POST never reached intake"
        return worker, result


def app_client(platform: Platform, db: Session) -> Callable[[], TestClient]:
    def make() -> TestClient:
        app = create_app(platform.settings, platform=platform)
        app.dependency_overrides[get_session] = lambda: db
        as_admin(app)
        return TestClient(app, raise_server_exceptions=False)
    return make


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    with app_client(platform, db)() as c:
        yield c


def test_a_slow_intake_leaves_the_event_loop_free(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                  jurisdiction: Jurisdiction) -> None:
    held = HeldIntake(monkeypatch)
    worker, result = held.post_in_background(client, feature(jurisdiction))
    try:
        health = client.get("/api/v1/health")  # answered while the POST is still inside intake
        assert health.status_code == 200 and "response" not in result
    finally:
        held.release.set()
        worker.join(WAIT_S)
    assert result["response"].status_code == 201, result["response"].text


def test_threads_connections_and_the_intake_cap_are_sized_together(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="api_threads .30. must not exceed db_pool_size"):
        get_settings(data_dir=tmp_path, api_threads=30, db_pool_size=10, db_max_overflow=10)
    with pytest.raises(ValidationError, match="intake_max_in_flight .21. must not exceed api_threads"):
        get_settings(data_dir=tmp_path, api_threads=20, db_pool_size=10, db_max_overflow=10, intake_max_in_flight=21)
    sized = get_settings(data_dir=tmp_path, api_threads=20, db_pool_size=10, db_max_overflow=10,
                         intake_max_in_flight=20)
    assert (sized.api_threads, sized.intake_max_in_flight) == (20, 20)


def test_intake_beyond_its_cap_is_refused_at_once_with_retry_after(platform: Platform, db: Session,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    jurisdiction: Jurisdiction) -> None:
    capped = Platform(settings=platform.settings.model_copy(update={"intake_max_in_flight": 1}), url=platform.url,
                      locators=platform.locators)
    capped.__dict__["engine"] = platform.engine
    held = HeldIntake(monkeypatch)
    first, second = feature(jurisdiction), feature(jurisdiction)
    with app_client(capped, db)() as client:
        worker, result = held.post_in_background(client, first)
        try:
            refused = client.post("/api/v1/incidents", json=second)
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["error"]["code"] == "overloaded"
            assert client.get("/api/v1/health").status_code == 200  # other routes are still served
        finally:
            held.release.set()
            worker.join(WAIT_S)
        assert result["response"].status_code == 201, result["response"].text
        assert client.get(f"/api/v1/incidents/{second['id']}").status_code == 404  # nothing of it was stored
        assert client.post("/api/v1/incidents", json=second).status_code == 201  # the retry lands
        assert client.post("/api/v1/incidents", json=second).status_code == 200  # the slot was given back


def test_no_free_database_connection_is_503_with_retry_after(platform: Platform, database_url: str,
                                                             tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = get_settings(database_url=database_url, data_dir=tmp_path, api_threads=1, intake_max_in_flight=1,
                            db_pool_size=1, db_max_overflow=0, db_pool_timeout_s=0.2)
    small = Platform(settings=settings, url=database_url, locators=platform.locators)
    try:
        app = create_app(settings, platform=small)
        as_admin(app)
        with TestClient(app, raise_server_exceptions=False) as client:
            taken = small.engine.connect()  # the pool's only connection
            try:
                busy = client.get("/api/v1/incidents", params={"limit": 1})
                assert busy.status_code == 503, busy.text
                assert busy.headers["Retry-After"] == "1"
                assert busy.json()["error"]["code"] == "database_busy"
            finally:
                taken.close()
            assert client.get("/api/v1/incidents", params={"limit": 1}).status_code == 200
    finally:
        small.close()


def test_start_up_takes_the_platform_out_of_the_collectors_walks(settings: Settings) -> None:
    # a full cyclic collection walks every live object: the platform's ~0.5 M of them (layers, indexes, the lists)
    # cost ~0.2 s, paid by whichever request was running; frozen at start-up they are never walked
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        with TestClient(create_app(settings)) as client:  # the app opens the platform itself, as `serve` does
            assert gc.get_freeze_count() > 100_000
            assert client.get("/api/v1/health").status_code == 200
    finally:
        gc.unfreeze()
