"""Exception handlers: domain errors through the one status table; request validation named by field."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from gis_enforcement.errors import EnforcementError, http_status

log = logging.getLogger(__name__)


#: OGC API – Features answers an invalid parameter with 400 (/req/core/query-param-invalid); the rest of the API
#: says 422 for a request it understood but cannot accept
_BAD_REQUEST_PREFIXES = ("/ogc",)


def _invalid_status(request: Request) -> int:
    return 400 if request.url.path.startswith(_BAD_REQUEST_PREFIXES) else 422


def _enforcement_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EnforcementError)
    return error_response(exc, request.url.path)


def error_response(exc: EnforcementError, path: str) -> JSONResponse:
    """The answer to a domain error on ``path``: its status from the one table, its code, field and message."""
    status = http_status(exc)
    if status == 422 and path.startswith(_BAD_REQUEST_PREFIXES):
        status = 400
    if status >= 500:
        log.error("request failed: %s", exc)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status in (429, 503) and "retry_after" in exc.detail:
        headers["Retry-After"] = str(exc.detail["retry_after"])
    return JSONResponse({"error": exc.to_dict()}, status_code=status, headers=headers)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(e) for e in exc.errors()]
    first = problems[0] if problems else {"field": "body", "reason": "invalid request"}
    body = {"code": "invalid_input", "message": first["reason"], "field": first["field"],
            "detail": {"errors": problems}}
    return JSONResponse({"error": body}, status_code=_invalid_status(request))


def _problem(e: Any) -> dict[str, str]:
    """One of FastAPI's validation errors as (field, reason) in the API's words. A body that is not JSON at all
    is the body's fault, not that of a field "0"; a body that is text where an object is expected is told how to
    send one."""
    if e["type"] == "json_invalid":
        return {"field": "body", "reason": f"not valid JSON: {e.get('ctx', {}).get('error', 'cannot be read')}"}
    field = ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path"))
    if not field and e["loc"][:1] == ("body",) and isinstance(e.get("input"), bytes | str):
        return {"field": "body", "reason": "the body must be a JSON object, sent as Content-Type: application/json"}
    return {"field": field or "body", "reason": e["msg"]}


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own 400 (a body it cannot read: not UTF-8, a broken multipart form) is a bad request body like any
    other, answered as such; the rest (unknown path, wrong method) as FastAPI answers them."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:
        body = {"code": "invalid_input", "message": str(exc.detail), "field": "body"}
        return JSONResponse({"error": body}, status_code=422)
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(EnforcementError, _enforcement_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
