"""Features for OGC API – Features: pages of GeoJSON built by PostGIS, extents, single features. Never commits.

A page of up to 10 000 features is one statement: PostGIS writes each feature (``ST_AsGeoJSON`` inside
``json_build_object``) and joins them into one JSON array, which the API sends on without parsing it again.
Pages are cut from a stable order (the primary key); bounding boxes go through the GiST indexes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.access import IncidentScope
from gis_enforcement.storage.incident_repo import scope_clause

#: Decimal places of coordinates in the GeoJSON (1e-7 degree ≈ 1 cm).
COORDINATE_DIGITS = 7

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class FeaturePage:
    """One page: ``features`` is the JSON text of an array of GeoJSON Features (ready to send)."""

    features: str
    number_returned: int
    number_matched: int


@dataclass(frozen=True, slots=True)
class Extent:
    """Bounding box (minlon, minlat, maxlon, maxlat, WGS84) and, for timed collections, first and last instant;
    either is None when the collection is empty."""

    bbox: Box | None
    interval: tuple[datetime, datetime] | None = None


def _rfc3339(column: str) -> str:
    """SQL text of ``column`` (timestamptz) as RFC 3339 in the zone ``:tz`` with its offset, e.g.
    ``2026-05-12T23:40:00+08:00`` (fractions of a second only when there are some) — whatever the session's
    TimeZone, which the plain JSON cast of a timestamptz would follow."""
    local = f"({column} AT TIME ZONE :tz)"
    offset_s = f"extract(epoch FROM {local} - ({column} AT TIME ZONE 'UTC'))::int"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE "
        f"to_char({local}, CASE WHEN extract(microseconds FROM {column})::int % 1000000 = 0 "
        "THEN 'YYYY-MM-DD\"T\"HH24:MI:SS' ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US' END) "
        f"|| CASE WHEN {offset_s} < 0 THEN '-' ELSE '+' END "
        f"|| lpad((abs({offset_s}) / 3600)::text, 2, '0') || ':' "
        f"|| lpad((abs({offset_s}) % 3600 / 60)::text, 2, '0') END"
    )


def _finite(column: str) -> str:
    """A float column as SQL, NaN and infinities made NULL (JSON has no NaN; json_build_object would write it)."""
    return f"CASE WHEN {column} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE {column} END"


def _feature(id_sql: str, geom_sql: str, properties_sql: str) -> str:
    return (f"json_build_object('type', 'Feature', 'id', {id_sql}, "
            f"'geometry', ST_AsGeoJSON({geom_sql}, {COORDINATE_DIGITS})::json, 'properties', {properties_sql})")


def _envelopes(column: str, bbox: Box, exact: bool, params: dict[str, Any]) -> str:
    """``column`` meets ``bbox``; a box whose west edge lies east of its east edge crosses the antimeridian and
    is split in two. ``exact`` adds ST_Intersects (polygons); for points the index test alone is exact."""
    x0, y0, x1, y1 = bbox
    boxes = [(x0, y0, x1, y1)] if x0 <= x1 else [(x0, y0, 180.0, y1), (-180.0, y0, x1, y1)]
    tests = []
    for k, (a, b, c, d) in enumerate(boxes):
        params.update({f"bx0_{k}": a, f"by0_{k}": b, f"bx1_{k}": c, f"by1_{k}": d})
        env = f"ST_MakeEnvelope(:bx0_{k}, :by0_{k}, :bx1_{k}, :by1_{k}, 4326)"
        tests.append(f"ST_Intersects({column}, {env})" if exact else f"{column} && {env}")
    return "(" + " OR ".join(tests) + ")"


@dataclass(frozen=True, slots=True)
class _Source:
    """Where a collection's features come from: ``table`` (alias x), whose column ``key`` is unique among the
    rows meeting ``where`` (a fixed condition) and orders the pages; ``joins`` look up names."""

    table: str
    key: str
    properties: str
    joins: str = ""
    where: str | None = None


def _page(session: Session, *, source: _Source, where: list[str], params: dict[str, Any], limit: int,
          offset: int) -> FeaturePage:
    """Count the matches, cut the page from the key order, and only then build its features. PostgreSQL would
    evaluate the select list of every row an OFFSET skips, so the page is cut as a list of keys first; and it is
    looked up by ``= ANY(ARRAY(…))`` (one index probe per key) — as a join the planner scans the whole table."""
    conditions = [*([source.where] if source.where else []), *where]
    clause = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    matched = session.execute(text(f"SELECT count(*) FROM {source.table} x{clause}"), params).scalar_one()
    key = f"x.{source.key}"
    page = f"{key} = ANY(ARRAY(SELECT {key} FROM {source.table} x{clause} ORDER BY {key} LIMIT :limit OFFSET :offset))"
    row = session.execute(text(
        f"SELECT count(*), COALESCE('[' || string_agg(f, ',' ORDER BY k) || ']', '[]') FROM ("
        f"SELECT {key} AS k, {_feature(key, 'x.geom', source.properties)}::text AS f "
        f"FROM {source.table} x{source.joins} WHERE {' AND '.join([*([source.where] if source.where else []), page])}"
        ") page"),
        {**params, "limit": limit, "offset": offset},
    ).one()
    return FeaturePage(features=row[1], number_returned=int(row[0]), number_matched=int(matched))


def _one(session: Session, *, source: _Source, where: list[str], params: dict[str, Any]) -> str | None:
    conditions = [*([source.where] if source.where else []), *where]
    row = session.execute(text(
        f"SELECT {_feature('x.' + source.key, 'x.geom', source.properties)}::text FROM {source.table} x{source.joins} "
        f"WHERE {' AND '.join(conditions)}"), params).first()
    return str(row[0]) if row is not None else None


# -- incidents -------------------------------------------------------------------------------------------------
# observed_at is the only time among the properties: GDAL's OAPIF driver sends a comparison on ANY date field
# to the server as the ``datetime`` parameter (which filters observed_at) and then trusts the answer, so a second
# time property (received_at, closed_at) would be filtered wrongly in ogr2ogr, geopandas and other GDAL clients.
_INCIDENTS = _Source(
    table="incident", key="id",
    properties=(
        "json_build_object("
        "'category', x.category, 'status', x.status, "
        f"'observed_at', {_rfc3339('x.observed_at')}, "
        "'township_code', x.township_code, 'township_name', t.name, "
        "'village_code', x.village_code, 'village_name', v.name, 'grid_code', x.grid_code, "
        "'zone_codes', x.zone_codes, 'lead_department', x.lead_department, 'rule_code', r.rule_code, "
        "'flags', x.flags, 'accuracy_m', x.accuracy_m, 'description', x.description, "
        "'likely_duplicate_of', x.likely_duplicate_of, 'recurrence_of', x.recurrence_of)"
    ),
    joins=(" LEFT JOIN township t ON t.code = x.township_code LEFT JOIN village v ON v.code = x.village_code "
           "LEFT JOIN rule_snapshot r ON r.id = x.rule_snapshot_id"),
)


def _incident_where(*, bbox: Box | None = None, start: datetime | None = None, end: datetime | None = None,
                    category: str | None = None, status: str | None = None, township_code: str | None = None,
                    scope: IncidentScope | None, params: dict[str, Any]) -> list[str]:
    where: list[str] = []
    if bbox is not None:
        where.append(_envelopes("x.geom", bbox, False, params))
    if start is not None:
        where.append("x.observed_at >= :t0")
        params["t0"] = start
    if end is not None:
        where.append("x.observed_at < :t1")
        params["t1"] = end
    for name, value in (("category", category), ("status", status), ("township_code", township_code)):
        if value is not None:
            where.append(f"x.{name} = :{name}")
            params[name] = value
    if scope is not None and not scope.everything:  # the caller's cases only
        clause, scope_params = scope_clause(scope, alias="x")
        where.append(clause)
        params.update(scope_params)
    return where


def incident_page(
    session: Session,
    *,
    bbox: Box | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    category: str | None = None,
    status: str | None = None,
    township_code: str | None = None,
    scope: IncidentScope | None = None,
    limit: int = 100,
    offset: int = 0,
    tz: str = "Asia/Shanghai",
) -> FeaturePage:
    """A page of incidents as GeoJSON, in id order, and how many match. ``bbox`` (WGS84) and the observation
    window ``[start, end)`` filter; ``category``, ``status`` and ``township_code`` must equal. ``scope`` (the
    caller's, :class:`~gis_enforcement.domain.access.IncidentScope`) keeps the cases they may read. Times are
    written in ``tz`` with their offset."""
    params: dict[str, Any] = {"tz": tz}
    where = _incident_where(bbox=bbox, start=start, end=end, category=category, status=status,
                            township_code=township_code, scope=scope, params=params)
    return _page(session, source=_INCIDENTS, where=where, params=params, limit=limit, offset=offset)


def incident_feature(
    session: Session,
    *,
    incident_id: UUID,
    scope: IncidentScope | None = None,
    tz: str = "Asia/Shanghai",
) -> str | None:
    """One incident as the JSON text of a GeoJSON Feature; None when there is none with that id in the scope."""
    params: dict[str, Any] = {"tz": tz, "id": incident_id}
    where = ["x.id = :id", *_incident_where(scope=scope,
                                            params=params)]
    return _one(session, source=_INCIDENTS, where=where, params=params)


def incident_extent(session: Session, *, scope: IncidentScope | None = None) -> Extent:
    """Bounding box and observation interval of the incidents in the scope."""
    params: dict[str, Any] = {}
    where = _incident_where(scope=scope, params=params)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    row = session.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), t0, t1 FROM (SELECT ST_Extent(x.geom) AS e, "
        f"min(x.observed_at) AS t0, max(x.observed_at) AS t1 FROM incident x{clause}) e"), params).one()
    if row[0] is None:
        return Extent(bbox=None, interval=None)
    return Extent(bbox=(row[0], row[1], row[2], row[3]), interval=(row[4], row[5]))


# -- layers ----------------------------------------------------------------------------------------------------
_LATEST_GI_STAR = "(SELECT max(id) FROM hotspot_run WHERE kind = 'gi_star')"
_TOWNSHIP_NAME = " LEFT JOIN township t ON t.code = x.township_code"

_LAYERS: dict[str, _Source] = {
    "townships": _Source("township", "code",
                         "json_build_object('code', x.code, 'name', x.name, 'level', x.level, "
                         "'synthetic', x.synthetic)"),
    "villages": _Source("village", "code",
                        "json_build_object('code', x.code, 'name', x.name, 'township_code', x.township_code, "
                        "'township_name', t.name)", joins=_TOWNSHIP_NAME),
    "zones": _Source("zone", "code",
                     "x.properties || jsonb_build_object('code', x.code, 'kind', x.kind, 'name', x.name)"),
    "grid": _Source("grid_cell", "code",
                    "json_build_object('code', x.code, 'township_code', x.township_code, 'township_name', t.name)",
                    joins=_TOWNSHIP_NAME),
    "hotspot_cells": _Source(
        "hotspot_cell", "cell_id",
        "json_build_object('run_id', x.run_id, 'cell_id', x.cell_id, 'count', x.count, "
        f"'z', {_finite('x.z')}, 'p', {_finite('x.p')}, 'pseudo_p', {_finite('x.pseudo_p')}, "
        "'gi_bin', x.gi_bin, 'pattern', x.pattern)",
        where=f"x.run_id = {_LATEST_GI_STAR}"),
}

#: The collections besides ``incidents``, each over one table.
LAYER_COLLECTIONS: tuple[str, ...] = tuple(_LAYERS)


def _layer(collection: str) -> _Source:
    try:
        return _LAYERS[collection]
    except KeyError:
        raise ValueError(f"no layer collection {collection!r}; one of {LAYER_COLLECTIONS}") from None


def layer_page(session: Session, *, collection: str, bbox: Box | None = None, limit: int = 100,
               offset: int = 0) -> FeaturePage:
    """A page of one of :data:`LAYER_COLLECTIONS` as GeoJSON in code order (hot-spot cells: those of the
    newest Gi* run), and how many features meet ``bbox`` (exact intersection, not only the boxes')."""
    params: dict[str, Any] = {}
    where = [_envelopes("x.geom", bbox, True, params)] if bbox is not None else []
    return _page(session, source=_layer(collection), where=where, params=params, limit=limit, offset=offset)


def layer_feature(session: Session, *, collection: str, feature_id: str) -> str | None:
    """One feature of a layer collection as the JSON text of a GeoJSON Feature, or None."""
    source = _layer(collection)
    return _one(session, source=source, where=[f"x.{source.key} = :id"], params={"id": feature_id})


def layer_extents(session: Session) -> dict[str, Extent]:
    """The bounding box of each layer collection (None for an empty one), in one statement."""
    parts = [
        f"SELECT '{name}' AS name, ST_Extent(x.geom) AS e FROM {source.table} x"
        + (f" WHERE {source.where}" if source.where else "")
        for name, source in _LAYERS.items()
    ]
    rows = session.execute(text(
        "SELECT name, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (" + " UNION ALL ".join(parts) + ") x"
    )).all()
    return {r[0]: Extent(bbox=(r[1], r[2], r[3], r[4]) if r[1] is not None else None) for r in rows}


def latest_hotspot_run(session: Session) -> dict[str, Any] | None:
    """Id, time, scale and cell count of the newest Gi* run (the run the ``hotspot_cells`` collection shows)."""
    row = session.execute(text(
        "SELECT id, created_at, scale, n_incidents, n_cells FROM hotspot_run "
        f"WHERE id = {_LATEST_GI_STAR}")).first()
    return dict(row._mapping) if row is not None else None
