"""Which township a filter names: one resolver for every analysis, plan and list filter that takes a township.

A township is named by its code in the loaded layers ('110117003'), by its name as the layers store it
('金海湖镇(金海湖地区)') or by the short name every table prints ('金海湖镇'). Anything else is refused with one
text wherever it is typed — the value, and a few codes with their names to copy from — under the field the
caller names (``township`` unless told). ``gis-enforcement layers townships`` lists them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gis_enforcement.domain.names import short_township
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, user_repo

__all__ = ["resolve_township", "resolve_townships", "township_list", "unknown_township"]

#: how many townships the refusal offers as examples
EXAMPLES = 3


def unknown_township(value: str, towns: Mapping[str, str], *, field: str = "township",
                     names_too: bool = True) -> InvalidInput:
    """The refusal of a township filter that names none of ``towns`` (code → name): the value, and a few codes
    with their short names. ``names_too`` False where only a code is taken."""
    some = ", ".join(f"{code} {short_township(name)}" for code, name in list(towns.items())[:EXAMPLES])
    what = "a township code or name" if names_too else "a township code"
    return InvalidInput(f"unknown township {value!r} ({what} of the loaded layers, e.g. {some}; all of them: "
                        "`gis-enforcement layers townships`, GET /ogc/collections/townships/items)", field=field)


def _resolve(value: str, towns: Mapping[str, str], field: str) -> str:
    if value in towns:
        return value
    wanted = value.strip()
    if wanted in towns:
        return wanted
    found = sorted({code for code, name in towns.items() if wanted and wanted in (name, short_township(name))})
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidInput(f"{value!r} names {len(found)} townships ({', '.join(found)}): give the code",
                           field=field)
    raise unknown_township(value, towns, field=field)


def resolve_township(session: Session, value: str | None, *, field: str = "township") -> str | None:
    """The code of the township ``value`` names (its code, stored name or short name); None when not given.
    Unknown or ambiguous: :class:`InvalidInput` on ``field``."""
    if value is None:
        return None
    return _resolve(str(value), user_repo.township_names(session), field)


def resolve_townships(session: Session, values: Iterable[str] | None, *,
                      field: str = "township") -> list[str] | None:
    """The codes of the townships ``values`` name, in the order given, each once; None when none is given (the
    layers are then not read). Each value as :func:`resolve_township`."""
    given = [str(v) for v in values or ()]
    if not given:
        return None
    towns = user_repo.township_names(session)
    codes = [_resolve(v, towns, field) for v in given]
    return list(dict.fromkeys(codes))


def township_list(session: Session) -> list[dict[str, str]]:
    """Every township of the loaded layers by code: ``code``, ``name`` (as stored) and ``short_name`` (as the
    tables print it) — what a township filter takes."""
    return [{"code": code, "name": name, "short_name": short_township(name)}
            for code, name in user_repo.township_names(session).items()]
