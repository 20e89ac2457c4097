"""The intake lane (``api.intake_lane``) answers a single-Feature POST exactly as the route does.

Two apps share one platform on a committed scratch database: one with the lane (the default), one without
(``create_app(..., intake_lane=False)``). Every request below goes to both, and the answers must match —
status, headers that matter, error code, field and message, the stored case — while a counter on the lane shows
which requests it served and which it handed to the route.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.intake_lane import IntakeLane
from gis_enforcement.api.intake_queue import IntakeQueue
from gis_enforcement.api.routers import incidents
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import IdempotencyConflict, InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.settings import get_settings
from tests.live_server import PASSWORD, add_api_caller, prepare_database, scratch_database

WAIT_S = 30.0


class Apps:
    """The same platform behind two apps: ``lane`` (the intake lane on) and ``route`` (off)."""

    def __init__(self, platform: Platform, url: str, patrol_key: str, officer_key: str) -> None:
        self.platform, self.url = platform, url
        self.patrol_key, self.officer_key = patrol_key, officer_key
        self.lane = TestClient(create_app(platform.settings, platform=platform), raise_server_exceptions=False)
        self.route = TestClient(create_app(platform.settings, platform=platform, intake_lane=False),
                                raise_server_exceptions=False)

    def stored(self, incident_id: str) -> int:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT count(*) FROM incident WHERE id = CAST(:i AS uuid)"),
                                        {"i": incident_id}).scalar_one())
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def apps(database_url: str, jurisdiction: Jurisdiction, catalog: Catalog, platform: Platform,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    with scratch_database(database_url, prefix="gise_lane") as url:
        prepare_database(url, jurisdiction=jurisdiction, source="intake lane test")
        township = str(jurisdiction.villages.iloc[30]["township_code"])
        patrol_key = add_api_caller(url, catalog=catalog, username="lane_patrol", role="patrol", unit=township)
        officer_key = add_api_caller(url, catalog=catalog, username="lane_officer", role="department_officer",
                                     unit="WATER")
        # neither limit is under test here; the sign-in limiter counts every test client's sign-ins in the
        # last minute, from tests run before these too
        settings = get_settings(database_url=url, data_dir=tmp_path_factory.mktemp("lane"),
                                intake_requests_per_minute=100_000, login_attempts_per_minute=100_000)
        shared = Platform(settings=settings, url=url, locators=platform.locators)
        apps = Apps(shared, url, patrol_key, officer_key)
        try:
            yield apps
        finally:
            queue = getattr(apps.lane.app.state, "intake_queue", None)
            if queue is not None:
                queue.stop()
            shared.close()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the Features the lane answered (the route answered the rest)."""
    seen: list[str] = []
    real = IntakeLane.handle

    async def counted(self: IntakeLane, feature: dict[str, Any], body: bytes, headers: dict[bytes, bytes]) -> Any:
        seen.append(str(feature.get("id")))
        return await real(self, feature, body, headers)

    monkeypatch.setattr(IntakeLane, "handle", counted)
    return seen


def feature(jurisdiction: Jurisdiction, **properties: Any) -> dict[str, Any]:
    v = jurisdiction.villages.iloc[30]
    return {"type": "Feature", "id": str(uuid.uuid4()),
            "geometry": {"type": "Point", "coordinates": [round(v.geometry.x + 0.001, 7), v.geometry.y]},
            "properties": {"category": "ENV-01", "observed_at": "2026-05-12T23:40:00+08:00", "accuracy_m": 8,
                           "reporter": "lane_patrol", "description": "河道边夜间有人挖砂", **properties}}


def post(client: TestClient, key: str | None, **kwargs: Any) -> httpx.Response:
    headers = {"X-API-Key": key} if key else {}
    headers.update(kwargs.pop("headers", {}))
    return client.post("/api/v1/incidents", headers=headers, **kwargs)


def same_error(a: httpx.Response, b: httpx.Response, *ids: str, timed: bool = False) -> None:
    """The same status, error and headers; ``ids`` (lane's, route's) are swapped in messages that name them;
    ``timed``: the message and Retry-After count seconds, which may tick between the two requests."""
    assert a.status_code == b.status_code, (a.text, b.text)
    ea, eb = a.json()["error"], b.json()["error"]
    if len(ids) == 2:
        ea = _swap(ea, ids[0], ids[1])
    if timed:
        ea, eb = ({k: v for k, v in e.items() if k not in ("message", "detail")} for e in (ea, eb))
    assert ea == eb
    for header in ("WWW-Authenticate", "Content-Type", *(() if timed else ("Retry-After",))):
        assert a.headers.get(header) == b.headers.get(header), header


def _swap(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k: _swap(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, old, new) for v in value]
    return value


def comparable_case(answer: httpx.Response) -> dict[str, Any]:
    """The stored case as answered, without what differs between two submissions of the same content."""
    case = copy.deepcopy(answer.json())
    case.pop("id")
    props = case["properties"]
    for key in ("received_at", "observed_at"):
        props.pop(key)
    return case


def test_a_new_case_a_replay_and_a_conflict_are_answered_alike(apps: Apps, served: list[str],
                                                               jurisdiction: Jurisdiction) -> None:
    # observed months apart, so that neither is a likely duplicate of the other or of other tests' cases
    lane_body = feature(jurisdiction, observed_at="2026-03-02T10:00:00+08:00")
    route_body = feature(jurisdiction, observed_at="2026-08-02T10:00:00+08:00")
    lane, route = post(apps.lane, apps.patrol_key, json=lane_body), post(apps.route, apps.patrol_key,
                                                                         json=route_body)
    assert (lane.status_code, route.status_code) == (201, 201), (lane.text, route.text)
    assert lane.headers["content-type"] == route.headers["content-type"] == "application/json"
    assert comparable_case(lane) == comparable_case(route)
    assert lane.json()["properties"]["township_code"] == str(jurisdiction.villages.iloc[30]["township_code"])
    assert apps.stored(lane_body["id"]) == apps.stored(route_body["id"]) == 1

    # the same id and content again: 200 with the stored case, nothing written twice
    again = post(apps.lane, apps.patrol_key, json=lane_body)
    assert again.status_code == 200 and again.json() == lane.json()
    assert post(apps.route, apps.patrol_key, json=route_body).json() == route.json()
    assert apps.stored(lane_body["id"]) == 1

    # the same id, other content: 409 naming the id
    changed = [dict(b, properties={**b["properties"], "accuracy_m": 30}) for b in (lane_body, route_body)]
    conflict = post(apps.lane, apps.patrol_key, json=changed[0]), post(apps.route, apps.patrol_key, json=changed[1])
    assert conflict[0].status_code == 409
    same_error(*conflict, lane_body["id"], route_body["id"])
    assert served == [lane_body["id"]] * 3  # the lane answered its app's three; the other app's route its own


@pytest.mark.parametrize("case", ["category", "geometry", "time", "nul", "extra", "coordinates"])
def test_bad_features_get_the_same_error(apps: Apps, served: list[str], jurisdiction: Jurisdiction,
                                         case: str) -> None:
    def make() -> dict[str, Any]:
        f = feature(jurisdiction)
        if case == "category":
            f["properties"]["category"] = "NOPE-99"
        elif case == "geometry":
            del f["geometry"]
        elif case == "time":
            f["properties"]["observed_at"] = "yesterday evening"
        elif case == "nul":
            f["properties"]["description"] = "a\x00b"
        elif case == "extra":
            f["properties"]["accuracy_m"] = "close"
        else:
            f["geometry"]["coordinates"] = [517.1, 40.2]
        return f

    sent = [make(), make()]
    lane, route = (post(c, apps.patrol_key, json=b) for c, b in zip((apps.lane, apps.route), sent, strict=True))
    assert lane.status_code == 422, lane.text
    same_error(lane, route, sent[0]["id"], sent[1]["id"])
    assert apps.stored(sent[0]["id"]) == 0
    assert served == [sent[0]["id"]]


@pytest.mark.parametrize("who", ["nobody", "bad key", "bad token", "officer", "cookie"])
def test_who_may_file_is_decided_alike(apps: Apps, served: list[str], jurisdiction: Jurisdiction,
                                       who: str) -> None:
    key = {"nobody": None, "bad key": "gise_not-a-key", "officer": apps.officer_key}.get(who)
    headers = {"Authorization": "Bearer not-a-token"} if who == "bad token" else {}
    cookies = {}
    if who == "cookie":  # a browser's sign-in cookie is for reads only
        token = apps.route.post("/api/v1/auth/token", data={"username": "lane_patrol", "password": PASSWORD})
        cookies = {"gise_access": token.json()["access_token"]}
    sent = [feature(jurisdiction), feature(jurisdiction)]
    answers = []
    for client, body in zip((apps.lane, apps.route), sent, strict=True):
        client.cookies.clear()
        client.cookies.update(cookies)
        answers.append(post(client, key, json=body, headers=headers))
        client.cookies.clear()
    assert answers[0].status_code == (403 if who == "officer" else 401), answers[0].text
    same_error(answers[0], answers[1])
    assert apps.stored(sent[0]["id"]) == 0 and served == [sent[0]["id"]]


def test_a_signed_in_patrol_files_with_a_bearer_token(apps: Apps, served: list[str],
                                                      jurisdiction: Jurisdiction) -> None:
    token = apps.route.post("/api/v1/auth/token", data={"username": "lane_patrol", "password": PASSWORD})
    body = feature(jurisdiction)
    answer = post(apps.lane, None, json=body, headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert answer.status_code == 201, answer.text
    assert served == [body["id"]] and apps.stored(body["id"]) == 1


@pytest.mark.parametrize("case", ["not json", "a list", "a batch", "text/plain", "query string", "too large"])
def test_what_is_not_one_json_feature_goes_to_the_route(apps: Apps, served: list[str],
                                                        jurisdiction: Jurisdiction, case: str) -> None:
    headers = {"Content-Type": "application/json"}
    params = {}
    if case == "not json":
        content = b'{"type": "Feature", '
    elif case == "a list":
        content = b"[1, 2]"
    elif case == "a batch":
        content = httpx.Request("POST", "/", json={"type": "FeatureCollection",
                                                   "features": [feature(jurisdiction)]}).content
    elif case == "text/plain":
        content, headers = httpx.Request("POST", "/", json=feature(jurisdiction)).content, {"Content-Type":
                                                                                           "text/plain"}
    elif case == "query string":
        content, params = httpx.Request("POST", "/", json=feature(jurisdiction)).content, {"note": "x"}
    else:
        content = b'{"type": "Feature", "pad": "' + b"x" * apps.platform.settings.max_request_bytes + b'"}'
    answers = [post(client, apps.patrol_key, content=content, headers=headers, params=params)
               for client in (apps.lane, apps.route)]
    if case != "query string":
        assert answers[0].status_code == answers[1].status_code, (answers[0].text, answers[1].text)
    if case == "a batch":  # the first app stored it; the second found it stored
        assert [a.json()["accepted"] for a in answers] == [1, 0], answers[0].text
        assert answers[1].json()["already_stored"] == 1
    elif case == "query string":  # the same Feature twice: stored, then found stored
        assert [a.status_code for a in answers] == [201, 200], answers[0].text
    else:
        assert answers[0].status_code == {"too large": 413}.get(case, 422), answers[0].text
        assert answers[0].json() == answers[1].json()
    assert served == []


def test_over_the_rate_limit_and_over_the_cap_alike(apps: Apps, served: list[str], jurisdiction: Jurisdiction,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # the intake cap: one place, held by a submission the test keeps inside intake
    monkeypatch.setattr(apps.platform, "settings", apps.platform.settings.model_copy(
        update={"intake_max_in_flight": 1, "intake_queue_limit": 1, "intake_requests_per_minute": 3}))
    entered, release = threading.Event(), threading.Event()
    real = incidents.submit_one

    def held(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(WAIT_S)
        return real(*args, **kwargs)

    monkeypatch.setattr(incidents, "submit_one", held)
    first = feature(jurisdiction)
    result: dict[str, httpx.Response] = {}
    worker = threading.Thread(target=lambda: result.update(r=post(apps.lane, apps.patrol_key, json=first)))
    worker.start()
    try:
        assert entered.wait(WAIT_S), "the POST never reached intake"
        busy = [post(apps.lane, apps.patrol_key, json=feature(jurisdiction))]
        # the route's app has a cap of its own: hold its place the same way
        with incidents.intake_limit(apps.route.app).slot("test"):
            busy.append(post(apps.route, apps.patrol_key, json=feature(jurisdiction)))
    finally:
        release.set()
        worker.join(WAIT_S)
    assert result["r"].status_code == 201, result["r"].text
    assert busy[0].status_code == 503
    same_error(busy[0], busy[1])
    monkeypatch.setattr(incidents, "submit_one", real)

    # the rate limit (3 a minute, per user, shared by both apps of this process): one used above
    codes = [post(c, apps.patrol_key, json=feature(jurisdiction)).status_code
             for c in (apps.lane, apps.lane, apps.route)]
    assert codes == [201, 201, 429], codes
    over = post(apps.lane, apps.patrol_key, json=feature(jurisdiction))
    route_over = post(apps.route, apps.patrol_key, json=feature(jurisdiction))
    same_error(over, route_over, timed=True)
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert len(served) == 5  # first, the busy one, two filed and one refused by rate


def test_the_lane_stands_aside_when_the_session_is_overridden(apps: Apps, served: list[str],
                                                              jurisdiction: Jurisdiction) -> None:
    from gis_enforcement.api.deps import get_session

    app = create_app(apps.platform.settings, platform=apps.platform)
    opened: list[Any] = []

    def session() -> Iterator[Any]:
        with apps.platform.sessions() as s:
            opened.append(s)
            yield s

    app.dependency_overrides[get_session] = session
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = post(client, apps.patrol_key, json=feature(jurisdiction))
    assert answer.status_code == 201 and len(opened) == 1 and served == []


def _patrol(jurisdiction: Jurisdiction) -> Caller:
    return Caller(username="lane_patrol", role=Role.PATROL, unit_kind="township",
                  unit_code=str(jurisdiction.villages.iloc[30]["township_code"]), via="api_key")


class Gate:
    """Holds the intake thread inside its first submission until the test opens the gate, so that what is sent
    meanwhile queues up and is taken as one group."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fail_on: str | None = None) -> None:
        self.entered, self.open = threading.Event(), threading.Event()
        real = incidents.submit_one

        def gated(session: Any, feature: Any, **kwargs: Any) -> Any:
            if not self.entered.is_set():
                self.entered.set()
                self.open.wait(WAIT_S)
            if feature.get("id") == fail_on:  # a statement that fails the whole transaction
                session.execute(text("SELECT 1 / 0"))
            return real(session, feature, **kwargs)

        monkeypatch.setattr(incidents, "submit_one", gated)


async def _take_all(queue: IntakeQueue, gate: Gate, first: dict[str, Any], rest: list[dict[str, Any]],
                    caller: Caller) -> list[Any]:
    held = asyncio.ensure_future(queue.take(first, caller))
    await asyncio.get_running_loop().run_in_executor(None, gate.entered.wait, WAIT_S)
    others = [asyncio.ensure_future(queue.take(f, caller)) for f in rest]
    await asyncio.sleep(0.05)
    gate.open.set()
    return await asyncio.gather(held, *others, return_exceptions=True)


def test_a_burst_is_taken_as_one_group_each_answered_as_alone(apps: Apps, jurisdiction: Jurisdiction,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(monkeypatch)
    queue = IntakeQueue(apps.platform)
    try:
        first, good = feature(jurisdiction), feature(jurisdiction, observed_at="2026-06-01T08:00:00+08:00")
        bad = feature(jurisdiction, category="NOPE-99")
        replay = copy.deepcopy(good)  # the same id and content, in the same group: found stored, 200
        changed = dict(good, properties={**good["properties"], "accuracy_m": 40})  # the same id, other content
        answers = asyncio.run(_take_all(queue, gate, first, [good, bad, replay, changed], _patrol(jurisdiction)))
    finally:
        queue.stop()
    assert queue.stats.groups == 2 and queue.stats.largest_group == 4  # the held one, then the four together
    assert [getattr(a, "status_code", None) for a in answers[:2]] == [201, 201]
    assert isinstance(answers[2], InvalidInput) and answers[2].field == "category"
    assert answers[3].status_code == 200 and json.loads(answers[3].body) == json.loads(answers[1].body)
    assert isinstance(answers[4], IdempotencyConflict)
    assert [apps.stored(f["id"]) for f in (first, good, bad)] == [1, 1, 0]


def test_a_group_whose_transaction_fails_is_taken_again_one_by_one(apps: Apps, jurisdiction: Jurisdiction,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    broken = feature(jurisdiction)
    gate = Gate(monkeypatch, fail_on=broken["id"])
    queue = IntakeQueue(apps.platform)
    try:
        first = feature(jurisdiction)
        rest = [feature(jurisdiction), broken, feature(jurisdiction)]
        answers = asyncio.run(_take_all(queue, gate, first, rest, _patrol(jurisdiction)))
    finally:
        queue.stop()
    assert queue.stats.retried_groups == 1
    assert [getattr(a, "status_code", None) for a in answers] == [201, 201, None, 201]
    assert isinstance(answers[2], DBAPIError)  # its own error (the route answers it 500), the others stored
    assert [apps.stored(f["id"]) for f in (first, *rest)] == [1, 1, 0, 1]


def test_stopping_takes_what_is_queued_first(apps: Apps, jurisdiction: Jurisdiction,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(monkeypatch)
    queue = IntakeQueue(apps.platform)
    sent = [feature(jurisdiction) for _ in range(3)]

    async def run() -> list[Any]:
        held = asyncio.ensure_future(queue.take(sent[0], _patrol(jurisdiction)))
        await asyncio.get_running_loop().run_in_executor(None, gate.entered.wait, WAIT_S)
        others = [asyncio.ensure_future(queue.take(f, _patrol(jurisdiction))) for f in sent[1:]]
        await asyncio.sleep(0.05)
        stopping = asyncio.get_running_loop().run_in_executor(None, queue.stop)
        await asyncio.sleep(0.05)
        gate.open.set()
        await stopping
        return await asyncio.gather(held, *others)

    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [201, 201, 201] and not queue.running


def test_a_connection_lost_between_groups_costs_no_submission(apps: Apps, jurisdiction: Jurisdiction) -> None:
    queue = IntakeQueue(apps.platform)
    caller = _patrol(jurisdiction)
    sent = [feature(jurisdiction) for _ in range(2)]
    try:
        first = asyncio.run(queue.take(sent[0], caller))
        engine = create_engine(apps.url)  # the server restarting, as far as the queue's connection can tell
        try:
            with engine.connect() as conn:
                ended = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                assert ended.scalar_one() >= 1
        finally:
            engine.dispose()
        second = asyncio.run(queue.take(sent[1], caller))
    finally:
        queue.stop()
    assert (first.status_code, second.status_code) == (201, 201)
    assert queue.stats.retried_groups == 1  # the group of one failed on the lost connection, then went through
    assert [apps.stored(f["id"]) for f in sent] == [1, 1]
