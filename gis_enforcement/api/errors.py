"""Exception handlers: domain errors through the one status table; request validation named by field."""

from __future__ import annotations

import logging
from decimal import Decimal
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
    detail: dict[str, Any] = {"errors": problems}
    detail.update({k: first[k] for k in ("kind", "limit") if k in first})  # the first one's, as message and field
    body = {"code": "invalid_input", "message": first["reason"], "field": first["field"], "detail": detail}
    return JSONResponse({"error": body}, status_code=_invalid_status(request))


#: the bounds of pydantic's constraint errors, by the ``ctx`` key that carries them: a page words the refusal
#: from ``kind`` (pydantic's error type: ``less_than_equal``, ``string_too_short``, ``missing`` …) and ``limit``
_LIMIT_KEYS = ("ge", "gt", "le", "lt", "min_length", "max_length", "multiple_of", "max_digits", "decimal_places")


def _limit(ctx: dict[str, Any]) -> int | float | None:
    for key in _LIMIT_KEYS:
        value = ctx.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float | Decimal):
            return int(value) if isinstance(value, Decimal) and value == value.to_integral_value() else \
                float(value) if isinstance(value, Decimal) else value
    return None


def _problem(e: Any) -> dict[str, Any]:
    """One of FastAPI's validation errors as (field, reason) in the API's words, with the machine-readable
    ``kind`` (pydantic's error type) and, for a bound, its ``limit`` — so that a page can say it in its own
    language; the English ``reason`` stays. A body that is not JSON at all is the body's fault, not that of a
    field "0"; a body that is text where an object is expected is told how to send one."""
    if e["type"] == "json_invalid":
        return {"field": "body", "reason": f"not valid JSON: {e.get('ctx', {}).get('error', 'cannot be read')}"}
    field = ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path"))
    if not field and e["loc"][:1] == ("body",) and isinstance(e.get("input"), bytes | str):
        return {"field": "body", "reason": "the body must be a JSON object, sent as Content-Type: application/json"}
    out: dict[str, Any] = {"field": field or "body", "reason": e["msg"], "kind": e["type"]}
    limit = _limit(e.get("ctx") or {})
    if limit is not None:
        out["limit"] = limit
    return out


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's own refusals in the platform's shape ``{"error": {code, message, field}}``: its 400 (a body it
    cannot read: not UTF-8, a broken multipart form) is a bad request body like any other (422); an unknown path
    is ``not_found`` on ``path`` and a method the path does not take ``method_not_allowed`` on ``method`` (with
    the ``Allow`` header FastAPI gives); anything else as FastAPI answers it."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:
        body = {"code": "invalid_input", "message": str(exc.detail), "field": "body"}
        return JSONResponse({"error": body}, status_code=422)
    if exc.status_code == 404:
        message = f"no such path: {request.url.path}" if exc.detail == "Not Found" else str(exc.detail)
        return JSONResponse({"error": {"code": "not_found", "message": message, "field": "path"}},
                            status_code=404, headers=exc.headers)
    if exc.status_code == 405:
        message = f"{request.url.path} does not take {request.method}"
        return JSONResponse({"error": {"code": "method_not_allowed", "message": message, "field": "method"}},
                            status_code=405, headers=exc.headers)
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(EnforcementError, _enforcement_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
