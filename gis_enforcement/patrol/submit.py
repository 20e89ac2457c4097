"""One incident submitted on its own — a patrol's phone POSTing a GeoJSON Feature — through intake in a few
milliseconds.

The same steps as ``ingest`` and the same result, row for row (tests store varied incidents both ways and
compare): validate → convert the datum → idempotency → locate → match the responsibility rule → likely
duplicates and recurrences → persist with the proposed whistle plan. What differs is the cost of one row:
``ingest`` pays tens of microseconds for every pandas or Arrow object it builds, which is nothing per row of a
million-row file and nearly all the work of a single POST. Here the row stays a dict, the point is placed by the
locator's one-point call, and the database sees two statements (``storage.submission_repo``): one reads all
intake needs to know, one writes the batch row and the incident and returns the stored case.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import numpy as np

from gis_enforcement.catalog.rules import rule_for, rule_snapshot
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.datum import to_wgs84
from gis_enforcement.domain.enums import Datum, LocationFlag
from gis_enforcement.domain.records import Incident
from gis_enforcement.errors import ConcurrentIntake, IdempotencyConflict, InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.dedupe import candidate_bbox, likely_duplicates, recurrences, utc_time
from gis_enforcement.patrol.parse import feature_row
from gis_enforcement.patrol.report import RowError
from gis_enforcement.patrol.validate import validate_row
from gis_enforcement.storage import Session, incident_repo, submission_repo
from gis_enforcement.storage.incident_repo import CONTENT_COLUMNS

__all__ = ["LocatorSource", "submit_one"]


class LocatorSource(Protocol):
    """Where a submission gets the locator of the newest layer load, given that load's id (read with the rest
    of the submission's context, so that a cached locator costs no round trip)."""

    def for_load(self, session: Session, load_id: int | None) -> Locator: ...


def _refused(errors: list[RowError]) -> InvalidInput:
    first = errors[0]
    return InvalidInput(first.reason, field=first.field, errors=[e.to_dict() for e in errors])


def own_reporter(reporter: str | None, names: tuple[str, ...]) -> str:
    """The reporter of a report filed by a patrol known by ``names`` (user name, display name): the first
    name when none is given, the given one when it is one of them; anybody else is refused."""
    if reporter is None or not reporter.strip():
        return names[0]
    if reporter.strip() in names:
        return reporter.strip()
    allowed = " or ".join(repr(n) for n in names)
    raise InvalidInput(f"a patrol files reports in its own name: reporter must be {allowed}, not {reporter!r}",
                       field="reporter", allowed=list(names))


def _same_content(clean: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """``intake.same_content`` for one submission against the stored content (observed_at in µs)."""
    for col in CONTENT_COLUMNS:
        a, b = clean[col], stored[col]
        if col in ("raw_lon", "raw_lat", "accuracy_m"):
            x = math.nan if a is None else float(a)
            y = math.nan if b is None else float(b)
            if not (abs(x - y) <= (1e-3 if col == "accuracy_m" else 1e-9) or (math.isnan(x) and math.isnan(y))):
                return False
        elif col == "observed_at":
            if _epoch_us(a) != b:
                return False
        elif a != b:
            return False
    return True


def _epoch_us(t: Any) -> int:
    return int(t.as_unit("us").asm8.astype(np.int64))


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def submit_one(
    session: Session,
    feature: Any,
    *,
    locator: Locator | LocatorSource,
    catalog: Catalog,
    default_crs: str = Datum.WGS84.value,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
    created_by: str | None = None,
    source: str | None = None,
    reporter_names: tuple[str, ...] | None = None,
) -> tuple[Incident, bool]:
    """Take one GeoJSON Feature (decoded) through intake; return the stored incident and whether it was
    created now (False: the same id and content were already stored). Nothing is committed.

    ``locator`` is a locator (used as it is) or a ``LocatorSource`` such as the platform's cache (asked for the
    newest layer load's). Bad input raises ``InvalidInput`` naming the first field at fault (all errors in
    ``detail``), as ``ingest`` reports them; the same id with different content raises
    ``IdempotencyConflict``. ``source`` labels the intake batch, ``created_by`` the sending user.

    ``reporter_names`` (a signed-in patrol's user name and display name) are the names the report may be filed
    under: a report without a reporter is filed under the first, one naming anybody else is refused (a patrol
    files in its own name). None (the CLI, files, the district's clients) leaves ``reporter`` as sent.
    """
    errors: list[RowError] = []
    row = feature_row(1, feature, errors)
    if row is None:
        raise _refused(errors)
    clean, errors = validate_row(row, categories=catalog.categories.keys(), names=catalog.category_codes_by_name,
                                 default_crs=default_crs, tz=tz, now=now)
    if clean is None:
        raise _refused(errors)
    if reporter_names:
        clean["reporter"] = own_reporter(clean["reporter"], reporter_names)
    try:
        return _submit(session, clean, locator=locator, catalog=catalog, created_by=created_by, source=source)
    except ConcurrentIntake:
        # the same id was stored by a concurrent request after our check: check again (now 200 or 409)
        return _submit(session, clean, locator=locator, catalog=catalog, created_by=created_by, source=source)


def _submit(
    session: Session,
    clean: dict[str, Any],
    *,
    locator: Locator | LocatorSource,
    catalog: Catalog,
    created_by: str | None,
    source: str | None,
) -> tuple[Incident, bool]:
    incident_id, category = clean["id"], clean["category"]
    lon, lat = np.array([clean["raw_lon"]]), np.array([clean["raw_lat"]])
    if clean["raw_crs"] not in (Datum.WGS84.value, Datum.CGCS2000.value):
        lon, lat = to_wgs84(lon, lat, clean["raw_crs"])
    params = catalog.categories[category]
    t_s = _epoch_us(clean["observed_at"]) / 1e6
    window = params.dedupe_window_hours * 3600.0
    rec_window = params.recurrence_days * 86400.0
    ctx = submission_repo.submission_context(
        session, incident_id=incident_id, category=category,
        digests=[rule_snapshot(catalog, r)["digest"] for r in catalog.rules if r.category == category],
        near_bbox=candidate_bbox(lon, lat, params.dedupe_radius_m),
        near_start=utc_time(t_s - window), near_end=utc_time(t_s + window),
        closed_bbox=candidate_bbox(lon, lat, params.recurrence_radius_m),
        closed_from=utc_time(t_s - rec_window), closed_to=utc_time(t_s),
    )
    if ctx.stored is not None:
        if not _same_content(clean, ctx.stored):
            reason = "already stored with different content"
            raise IdempotencyConflict(f"incident {incident_id} {reason}", field="id",
                                      errors=[RowError(1, "id", reason, incident_id, code="id:conflict").to_dict()])
        stored = incident_repo.get_incident(session, incident_id=UUID(incident_id))
        assert stored is not None  # just read in this transaction
        return stored, False

    placer = locator if isinstance(locator, Locator) else locator.for_load(session, ctx.layer_load)
    accuracy = clean["accuracy_m"]
    place = placer.locate_one(float(lon[0]), float(lat[0]), None if math.isnan(accuracy) else accuracy)
    rule = rule_for(catalog, category, place.zones)
    flags = place.flags
    if math.isfinite(accuracy) and accuracy > params.max_accuracy_m:
        flags = (*flags, LocationFlag.LOW_ACCURACY.value)
    snapshot = rule_snapshot(catalog, rule)
    snapshot_id = ctx.snapshot_ids.get(snapshot["digest"])
    if snapshot_id is None:  # the first case under this rule (in this catalog version)
        snapshot_id = incident_repo.ensure_rule_snapshots(session, snapshots=[snapshot])[snapshot["digest"]]

    # likely duplicate: the same search as a batch's, over the stored candidates and this one point (none
    # stored nearby, none found: the arrays are not worth building)
    near = ctx.nearby
    n = len(near)
    dup_idx, dup_dist = (np.array([-1]), np.array([np.nan])) if n == 0 else likely_duplicates(
        category=np.array([c[1] for c in near] + [category], dtype=object),
        lon=np.array([c[2] for c in near] + [float(lon[0])]), lat=np.array([c[3] for c in near] + [float(lat[0])]),
        t_s=np.array([c[4] / 1e6 for c in near] + [t_s]), is_new=np.arange(n + 1) == n,
        radius_m=np.full(n + 1, params.dedupe_radius_m), window_s=np.full(n + 1, window),
    )
    closed = ctx.closed
    rec_idx, rec_dist = (np.array([-1]), np.array([np.nan])) if not closed else recurrences(
        category=np.array([category], dtype=object), lon=lon, lat=lat, t_s=np.array([t_s]),
        closed_category=np.array([c[1] for c in closed], dtype=object),
        closed_lon=np.array([c[2] for c in closed], dtype=float),
        closed_lat=np.array([c[3] for c in closed], dtype=float),
        closed_t_s=np.array([c[4] / 1e6 for c in closed], dtype=float),
        radius_m=np.array([params.recurrence_radius_m]), window_s=np.array([rec_window]),
    )
    incident = submission_repo.insert_incident(session, source=source, incident={
        "id": incident_id, "category": category, "observed_at": clean["observed_at"].to_pydatetime(),
        "lon": float(lon[0]), "lat": float(lat[0]), "accuracy_m": _number(accuracy),
        "raw_lon": clean["raw_lon"], "raw_lat": clean["raw_lat"], "raw_crs": clean["raw_crs"],
        "reporter": clean["reporter"], "description": clean["description"],
        "township_code": place.township_code, "village_code": place.village_code,
        "village_distance_m": place.village_distance_m, "grid_code": place.grid_code,
        "zone_codes": [z.code for z in place.zones], "flags": list(flags),
        "border_townships": list(place.border_townships), "nearest_township_code": place.nearest_township_code,
        "nearest_township_distance_m": place.nearest_township_distance_m, "rule_snapshot_id": int(snapshot_id),
        "lead_department": rule.lead,
        "likely_duplicate_of": near[dup_idx[n]][0] if dup_idx[n] >= 0 else None,
        "duplicate_distance_m": _number(dup_dist[n]), "photos": list(clean["photos"] or ()),
        "track_id": clean["track_id"], "recurrence_of": closed[rec_idx[0]][0] if rec_idx[0] >= 0 else None,
        "recurrence_distance_m": _number(rec_dist[0]), "created_by": created_by,
    })
    if incident is None:
        reason = "stored by another request at the same moment; send again"
        raise ConcurrentIntake(f"an incident with this id was {reason}", field="id",
                               errors=[RowError(1, "id", reason, incident_id, code="id:concurrent").to_dict()])
    return incident, True
