"""Jurisdiction layers in PostGIS: replace them as one unit, read them back, and answer containment in SQL."""

from __future__ import annotations

import io
import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.storage.copying import raw_cursor

LAYER_TABLES = ("district", "township", "village", "zone", "grid_cell")


def _wkb_hex(geoms: Any) -> np.ndarray:
    return shapely.to_wkb(np.asarray(geoms), hex=True, output_dimension=2)


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    out = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    for row, geom in zip(out, _wkb_hex(frame.geometry.values), strict=True):
        row["wkb"] = geom
    return out


def replace_layers(
    session: Session,
    *,
    district: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame,
    source: dict[str, Any],
    report: dict[str, Any],
) -> int:
    """Replace every jurisdiction layer with the given frames (EPSG:4326) and log the load; returns its id.

    All layers change together inside the caller's transaction, so readers never see a mix of old and new.
    """
    for name in reversed(LAYER_TABLES):
        session.execute(text(f"DELETE FROM {name}"))
    multi = "ST_Multi(ST_GeomFromWKB(decode(:wkb, 'hex'), 4326))"
    plain = "ST_GeomFromWKB(decode(:wkb, 'hex'), 4326)"
    statements = [
        ("INSERT INTO district (code, name, geom) VALUES (:code, :name, " + multi + ")",
         district, ["code", "name"]),
        ("INSERT INTO township (code, name, level, synthetic, geom) VALUES "
         "(:code, :name, :level, :synthetic, " + multi + ")",
         townships.assign(level=townships.get("level"), synthetic=townships.get("synthetic", False)),
         ["code", "name", "level", "synthetic"]),
        ("INSERT INTO village (code, name, township_code, geom) VALUES (:code, :name, :township_code, "
         + plain + ")", villages, ["code", "name", "township_code"]),
        ("INSERT INTO grid_cell (code, township_code, geom) VALUES (:code, :township_code, " + multi + ")",
         grid, ["code", "township_code"]),
    ]
    for sql, frame, cols in statements:
        rows = _rows(frame, cols)
        if rows:
            session.execute(text(sql), rows)
    if len(zones):
        extra = [c for c in zones.columns if c not in ("kind", "code", "name", "geometry")]
        zrows = _rows(zones, ["kind", "code", "name"])
        props = zones[extra].astype(object).where(zones[extra].notna(), None).to_dict("records")
        for row, p in zip(zrows, props, strict=True):
            row["properties"] = json.dumps(p, ensure_ascii=False, default=str)
        session.execute(
            text("INSERT INTO zone (kind, code, name, properties, geom) VALUES "
                 "(:kind, :code, :name, CAST(:properties AS jsonb), " + multi + ")"),
            zrows,
        )
    load_id = session.execute(
        text("INSERT INTO layer_load (source, report) VALUES (CAST(:s AS jsonb), CAST(:r AS jsonb)) RETURNING id"),
        {"s": json.dumps(source, ensure_ascii=False, default=str),
         "r": json.dumps(report, ensure_ascii=False, default=str)},
    ).scalar_one()
    return int(load_id)


def read_layers(session: Session) -> dict[str, gpd.GeoDataFrame]:
    """All stored layers as GeoDataFrames in EPSG:4326, keyed by table name, rows in code order."""
    conn = session.connection()
    queries = {
        "district": "SELECT code, name, geom FROM district ORDER BY code",
        "township": "SELECT code, name, level, synthetic, geom FROM township ORDER BY code",
        "village": "SELECT code, name, township_code, geom FROM village ORDER BY code",
        "zone": "SELECT kind, code, name, geom FROM zone ORDER BY code",
        "grid_cell": "SELECT code, township_code, geom FROM grid_cell ORDER BY code",
    }
    out = {}
    for name, sql in queries.items():
        frame = gpd.read_postgis(text(sql), conn, geom_col="geom")
        out[name] = frame.rename_geometry("geometry").set_crs(4326, allow_override=True)
    return out


def layer_counts(session: Session) -> dict[str, int]:
    return {
        name: int(session.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()) for name in LAYER_TABLES
    }


def township_codes_st_contains(session: Session, *, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """For each point, the code of the township whose geometry ``ST_Contains`` it (None when none), in order.

    The reference answer the in-memory locator is checked against; points travel by COPY into a temp table.
    """
    buf = io.StringIO()
    pd.DataFrame({"i": np.arange(len(lon)), "x": lon, "y": lat}).to_csv(buf, index=False, header=False,
                                                                        float_format="%.17g")
    buf.seek(0)
    session.execute(text("CREATE TEMP TABLE IF NOT EXISTS _pts (i int, x float8, y float8) ON COMMIT DROP"))
    session.execute(text("TRUNCATE _pts"))
    with raw_cursor(session) as cur:
        cur.copy_expert("COPY _pts (i, x, y) FROM STDIN WITH (FORMAT csv)", buf)
    rows = session.execute(
        text("SELECT p.i, t.code FROM _pts p JOIN township t "
             "ON ST_Contains(t.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))")
    ).all()
    out = np.full(len(lon), None, dtype=object)
    for i, code in rows:
        if out[i] is not None:  # overlapping townships: keep the smallest code, deterministically
            code = min(out[i], code)
        out[i] = code
    return out


def latest_load(session: Session) -> tuple[int, dict[str, Any]] | None:
    """Id and source description of the newest layer load, or None when no layers were ever loaded."""
    row = session.execute(text("SELECT id, source FROM layer_load ORDER BY id DESC LIMIT 1")).first()
    return (int(row[0]), dict(row[1])) if row is not None else None
