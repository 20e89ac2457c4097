"""/api/v1/auth — sign in (OAuth2 password flow), refresh, and who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, Field

from gis_enforcement.admin.credentials import authenticate_password, issue_tokens, refresh
from gis_enforcement.api.auth import COOKIE, CallerDep, client_address, limiter
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.schemas import ErrorResponse
from gis_enforcement.domain.access import ROLE_ACTIONS
from gis_enforcement.errors import InvalidInput

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorResponse} for s in (401, 422, 429)}


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str


class CallerPublic(BaseModel):
    username: str
    display_name: str | None = Field(None, description="the user's name as pages show it (None: none given)")
    role: str
    unit_kind: str
    unit_code: str
    unit_name: str | None = Field(None, description="the township's or department's name (None: the district); "
                                  "a township team's officer: its township's team, e.g. 金海湖镇综合行政执法队")
    team_township: str | None = Field(None, description="a township team's officer (unit TOWN): the township "
                                      "whose team it serves; None for everyone else")
    via: str
    actions: list[str]


@router.post("/token", operation_id="sign_in", response_model=TokenPublic, responses=ERRORS)
def sign_in(
    request: Request,
    response: Response,
    session: SessionDep,
    platform: PlatformDep,
    grant_type: Annotated[str, Form(pattern="^(password|refresh_token)$")] = "password",
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    refresh_token: Annotated[str | None, Form(max_length=4096)] = None,
) -> TokenPublic:
    """OAuth2 token endpoint: ``grant_type=password`` with ``username`` and ``password`` gives an access token
    (short-lived) and a refresh token (spent once); ``grant_type=refresh_token`` spends one for a new pair.
    Sign-in attempts are limited per user name and per client address."""
    settings = platform.settings
    per_minute = settings.login_attempts_per_minute
    limiter("sign_in_address", per_minute * 3).hit(client_address(request), field="username")
    if grant_type == "refresh_token":
        if not refresh_token:
            raise InvalidInput("refresh_token is required for grant_type=refresh_token", field="refresh_token")
        pair = refresh(session, settings, token=refresh_token)
    else:
        if not username or not password:
            if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json":
                raise InvalidInput("sign in with a form, not JSON: send grant_type, username and password as "
                                   "application/x-www-form-urlencoded (OAuth2)", field="username")
            raise InvalidInput("username and password are required", field="username" if not username else "password")
        limiter("sign_in_user", per_minute).hit(username.lower(), field="username")
        user = authenticate_password(session, username=username, password=password)
        pair = issue_tokens(session, settings, user)
    session.commit()
    # pages opened from a link (the maps) read the same token from a cookie scripts cannot read
    response.set_cookie(COOKIE, pair.access_token, max_age=pair.expires_in, httponly=True, samesite="strict",
                        path="/")
    return TokenPublic(access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token)


@router.get("/me", operation_id="who_am_i", response_model=CallerPublic, responses=ERRORS)
def who_am_i(caller: CallerDep, session: SessionDep, platform: PlatformDep) -> CallerPublic:
    """The signed-in user (with the name pages show), their role and unit (with its name), and the actions the
    role has."""
    from gis_enforcement.admin.users import names_of

    display, unit = names_of(session, catalog=platform.catalog, username=caller.username,
                             unit_kind=caller.unit_kind, unit_code=caller.unit_code,
                             team_township=caller.team_township)
    return CallerPublic(username=caller.username, display_name=display, role=caller.role.value,
                        unit_kind=caller.unit_kind, unit_code=caller.unit_code, unit_name=unit,
                        team_township=caller.team_township, via=caller.via,
                        actions=sorted(ROLE_ACTIONS[caller.role]))
