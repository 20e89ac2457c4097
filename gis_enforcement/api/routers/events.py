"""/api/v1/events and /api/v1/webhooks — what happened on the cases, as it happens.

Every case event (whistle, report-in, action, warning, rating, verification …) has a global number. Clients
page through ``GET /api/v1/events?after=N``, follow ``GET /api/v1/events/stream`` (Server-Sent Events; the
browser's ``EventSource`` resumes from ``Last-Event-ID`` by itself), or register a webhook and receive signed
batches, retried with back-off until they are accepted (see :mod:`gis_enforcement.dispatch.outbox`). An admin
adds, pauses, resumes and removes the webhooks; a subscription names known event kinds and a township of the
loaded layers, or none.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from gis_enforcement.api.auth import ManagesWebhooks, ReadsEvents, ReadsWebhooks
from gis_enforcement.api.deps import PlatformDep, SessionDep, TransactionsDep
from gis_enforcement.api.filter_codes import check_department, township_code
from gis_enforcement.api.routers.dispatch import ERRORS
from gis_enforcement.api.schemas_dispatch import local_payload
from gis_enforcement.dispatch import outbox
from gis_enforcement.domain.access import Caller, unit_filters
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, outbox_repo
from gis_enforcement.storage.outbox_repo import StoredEvent

router = APIRouter(prefix="/api/v1", tags=["events"])


class EventPublic(BaseModel):
    id: int = Field(description="global event number; the cursor")
    incident_id: str
    seq: int = Field(description="the event's place in its case's record")
    at: datetime
    actor: str | None
    kind: str = Field(examples=["report_in"])
    payload: dict[str, Any]
    township: str | None
    recorded_at: datetime


class EventsPublic(BaseModel):
    data: list[EventPublic]
    next_after: int = Field(description="ask again with after=next_after for what follows")


def _public(event: StoredEvent, tz: str) -> dict[str, Any]:
    """An event as the API answers it: ``at``, ``recorded_at`` and the times in its payload in the district's
    zone, as every other time the API gives (the record itself keeps UTC; webhooks carry it as stored)."""
    zone = ZoneInfo(tz)
    return {**event.to_json(), "at": event.at.astimezone(zone).isoformat(),
            "recorded_at": event.recorded_at.astimezone(zone).isoformat(), "payload": local_payload(event.payload, tz)}


Township = Annotated[str | None, Query(description="only events of cases in this township (code or name)")]
Department = Annotated[str | None, Query(description="only events of cases this department was summoned to")]
Kinds = Annotated[list[str] | None, Query(alias="kind", description="only these kinds (repeat the parameter)")]


def _scoped(caller: Caller, township: str | None, department: str | None) -> tuple[str | None, str | None]:
    """The township/department filters narrowed to the caller's unit (the district sees every case)."""
    return unit_filters(caller, township, department, what="events")


def _check_codes(session: Session, catalog: Catalog, township: str | None, department: str | None) -> str | None:
    """The township and department filters each name something the platform holds: an unknown one is refused
    by name, not matched by nothing. Returns the township's code (the filter takes a code or a name)."""
    check_department(catalog, department)
    return township_code(session, township)


def _known(kinds: list[str] | None) -> list[str] | None:
    """The kinds asked for, each one the chain records; an unknown one is refused by name, not matched by
    nothing."""
    unknown = [k for k in kinds or () if k not in outbox.EVENT_KINDS]
    if unknown:
        raise InvalidInput(f"unknown event kind {unknown[0]!r}; one of {', '.join(outbox.EVENT_KINDS)}",
                           field="kind")
    return kinds


@router.get("/events", operation_id="list_events", response_model=EventsPublic, responses=ERRORS)
def list_events(session: SessionDep, caller: ReadsEvents, platform: PlatformDep, after: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100, township: Township = None,
                department: Department = None, kinds: Kinds = None) -> EventsPublic:
    """Events after the cursor, oldest first, of the caller's cases. Poll with ``after=next_after``; an empty
    page means nothing new."""
    township = _check_codes(session, platform.catalog, township, department)
    township, department = _scoped(caller, township, department)
    page = outbox.read_events(session, after=after, limit=limit, township=township, kinds=_known(kinds),
                              department=department)
    tz = platform.settings.timezone
    return EventsPublic(data=[EventPublic(**_public(e, tz)) for e in page.events], next_after=page.next_after)


@router.get("/events/stream", operation_id="stream_events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}, **ERRORS})
def stream_events(
    transactions: TransactionsDep,
    caller: ReadsEvents,
    platform: PlatformDep,
    after: Annotated[int | None, Query(ge=0, description="start after this event (default: from now on)")] = None,
    last_event_id: Annotated[str | None, Header(description="set by EventSource when it reconnects")] = None,
    township: Township = None, department: Department = None, kinds: Kinds = None,
    timeout: Annotated[float, Query(gt=0, le=3600, description="seconds before the server ends the stream "
                                                                 "(clients reconnect with Last-Event-ID)")] = 300,
) -> StreamingResponse:
    """Server-Sent Events: one ``event: <kind>`` message per case event (``id`` = its number, ``data`` = JSON),
    a comment line as heartbeat when nothing happened for a while. Resumes after ``Last-Event-ID`` when the
    header is sent, else after ``after``, else from the newest event on. Only the caller's cases."""
    if township is not None or department is not None:
        with transactions() as session:
            township = _check_codes(session, platform.catalog, township, department)
    township, department = _scoped(caller, township, department)
    kinds = _known(kinds)
    if last_event_id is not None:
        try:
            cursor = int(last_event_id)
        except ValueError:
            raise InvalidInput("Last-Event-ID is an event number", field="Last-Event-ID") from None
        if cursor < 0:  # refused now: once the stream has started no error can be sent
            raise InvalidInput("Last-Event-ID is a non-negative event number", field="Last-Event-ID")
    elif after is not None:
        cursor = after
    else:
        with transactions() as session:
            cursor = outbox_repo.last_event_id(session)
    deadline = time.monotonic() + timeout
    stop = threading.Event()
    tz = platform.settings.timezone

    def wait(seconds: float) -> bool:
        left = deadline - time.monotonic()
        return left <= 0 or stop.wait(min(seconds, left)) or time.monotonic() >= deadline

    def messages() -> Iterator[str]:
        yield f"retry: 3000\n: stream from {cursor}\n\n"
        quiet = 0
        try:
            for event in outbox.follow(transactions, after=cursor, wait=wait, township=township,
                                       kinds=kinds, department=department):
                if event is None:
                    quiet += 1
                    if quiet % 15 == 0:
                        yield ": heartbeat\n\n"
                    continue
                quiet = 0
                data = json.dumps(_public(event, tz), ensure_ascii=False, default=str)
                yield f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"
        finally:
            stop.set()

    return StreamingResponse(messages(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# -- webhooks --------------------------------------------------------------------------------------------------
class WebhookCreate(BaseModel):
    """A receiver for case events: batches ``{"events": [...]}`` POSTed to ``url``, signed with ``secret``
    (header ``X-GISE-Signature: sha256=<HMAC-SHA256 of the body>``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"url": "https://example.gov.cn/hooks/gise", "secret": "a-long-shared-secret", "kinds": ["whistle",
         "report_in", "warning"], "township": None, "description": "区指挥中心大屏"}]})
    url: str = Field(min_length=8, max_length=2000)
    secret: str = Field(min_length=16, max_length=200)
    kinds: list[str] | None = Field(default=None, max_length=50, description="only these event kinds: "
                                    + ", ".join(outbox.EVENT_KINDS))
    township: str | None = Field(default=None, max_length=64,
                                 description="only cases of this township (a township code of the loaded layers)")
    description: str | None = Field(default=None, max_length=500)


class WebhookPublic(BaseModel):
    id: int
    url: str
    kinds: list[str] | None
    township: str | None
    active: bool
    created_at: datetime
    description: str | None
    pending: int = 0
    delivered: int = 0
    attempts: int | None = Field(default=None, description="attempts on the oldest pending event")
    next_attempt_at: datetime | None = None
    last_error: str | None = None


class WebhooksPublic(BaseModel):
    data: list[WebhookPublic]
    count: int


@router.post("/webhooks", operation_id="create_webhook", status_code=201, response_model=WebhookPublic,
             responses=ERRORS)
def create_webhook(body: WebhookCreate, session: SessionDep, caller: ManagesWebhooks) -> WebhookPublic:
    """Register a receiver for the events recorded from now on."""
    sub = outbox.subscribe(session, url=body.url, secret=body.secret, kinds=body.kinds, township=body.township,
                           description=body.description)
    session.commit()
    return WebhookPublic(**sub)


@router.get("/webhooks", operation_id="list_webhooks", response_model=WebhooksPublic, responses=ERRORS)
def list_webhooks(session: SessionDep, caller: ReadsWebhooks) -> WebhooksPublic:
    """Every receiver with its delivery state (pending, delivered, the oldest pending event's attempts)."""
    subs = outbox_repo.subscriptions(session)
    return WebhooksPublic(data=[WebhookPublic(**s) for s in subs], count=len(subs))


@router.post("/webhooks/{subscription_id}/{action}", operation_id="pause_or_resume_webhook",
             response_model=WebhookPublic, responses=ERRORS)
def pause_or_resume(subscription_id: int, action: str, session: SessionDep,
                    caller: ManagesWebhooks) -> WebhookPublic:
    """``pause`` stops new deliveries being queued for it (pending ones stay); ``resume`` starts again."""
    if action not in ("pause", "resume"):
        raise InvalidInput(f"{action!r}: use pause or resume", field="action")
    outbox.set_active(session, subscription_id=subscription_id, active=action == "resume")
    session.commit()
    return next(WebhookPublic(**s) for s in outbox_repo.subscriptions(session) if s["id"] == subscription_id)


@router.delete("/webhooks/{subscription_id}", operation_id="delete_webhook", status_code=204,
               response_class=Response, responses=ERRORS)
def delete_webhook(subscription_id: int, session: SessionDep, caller: ManagesWebhooks) -> Response:
    """Remove a receiver and its deliveries, pending ones included (``pause`` keeps them instead)."""
    outbox.unsubscribe(session, subscription_id=subscription_id)
    session.commit()
    return Response(status_code=204)
