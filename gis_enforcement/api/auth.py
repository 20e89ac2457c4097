"""Who is calling: a bearer token (OAuth2 password flow) or an API key; what each route allows.

Deny by default: every route of the API names the action it needs with :func:`allow` (a route without one is
found by the test that walks the routes); :func:`allow` authenticates the caller and checks their role has the
action. Case-level scope (a township's own cases, a department's own assignments) is checked in the route
with :func:`gis_enforcement.domain.access.check_case` once the case is known.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from gis_enforcement.admin.credentials import authenticate_key, caller_from_token
from gis_enforcement.admin.platform import Platform
from gis_enforcement.api.deps import PlatformDep, Transactions, TransactionsDep
from gis_enforcement.api.limits import RateLimiter
from gis_enforcement.domain.access import Caller, CaseFacts, check, check_any, check_case
from gis_enforcement.errors import NotFound, Unauthenticated
from gis_enforcement.storage import Session, user_repo

__all__ = [
    "AddsPhotos",
    "ActsOnAssignments",
    "CallerDep",
    "CompletesFollowUps",
    "CreatesIncidents",
    "CreatesPlans",
    "DeclinesAssignments",
    "ExecutesPlans",
    "ManagesUsers",
    "ManagesWebhooks",
    "OverrulesAssignments",
    "RatesAssignments",
    "RecordsTracks",
    "ReadsAnalysis",
    "ReadsTownshipAnalysis",
    "ReadsTownshipEvaluation",
    "ReadsAssignments",
    "ReadsEvaluation",
    "ReadsEvents",
    "ReadsIncidents",
    "ReadsLists",
    "ReadsTracks",
    "ReadsMaps",
    "ReadsWarnings",
    "ReadsWebhooks",
    "RequestsFollowUps",
    "ResumesCases",
    "VerifiesCases",
    "Whistles",
    "allow",
    "allow_any",
    "case_facts",
    "credentials_caller",
    "get_caller",
    "limiter",
    "unauthenticated",
]

bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False,
                              description="sign in with POST /api/v1/auth/token (user name and password)")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="an API key of a machine client (`gis-enforcement users key add`)")


#: the cookie a browser page signs in with (HttpOnly, SameSite=Strict); honoured for reads only
COOKIE = "gise_access"


async def _open311_key(request: Request) -> str | None:
    """GeoReport v2's own ``api_key`` parameter — in the query, or among the fields of a POST (its form, or the
    JSON object a client sends instead) — on /open311 routes only (311 clients know no other way to send it)."""
    if not request.url.path.startswith("/open311/"):
        return None
    key = request.query_params.get("api_key")
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if key is None and request.method == "POST" and "form" in content_type:
        try:
            value = (await request.form()).get("api_key")
        except Exception:  # an unreadable form is the route's to refuse, with its own error
            return None
        key = value if isinstance(value, str) else None
    elif key is None and request.method == "POST" and (content_type == "application/json"
                                                       or content_type.endswith("+json")):
        try:
            body = json.loads(await request.body())  # the body is kept: the route reads it again
        except (UnicodeDecodeError, ValueError, RecursionError):  # the route refuses it, with its own error
            return None
        value = body.get("api_key") if isinstance(body, dict) else None
        key = value if isinstance(value, str) else None
    return key


async def get_caller(request: Request, platform: PlatformDep, transactions: TransactionsDep,
                     token: Annotated[str | None, Depends(bearer)],
                     key: Annotated[str | None, Depends(api_key_header)]) -> Caller:
    """The authenticated caller, or 401. A bearer token or an API key (``X-API-Key``, or ``api_key`` on the
    Open311 routes); a browser's sign-in cookie for GET (map pages opened from a link), never for writes.

    Async: a token is checked in memory, and an API key proved in the last ``api_key_cache_s`` is too; only a
    key not proved lately is read from the store (in a thread, in a transaction of its own that records its
    use)."""
    caller = await credentials_caller(platform, transactions, token=token, key=key)
    if caller is not None:
        return caller
    key_311 = await _open311_key(request)
    if key_311:
        return await _key_caller(platform, transactions, key_311)
    cookie = request.cookies.get(COOKIE)
    if cookie and request.method in ("GET", "HEAD"):
        return caller_from_token(cookie, platform.settings)
    raise unauthenticated()


async def credentials_caller(platform: Platform, transactions: Transactions, *, token: str | None,
                             key: str | None) -> Caller | None:
    """The caller of a bearer token or an ``X-API-Key`` (either may be None), or None when neither is given; a
    bad one raises ``Unauthenticated``."""
    if token and token.startswith("gise_"):  # an API key sent as a bearer token (GDAL, QGIS know only that)
        return await _key_caller(platform, transactions, token)
    if token:
        return caller_from_token(token, platform.settings)
    if key:
        return await _key_caller(platform, transactions, key)
    return None


def unauthenticated() -> Unauthenticated:
    return Unauthenticated("sign in (Authorization: Bearer …) or send an API key (X-API-Key)", field="Authorization")


CallerDep = Annotated[Caller, Depends(get_caller)]


async def _key_caller(platform: Platform, transactions: Transactions, key: str) -> Caller:
    caller = platform.keys.get(key)
    if caller is None:
        caller = await run_in_threadpool(_prove_key, transactions, key)
        platform.keys.put(key, caller)
    return caller


def _prove_key(transactions: Transactions, key: str) -> Caller:
    with transactions() as session:
        return authenticate_key(session, key=key)


@cache
def allow(action: str) -> Any:
    """The dependency of a route that needs ``action``: the caller, once authenticated and allowed by role."""

    async def allowed(caller: CallerDep) -> Caller:  # async: a check in memory needs no thread of its own
        check(caller, action)
        return caller

    allowed.action = action  # type: ignore[attr-defined]  # read by the route walk of the tests
    allowed.__name__ = f"allow_{action.replace('.', '_')}"
    return allowed


@cache
def allow_any(*actions: str) -> Any:
    """The dependency of a route that needs one of ``actions`` (a district-wide read or its own-unit form: the
    route narrows the request to the caller's unit with
    :func:`~gis_enforcement.domain.access.township_read_scope`); a refusal names the first."""

    async def allowed(caller: CallerDep) -> Caller:
        check_any(caller, actions)
        return caller

    allowed.action = actions  # type: ignore[attr-defined]  # read by the route walk of the tests
    allowed.__name__ = "allow_" + "_or_".join(a.replace(".", "_") for a in actions)
    return allowed


# One alias per action, for route signatures: ``caller: ReadsIncidents``.
CreatesIncidents = Annotated[Caller, Depends(allow("incident.create"))]
ReadsIncidents = Annotated[Caller, Depends(allow("incident.read"))]
Whistles = Annotated[Caller, Depends(allow("incident.whistle"))]
VerifiesCases = Annotated[Caller, Depends(allow("incident.verify"))]
ResumesCases = Annotated[Caller, Depends(allow("incident.resume"))]
ReadsAssignments = Annotated[Caller, Depends(allow("assignment.read"))]
ActsOnAssignments = Annotated[Caller, Depends(allow("assignment.act"))]
DeclinesAssignments = Annotated[Caller, Depends(allow("assignment.decline"))]
RatesAssignments = Annotated[Caller, Depends(allow("assignment.rate"))]
OverrulesAssignments = Annotated[Caller, Depends(allow("assignment.overrule"))]
RequestsFollowUps = Annotated[Caller, Depends(allow("follow_up.request"))]
CompletesFollowUps = Annotated[Caller, Depends(allow("follow_up.done"))]
ReadsWarnings = Annotated[Caller, Depends(allow("warning.read"))]
ReadsEvaluation = Annotated[Caller, Depends(allow("evaluation.read"))]
ReadsEvents = Annotated[Caller, Depends(allow("event.read"))]
ReadsAnalysis = Annotated[Caller, Depends(allow("analysis.read"))]
#: the district's analyses, or a township's own (``analysis.read_own``: the route keeps it to its township)
ReadsTownshipAnalysis = Annotated[Caller, Depends(allow_any("analysis.read", "analysis.read_own"))]
#: the district's evaluation, or the departments' record on a township's own cases (``evaluation.read_own``)
ReadsTownshipEvaluation = Annotated[Caller, Depends(allow_any("evaluation.read", "evaluation.read_own"))]
CreatesPlans = Annotated[Caller, Depends(allow("plan.create"))]
ExecutesPlans = Annotated[Caller, Depends(allow("plan.execute"))]
ReadsMaps = Annotated[Caller, Depends(allow("map.read"))]
ReadsWebhooks = Annotated[Caller, Depends(allow("webhook.read"))]
ManagesWebhooks = Annotated[Caller, Depends(allow("webhook.manage"))]
ManagesUsers = Annotated[Caller, Depends(allow("user.manage"))]
AddsPhotos = Annotated[Caller, Depends(allow("photo.add"))]
ReadsLists = Annotated[Caller, Depends(allow("lists.read"))]
RecordsTracks = Annotated[Caller, Depends(allow("track.record"))]
ReadsTracks = Annotated[Caller, Depends(allow("track.read"))]


def case_facts(session: Session, incident_id: Any) -> CaseFacts:
    """The scope facts of a case, or 404."""
    facts = user_repo.case_facts(session, incident_id=incident_id)
    if facts is None:
        raise NotFound(f"no incident {incident_id}", field="incident_id")
    return facts


def check_case_access(session: Session, caller: Caller, action: str, incident_id: Any) -> CaseFacts:
    """404 when the case does not exist, 403 when it is outside the caller's scope for ``action``."""
    facts = case_facts(session, incident_id)
    check_case(caller, action, facts)
    return facts


_limiters: dict[str, RateLimiter] = {}


def limiter(name: str, per_minute: int) -> RateLimiter:
    """The process-wide limiter called ``name`` (one per purpose: sign-in, intake)."""
    if name not in _limiters or _limiters[name].limit != per_minute:
        _limiters[name] = RateLimiter(per_minute, 60.0)
    return _limiters[name]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
