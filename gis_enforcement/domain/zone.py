"""The district's time zone: the default the pure code falls back on, and the zone a caller passes.

The configured zone is ``settings.timezone``; the API, the CLI and the operations pass it down. Pure functions
take it as an argument (a name or a ``ZoneInfo``) and use :data:`DEFAULT_TIMEZONE` when given none.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gis_enforcement.errors import InvalidInput
from gis_enforcement.settings import DEFAULT_TIMEZONE

__all__ = ["DEFAULT_TIMEZONE", "district_zone", "in_zone"]


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone") from None


def district_zone(tz: str | ZoneInfo | None = None) -> ZoneInfo:
    """``tz`` as a ``ZoneInfo`` (a name such as ``Asia/Shanghai``); None is :data:`DEFAULT_TIMEZONE`.
    ``InvalidInput`` on ``timezone`` for a name the zone database does not know."""
    if isinstance(tz, ZoneInfo):
        return tz
    return _zone(DEFAULT_TIMEZONE if tz is None else str(tz))


def in_zone(value: datetime, tz: str | ZoneInfo | None = None) -> datetime:
    """``value`` in the zone ``tz``; a naive time is read as a time of that zone."""
    zone = district_zone(tz)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
