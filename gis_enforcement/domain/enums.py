"""Enumerations shared across the platform. Values are stable strings stored in the database."""

from __future__ import annotations

from enum import StrEnum


class Datum(StrEnum):
    """Coordinate datums accepted at intake."""

    WGS84 = "wgs84"      # GPS
    GCJ02 = "gcj02"      # the obfuscated datum of Chinese web maps / phone map SDKs (AMap, Tencent)
    BD09 = "bd09"        # Baidu's variant of GCJ-02
    CGCS2000 = "cgcs2000"  # EPSG:4490, China's geodetic datum; equal to WGS84 at metre level


class CaseStatus(StrEnum):
    """States of a case (the state machine itself lives with dispatch)."""

    REPORTED = "reported"
    TRIAGED = "triaged"
    WHISTLED = "whistled"
    IN_ACTION = "in_action"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"


class Role(StrEnum):
    """A department's role on a case: 主责 (lead) or 配合 (assist)."""

    LEAD = "lead"
    ASSIST = "assist"


class LocationFlag(StrEnum):
    """Flags set by ``locate``; a point is never placed silently when one applies."""

    NEAR_BORDER = "near_border"            # within max(accuracy, 50 m) of another township
    OUTSIDE_DISTRICT = "outside_district"  # not inside any township; nearest township given
    NO_VILLAGE = "no_village"              # no village polygon and no village point in the township
    LOW_ACCURACY = "low_accuracy"          # GPS accuracy worse than the category allows
