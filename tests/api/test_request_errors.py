"""A request body the API cannot read is refused as the body's fault, in words a client author can act on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("content, content_type, reason", [
    (b'{"url": "http://x", ', "application/json", "not valid JSON: "),
    (b"url=http://x&secret=s", "text/plain", "the body must be a JSON object, sent as Content-Type: application/json"),
    (b"url=http://x&secret=s", "application/x-www-form-urlencoded",
     "the body must be a JSON object, sent as Content-Type: application/json"),
])
def test_a_body_that_is_not_json_is_named_as_the_body(client: TestClient, content: bytes, content_type: str,
                                                      reason: str) -> None:
    r = client.post("/api/v1/webhooks", content=content, headers={"Content-Type": content_type})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "body" and error["message"].startswith(reason)
    assert error["detail"]["errors"][0] == {"field": "body", "reason": error["message"]}


def test_a_field_of_a_json_body_is_still_named_by_its_path(client: TestClient) -> None:
    r = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "secret": 5})
    assert r.status_code == 422 and r.json()["error"]["field"] == "secret"


def test_a_bound_is_told_by_its_kind_and_limit_beside_the_english_words(client: TestClient) -> None:
    """A page words a refusal in its own language from ``kind`` (pydantic's error type) and ``limit``; the
    English message stays as it was."""
    error = client.get("/api/v1/incidents", params={"limit": 2000}).json()["error"]
    assert error["field"] == "limit" and error["message"] == "Input should be less than or equal to 1000"
    assert error["detail"]["kind"] == "less_than_equal" and error["detail"]["limit"] == 1000
    assert error["detail"]["errors"][0] == {"field": "limit", "reason": error["message"],
                                            "kind": "less_than_equal", "limit": 1000}
    error = client.get("/api/v1/incidents", params={"limit": 0}).json()["error"]
    assert (error["detail"]["kind"], error["detail"]["limit"]) == ("greater_than_equal", 1)


def test_a_short_string_and_a_missing_field_carry_their_kinds(client: TestClient) -> None:
    r = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "secret": "short"})
    error = r.json()["error"]
    assert r.status_code == 422 and error["field"] == "secret"
    assert error["detail"]["kind"] == "string_too_short" and error["detail"]["limit"] == 16
    error = client.post("/api/v1/webhooks", json={"secret": "a-long-shared-secret"}).json()["error"]
    assert error["field"] == "url" and error["detail"]["kind"] == "missing" and "limit" not in error["detail"]


@pytest.mark.parametrize("path", ["/nonexistent", "/open311/", "/api/v1/nowhere"])
def test_an_unknown_path_is_refused_in_the_platforms_shape(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": f"no such path: {path}", "field": "path"}}


def test_a_method_the_path_does_not_take_is_refused_in_the_platforms_shape(client: TestClient) -> None:
    r = client.delete("/api/v1/webhooks")
    assert r.status_code == 405 and r.headers["allow"]
    assert r.json() == {"error": {"code": "method_not_allowed", "message": "/api/v1/webhooks does not take DELETE",
                                  "field": "method"}}
