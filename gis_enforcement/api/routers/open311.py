"""/open311/v2 — Open311 GeoReport v2: the problem list as services, incidents as service requests.

A service is a problem category (``service_code`` = its code, ``group`` = its family); a service request is an
incident, whatever channel filed it. ``POST requests.{format}`` files a report through the normal intake — the
same validation, location, rule matching and duplicate checks as ``POST /api/v1/incidents`` — and answers
synchronously, so the ``token`` it returns is already the request id (``GET tokens/{token}`` finds it).

Idempotency: a client that sends ``attribute[client_id]`` (a UUID) gets exactly one request per id: the same
request sent again answers 200 with the stored one, other content under the same id 409. A request without
``attribute[observed_at]`` is observed when it is first received, so its resends keep that time. Without a
client id the id is derived from the device and the content (``device_id``, service, position, description,
attributes, media and reporter), so a retried POST finds the request the first one filed.

The service list and the service definitions are public, as GeoReport's discovery documents are (clients read
them before anything else, with no key): they hold the problem list's categories only. Requests — read or filed —
need a caller (``api_key``, ``X-API-Key`` or a bearer token) and hold only the cases the caller may read.

``jurisdiction_id`` is optional (the endpoint serves one district); when given it must be the code of the
loaded district — 110117 (平谷区) with the shipped layers. Every answer, errors included, comes in the format
the path names: ``[{"code": 400, "description": "lat: ..."}]`` or ``<errors><error>…``; the description starts
with the parameter at fault.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api.auth import CreatesIncidents, ReadsIncidents
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.open311_format import (
    MEDIA_TYPES,
    OPEN311_STATUSES,
    VARIABLE_ATTRIBUTES,
    Locale,
    case_statuses,
    errors,
    locale_of,
    render,
    service_definition,
    service_request,
    services,
    submission_notice,
)
from gis_enforcement.domain.access import Caller, incident_scope
from gis_enforcement.domain.records import Incident
from gis_enforcement.errors import (
    EnforcementError,
    IdempotencyConflict,
    InvalidInput,
    NotConfigured,
    NotFound,
    UnsupportedMedia,
    http_status,
)
from gis_enforcement.patrol.submit import submit_one
from gis_enforcement.storage import incident_repo, open311_repo
from gis_enforcement.storage.open311_repo import RequestFilter

#: GeoReport's window when a listing names no dates, and the longest one it may ask for
DEFAULT_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
#: namespace of request ids derived from a submission's content (no ``attribute[client_id]``)
REQUEST_NAMESPACE = uuid.UUID("0c311e0f-5a1c-4d2b-9e0a-6f2b3c4d5e61")

#: intake's field names → the parameter an Open311 client sent
_FIELDS = {"lon": "long", "lat": "lat", "category": "service_code", "id": "attribute[client_id]",
           "observed_at": "attribute[observed_at]", "accuracy_m": "attribute[accuracy_m]",
           "crs": "attribute[crs]", "reporter": "attribute[reporter]", "description": "description",
           "photos": "media_url"}
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]*)\](\[\])?$")
_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")  # '+08:00' sent unencoded in a query arrives as ' 08:00'
_HAN = re.compile(r"[\u3400-\u9fff]")


def _error_response(request: Request, exc: EnforcementError) -> Response:
    fmt = request.path_params.get("fmt")
    fmt = fmt if fmt in MEDIA_TYPES else "json"
    status = http_status(exc)
    status = 400 if status == 422 else status  # GeoReport reports every bad parameter as 400
    description = f"{exc.field}: {exc.message}" if exc.field else exc.message
    return Response(render(errors(status, description), fmt, "errors"), status_code=status,
                    media_type=MEDIA_TYPES[fmt])


class Open311Route(APIRoute):
    """A route that answers errors in GeoReport's format (and the path's format) rather than the API's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except EnforcementError as exc:
                return _error_response(request, exc)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {"loc": ("request",), "msg": "invalid request"}
                field = ".".join(str(p) for p in first["loc"] if p not in ("body", "query", "path"))
                return _error_response(request, InvalidInput(str(first["msg"]), field=field or "request"))

        return route


#: what the routes answer, as documented: the path's format, errors included (GeoReport's list of code and
#: description; every bad parameter a 400, never FastAPI's 422)
_FORMATS: dict[str, Any] = {"application/json": {}, "text/xml": {}}
_ERRORS_JSON = {"type": "array", "items": {"type": "object", "required": ["code", "description"], "properties": {
    "code": {"type": "integer"}, "description": {"type": "string", "description": "starts with the parameter"}}}}
_ERROR = {"description": "GeoReport errors: `[{code, description}]` or `<errors><error>…`",
          "content": {"application/json": {"schema": _ERRORS_JSON}, "text/xml": {}}}
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "in the format the path names (json or xml)", "content": _FORMATS},
    "4XX": _ERROR, 503: _ERROR,
}

router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route, responses=ANSWERS)


def get_now() -> datetime:
    """Server time (UTC); tests override it."""
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(get_now)]


# GeoReport clients send their key as ``api_key`` (query or form): gis_enforcement.api.auth reads it on these routes
Reads311 = ReadsIncidents
Files311 = CreatesIncidents


# --- parameters ----------------------------------------------------------------------------------------------

def _format(fmt: str) -> str:
    if fmt not in MEDIA_TYPES:
        raise InvalidInput(f"unknown format '{fmt}'; use json or xml", field="format")
    return fmt


def _respond(payload: Any, fmt: str, root: str, status: int = 200) -> Response:
    return Response(render(payload, fmt, root), status_code=status, media_type=MEDIA_TYPES[fmt])


def _check_jurisdiction(session: Any, value: str | None) -> None:
    if value is None or not value.strip():
        return
    served = open311_repo.district_code(session)
    if served is None:
        raise NotConfigured("no jurisdiction layers are loaded", field="jurisdiction_id")
    if value.strip() != served:
        raise NotFound(f"'{value.strip()}' not found; this endpoint serves {served}", field="jurisdiction_id")


def _values(request: Request, name: str) -> list[str] | None:
    """A parameter that may be comma-delimited and/or repeated; None when absent."""
    values = [p.strip() for v in request.query_params.getlist(name) for p in v.split(",") if p.strip()]
    return values or None


def _time(value: str | None, field: str, tz: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    text = _SPACED_OFFSET.sub(r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"'{value}' is not an ISO 8601 time (e.g. 2026-05-01T00:00:00+08:00)",
                           field=field) from None
    if not 1970 <= moment.year <= 2999:  # and the 90-day window arithmetic stays in range
        raise InvalidInput(f"'{value}' is outside the years 1970-2999", field=field)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(tz))


def _int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    value = request.query_params.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"'{value}' is not a whole number", field=name) from None
    if not lo <= number <= hi:
        raise InvalidInput(f"must be between {lo} and {hi}", field=name)
    return number


def _uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value.strip())
    except ValueError:
        raise InvalidInput(f"'{value}' is not a request id (a UUID)", field=field) from None


def _categories(platform: Platform, codes: list[str] | None) -> list[str] | None:
    if codes is not None:
        unknown = [c for c in codes if c not in platform.catalog.categories]
        if unknown:
            raise NotFound(f"unknown service_code {', '.join(unknown)}", field="service_code")
    return codes


# --- services ------------------------------------------------------------------------------------------------

@router.get("/services.{fmt}", operation_id="open311_services", response_class=Response,
            summary="The problem list (问题清单) as GeoReport services")
def list_services(fmt: str, request: Request, session: SessionDep, platform: PlatformDep) -> Response:
    """Every problem category as a service; ``group`` is its family (盗采, 环境, 货车 …). ``locale=en`` for
    English names. Public, as GeoReport's discovery documents are: no key needed (a key sent is not checked)."""
    fmt = _format(fmt)
    _check_jurisdiction(session, request.query_params.get("jurisdiction_id"))
    locale = locale_of(request.query_params.get("locale"))
    return _respond(services(platform.catalog, locale), fmt, "services")


@router.get("/services/{service_code}.{fmt}", operation_id="open311_service_definition",
            response_class=Response, summary="A service's definition: the attributes a request may carry")
def get_service_definition(service_code: str, fmt: str, request: Request, session: SessionDep,
                           platform: PlatformDep) -> Response:
    """The attributes of a request of this category (observed_at, accuracy_m, crs, reporter, client_id), then
    the category's facts for information (severity, inspection window, responsibility). Public, as the service
    list is."""
    fmt = _format(fmt)
    _check_jurisdiction(session, request.query_params.get("jurisdiction_id"))
    category = platform.catalog.categories.get(service_code)
    if category is None:
        raise NotFound(f"unknown service_code '{service_code}'", field="service_code")
    locale = locale_of(request.query_params.get("locale"))
    return _respond(service_definition(platform.catalog, category, locale), fmt, "service_definition")


# --- service requests: read -----------------------------------------------------------------------------------

def _records(request: Request, session: Any, platform: Platform, filters: RequestFilter, caller: Caller, *,
             limit: int,
             offset: int = 0) -> list[dict[str, Any]]:
    scoped = replace(filters, scope=incident_scope(caller))
    locale = locale_of(request.query_params.get("locale"))
    rows = open311_repo.list_requests(session, filters=scoped, limit=limit, offset=offset)
    return [service_request(r, platform.catalog, tz=platform.settings.timezone, locale=locale,
                            base_url=str(request.base_url)) for r in rows]


@router.get("/requests.{fmt}", operation_id="open311_requests", response_class=Response,
            summary="Service requests (incidents), filtered as GeoReport v2 specifies")
def list_requests(fmt: str, request: Request, session: SessionDep, platform: PlatformDep, now: NowDep,
                  caller: Reads311) -> Response:
    """``service_request_id`` (comma list; overrides the other filters), ``service_code`` (comma list),
    ``start_date``/``end_date`` (ISO 8601 on the requested time; the last 90 days by default, at most 90 days),
    ``status`` (open, closed), ``jurisdiction_id``; extensions ``page_size`` (≤ 1000, the default) and
    ``page`` (from 1). Newest first."""
    fmt = _format(fmt)
    q = request.query_params
    _check_jurisdiction(session, q.get("jurisdiction_id"))
    page_size = _int(request, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _int(request, "page", 1, 1, 1_000_000)
    ids = _values(request, "service_request_id")
    if ids is not None:
        filters = RequestFilter(ids=[_uuid(v, "service_request_id") for v in ids])
    else:
        tz = platform.settings.timezone
        start, end = _time(q.get("start_date"), "start_date", tz), _time(q.get("end_date"), "end_date", tz)
        if start is None and end is None:
            start, end = now - DEFAULT_WINDOW, now
        elif start is None:
            assert end is not None
            start = end - DEFAULT_WINDOW
        elif end is None:
            end = start + DEFAULT_WINDOW
        if end < start:
            raise InvalidInput("is before start_date", field="end_date")
        if end - start > DEFAULT_WINDOW:
            raise InvalidInput("start_date to end_date may not span more than 90 days", field="end_date")
        statuses = _values(request, "status")
        bad = [s for s in statuses or () if s not in OPEN311_STATUSES]
        if bad:
            raise InvalidInput(f"unknown status {', '.join(bad)}; use open or closed", field="status")
        filters = RequestFilter(
            categories=_categories(platform, _values(request, "service_code")),
            statuses=case_statuses(statuses) if statuses is not None else None,
            requested_from=start, requested_to=end,
        )
    rows = _records(request, session, platform, filters, caller, limit=page_size, offset=(page - 1) * page_size)
    return _respond(rows, fmt, "service_requests")


@router.get("/requests/{request_id}.{fmt}", operation_id="open311_request", response_class=Response,
            summary="One service request (a list of one, as GeoReport answers)")
def get_request(request_id: str, fmt: str, request: Request, session: SessionDep, platform: PlatformDep,
                caller: Reads311) -> Response:
    fmt = _format(fmt)
    _check_jurisdiction(session, request.query_params.get("jurisdiction_id"))
    rows = _records(request, session, platform, RequestFilter(ids=[_uuid(request_id, "service_request_id")]), caller,
                    limit=1)
    if not rows:
        raise NotFound(f"no service request {request_id}", field="service_request_id")
    return _respond(rows, fmt, "service_requests")


@router.get("/tokens/{token}.{fmt}", operation_id="open311_token", response_class=Response,
            summary="The service request a POST's token stands for")
def get_token(token: str, fmt: str, request: Request, session: SessionDep, platform: PlatformDep,
              caller: Reads311) -> Response:
    """Intake is synchronous: the token is the request id, found here as soon as the POST has answered."""
    fmt = _format(fmt)
    _check_jurisdiction(session, request.query_params.get("jurisdiction_id"))
    try:
        incident_id = UUID(token.strip())
    except ValueError:
        raise NotFound(f"unknown token '{token}'", field="token") from None
    rows = _records(request, session, platform, RequestFilter(ids=[incident_id]), caller, limit=1)
    if not rows:
        raise NotFound(f"unknown token '{token}'", field="token")
    return _respond([{"service_request_id": rows[0]["service_request_id"], "token": str(incident_id)}], fmt,
                    "service_requests")


# --- service requests: create ---------------------------------------------------------------------------------

#: what a POST may be: GeoReport's form fields, or a JSON object of the same fields
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _json_value(value: Any, field: str) -> str | None:
    """A JSON field's value as the form would carry it: a string as is, a number as written; null is absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    raise InvalidInput("must be a string or a number", field=field)


class _Members(list[tuple[str, Any]]):
    """A JSON object's members in the order sent, a name sent twice kept twice (and so refused, as in a form)."""


def _json_fields(body: bytes) -> list[tuple[str, str]]:
    """The fields of a JSON object body, by the form's names: ``{"lat": 40.13, "attribute[accuracy_m]": 8}``, an
    attribute also as ``{"attribute": {"accuracy_m": 8}}``."""
    try:
        data = json.loads(body, object_pairs_hook=_Members)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"not valid JSON: {exc}", field="body") from None
    if not isinstance(data, _Members):
        raise InvalidInput("a JSON body must be an object of the request's fields (service_code, lat, long …)",
                           field="body")
    out: list[tuple[str, str]] = []
    for key, value in data:
        if key == "attribute" and isinstance(value, _Members):
            items = [(f"attribute[{k}]", v) for k, v in value]
        else:
            items = [(key, value)]
        for name, item in items:
            text = _json_value(item, name)
            if text is not None:
                out.append((name, text))
    return out


async def _form(request: Request) -> dict[str, str]:
    """The fields of a POST, each sent once, text only: GeoReport's form (url-encoded or multipart), or a JSON
    object of the same fields (many clients send JSON); any other content type is refused (415)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        fields = _json_fields(await request.body())
    elif media_type and media_type not in _FORM_TYPES:
        raise UnsupportedMedia(f"'{media_type}' is not accepted: this endpoint takes form fields "
                               f"({' or '.join(_FORM_TYPES)}) or a JSON object of the same fields (application/json)",
                               field="Content-Type", kind="format", accepted=[*_FORM_TYPES, "application/json"])
    else:
        try:
            form = await request.form()
        except (StarletteHTTPException, ValueError) as exc:
            raise InvalidInput(f"cannot read the form: {getattr(exc, 'detail', exc)}", field="body") from None
        fields = []
        for key, value in form.multi_items():
            if not isinstance(value, str):
                raise InvalidInput("files are not accepted; send media_url", field=key)
            fields.append((key, value))
    out: dict[str, str] = {}
    for key, value in fields:
        if key in out:
            raise InvalidInput("sent more than once", field=key)
        if "\x00" in value:  # PostgreSQL text cannot hold it
            raise InvalidInput("contains a NUL character", field=key)
        out[key] = value
    return out


FormDep = Annotated[dict[str, str], Depends(_form)]


def _field(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name)
    return value.strip() if value is not None and value.strip() else None


def _coordinate(form: Mapping[str, str], name: str) -> float:
    value = _field(form, name)
    if value is None:
        raise InvalidInput("required: this endpoint locates a request by lat and long (address_string and "
                           "address_id alone cannot be placed)", field=name)
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"'{value}' is not a number (degrees)", field=name) from None
    limit = 90 if name == "lat" else 180
    if not -limit <= number <= limit:
        raise InvalidInput(f"outside [-{limit}, {limit}]", field=name)
    return number


def _attributes(form: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in form.items():
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        code = match.group(1)
        if code not in VARIABLE_ATTRIBUTES:
            raise InvalidInput(f"unknown attribute '{code}'; this service takes {', '.join(VARIABLE_ATTRIBUTES)}",
                               field=key)
        if value.strip():
            out[code] = value.strip()
    return out


def _reporter(form: Mapping[str, str], attributes: Mapping[str, str]) -> str | None:
    if "reporter" in attributes:
        return attributes["reporter"]
    first, last = _field(form, "first_name"), _field(form, "last_name")
    if first and last and _HAN.search(first + last):
        return last + first  # Chinese order: family name first, no space
    return " ".join(p for p in (first, last) if p) or None


def _renamed(exc: EnforcementError) -> EnforcementError:
    """The same error naming the Open311 parameter instead of intake's field."""
    if exc.field not in _FIELDS:
        return exc
    return type(exc)(exc.message, field=_FIELDS[exc.field], **exc.detail)


def _submitted(incident: Incident, platform: Platform, *, created: bool, account_id: str | None,
               locale: Locale, fmt: str) -> Response:
    body = [{"service_request_id": str(incident.id), "token": str(incident.id),
             "service_notice": submission_notice(incident, platform.catalog, created=created, locale=locale),
             "account_id": account_id}]
    return _respond(body, fmt, "service_requests", status=201 if created else 200)


_FORM_SCHEMA = {
    "type": "object",
    "required": ["service_code", "lat", "long"],
    "properties": {
        **{k: {"type": "string"} for k in (
            "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id", "email", "device_id",
            "account_id", "first_name", "last_name", "phone", "description", "media_url", "api_key")},
        **{f"attribute[{k}]": {"type": "string"} for k in VARIABLE_ATTRIBUTES},
    },
}
#: the same fields as a JSON object: numbers as numbers if the client likes, attributes also as one object
_SCALAR = {"type": ["string", "number", "null"]}
_JSON_SCHEMA = {
    "type": "object",
    "required": _FORM_SCHEMA["required"],
    "properties": {
        **dict.fromkeys(_FORM_SCHEMA["properties"], _SCALAR),
        "attribute": {"type": "object", "properties": dict.fromkeys(VARIABLE_ATTRIBUTES, _SCALAR)},
    },
}


@router.post("/requests.{fmt}", operation_id="open311_create_request", response_class=Response,
             status_code=201, summary="File a service request through the normal intake",
             responses={201: {"description": "filed now", "content": _FORMATS},
                        200: {"description": "the same request was filed before (idempotent replay)",
                              "content": _FORMATS}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA},
                 "application/json": {"schema": _JSON_SCHEMA}}}})
def create_request(fmt: str, request: Request, form: FormDep, session: SessionDep, platform: PlatformDep,
                   now: NowDep, caller: Files311) -> Response:
    """Form-encoded as GeoReport v2 specifies, or a JSON object of the same fields (``api_key`` among them, as
    in the form, or in the query or ``X-API-Key``); ``lat``/``long`` (WGS84 unless ``attribute[crs]`` says
    otherwise) are required. 201 with ``[{service_request_id, token, service_notice, account_id}]`` when filed now, 200
    when the same request was filed before."""
    fmt = _format(fmt)
    _check_jurisdiction(session, _field(form, "jurisdiction_id") or request.query_params.get("jurisdiction_id"))
    locale = locale_of(_field(form, "locale") or request.query_params.get("locale"))
    catalog = platform.catalog
    code = _field(form, "service_code")
    if code is None:
        raise InvalidInput("required (a service_code of services.json)", field="service_code")
    if code not in catalog.categories:
        raise NotFound(f"unknown service_code '{code}'", field="service_code")
    lat, lon = _coordinate(form, "lat"), _coordinate(form, "long")
    attributes = _attributes(form)
    media_url = _field(form, "media_url")
    if media_url is not None and not media_url.startswith(("https://", "http://")):
        raise InvalidInput("must be an http(s) URL", field="media_url")
    reporter = _reporter(form, attributes)
    description = _field(form, "description")

    observed_at = attributes.get("observed_at")
    if "client_id" in attributes:
        incident_id, derived = _uuid(attributes["client_id"], "attribute[client_id]"), False
        if observed_at is None:
            # the default observation time is when the request was first received: a resend of a request
            # filed before keeps that time, so it is compared with the stored one on what the client sent
            first = incident_repo.get_incident(session, incident_id=incident_id)
            observed_at = first.observed_at.isoformat() if first is not None else None
    else:
        key = {"device_id": _field(form, "device_id"), "service_code": code, "lat": form["lat"].strip(),
               "long": form["long"].strip(), "description": description, "media_url": media_url,
               "reporter": reporter, "attributes": attributes}
        incident_id, derived = uuid.uuid5(REQUEST_NAMESPACE, json.dumps(key, sort_keys=True, ensure_ascii=False)), True
        replay = incident_repo.get_incident(session, incident_id=incident_id)
        if replay is not None:
            return _submitted(replay, platform, created=False, account_id=_field(form, "account_id"),
                              locale=locale, fmt=fmt)

    feature = {
        "type": "Feature", "id": str(incident_id), "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "category": code, "observed_at": observed_at or now.isoformat(),
            "accuracy_m": attributes.get("accuracy_m"), "crs": attributes.get("crs"), "reporter": reporter,
            "description": description, "photos": [media_url] if media_url else None,
        },
    }
    tz = platform.settings.timezone
    try:
        incident, created = submit_one(session, feature, locator=platform.locators, catalog=catalog, tz=tz,
                                       now=now, created_by=caller.username, source="open311")
    except IdempotencyConflict as exc:
        stored = incident_repo.get_incident(session, incident_id=incident_id) if derived else None
        if stored is None:  # a client's own id reused for another report
            raise _renamed(exc) from exc
        incident, created = stored, False  # the same request, retried while the first was being filed
    except InvalidInput as exc:
        raise _renamed(exc) from exc
    session.commit()
    return _submitted(incident, platform, created=created, account_id=_field(form, "account_id"), locale=locale,
                      fmt=fmt)
