"""Dependencies: the platform held by the app, and a session per request (routes commit explicitly)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import Depends, Request

from gis_enforcement.admin.platform import Platform
from gis_enforcement.storage import Session


def get_platform(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_session(platform: PlatformDep) -> Iterator[Session]:
    session = platform.sessions()
    try:
        yield session
    finally:
        session.rollback()  # anything a route did not commit is discarded
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def get_transactions(platform: PlatformDep) -> Callable[[], AbstractContextManager[Session]]:
    """A factory of committed-on-success transactions, for routes that outlive one request's session (the event
    stream polls the database for minutes); tests override it to share their rolled-back session."""
    return platform.transaction  # type: ignore[no-any-return]


TransactionsDep = Annotated[Callable[[], AbstractContextManager[Session]], Depends(get_transactions)]
