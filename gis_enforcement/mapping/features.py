"""Incidents and townships as the compact GeoJSON the incidents map embeds (one collection per category).

Property keys are short and empty values dropped, so tens of thousands of points keep the page small; times
are shown in the district's time (``tz``, ``settings.timezone``; default Asia/Shanghai), township and village
names without their administrative suffixes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_enforcement.domain.names import romanise_place
from gis_enforcement.domain.names import short_village as _short_village
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE, district_zone

__all__ = ["LOCAL_TZ", "local_times", "point_collections", "township_collection", "township_names"]

LOCAL_TZ = DEFAULT_TIMEZONE  # the default; map builders take the configured zone as ``tz``


def _short_name(name: str) -> str:
    return re.split(r"[（(]", str(name))[0].strip()


#: an English township name and its administrative word, which English labels print small under the name
_EN_SUFFIX = re.compile(r"^(.+) (Subdistrict|Town|Township|Area)$")


def _label(name: str, note: str, lang: str) -> str:
    """A township label's HTML: the name, and ``note`` (a count) small beneath it. English labels put the
    administrative word there too ('Nandulehe' over 'Town · 12 incidents'), so long names stay narrow."""
    parts = _EN_SUFFIX.match(name) if lang != "zh" else None
    if parts:
        name, note = parts.group(1), " · ".join(x for x in (parts.group(2), note) if x)
    return html.escape(name) + (f"<small>{html.escape(note)}</small>" if note else "")


def township_names(townships: gpd.GeoDataFrame, lang: str = "zh") -> list[str]:
    """The label of each township: its short Chinese name ('平谷镇(渔阳地区)' → '平谷镇'), or with ``lang="en"``
    its ``name_en`` where the layer has one and else the romanised short name ('Pinggu Town')."""
    short = [_short_name(n) for n in townships["name"]]
    if lang == "zh":
        return short
    given = _clean(townships["name_en"].to_numpy()) if "name_en" in townships.columns else [None] * len(short)
    return [str(e).strip() if e is not None else romanise_place(s) for e, s in zip(given, short, strict=True)]


def _map_names(values: np.ndarray, fn: Any) -> np.ndarray:
    cache: dict[Any, Any] = {}
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is not None and v not in cache:
            cache[v] = fn(v)
        out[i] = None if v is None else cache[v]
    return out


def local_times(values: pd.Series, tz: str | None = None) -> pd.Series:
    """'YYYY-MM-DD HH:MM' in the district's zone ``tz`` (default Asia/Shanghai); naive datetimes are taken as
    times of that zone already."""
    if values.empty:
        return pd.Series([], dtype=object)
    zone = district_zone(tz).key
    if pd.api.types.is_datetime64_any_dtype(values):
        t = values
        t = t.dt.tz_localize(zone) if t.dt.tz is None else t.dt.tz_convert(zone)
    else:
        t = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601").dt.tz_convert(zone)
    out = t.dt.strftime("%Y-%m-%d %H:%M")
    return out.astype(object).where(t.notna(), None)


def _clean(values: Any) -> np.ndarray:
    """Object array with NaN/None/'' as None."""
    arr = np.array(values, dtype=object)
    missing = pd.isna(arr)
    out = np.empty(len(arr), dtype=object)
    for i, v in enumerate(arr):
        out[i] = None if missing[i] or (isinstance(v, str) and not v.strip()) else v
    return out


def township_collection(townships: gpd.GeoDataFrame, counts: Mapping[str, int], unit: str, *,
                        lang: str = "zh") -> tuple[dict[str, Any], list[list[Any]]]:
    """Township polygons plus the district outline, and their labels as [lat, lon, html, min zoom]; ``counts``
    (by the layer's ``name``) are printed under the names, in ``unit``. Names are Chinese, or English with
    ``lang="en"`` (see :func:`township_names`)."""
    towns = townships.to_crs(4326) if townships.crs is not None else townships
    shown = township_names(towns, lang) if len(towns) else []
    named = [str(n) for n in towns["name"]] if lang == "zh" else shown
    geoms = shapely.set_precision(towns.geometry.values, 1e-6)
    features = [
        {"type": "Feature", "properties": {"name": name}, "geometry": shapely.geometry.mapping(g)}
        for name, g in zip(named, geoms, strict=True) if g is not None and not g.is_empty
    ]
    outline = shapely.union_all(towns.geometry.values)
    features.append({"type": "Feature", "properties": {"outline": True},
                     "geometry": shapely.geometry.mapping(shapely.set_precision(outline, 1e-6))})
    labels = []
    for name, label, g in zip(towns["name"], shown, towns.geometry.values, strict=True):
        if g is None or g.is_empty:
            continue
        p = g.representative_point() if not g.contains(g.centroid) else g.centroid
        n = counts.get(str(name), 0)
        label = _label(label, f"{n} {unit}" if counts else "", lang)
        km2 = g.area * 111.32 * 110.57 * np.cos(np.radians(p.y))
        labels.append([round(p.y, 6), round(p.x, 6), label, 12 if km2 < 15 else 0])
    return {"type": "FeatureCollection", "features": features}, labels


def point_collections(incidents: gpd.GeoDataFrame, codes: list[str], *,
                      tz: str | None = None) -> dict[str, dict[str, Any]]:
    """One compact FeatureCollection per category; property keys are short to keep the page small; times in
    the district's zone ``tz``."""
    inc = incidents
    geom = inc.geometry.values
    ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    inc = inc[ok]
    n = len(inc)
    lon = np.round(shapely.get_x(inc.geometry.values), 6).tolist()
    lat = np.round(shapely.get_y(inc.geometry.values), 6).tolist()

    def col(name: str) -> np.ndarray:
        return _clean(inc[name].to_numpy()) if name in inc.columns else np.full(n, None, dtype=object)

    cats = inc["category"].astype(str).to_numpy()
    props = {
        "id": col("id"),
        "t": (local_times(inc["observed_at"], tz).to_numpy() if "observed_at" in inc.columns
              else np.full(n, None, dtype=object)),
        "s": col("status"), "tw": _map_names(col("township_name"), _short_name),
        "v": _map_names(col("village_name"), _short_village), "g": col("grid_code"),
        "f": col("flags"), "d": col("lead_department"), "dup": col("likely_duplicate_of"),
        "desc": col("description"),
    }
    acc = col("accuracy_m")
    props["acc"] = np.array([None if a is None else round(float(a), 1) for a in acc], dtype=object)
    keys = list(props)
    columns = [props[k].tolist() for k in keys]
    out: dict[str, dict[str, Any]] = {
        c: {"type": "FeatureCollection", "category": c, "features": []} for c in codes
    }
    for i in range(n):
        p = {k: str(v) if isinstance(v, str) else v for k, v in
             ((k, column[i]) for k, column in zip(keys, columns, strict=True)) if v is not None}
        point = {"type": "Point", "coordinates": [lon[i], lat[i]]}
        out[cats[i]]["features"].append({"type": "Feature", "geometry": point, "properties": p})
    return out



#: above this many incidents the page carries columns, not GeoJSON features (see :func:`compact_collections`)
COMPACT_ABOVE = 20_000


def compact_collections(incidents: gpd.GeoDataFrame, codes: list[str], *, tz: str | None = None
                        ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The incidents of each category as columns of small integers, and the page-wide dictionaries they index:
    positions in 1e-5 degrees (about a metre) from the south-west corner, times in minutes from the first (wall
    clock minutes of the district's zone ``tz``, so the page prints them as they are),
    texts (status, township, village, grid, lead department, flags, duplicate) by their index in a list of the
    distinct values. The page rebuilds the same GeoJSON features from them (``giseDecode``), so popups and layers
    work as with :func:`point_collections`; ids and descriptions are left out (they would dominate the page).
    Missing values are -1."""
    inc = incidents
    geom = inc.geometry.values
    inc = inc[~(shapely.is_missing(geom) | shapely.is_empty(geom))]
    n = len(inc)
    x, y = shapely.get_x(inc.geometry.values), shapely.get_y(inc.geometry.values)
    x0, y0 = (float(np.floor(x.min() * 1e3) / 1e3), float(np.floor(y.min() * 1e3) / 1e3)) if n else (0.0, 0.0)
    cols: dict[str, np.ndarray] = {"x": np.rint((x - x0) * 1e5).astype(np.int64),
                                   "y": np.rint((y - y0) * 1e5).astype(np.int64)}
    t0 = 0
    if "observed_at" in inc.columns and n:
        t = pd.to_datetime(inc["observed_at"], utc=True, errors="coerce", format="ISO8601")
        wall = t.dt.tz_convert(district_zone(tz).key).dt.tz_localize(None)
        minutes = (wall - pd.Timestamp(0)).dt.total_seconds() // 60
        t0 = int(minutes.min()) if minutes.notna().any() else 0
        cols["t"] = (minutes - t0).fillna(-1).astype(np.int64).to_numpy()
    dictionaries: dict[str, list[Any]] = {}
    texts = {"s": "status", "tw": "township_name", "v": "village_name", "g": "grid_code", "d": "lead_department",
             "f": "flags", "dup": "likely_duplicate_of"}
    shorten = {"tw": _short_name, "v": _short_village, "dup": lambda s: str(s)[:8]}
    for key, column in texts.items():
        if column not in inc.columns:
            continue
        values = _clean(inc[column].to_numpy())
        if key in shorten:
            values = _map_names(values, shorten[key])
        codes_, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
        cols[key] = codes_.astype(np.int64)
        dictionaries[key] = [str(u) for u in uniques]
    if "accuracy_m" in inc.columns:
        acc = pd.to_numeric(inc["accuracy_m"], errors="coerce")
        cols["acc"] = acc.round().fillna(-1).astype(np.int64).to_numpy()
    cats = inc["category"].astype(str).to_numpy()
    out: dict[str, dict[str, Any]] = {}
    for code in codes:
        rows = np.flatnonzero(cats == code)
        out[code] = {k: v[rows].tolist() for k, v in cols.items()}
    return out, {"x0": x0, "y0": y0, "t0": t0, "dict": dictionaries}
