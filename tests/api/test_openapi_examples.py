"""The API's description carries a real example of every JSON answer (``gis_enforcement/api/examples.py``):
recorded from the API tests by ``make openapi-examples``, each still valid for its operation's response model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.examples import attach_examples, load_examples


@pytest.fixture(scope="module")
def app(platform: Platform):  # type: ignore[no-untyped-def]
    return create_app(platform.settings, platform=platform)


def test_every_operation_answering_json_shows_an_example(app) -> None:  # type: ignore[no-untyped-def]
    missing = []
    for path, operations in app.openapi()["paths"].items():
        for method, op in operations.items():
            answers = [(code, ct, media) for code, answer in op["responses"].items() if code.startswith("2")
                       for ct, media in answer.get("content", {}).items() if "json" in ct]
            if answers and not any("example" in media for _, _, media in answers):
                missing.append(f"{method.upper()} {path} ({op['operationId']})")
    assert missing == [], "run `make openapi-examples` after adding a test that calls these"


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, through the routers included in the app (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def test_every_example_is_an_answer_its_operation_can_give(app) -> None:  # type: ignore[no-untyped-def]
    routes = {r.operation_id: r for r in _api_routes(app.routes)}
    assert {"create_incidents", "ogc_items", "open311_requests"} <= set(routes)
    examples = load_examples()
    assert len(examples) >= 60
    stale = []
    for op, example in examples.items():
        route = routes.get(op)
        if route is None:
            stale.append(f"{op}: no such operation now")
            continue
        documented = {str(route.status_code or 200), *map(str, route.responses)}
        if str(example["status"]) not in documented:
            stale.append(f"{op}: status {example['status']} is not documented ({sorted(documented)})")
        if route.response_model is not None:
            try:
                TypeAdapter(route.response_model).validate_python(example["body"])
            except ValidationError as exc:
                stale.append(f"{op}: {exc.errors()[:2]}")
    assert stale == [], "re-record with `make openapi-examples`"


def test_examples_go_where_they_belong() -> None:
    spec = {"paths": {"/x": {"post": {"operationId": "make_x", "responses": {
        "201": {"content": {"application/json": {}, "application/geo+json": {}, "text/csv": {}}},
        "200": {"content": {"application/json": {}}}}}}}}
    attach_examples(spec, {"make_x": {"status": 201, "body": {"id": 1}}, "other": {"status": 200, "body": {}}})
    answer = spec["paths"]["/x"]["post"]["responses"]
    assert answer["201"]["content"]["application/json"]["example"] == {"id": 1}
    assert answer["201"]["content"]["application/geo+json"]["example"] == {"id": 1}
    assert "example" not in answer["201"]["content"]["text/csv"] and "example" not in answer["200"]["content"][
        "application/json"]
