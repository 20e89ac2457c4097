"""Dependencies: the platform held by the app, and a session per request (routes commit explicitly)."""

from __future__ import annotations

from collections.abc import Iterator
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
