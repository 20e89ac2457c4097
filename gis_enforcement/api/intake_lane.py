"""The intake lane: ``POST /api/v1/incidents`` with one GeoJSON Feature — a patrol's phone filing a case, the
request the server takes most often — answered without the framework's per-request work.

The route (``routers.incidents.create_incidents``) stays the documented operation and serves everything else
(batches, other media types, bodies that are not JSON). For a single Feature the framework's share of the work
is larger than intake's own: routing over every route of the API, solving the route's dependencies one by one,
exception and exit-stack middleware. Measured in one process on the same 1,000 submissions, the event loop's
CPU per POST fell from 1.4–1.5 ms to 0.5 ms with this lane (docs/benchmarks.md, fourth run).

The lane makes the same checks in the same order, with the same functions, and answers with the same bodies
and statuses (a test sends the same requests both ways and compares them):

1. the body is read inside ``BodyLimit`` (413 over the limit);
2. a body that is not a JSON object with ``"type": "Feature"`` is handed to the route, so that the framework
   answers it as it would have (422 naming the JSON error, a batch, …);
3. a NUL anywhere in the Feature is refused (``deps.refuse_nul``);
4. a place in the intake queue is taken or 503 answered, as the route does for its threads
   (``Settings.intake_queue_limit``; the route's is ``intake_max_in_flight``);
5. the caller is authenticated by bearer token or ``X-API-Key`` (``auth.credentials_caller``) and allowed
   ``incident.create`` by role, else 401 / 403;
6. the caller's intake rate limit is counted (429);
7. the submission joins the process's intake queue (``api.intake_queue``): one thread runs
   ``routers.incidents.answer_feature`` for it, as the route's ``take_feature`` does, and answers once the
   commit that stored it is done.

When a dependency of the route is overridden (tests that share one rolled-back session), or the request has a
query string, the lane stands aside and the route serves the request.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.security.utils import get_authorization_scheme_param

from gis_enforcement.api.auth import credentials_caller, limiter, unauthenticated
from gis_enforcement.api.deps import nul_at
from gis_enforcement.api.errors import error_response
from gis_enforcement.api.intake_queue import IntakeQueue
from gis_enforcement.api.limits import InFlightLimit, kept_limit
from gis_enforcement.domain.access import Caller, check
from gis_enforcement.errors import EnforcementError, InvalidInput

__all__ = ["INTAKE_PATH", "IntakeLane", "intake_queue", "queue_limit"]

INTAKE_PATH = "/api/v1/incidents"


def _json_media(content_type: bytes | None) -> bool:
    """Whether the route would read the body as JSON: ``application/json`` or ``application/…+json``."""
    if not content_type:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


class IntakeLane:
    """ASGI middleware in front of the app's routes (inside ``BodyLimit``); ``api`` is the application, for its
    platform and its dependency overrides."""

    def __init__(self, app: Any, *, api: FastAPI) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != INTAKE_PATH
                or scope.get("query_string") or self.api.dependency_overrides):
            await self.app(scope, receive, send)
            return
        headers = dict(reversed(scope["headers"]))  # a repeated header counts once, the first, as for the route
        if not _json_media(headers.get(b"content-type")):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        feature = _feature(body)
        if feature is None:
            await self.app(scope, _replay(body, receive), send)
            return
        try:
            answer = await self.handle(feature, body, headers)
        except EnforcementError as exc:
            answer = error_response(exc, INTAKE_PATH)
        await answer(scope, receive, send)

    async def handle(self, feature: dict[str, Any], body: bytes, headers: dict[bytes, bytes]) -> Any:
        """Steps 3–7 of the module's list: the answer to an intake POST of one Feature."""
        platform = self.api.state.platform
        if b"\\u0000" in body:  # how JSON writes NUL
            where = nul_at(feature)
            if where is not None:
                raise InvalidInput("contains a NUL character", field=where or "body")
        with queue_limit(self.api).slot("submissions"):
            caller = await self._caller(platform, headers)
            check(caller, "incident.create")
            limiter("intake", platform.settings.intake_requests_per_minute).hit(caller.username, field="body")
            return await intake_queue(self.api).take(feature, caller)

    @staticmethod
    async def _caller(platform: Any, headers: dict[bytes, bytes]) -> Caller:
        """The caller by bearer token or API key, as ``auth.get_caller`` finds them for a POST (a sign-in cookie
        is for reads, and the Open311 ``api_key`` for /open311 routes)."""
        scheme, token = get_authorization_scheme_param(headers.get(b"authorization", b"").decode("latin-1"))
        key = headers.get(b"x-api-key", b"").decode("latin-1")
        caller = await credentials_caller(platform, platform.transaction,
                                          token=token if scheme.lower() == "bearer" and token else None,
                                          key=key or None)
        if caller is None:
            raise unauthenticated()
        return caller


def queue_limit(api: FastAPI) -> InFlightLimit:
    """The cap on submissions in the app's intake queue (``Settings.intake_queue_limit``)."""
    return kept_limit(api.state, "intake_queue_limit", api.state.platform.settings.intake_queue_limit)


def intake_queue(api: FastAPI) -> IntakeQueue:
    """The app's intake queue, started on first use (stopped with the app)."""
    current = getattr(api.state, "intake_queue", None)
    if current is None or not current.running or current.platform is not api.state.platform:
        current = api.state.intake_queue = IntakeQueue(api.state.platform)
    return current  # type: ignore[no-any-return]


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: nothing to answer
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _feature(body: bytes) -> dict[str, Any] | None:
    """The decoded Feature, or None when the body is anything else (the route answers it)."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) and value.get("type") == "Feature" else None


def _replay(body: bytes, receive: Any) -> Any:
    """A ``receive`` that gives the route the body the lane has read, then the connection's own messages."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
