"""What a photo's EXIF says, in the platform's terms: when it was taken and where (pure).

EXIF keeps GPS as degrees, minutes and seconds with N/S, E/W references (WGS84 by the standard), and the time
as local "YYYY:MM:DD HH:MM:SS" with an optional offset tag; a phone without an offset is taken to be on the
platform's time zone. Anything malformed gives None rather than a guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["exif_degrees", "exif_time"]


def _number(value: Any) -> float | None:
    try:
        if isinstance(value, tuple) and len(value) == 2:  # a bare rational
            return float(value[0]) / float(value[1]) if float(value[1]) else None
        f = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return f if math.isfinite(f) else None


def exif_degrees(dms: Sequence[Any] | None, ref: str | bytes | None, *, limit: float) -> float | None:
    """Decimal degrees from EXIF's (degrees, minutes, seconds) and its reference (N/S/E/W); None when missing,
    malformed or beyond ``limit`` (90 for latitude, 180 for longitude)."""
    if dms is None or ref is None:
        return None
    try:
        parts = [_number(p) for p in dms]
    except TypeError:
        return None
    if len(parts) != 3 or any(p is None or p < 0 for p in parts):
        return None
    d, m, s = (float(p) for p in parts)  # type: ignore[arg-type]
    if m >= 60 or s >= 60:
        return None
    value = d + m / 60 + s / 3600
    sign = str(ref.decode(errors="replace") if isinstance(ref, bytes) else ref).strip().upper()[:1]
    if sign not in ("N", "S", "E", "W") or value > limit:
        return None
    return -value if sign in ("S", "W") else value


def exif_time(value: str | bytes | None, offset: str | bytes | None, tz: str) -> datetime | None:
    """An aware datetime from EXIF's DateTimeOriginal and OffsetTimeOriginal (else the zone ``tz``)."""
    if value is None:
        return None
    text = (value.decode(errors="replace") if isinstance(value, bytes) else value).strip("\x00 ")
    try:
        naive = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if not 1990 <= naive.year <= 2100:
        return None
    off = (offset.decode(errors="replace") if isinstance(offset, bytes) else offset or "").strip("\x00 ")
    if len(off) == 6 and off[0] in "+-" and off[3] == ":" and off[1:3].isdigit() and off[4:].isdigit():
        delta = timedelta(hours=int(off[1:3]), minutes=int(off[4:]))
        return naive.replace(tzinfo=timezone(delta if off[0] == "+" else -delta))
    return naive.replace(tzinfo=ZoneInfo(tz))
