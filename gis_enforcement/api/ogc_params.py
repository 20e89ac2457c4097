"""Query parameters of OGC API – Features items: ``bbox``, ``datetime``, ``limit``, ``offset`` (and the incident
property filters), parsed into values the repository takes — a bad value names its parameter."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query

from gis_enforcement.errors import InvalidInput

#: The most features one page holds; a larger ``limit`` is served as this many (OGC API – Features permits it).
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
MAX_OFFSET = 10**12  # far beyond any collection; keeps offset + limit inside PostgreSQL's bigint

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ItemsParams:
    """The items query of every collection, as sent (parsed by :func:`parse_bbox` and :func:`parse_datetime`)."""

    bbox: Annotated[str | None, Query(
        description="minlon,minlat,maxlon,maxlat in CRS84 (WGS84 longitude/latitude); six numbers when the box "
                    "has heights (they are ignored). A west edge east of the east edge crosses the antimeridian.",
        examples=["117.0,40.1,117.3,40.3"])] = None
    datetime: Annotated[str | None, Query(
        description="RFC 3339 instant, or interval start/end with '..' (or nothing) for an open end; a date alone "
                    "means the whole day, a time without offset is district time. Filters incidents by "
                    "observed_at; collections without time ignore it.",
        examples=["2026-05-01T00:00:00+08:00/2026-05-31T23:59:59+08:00", "2026-05-12", "../2026-04-01"])] = None
    limit: Annotated[int, Query(ge=1, description=f"features per page, at most {MAX_LIMIT} (more is served as "
                                f"{MAX_LIMIT})", json_schema_extra={"maximum": MAX_LIMIT})] = DEFAULT_LIMIT
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET,
                                 description="features to skip (the next/prev links carry it)")] = 0
    f: Annotated[str | None, Query(description="output format: json or geojson (the only one)")] = None

    @property
    def page_size(self) -> int:
        return min(self.limit, MAX_LIMIT)


@dataclass(frozen=True, slots=True)
class IncidentProperties:
    """Property filters of the ``incidents`` collection (equality)."""

    category: Annotated[str | None, Query(description="problem-list code, e.g. MIN-02 (incidents only)")] = None
    status: Annotated[str | None, Query(description="case status, e.g. reported (incidents only)")] = None
    township_code: Annotated[str | None, Query(description="township code (incidents only)")] = None

    def given(self) -> dict[str, str]:
        """The filters sent, by name; a value with a NUL character (which no stored text has) is refused."""
        out = {k: v for k, v in (("category", self.category), ("status", self.status),
                                 ("township_code", self.township_code)) if v is not None}
        for name, value in out.items():
            if "\x00" in value:
                raise InvalidInput("must not contain a NUL character", field=name)
        return out


def refuse_unknown(names: Iterable[str], allowed: Iterable[str]) -> None:
    """/req/core/query-param-unknown: a query parameter the API does not define is refused (400 on /ogc),
    naming it — a misspelt ``bbx`` silently ignored would answer a different question than the one asked."""
    known = set(allowed)
    for name in names:
        if name not in known:
            raise InvalidInput(f"not a parameter of this resource (it takes {', '.join(sorted(known))})",
                               field=name.replace("\x00", ""))


#: the parameters of the items of a collection (the incident filters among them)
ITEMS_PARAMETERS = tuple(f.name for f in (*fields(ItemsParams), *fields(IncidentProperties)))


def check_format(value: str | None) -> None:
    if value is not None and value.lower() not in ("json", "geojson"):
        raise InvalidInput(f"format {value!r} is not offered; use f=json (GeoJSON)", field="f")


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``minlon,minlat,maxlon,maxlat`` (or six numbers with heights) → four floats; None when not given."""
    if value is None:
        return None
    try:
        numbers = [float(p) for p in value.split(",")]
    except ValueError:
        raise InvalidInput("bbox must be numbers separated by commas: minlon,minlat,maxlon,maxlat",
                           field="bbox") from None
    if len(numbers) not in (4, 6):
        raise InvalidInput(f"bbox must have 4 numbers (or 6 with heights), not {len(numbers)}", field="bbox")
    if not all(math.isfinite(n) for n in numbers):
        raise InvalidInput("bbox numbers must be finite", field="bbox")
    x0, y0, x1, y1 = (numbers[0], numbers[1], numbers[2], numbers[3]) if len(numbers) == 4 else \
        (numbers[0], numbers[1], numbers[3], numbers[4])
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180):
        raise InvalidInput("bbox longitudes must lie in [-180, 180]", field="bbox")
    if not (-90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidInput("bbox latitudes must lie in [-90, 90]", field="bbox")
    if y0 > y1:
        raise InvalidInput("bbox minlat must not exceed maxlat", field="bbox")
    return x0, y0, x1, y1


def _instant(text: str, tz: ZoneInfo, *, end: bool) -> datetime:
    """One end of a datetime value as the start of a half-open window: a date is its whole day (its end: the next
    midnight), an instant includes itself (its end: one microsecond later)."""
    if text.upper().endswith("T") and _DATE.match(text[:-1]):
        text = text[:-1]  # GDAL's OAPIF driver sends a date as 2026-05-01T
    if _DATE.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InvalidInput(f"{text!r} is not a date", field="datetime") from None
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        return _later(start, timedelta(days=1)) if end else start
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        raise InvalidInput(f"{text!r} is not an RFC 3339 date-time (e.g. 2026-05-12T23:40:00+08:00)",
                           field="datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return _later(moment, _ONE_MICROSECOND) if end else moment


def _later(moment: datetime, step: timedelta) -> datetime:
    """``moment + step``, or the last representable instant when that runs past the year 9999."""
    try:
        return moment + step
    except OverflowError:
        return datetime.max.replace(tzinfo=moment.tzinfo)


def parse_datetime(value: str | None, *, tz: str) -> tuple[datetime | None, datetime | None]:
    """An RFC 3339 instant or interval (``start/end``, ``..`` or nothing for an open end) → the half-open
    window ``[start, end)`` it covers (either None when open). The interval's ends are included, as OGC API
    – Features asks; a date alone is its whole day and a time without offset is read in ``tz``."""
    if value is None:
        return None, None
    zone = ZoneInfo(tz)
    text = value.strip()
    if "/" not in text:
        if text in ("", ".."):
            raise InvalidInput("datetime needs an instant or an interval start/end", field="datetime")
        return _instant(text, zone, end=False), _instant(text, zone, end=True)
    parts = text.split("/")
    if len(parts) != 2:
        raise InvalidInput("a datetime interval is start/end, with one '/'", field="datetime")
    start = None if parts[0].strip() in ("", "..") else _instant(parts[0].strip(), zone, end=False)
    end = None if parts[1].strip() in ("", "..") else _instant(parts[1].strip(), zone, end=True)
    if start is not None and end is not None and start >= end:
        raise InvalidInput("the datetime interval ends before it starts", field="datetime")
    return start, end
