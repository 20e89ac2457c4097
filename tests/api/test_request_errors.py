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
