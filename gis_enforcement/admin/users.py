"""Managing users: add one with a role scoped to a unit, list them, disable, reset a password, API keys.

Services take a session and never commit (the CLI and the API commit). The unit must exist: a township code
from the loaded layers, a department code from the four lists, or ``district`` for supervisors and admins. An
officer or chief of a township team (a department of the lists with ``officers_per_township``: ``TOWN``, the
综合行政执法队) also names the township whose team it serves (code or name); no one else names one.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime

from gis_enforcement.admin.credentials import hash_password, new_api_key
from gis_enforcement.domain.access import ROLE_UNIT, Role, UserRecord
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.names import short_township
from gis_enforcement.domain.teams import team_name
from gis_enforcement.domain.wording import with_article
from gis_enforcement.errors import AlreadyRecorded, InvalidInput, NotFound
from gis_enforcement.storage import Session, user_repo

__all__ = ["DISTRICT", "add_user", "check_new_user", "create_api_key", "disable_user", "reset_password",
           "revoke_api_key"]

#: the unit code of district-wide roles
DISTRICT = "district"
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters", field="password")
    if password.strip() != password or len(set(password)) < 4:
        raise InvalidInput("a password needs more than a few different characters and no outer spaces",
                           field="password")


def _unit_kind(session: Session, catalog: Catalog, role: Role, unit: str) -> str:
    kinds = ROLE_UNIT[role]
    if "district" in kinds:
        if unit != DISTRICT:
            raise InvalidInput(f"{with_article(role.value)} is scoped to the district: unit must be '{DISTRICT}'",
                               field="unit")
        return "district"
    if "department" in kinds and unit in catalog.departments:
        return "department"
    if "township" in kinds and unit in user_repo.township_names(session):
        return "township"
    want = " or ".join(kinds)
    known = ([*catalog.departments] if "department" in kinds else []) \
        + (sorted(user_repo.township_names(session)) if "township" in kinds else [])
    near = difflib.get_close_matches(unit, known, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise InvalidInput(f"{unit!r} is not a {want} code{hint}; the codes: {', '.join(known)}", field="unit",
                       allowed=known)


def _team_township(session: Session, catalog: Catalog, role: Role, unit: str, kind: str,
                   township: str | None) -> str | None:
    """The township code a township team's user serves (given by code or name), None for anyone else; refused
    when a team's officer names none, or another user names one."""
    team = kind == "department" and unit in catalog.township_teams
    if not team:
        if township is not None:
            raise InvalidInput(f"only a township team's officer names a township ({unit} is not a township team)",
                               field="township")
        return None
    towns = user_repo.township_names(session)
    if township is None or not township.strip():
        raise InvalidInput(f"{unit} is one team per township: name the township this {role.value} serves "
                           f"(code or name, e.g. {next(iter(towns), '110117104')})", field="township")
    wanted = township.strip()
    found = sorted(c for c, n in towns.items() if wanted in (c, n, short_township(n)))
    if len(found) != 1:
        some = ", ".join(f"{c} {short_township(n)}" for c, n in list(towns.items())[:4])
        raise InvalidInput(f"unknown township {wanted!r} (a township code or name of the loaded layers, e.g. "
                           f"{some})" if not found else f"{wanted!r} names {len(found)} townships: give the code",
                           field="township")
    return found[0]


def check_new_user(session: Session, *, catalog: Catalog, username: str, role: str, unit: str,
                   township: str | None = None) -> tuple[Role, str, str | None]:
    """Everything about a new user that can be checked without the password — the name (its form, and that no
    user has it in any letter case), the role, the unit the role is scoped to and, for a township team's
    officer, the township — so a command that asks for the password asks only once these are right. Returns
    the role, the unit's kind and the team's township code (None but for a township team)."""
    if not _USERNAME.match(username):
        raise InvalidInput("a user name is 2–64 letters, digits, '_', '.', '@' or '-'", field="username")
    try:
        parsed = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}: one of {', '.join(r.value for r in Role)}", field="role") from None
    kind = _unit_kind(session, catalog, parsed, unit)
    team_township = _team_township(session, catalog, parsed, unit, kind, township)
    taken = user_repo.name_taken(session, username=username)
    if taken is not None:  # sign-in limits count a name in any case: one name, one user
        same = taken == username
        raise AlreadyRecorded(f"user {taken!r} exists" if same else
                              f"user {taken!r} exists: user names that differ only in letter case are one name",
                              field="username")
    return parsed, kind, team_township


def add_user(session: Session, *, catalog: Catalog, username: str, password: str, role: str, unit: str,
             display_name: str | None = None, township: str | None = None) -> UserRecord:
    """Store a new user; InvalidInput names the bad field (the password's last: ``check_new_user`` first),
    AlreadyRecorded when the name is taken. ``township``: the township a township team's officer serves."""
    parsed, kind, team = check_new_user(session, catalog=catalog, username=username, role=role, unit=unit,
                                        township=township)
    _check_password(password)
    user = user_repo.insert_user(session, username=username, display_name=display_name, role=parsed.value,
                                 unit_kind=kind, unit_code=unit, password_hash=hash_password(password),
                                 team_township=team)
    if user is None:
        raise AlreadyRecorded(f"user {username!r} exists", field="username")
    return user


def _existing(session: Session, username: str) -> UserRecord:
    user = user_repo.get_user(session, username=username)
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


def disable_user(session: Session, *, username: str, disabled: bool = True) -> UserRecord:
    """Disable (or enable again) a user: their tokens stop working at the next refresh, their keys at once."""
    user = _existing(session, username)
    user_repo.set_disabled(session, username=username, disabled=disabled)
    if disabled:
        user_repo.forget_refresh_tokens(session, user_id=user.id, at=datetime.now(UTC))
    return _existing(session, username)


def reset_password(session: Session, *, username: str, password: str) -> UserRecord:
    user = _existing(session, username)
    _check_password(password)
    user_repo.set_password(session, username=username, password_hash=hash_password(password))
    user_repo.forget_refresh_tokens(session, user_id=user.id, at=datetime.now(UTC))
    return user


def create_api_key(session: Session, *, username: str, name: str) -> str:
    """A new API key for ``username`` (returned once; only its hash is kept)."""
    user = _existing(session, username)
    if not name.strip():
        raise InvalidInput("give the key a name (which system uses it)", field="name")
    key, prefix, key_hash = new_api_key()
    user_repo.insert_api_key(session, user_id=user.id, name=name.strip(), prefix=prefix, key_hash=key_hash)
    return key


def revoke_api_key(session: Session, *, prefix: str) -> None:
    if not user_repo.revoke_api_key(session, prefix=prefix, at=datetime.now(UTC)):
        raise NotFound(f"no active API key {prefix!r}", field="prefix")


def names_of(session: Session, *, catalog: Catalog, username: str, unit_kind: str,
             unit_code: str, team_township: str | None = None) -> tuple[str | None, str | None]:
    """What a page calls a signed-in user: their display name (None when they have none, or for a machine
    client's key without a user) and their unit's name — the township's name in the loaded layers, the
    department's in the lists (a township team's by its township's short name: 金海湖镇综合行政执法队), None for
    the district."""
    user = user_repo.get_user(session, username=username)
    if unit_kind == "township":
        unit = user_repo.township_names(session).get(unit_code)
    elif unit_kind == "department" and team_township is not None:
        zh = catalog.departments[unit_code].zh if unit_code in catalog.departments else unit_code
        town = user_repo.township_names(session).get(team_township)
        unit = team_name(short_township(town) if town else team_township, zh)   # fits a phone's header
    elif unit_kind == "department":
        unit = catalog.departments[unit_code].zh if unit_code in catalog.departments else None
    else:
        unit = None
    return (user.display_name if user is not None else None), unit
