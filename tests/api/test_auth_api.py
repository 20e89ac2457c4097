"""Signing in for real: the OAuth2 password flow, refresh tokens spent once, API keys, disabled users, rate limits,
the acting user in the case record, the sign-in cookie honoured for reads only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.credentials import issue_tokens, signing_secret
from gis_enforcement.admin.platform import Platform
from gis_enforcement.admin.users import add_user, create_api_key, disable_user, reset_password, revoke_api_key
from gis_enforcement.api import create_app
from gis_enforcement.api.auth import COOKIE
from gis_enforcement.api.deps import get_session
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import AlreadyRecorded, InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.storage import user_repo
from tests.api.signin import PASSWORD, sign_in, signin_client


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    with signin_client(platform, db) as c:
        yield c


@pytest.fixture
def town(jurisdiction: Jurisdiction) -> str:
    return str(jurisdiction.villages.iloc[20]["township_code"])


@pytest.fixture
def patrol(db: Session, catalog: Catalog, town: str):  # type: ignore[no-untyped-def]
    return add_user(db, catalog=catalog, username="patrol-zhang", password=PASSWORD, role="patrol", unit=town,
                    display_name="张伟")


def feature(jurisdiction: Jurisdiction) -> dict:
    v = jurisdiction.villages.iloc[20]
    return {"type": "Feature", "id": str(uuid.uuid4()),
            "geometry": {"type": "Point", "coordinates": [v.geometry.x, v.geometry.y]},
            "properties": {"category": "ENV-01", "observed_at": "2026-05-12T22:00:00+08:00", "accuracy_m": 6}}


def test_sign_in_use_refresh_once(client: TestClient, patrol, db: Session) -> None:  # type: ignore[no-untyped-def]
    r = sign_in(client, "patrol-zhang")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["role"] == "patrol" and "incident.create" in me.json()["actions"]
    # the names a page shows in its header: the officer's, the township's (not the login and the code)
    town_name = db.execute(text("SELECT name FROM township WHERE code = :c"),
                           {"c": me.json()["unit_code"]}).scalar_one()
    assert (me.json()["display_name"], me.json()["unit_name"]) == ("张伟", town_name)
    # the stored password is an argon2id hash, never the password
    stored = db.execute(text("SELECT password_hash FROM app_user WHERE username = 'patrol-zhang'")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    as_json = client.post("/api/v1/auth/token", json={"username": "patrol-zhang", "password": PASSWORD})
    assert as_json.status_code in (400, 422) and as_json.json()["error"]["field"] == "username"
    assert "not JSON" in as_json.json()["error"]["message"] and "x-www-form-urlencoded" in as_json.json()["error"][
        "message"]
    empty = client.post("/api/v1/auth/token", data={"username": "patrol-zhang"})
    assert empty.json()["error"]["message"] == "username and password are required"
    # a refresh token gives a new pair once; the second use is refused
    again = client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                    "refresh_token": body["refresh_token"]})
    assert again.status_code == 200 and again.json()["refresh_token"] != body["refresh_token"]
    replay = client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                     "refresh_token": body["refresh_token"]})
    assert replay.status_code == 401 and replay.json()["error"]["field"] == "refresh_token"
    garbage = client.post("/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": "x.y.z"})
    assert garbage.status_code == 401 and garbage.json()["error"]["field"] == "refresh_token"
    access = client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                     "refresh_token": again.json()["access_token"]})
    assert access.json()["error"] == {"code": access.json()["error"]["code"], "message": "not a refresh token",
                                      "field": "refresh_token"}
    # an access token is not a refresh token
    wrong = client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                    "refresh_token": body["access_token"]})
    assert wrong.status_code == 401


def test_wrong_password_and_unknown_user_say_the_same(client: TestClient, patrol) -> None:  # type: ignore[no-untyped-def]
    bad = sign_in(client, "patrol-zhang", "not-the-password")
    nobody = sign_in(client, "nobody-here", "not-the-password")
    assert bad.status_code == nobody.status_code == 401
    assert bad.json() == nobody.json()
    assert bad.headers["WWW-Authenticate"] == "Bearer"
    missing = client.post("/api/v1/auth/token", data={"username": "patrol-zhang"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "password"


def test_no_credentials_expired_forged_tokens(client: TestClient, patrol, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/incidents").status_code == 401
    now = datetime.now(UTC)
    claims = {"iss": "gis_enforcement", "sub": "patrol-zhang", "role": "admin", "unit_kind": "district",
              "unit": "district", "typ": "access", "iat": now - timedelta(hours=1), "exp": now - timedelta(minutes=1)}
    expired = jwt.encode(claims, signing_secret(platform.settings), algorithm="HS256")
    r = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    forged = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, "another-secret", algorithm="HS256")
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    unsigned = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, None, algorithm="none")
    assert client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {unsigned}"}).status_code == 401


def test_disabled_users_and_reset_passwords(client: TestClient, patrol, db: Session) -> None:  # type: ignore[no-untyped-def]
    tokens = sign_in(client, "patrol-zhang").json()
    disable_user(db, username="patrol-zhang")
    assert sign_in(client, "patrol-zhang").status_code == 401
    refresh = client.post("/api/v1/auth/token", data={"grant_type": "refresh_token",
                                                      "refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    disable_user(db, username="patrol-zhang", disabled=False)
    reset_password(db, username="patrol-zhang", password="another-long-password")
    assert sign_in(client, "patrol-zhang").status_code == 401
    assert sign_in(client, "patrol-zhang", "another-long-password").status_code == 200


def test_users_are_checked(db: Session, catalog: Catalog, town: str, patrol) -> None:  # type: ignore[no-untyped-def]
    for kw, field in (({"role": "boss", "unit": town}, "role"),
                      ({"role": "township_dispatcher", "unit": "WATER"}, "unit"),
                      ({"role": "department_chief", "unit": town}, "unit"),
                      ({"role": "supervisor", "unit": town}, "unit"),
                      ({"role": "patrol", "unit": town, "password": "short"}, "password")):
        args = {"username": "someone", "password": PASSWORD, **kw}
        with pytest.raises(InvalidInput) as err:
            add_user(db, catalog=catalog, **args)
        assert err.value.field == field
    with pytest.raises(AlreadyRecorded):
        add_user(db, catalog=catalog, username="patrol-zhang", password=PASSWORD, role="patrol", unit=town)
    with pytest.raises(AlreadyRecorded) as twin:  # the same name in other letter case is the same name
        add_user(db, catalog=catalog, username="Patrol-Zhang", password=PASSWORD, role="patrol", unit=town)
    assert twin.value.field == "username" and "'patrol-zhang' exists" in twin.value.message
    chief = add_user(db, catalog=catalog, username="chief-water", password=PASSWORD, role="department_chief",
                     unit="WATER")
    assert chief.unit_kind == "department"


def test_api_keys(client: TestClient, db: Session, patrol, jurisdiction: Jurisdiction,  # type: ignore[no-untyped-def]
                  platform: Platform, monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(platform.keys, "clock", lambda: clock[0])
    ttl = platform.settings.api_key_cache_s
    assert ttl > 0
    key = create_api_key(db, username="patrol-zhang", name="区网格化平台")
    prefix = key.split("_")[1]
    assert key.startswith("gise_") and key not in str(user_repo.api_keys(db))

    def last_used() -> datetime | None:
        return db.execute(text("SELECT last_used_at FROM api_key WHERE prefix = :p"), {"p": prefix}).scalar_one()

    assert last_used() is None
    r = client.post("/api/v1/incidents", json=feature(jurisdiction), headers={"X-API-Key": key})
    assert r.status_code == 201, r.text
    first_use = last_used()
    assert first_use is not None  # proving the key recorded its use
    assert client.get("/api/v1/incidents", headers={"X-API-Key": key + "x"}).status_code == 401
    # proved keys are kept for api_key_cache_s: no second read of the store (the use is not recorded again) ...
    db.execute(text("UPDATE api_key SET last_used_at = NULL WHERE prefix = :p"), {"p": prefix})
    assert client.get("/api/v1/incidents", headers={"X-API-Key": key}).status_code == 200
    assert last_used() is None
    # ... so a revoked key still works until that time has passed, and is refused after it
    revoke_api_key(db, prefix=prefix)
    clock[0] += ttl - 1
    assert client.get("/api/v1/incidents", headers={"X-API-Key": key}).status_code == 200
    clock[0] += 2
    r = client.get("/api/v1/incidents", headers={"X-API-Key": key})
    assert r.status_code == 401 and r.json()["error"]["field"] == "X-API-Key"
    # GeoReport's own api_key parameter works on the Open311 routes only
    other = create_api_key(db, username="patrol-zhang", name="311")
    assert client.get("/open311/v2/requests.json", params={"api_key": other}).status_code == 200
    assert client.get("/open311/v2/requests.json").status_code == 401
    assert client.get("/api/v1/incidents", params={"api_key": other}).status_code == 401


def test_the_filer_and_the_actor_are_recorded(client: TestClient, patrol, db: Session, catalog: Catalog,  # type: ignore[no-untyped-def]
                                              jurisdiction: Jurisdiction, town: str, platform: Platform) -> None:
    token = sign_in(client, "patrol-zhang").json()["access_token"]
    f = feature(jurisdiction)
    r = client.post("/api/v1/incidents", json=f, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201
    assert db.execute(text("SELECT created_by FROM incident WHERE id = :id"), {"id": f["id"]}).scalar_one() == \
        "patrol-zhang"
    dispatcher = add_user(db, catalog=catalog, username="town-li", password=PASSWORD, role="township_dispatcher",
                          unit=town)
    t = issue_tokens(db, platform.settings, dispatcher).access_token
    w = client.post(f"/api/v1/incidents/{f['id']}/whistle", json={"mode": "township", "whistler": town},
                    headers={"Authorization": f"Bearer {t}"})
    assert w.status_code == 201, w.text
    actor = db.execute(text("SELECT actor FROM case_event WHERE incident_id = :id AND kind = 'whistle'"),
                       {"id": f["id"]}).scalar_one()
    assert actor == "town-li"


def test_cookie_for_reads_not_writes(client: TestClient, db: Session, catalog: Catalog, town: str,  # type: ignore[no-untyped-def]
                                     jurisdiction: Jurisdiction) -> None:
    add_user(db, catalog=catalog, username="town-wang", password=PASSWORD, role="township_dispatcher", unit=town)
    r = sign_in(client, "town-wang")
    assert COOKIE in r.cookies and "httponly" in r.headers["set-cookie"].lower()
    assert client.get("/api/v1/incidents").status_code == 200  # the cookie the client kept
    assert client.post("/api/v1/incidents", json=feature(jurisdiction)).status_code == 401


def test_sign_in_is_rate_limited(client: TestClient, patrol, platform: Platform) -> None:  # type: ignore[no-untyped-def]
    limit = platform.settings.login_attempts_per_minute
    codes = [sign_in(client, "patrol-zhang", "wrong-password-x").status_code for _ in range(limit + 2)]
    assert codes[:limit] == [401] * limit and codes[limit:] == [429, 429]
    r = sign_in(client, "patrol-zhang")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "too_many_requests"


def test_request_bodies_are_limited(platform: Platform, db: Session, patrol) -> None:  # type: ignore[no-untyped-def]
    settings = platform.settings.model_copy(update={"max_request_bytes": 2_000})
    app = create_app(settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    token = issue_tokens(db, platform.settings, patrol).access_token
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        big = b'{"type": "FeatureCollection", "features": [' + b"1," * 2_000 + b"1]}"
        r = client.post("/api/v1/incidents", content=big, headers=headers)
        assert r.status_code == 413 and r.json()["error"]["field"] == "body"

        def chunks():  # no Content-Length: counted as it is read
            for _ in range(50):
                yield b" " * 100
        r = client.post("/api/v1/incidents", content=chunks(), headers=headers)
        assert r.status_code == 413
        small = client.post("/api/v1/incidents", json={"type": "Feature"}, headers=headers)
        assert small.status_code == 422  # under the limit the route answers


def test_the_key_cache_keeps_proofs_for_its_time_and_no_more_keys_than_allowed() -> None:
    from gis_enforcement.admin.credentials import KeyCache, new_api_key
    from gis_enforcement.domain.access import Caller, Role

    clock = [0.0]
    caller = Caller("patrol-zhang", Role.PATROL, "township", "110117003")
    keys = [new_api_key()[0] for _ in range(4)]
    off = KeyCache(0.0, clock=lambda: clock[0])
    off.put(keys[0], caller)
    assert off.get(keys[0]) is None  # 0: every request reads the store
    cache = KeyCache(30.0, max_keys=3, clock=lambda: clock[0])
    cache.put(keys[0], caller)
    assert cache.get(keys[0]) == caller and cache.get(keys[1]) is None
    assert cache.get(keys[0] + "x") is None  # another key, however close
    clock[0] = 29.9
    assert cache.get(keys[0]) == caller
    clock[0] = 30.0
    assert cache.get(keys[0]) is None
    for k in keys:  # at most 3 kept: the oldest proof goes first
        cache.put(k, caller)
    assert cache.get(keys[0]) is None and all(cache.get(k) == caller for k in keys[1:])
