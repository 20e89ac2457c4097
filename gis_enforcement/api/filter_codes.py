"""The codes a list filter names, checked the same way wherever incidents are filtered (``/api/v1/incidents`` and
its exports, OGC API – Features): a value that names nothing the platform holds is refused, naming the
parameter, rather than matching nothing — a misspelt code would otherwise answer an empty list or map."""

from __future__ import annotations

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import CaseStatus
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, user_repo

__all__ = ["STATUSES", "check_category", "check_status", "check_township"]

STATUSES = tuple(s.value for s in CaseStatus)


def check_category(catalog: Catalog, value: str | None, *, field: str = "category") -> None:
    """A problem-list code (nothing to check when the filter is not given)."""
    if value is not None and value not in catalog.categories:
        raise InvalidInput(f"unknown category {value!r} (a problem-list code, e.g. MIN-02; see "
                           "GET /api/v1/catalog/categories)", field=field)


def check_status(value: str | None, *, field: str = "status") -> None:
    """A case status (nothing to check when the filter is not given)."""
    if value is not None and value not in STATUSES:
        raise InvalidInput(f"unknown status {value!r}; use one of {', '.join(STATUSES)}", field=field)


def check_township(session: Session, value: str | None, *, field: str = "township", names: bool = True) -> None:
    """A township code of the loaded layers — or, with ``names``, its name (nothing to check when not given)."""
    if value is None:
        return
    towns = user_repo.township_names(session)
    if value not in towns and not (names and value in towns.values()):
        what = "a township code or name" if names else "a township code"
        raise InvalidInput(f"unknown township {value!r} ({what} of the loaded layers, e.g. 110117003)", field=field)
