"""``gis-enforcement users …``: who may sign in, in which role, for which unit; API keys of machine clients."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from gis_enforcement.cli.common import app, fail, open_platform, out
from gis_enforcement.errors import EnforcementError, InvalidInput

users_app = typer.Typer(help="Users (role scoped to a township, a department or the district) and API keys.",
                        no_args_is_help=True)
keys_app = typer.Typer(help="API keys for machine clients (shown once; only their hash is kept).",
                       no_args_is_help=True)
users_app.add_typer(keys_app, name="key")
app.add_typer(users_app, name="users")

ROLES = "patrol, township_dispatcher, department_officer, department_chief, supervisor or admin"


def _password(given: str | None) -> str:
    """--password, else GISE_NEW_PASSWORD, else asked twice without echo."""
    if given:
        return given
    env = os.environ.get("GISE_NEW_PASSWORD")
    if env:
        return env
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise InvalidInput("the two passwords differ", field="password")
    return str(first)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="sign-in name (letters, digits, _ . @ -)")],
    role: Annotated[str, typer.Option(help=ROLES)],
    unit: Annotated[str, typer.Option(help="township code, department code, or 'district'")],
    name: Annotated[str | None, typer.Option(help="display name, e.g. 王伟 (平谷镇指挥中心)")] = None,
    password: Annotated[str | None, typer.Option(help="default: GISE_NEW_PASSWORD or asked")] = None,
    township: Annotated[str | None, typer.Option(
        help="for an officer of the township teams (--unit TOWN, 综合行政执法队): the township whose team it "
             "serves (code or name); it then sees that team's summons only")] = None,
) -> None:
    """Add a user with a role scoped to a unit. The name, role and unit are checked before the password is asked
    for."""
    from gis_enforcement.admin.users import add_user, check_new_user

    try:
        plat = open_platform()
        with plat.transaction() as session:
            check_new_user(session, catalog=plat.catalog, username=username, role=role, unit=unit, township=township)
        secret = _password(password)  # asked outside a transaction: typing takes a while
        with plat.transaction() as session:
            user = add_user(session, catalog=plat.catalog, username=username, password=secret, role=role, unit=unit,
                            display_name=name, township=township)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"user [bold]{user.username}[/]: {user.role.value} of "
              f"{_unit(user.unit_kind, user.unit_code, user.team_township)}")


def _unit(kind: str, code: str, team_township: str | None = None) -> str:
    """A user's unit as said: "the district", "township 110117003", "department WATER", "department TOWN, the
    team of township 110117104"."""
    team = f", the team of township {team_township}" if team_township else ""
    return "the district" if kind == "district" else f"{kind} {code}{team}"


@users_app.command("list")
def users_list() -> None:
    """Every user, their role, unit and whether they may sign in."""
    from gis_enforcement.storage import user_repo

    try:
        plat = open_platform()
        with plat.transaction() as session:
            users = user_repo.list_users(session)
    except EnforcementError as exc:
        fail(exc)
        return
    table = Table(title=f"{len(users)} users")
    for col in ("user", "name", "role", "unit", "state"):
        table.add_column(col)
    for u in users:
        table.add_row(u.username, u.display_name or "", u.role.value, _unit(u.unit_kind, u.unit_code, u.team_township),
                      "[red]disabled[/]" if u.disabled else "active")
    out.print(table)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument()],
    enable: Annotated[bool, typer.Option("--enable", help="enable again instead")] = False,
) -> None:
    """Disable a user (no sign-in, no refresh, keys refused), or enable them again."""
    from gis_enforcement.admin.users import disable_user

    try:
        plat = open_platform()
        with plat.transaction() as session:
            user = disable_user(session, username=username, disabled=not enable)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"{user.username}: {'disabled' if user.disabled else 'active'}")


@users_app.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument()],
    password: Annotated[str | None, typer.Option(help="default: GISE_NEW_PASSWORD or asked")] = None,
) -> None:
    """Set a new password; the user's refresh tokens stop working."""
    from gis_enforcement.admin.users import reset_password

    try:
        secret = _password(password)
        plat = open_platform()
        with plat.transaction() as session:
            reset_password(session, username=username, password=secret)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"{username}: password changed")


@keys_app.command("add")
def key_add(
    username: Annotated[str, typer.Argument(help="the user the key acts as")],
    name: Annotated[str, typer.Option(help="which system uses it, e.g. 区城管平台")],
) -> None:
    """Make an API key (printed once: keep it; send it as X-API-Key)."""
    from gis_enforcement.admin.users import create_api_key

    try:
        plat = open_platform()
        with plat.transaction() as session:
            key = create_api_key(session, username=username, name=name)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(key, markup=False, highlight=False)


@keys_app.command("list")
def key_list(username: Annotated[str | None, typer.Argument()] = None) -> None:
    """API keys (their prefixes, never the keys), when each was made and last used (a server records a use when
    it proves the key, at most once per ``GISE_API_KEY_CACHE_S``)."""
    from gis_enforcement.storage import user_repo

    try:
        plat = open_platform()
        with plat.transaction() as session:
            keys = user_repo.api_keys(session, username=username)
    except EnforcementError as exc:
        fail(exc)
        return
    table = Table(title=f"{len(keys)} API keys")
    for col in ("user", "name", "prefix", "created", "last used", "state"):
        table.add_column(col)
    zone = ZoneInfo(plat.settings.timezone)  # the district's time, as every other page and answer shows it

    def local(t: datetime) -> str:
        return t.astimezone(zone).isoformat(timespec="seconds")

    for k in keys:
        used = local(k["last_used_at"]) if k["last_used_at"] else "never"
        table.add_row(k["username"], k["name"], k["prefix"], local(k["created_at"]), used,
                      "[red]revoked[/]" if k["revoked_at"] else "active")
    out.print(table)


@keys_app.command("revoke")
def key_revoke(prefix: Annotated[str, typer.Argument(help="the key's prefix (see `users key list`)")]) -> None:
    """Revoke an API key at once."""
    from gis_enforcement.admin.users import revoke_api_key

    try:
        plat = open_platform()
        with plat.transaction() as session:
            revoke_api_key(session, prefix=prefix)
    except EnforcementError as exc:
        fail(exc)
        return
    out.print(f"key {prefix}: revoked")
