"""What the analyses read and keep: incidents as a frame, hot-spot runs and cells, the register of recurring
sites, joint-operation plans. Never commits.

Incidents for analysis come back by ``COPY … TO STDOUT`` (a year of the district or ten years of Beijing's
outer districts are 10⁵–10⁷ rows); cell polygons and site points go in as EWKB hex by COPY.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.storage.bulk_repo import copy_in, copy_out

_UTC = pa.timestamp("us", tz="UTC")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json(value: Any) -> str:
    """JSON text for a jsonb column: NaN and infinities (which JSON has not) become null."""
    return json.dumps(_finite(value), ensure_ascii=False, default=str, allow_nan=False)
OPEN_STATUSES = ("reported", "triaged", "whistled", "in_action", "reopened")


def _where(start: datetime | None, end: datetime | None, categories: Sequence[str] | None,
           townships: Sequence[str] | None, statuses: Sequence[str] | None,
           accepted_only: bool = True) -> tuple[str, dict[str, Any]]:
    clauses = (["i.likely_duplicate_of IS NULL", "i.status NOT IN ('duplicate', 'rejected')"] if accepted_only
               else ["TRUE"])
    params: dict[str, Any] = {}
    if start is not None:
        clauses.append("i.observed_at >= %(start)s")
        params["start"] = start
    if end is not None:
        clauses.append("i.observed_at < %(end)s")
        params["end"] = end
    for name, values, column in (("categories", categories, "category"), ("townships", townships, "township_code"),
                                 ("statuses", statuses, "status")):
        if values:
            clauses.append(f"i.{column} = ANY(%({name})s)")
            params[name] = list(values)
    return " AND ".join(clauses), params


#: an incident inside the district: located in a township and not flagged as outside every township
_INSIDE_DISTRICT = "(i.township_code IS NOT NULL AND NOT ('outside_district' = ANY(i.flags)))"


def incidents_frame(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                    categories: Sequence[str] | None = None, townships: Sequence[str] | None = None,
                    statuses: Sequence[str] | None = None, inside_district: bool = False) -> pd.DataFrame:
    """Incidents for analysis (likely duplicates, duplicates and rejected reports left out): ``id``, ``lon``,
    ``lat``, ``category``, ``observed_at``, ``township_code``, ``village_code``, ``grid_code``, ``status``,
    ``closed_at``, ``zone_codes`` (``;``-joined). With ``inside_district``, only incidents located in a
    township of the district (see :func:`count_outside_district` for the others)."""
    where, params = _where(start, end, categories, townships, statuses)
    if inside_district:
        where += f" AND {_INSIDE_DISTRICT}"
    return copy_out(session, select=(
        "SELECT i.id::text AS id, i.lon, i.lat, i.category, i.observed_at, i.township_code, i.village_code, "
        "i.grid_code, i.status, i.closed_at, array_to_string(i.zone_codes, ';') AS zone_codes "
        f"FROM incident i WHERE {where}"), params=params,
        types={"lon": pa.float64(), "lat": pa.float64(), "observed_at": _UTC, "closed_at": _UTC})


def observed_extent(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                    categories: Sequence[str] | None = None, townships: Sequence[str] | None = None,
                    statuses: Sequence[str] | None = None,
                    inside_district: bool = False) -> tuple[datetime | None, datetime | None, int]:
    """The first and latest ``observed_at`` of the incidents :func:`incidents_frame` would return under the same
    filters, and how many there are; (None, None, 0) when there is none."""
    where, params = _where(start, end, categories, townships, statuses)
    if inside_district:
        where += f" AND {_INSIDE_DISTRICT}"
    row = session.connection().exec_driver_sql(
        f"SELECT min(i.observed_at), max(i.observed_at), count(*) FROM incident i WHERE {where}", params).one()
    return row[0], row[1], int(row[2])


def count_outside_district(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                           categories: Sequence[str] | None = None, townships: Sequence[str] | None = None,
                           statuses: Sequence[str] | None = None) -> int:
    """How many incidents :func:`incidents_frame` leaves out with ``inside_district`` under the same filters:
    those flagged ``outside_district`` or located in no township."""
    where, params = _where(start, end, categories, townships, statuses)
    return int(session.connection().exec_driver_sql(
        f"SELECT count(*) FROM incident i WHERE {where} AND NOT {_INSIDE_DISTRICT}", params).scalar_one())


def count_left_out(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                   categories: Sequence[str] | None = None, townships: Sequence[str] | None = None,
                   statuses: Sequence[str] | None = None) -> dict[str, int]:
    """How many reports under the same filters :func:`incidents_frame` leaves out whatever the district:
    ``likely_duplicates`` (flagged as a likely duplicate of another report, or marked a duplicate: the report
    they repeat is counted) and ``rejected`` (not accepted)."""
    where, params = _where(start, end, categories, townships, statuses, accepted_only=False)
    row = session.connection().exec_driver_sql(
        "SELECT count(*) FILTER (WHERE i.likely_duplicate_of IS NOT NULL OR i.status = 'duplicate'), "
        "count(*) FILTER (WHERE i.likely_duplicate_of IS NULL AND i.status = 'rejected') "
        f"FROM incident i WHERE {where}", params).one()
    return {"likely_duplicates": int(row[0]), "rejected": int(row[1])}


def data_state(session: Session, *, start: datetime | None = None, end: datetime | None = None,
               categories: Sequence[str] | None = None, townships: Sequence[str] | None = None,
               statuses: Sequence[str] | None = None) -> dict[str, Any]:
    """What an analysis under these filters would read, in a few numbers that change whenever any of it does:
    ``reports`` (every report under the filters, accepted or not), ``received_max`` (the newest arrival, ISO
    text), ``digest`` (an order-free sum of a hash of each report's id, status, duplicate mark, category,
    township, position, time and flags: a report reclassified, relocated, marked or closed changes it) and
    ``layers`` (the id of the layer load in force). Two equal states read the same incidents on the same
    layers."""
    where, params = _where(start, end, categories, townships, statuses, accepted_only=False)
    row = session.connection().exec_driver_sql(
        "SELECT count(*), max(i.received_at), COALESCE(sum(hashtextextended(concat_ws('|', i.id, i.status, "
        "i.likely_duplicate_of, i.category, i.township_code, i.lon, i.lat, i.observed_at, "
        "array_to_string(i.flags, ',')), 0)::numeric), 0)::text, "
        "(SELECT max(id) FROM layer_load) "
        f"FROM incident i WHERE {where}", params).one()
    return {"reports": int(row[0]), "received_max": None if row[1] is None else row[1].isoformat(),
            "digest": str(row[2]), "layers": None if row[3] is None else int(row[3])}


def find_hotspot_run(session: Session, *, kind: str, request: dict[str, Any], state: dict[str, Any]) -> int | None:
    """The newest run of ``kind`` stored for exactly this ``request`` (``parameters.request``) on data in
    exactly this ``state`` (``summary.data_state``, see :func:`data_state`); None when there is none."""
    found = session.execute(text(
        "SELECT id FROM hotspot_run WHERE kind = :k AND parameters->'request' = CAST(:r AS jsonb) "
        "AND summary->'data_state' = CAST(:s AS jsonb) ORDER BY id DESC LIMIT 1"),
        {"k": kind, "r": _json(request), "s": _json(state)}).scalar_one_or_none()
    return None if found is None else int(found)


def zone_kinds(session: Session) -> dict[str, str]:
    """Zone code → kind (river corridor, mining area …)."""
    return {r[0]: r[1] for r in session.execute(text("SELECT code, kind FROM zone")).all()}


# -- hot-spot runs ---------------------------------------------------------------------------------------------
def insert_hotspot_run(session: Session, *, kind: str, parameters: dict[str, Any], scale: dict[str, Any] | None,
                       summary: dict[str, Any], n_incidents: int, cells: gpd.GeoDataFrame) -> int:
    """Store a run and its cells (``cell_id``, ``count``, ``z``, ``p``, ``pseudo_p``, ``gi_bin``, ``pattern``,
    ``detail`` (dict), geometry in EPSG:4326); returns the run id."""
    run_id = int(session.execute(
        text("INSERT INTO hotspot_run (kind, parameters, scale, summary, n_incidents, n_cells) VALUES (:kind, "
             "CAST(:p AS jsonb), CAST(:s AS jsonb), CAST(:m AS jsonb), :n, :c) RETURNING id"),
        {"kind": kind, "p": _json(parameters), "s": _json(scale) if scale is not None else None,
         "m": _json(summary), "n": n_incidents, "c": len(cells)},
    ).scalar_one())
    geoms = shapely.force_2d(cells.geometry.to_crs(4326).values)
    multi = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms]
    frame = pd.DataFrame({
        "run_id": run_id, "cell_id": cells["cell_id"].astype(str).to_numpy(),
        "count": cells["count"].astype("int64").to_numpy(),
        "z": cells["z"].to_numpy(dtype=float) if "z" in cells else None,
        "p": cells["p"].to_numpy(dtype=float) if "p" in cells else None,
        "pseudo_p": cells["pseudo_p"].to_numpy(dtype=float) if "pseudo_p" in cells else None,
        "gi_bin": cells["gi_bin"].astype("Int64").to_numpy() if "gi_bin" in cells else None,
        "pattern": cells["pattern"].astype(str).to_numpy() if "pattern" in cells else None,
        "detail": [_json(d) for d in cells["detail"]] if "detail" in cells
        else None,
        "geom": ["SRID=4326;" + w for w in shapely.to_wkt(multi, rounding_precision=7)],
    })
    copy_in(session, table="hotspot_cell", frame=frame.dropna(axis=1, how="all"))
    return run_id


def hotspot_runs(session: Session, *, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.execute(text(
        "SELECT id, created_at, kind, parameters, scale, summary, n_incidents, n_cells FROM hotspot_run "
        "ORDER BY id DESC LIMIT :limit"), {"limit": limit}).all()
    return [dict(r._mapping) for r in rows]


def hotspot_run(session: Session, *, run_id: int) -> tuple[dict[str, Any] | None, gpd.GeoDataFrame]:
    """A stored run and its cells (GeoDataFrame, EPSG:4326); (None, empty) when there is no such run."""
    row = session.execute(text(
        "SELECT id, created_at, kind, parameters, scale, summary, n_incidents, n_cells FROM hotspot_run "
        "WHERE id = :id"), {"id": run_id}).first()
    if row is None:
        return None, gpd.GeoDataFrame({"cell_id": []}, geometry=[], crs=4326)
    cells = copy_out(session, select=(
        "SELECT cell_id, count, z, p, pseudo_p, gi_bin, pattern, detail::text AS detail, ST_AsText(geom) AS wkt "
        "FROM hotspot_cell WHERE run_id = %(id)s ORDER BY cell_id"), params={"id": run_id},
        types={"count": pa.int64(), "z": pa.float64(), "p": pa.float64(), "pseudo_p": pa.float64(),
               "gi_bin": pa.int64()})
    geometry = shapely.from_wkt(cells.pop("wkt").to_numpy())
    cells["detail"] = [json.loads(d) if isinstance(d, str) else None for d in cells["detail"]]
    return dict(row._mapping), gpd.GeoDataFrame(cells, geometry=geometry, crs=4326)


# -- recurring sites -------------------------------------------------------------------------------------------
def replace_recurring_sites(session: Session, *, sites: pd.DataFrame, parameters: dict[str, Any],
                            categories: Sequence[str] | None = None,
                            townships: Sequence[str] | None = None, retire: bool = True) -> tuple[int, int]:
    """Make ``sites`` the register within the scope of a refresh — the sites of ``categories`` (by their
    ``kind``; all when None) in ``townships`` (all when None): insert or refresh each (``site_id``, ``kind``,
    ``categories`` list, ``township_code``, ``n_incidents``, ``n_recurrences``, ``first_reported_at``,
    ``last_reported_at``, ``last_closed_at``, ``follow_up_due``, ``history`` list, ``lon``, ``lat``) and retire
    the rows of that scope it no longer holds (a site whose reports were rejected, or one stored under an id
    the refresh no longer gives; not with ``retire`` False). Returns how many were stored and how many
    retired."""
    session.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS site_load (LIKE recurring_site INCLUDING DEFAULTS) "
                         "ON COMMIT DROP"))
    session.execute(text("TRUNCATE site_load"))
    if not sites.empty:
        frame = pd.DataFrame({
            "site_id": sites["site_id"].astype(str), "kind": sites["kind"].astype(str),
            "categories": ["{" + ",".join(c) + "}" for c in sites["categories"]],
            "township_code": sites["township_code"], "n_incidents": sites["n_incidents"].astype("int64"),
            "n_recurrences": sites["n_recurrences"].astype("int64"),
            "first_reported_at": sites["first_reported_at"], "last_reported_at": sites["last_reported_at"],
            "last_closed_at": sites["last_closed_at"], "follow_up_due": sites["follow_up_due"],
            "history": [_json(list(h)) for h in sites["history"]],
            "parameters": _json(parameters),
            "geom": [f"SRID=4326;POINT({x:.7f} {y:.7f})" for x, y in zip(sites["lon"], sites["lat"], strict=True)],
        })
        copy_in(session, table="site_load", frame=frame)
        cols = [c for c in frame.columns if c != "site_id"]
        session.execute(text(
            f"INSERT INTO recurring_site (site_id, {', '.join(cols)}) SELECT site_id, {', '.join(cols)} "
            f"FROM site_load ON CONFLICT (site_id) DO UPDATE SET "
            f"{', '.join(f'{c} = EXCLUDED.{c}' for c in cols)}, updated_at = now()"))
    if not retire:
        return len(sites), 0
    clauses = ["NOT EXISTS (SELECT 1 FROM site_load l WHERE l.site_id = r.site_id)"]
    params: dict[str, Any] = {}
    if categories:
        clauses.append("r.kind = ANY(CAST(:cats AS text[]))")
        params["cats"] = list(categories)
    if townships:
        clauses.append("r.township_code = ANY(CAST(:towns AS text[]))")
        params["towns"] = list(townships)
    retired = session.execute(text(f"DELETE FROM recurring_site r WHERE {' AND '.join(clauses)}"), params)
    return len(sites), int(retired.rowcount or 0)  # type: ignore[attr-defined]


def recurring_sites(session: Session, *, townships: Sequence[str] | None = None,
                    categories: Sequence[str] | None = None, recurring_only: bool = True) -> pd.DataFrame:
    """Sites of the register (``lon``/``lat`` WGS84), most recurrences first."""
    clauses: list[str] = ["TRUE"]
    params: dict[str, Any] = {}
    if recurring_only:
        clauses.append("n_recurrences > 0")
    if townships:
        clauses.append("township_code = ANY(%(townships)s)")
        params["townships"] = list(townships)
    if categories:
        clauses.append("categories && %(categories)s::text[]")
        params["categories"] = list(categories)
    frame = copy_out(session, select=(
        "SELECT site_id, kind, array_to_string(categories, ';') AS categories, township_code, n_incidents, "
        "n_recurrences, first_reported_at, last_reported_at, last_closed_at, follow_up_due, history::text AS history, "
        f"ST_X(geom) AS lon, ST_Y(geom) AS lat FROM recurring_site WHERE {' AND '.join(clauses)} "
        "ORDER BY n_recurrences DESC, site_id"), params=params,
        types={"n_incidents": pa.int64(), "n_recurrences": pa.int64(), "lon": pa.float64(), "lat": pa.float64(),
               "first_reported_at": _UTC, "last_reported_at": _UTC, "last_closed_at": _UTC, "follow_up_due": _UTC})
    frame["categories"] = [tuple(c.split(";")) if isinstance(c, str) and c else () for c in frame["categories"]]
    frame["history"] = [json.loads(h) if isinstance(h, str) else [] for h in frame["history"]]
    return frame


# -- plans -----------------------------------------------------------------------------------------------------
def insert_plan(session: Session, *, catalog_version: str, parameters: dict[str, Any], targets: list[dict[str, Any]],
                waiting: list[dict[str, Any]], staffing: list[dict[str, Any]], route: dict[str, Any]) -> int:
    j = _json
    return int(session.execute(
        text("INSERT INTO operation_plan (catalog_version, parameters, targets, waiting, staffing, route) VALUES "
             "(:v, CAST(:p AS jsonb), CAST(:t AS jsonb), CAST(:w AS jsonb), CAST(:s AS jsonb), CAST(:r AS jsonb)) "
             "RETURNING id"),
        {"v": catalog_version, "p": j(parameters), "t": j(targets), "w": j(waiting), "s": j(staffing),
         "r": j(route)},
    ).scalar_one())


def find_plan(session: Session, *, parameters: dict[str, Any], status: str = "planned") -> int | None:
    """The newest plan stored for exactly these request ``parameters`` (as :func:`insert_plan` stored them) and
    in ``status``; None when there is none."""
    found = session.execute(text(
        "SELECT id FROM operation_plan WHERE parameters = CAST(:p AS jsonb) AND status = :s "
        "ORDER BY created_at DESC, id DESC LIMIT 1"), {"p": _json(parameters), "s": status}).scalar_one_or_none()
    return None if found is None else int(found)


def get_plan(session: Session, *, plan_id: int, lock: bool = False) -> dict[str, Any] | None:
    row = session.execute(text(
        "SELECT id, created_at, status, catalog_version, parameters, targets, waiting, staffing, route, executed_at, "
        f"whistle_ids, incident_ids FROM operation_plan WHERE id = :id{' FOR UPDATE' if lock else ''}"),
        {"id": plan_id}).first()
    return dict(row._mapping) if row is not None else None


def _array(expression: str) -> str:
    """The jsonb ``expression`` when it is an array, else an empty one (what the set functions may walk)."""
    return f"(CASE WHEN jsonb_typeof({expression}) = 'array' THEN {expression} ELSE '[]'::jsonb END)"


def plan_list(session: Session, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Plan summaries, newest first, and how many plans there are: id, created_at, status, executed_at,
    catalog_version, the period asked for and the period planned (``period_*``, ``route_period_*``: ISO text as
    stored — a naive one is district time, which only the caller knows), townships and categories asked for, the
    start township, target and waiting counts, the departments the targets need (sorted) and the whistles of an
    execution."""
    towns, cats, depts = _array("parameters->'townships'"), _array("parameters->'categories'"), \
        _array("t->'departments'")
    rows = session.execute(text(
        "SELECT id, created_at, status, executed_at, catalog_version, "
        "parameters->>'period_start' AS period_start, parameters->>'period_end' AS period_end, "
        "route->'plan'->>'period_start' AS route_period_start, route->'plan'->>'period_end' AS route_period_end, "
        f"ARRAY(SELECT jsonb_array_elements_text({towns})) AS townships, "
        f"ARRAY(SELECT jsonb_array_elements_text({cats})) AS categories, "
        "parameters->>'start_township' AS start_township, "
        f"jsonb_array_length({_array('targets')}) AS target_count, "
        f"jsonb_array_length({_array('waiting')}) AS waiting_count, "
        f"ARRAY(SELECT DISTINCT d FROM jsonb_array_elements({_array('targets')}) t, "
        f"jsonb_array_elements_text({depts}) d WHERE d IS NOT NULL ORDER BY d) AS departments, "
        "COALESCE(whistle_ids, '{}') AS whistle_ids, count(*) OVER () AS total "
        "FROM operation_plan ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset"),
        {"limit": limit, "offset": offset}).mappings().all()
    if rows:
        total = rows[0]["total"]
    else:  # past the last page: the window count has no row to ride on
        total = session.execute(text("SELECT count(*) FROM operation_plan")).scalar_one()
    return [{k: v for k, v in r.items() if k != "total"} for r in rows], int(total)


def mark_plan_executed(session: Session, *, plan_id: int, at: datetime, whistle_ids: Sequence[int],
                       incident_ids: Sequence[Any]) -> None:
    session.execute(text(
        "UPDATE operation_plan SET status = 'executed', executed_at = :at, whistle_ids = :w, incident_ids = :i "
        "WHERE id = :id"), {"at": at, "w": list(whistle_ids), "i": list(incident_ids), "id": plan_id})
