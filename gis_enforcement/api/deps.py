"""Dependencies: the platform held by the app, and a session per request (routes commit explicitly)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from gis_enforcement.admin.platform import Platform
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session


async def get_platform(request: Request) -> Platform:
    # async: FastAPI runs a plain function dependency in the thread pool, a hop per request for an attribute
    return request.app.state.platform  # type: ignore[no-any-return]


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_session(request: Request) -> AsyncIterator[Session]:
    # async: making a session touches no connection, so only the end goes to a thread, and only when the
    # session is still in a transaction (a rollback and the connection given back are round trips); a route
    # that committed has given its connection back already and costs no thread hop here. The platform is
    # read from the app rather than as a dependency: each dependency costs FastAPI work on every request.
    session = request.app.state.platform.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(_discard, session)
        else:
            session.close()


def _discard(session: Session) -> None:
    session.rollback()  # anything a route did not commit is discarded
    session.close()


SessionDep = Annotated[Session, Depends(get_session)]


Transactions = Callable[[], AbstractContextManager[Session]]


async def get_transactions(request: Request) -> Transactions:
    """A factory of committed-on-success transactions, for work outside one request's session (the event
    stream polls the database for minutes; proving an API key records its use); tests override it to share
    their rolled-back session."""
    return request.app.state.platform.transaction  # type: ignore[no-any-return]


TransactionsDep = Annotated[Transactions, Depends(get_transactions)]


def nul_at(value: Any, path: str = "") -> str | None:
    """Where in a parsed JSON value a key or a string holds NUL, as a dotted path ('' for the whole body)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if "\x00" in str(key):
            return where
        found = nul_at(item, where)
        if found is not None:
            return found
    return None


async def refuse_nul(request: Request) -> None:
    """PostgreSQL text cannot hold NUL: a path, query, form or JSON value with one is refused as bad input, naming
    where it is, before any route uses it (in the database it would fail the request)."""
    fields = [*request.path_params.items(), *request.query_params.multi_items()]
    content_type = request.headers.get("content-type", "")
    if "form" in content_type:  # parsed once, kept by the request for the route
        try:
            form = await request.form()
        except (HTTPException, ValueError) as exc:
            raise InvalidInput(f"cannot read the form: {getattr(exc, 'detail', exc)}", field="body") from None
        fields += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    for name, value in fields:
        if "\x00" in name or "\x00" in value:
            raise InvalidInput("contains a NUL character", field=name.replace("\x00", "") or "body")
    if "json" in content_type:
        body = await request.body()
        if b"\\u0000" in body:  # how JSON writes NUL (a raw one is not JSON)
            try:
                where = nul_at(json.loads(body))
            except ValueError:  # not JSON: the route refuses it as such
                return
            if where is not None:
                raise InvalidInput("contains a NUL character", field=where or "body")
