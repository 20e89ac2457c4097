"""The codes a list filter names, checked the same way wherever a list is filtered (``/api/v1/incidents`` and
its exports, OGC API – Features, warnings, assignments, events, hot spots and recurring sites): a value that
names nothing the platform holds is refused, naming the parameter, rather than matching nothing — a misspelt
code would otherwise answer an empty list or map. A township is named by its code or its name wherever the
filter says so (:func:`township_code`, :func:`township_codes`), with one refusal text everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from gis_enforcement.analysis.townships import resolve_township, resolve_townships, unknown_township
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import CaseStatus
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, user_repo

__all__ = ["STATUSES", "check_categories", "check_category", "check_department", "check_status", "check_statuses",
           "check_township", "check_townships", "check_warning_rule", "check_warning_subject", "township_code",
           "township_codes"]

STATUSES = tuple(s.value for s in CaseStatus)


def check_category(catalog: Catalog, value: str | None, *, field: str = "category") -> None:
    """A problem-list code (nothing to check when the filter is not given)."""
    if value is not None and value not in catalog.categories:
        raise InvalidInput(f"unknown category {value!r} (a problem-list code, e.g. MIN-02; see "
                           "GET /api/v1/catalog/categories)", field=field)


def check_categories(catalog: Catalog, values: Iterable[str] | None, *, field: str = "category") -> None:
    """Each of a repeatable category filter's values is a problem-list code."""
    for value in values or ():
        check_category(catalog, value, field=field)


def check_status(value: str | None, *, field: str = "status") -> None:
    """A case status (nothing to check when the filter is not given)."""
    if value is not None and value not in STATUSES:
        raise InvalidInput(f"unknown status {value!r}; use one of {', '.join(STATUSES)}", field=field)


def check_statuses(values: Iterable[str] | None, *, field: str = "status") -> None:
    """Each of a repeatable status filter's values is a case status."""
    for value in values or ():
        check_status(value, field=field)


def check_department(catalog: Catalog, value: str | None, *, field: str = "department") -> None:
    """A department code of the lists (nothing to check when the filter is not given)."""
    if value is not None and value not in catalog.departments:
        raise InvalidInput(f"unknown department {value!r} (a department code of the lists, e.g. WATER; see "
                           "GET /api/v1/catalog/departments)", field=field)


def check_warning_rule(catalog: Catalog, value: str | None, *, field: str = "rule") -> None:
    """A warning-list code (nothing to check when the filter is not given)."""
    if value is not None and value not in catalog.warning_rules:
        raise InvalidInput(f"unknown warning rule {value!r}; use one of {', '.join(catalog.warning_rules)}",
                           field=field)


def check_township(session: Session, value: str | None, *, field: str = "township") -> None:
    """A township code of the loaded layers (nothing to check when not given)."""
    check_townships(session, None if value is None else (value,), field=field)


def check_townships(session: Session, values: Iterable[str] | None, *, field: str = "township") -> None:
    """Each of a township filter's values is a township code of the loaded layers; the layers are read once,
    and not at all when the filter is not given. (Filters that also take a name resolve it with
    :func:`township_code` or :func:`township_codes`.)"""
    given = list(values or ())
    if not given:
        return
    towns = user_repo.township_names(session)
    for value in given:
        if value not in towns:
            raise unknown_township(value, towns, field=field, names_too=False)


def check_warning_subject(session: Session, catalog: Catalog, value: str | None, *, field: str = "subject") -> None:
    """Who or what a warning can be about: a department code of the lists, a township code of the loaded layers,
    or a case (its incident id)."""
    if value is None or value in catalog.departments:
        return
    try:
        UUID(value)
    except ValueError:
        pass
    else:
        return
    if value not in user_repo.township_names(session):
        raise InvalidInput(f"unknown subject {value!r} (a department code of the lists, a township code of the "
                           "loaded layers, or an incident id)", field=field)


def township_code(session: Session, value: str | None, *, field: str = "township") -> str | None:
    """The code of the township a filter names: by its code, its name in the layers ('平谷镇(渔阳地区)') or the
    short name every table prints ('平谷镇'); None when the filter is not given. Unknown or ambiguous: refused,
    naming the parameter and a few codes with their names (one resolver for every filter:
    :func:`~gis_enforcement.analysis.townships.resolve_township`)."""
    return resolve_township(session, value, field=field)


def township_codes(session: Session, values: Iterable[str] | None, *, field: str = "township") -> list[str] | None:
    """The codes of the townships a repeatable filter names, each as :func:`township_code`; None when the
    filter is not given."""
    return resolve_townships(session, values, field=field)
