"""Joint-operation planning (联合执法), step 1: candidate sites → validated, scored and ranked targets.

A **candidate** is one site an operation might visit: a statistically significant hot spot, a site that keeps
coming back, or the place of open cases — one row per site, built by the caller (hot-spot analysis, the
recurrence links, the open-case list). Columns (only ``target_id``, a category and a location are required):

- ``target_id`` (text, unique); ``name`` (text, optional); ``kind`` (e.g. ``hotspot``/``recurring``/
  ``open_case``, informational);
- ``categories``: problem category codes of the lists (a list/tuple, or text with ``,`` or ``;`` between
  codes), or a single ``category`` column;
- location: a GeoDataFrame (any CRS; polygons give their representative point), or ``x``/``y`` in
  EPSG:4548 metres (CGCS2000 / 3-degree Gauss-Krüger CM 117E), or ``lon``/``lat`` in WGS84;
- ``township_code`` (text; needed when a target needs the township team, whose officers are per township);
- ``zone_kinds``: kinds of the special zones the site lies in (rule precedence: a zone rule beats the general
  rule), as for :func:`gis_enforcement.catalog.rules.match_rules`;
- ``recurrences`` (int ≥ 0): how many times the problem came back here; ``gi_bin`` (int −3..3): the hot-spot
  confidence bin of Getis-Ord Gi* (1, 2, 3 = hot at 90, 95, 99 % confidence; 0 or negative = not hot);
  ``open_cases`` (int ≥ 0): cases still open at the site; ``service_minutes`` (> 0): time on site.

**Score** (0–100, higher first), with the weights of :class:`ScoreWeights`::

    score = 100 · (w_sev·S + w_rec·R + w_conf·C + w_open·O) / (w_sev + w_rec + w_conf + w_open)

    S = (L − 1 − i) / (L − 1)        i = position of the target's most severe category's severity in the
                                     lists' severity_levels (0 = most severe), L = number of levels
                                     (critical 1, high 2/3, medium 1/3, low 0 in the shipped lists)
    R = min(recurrences, recurrence_cap) / recurrence_cap
    C = clip(gi_bin, 0, 3) / 3
    O = min(open_cases, open_cases_cap) / open_cases_cap

Defaults: w_sev 0.4, w_rec 0.2, w_conf 0.2, w_open 0.2, caps 5 and 5. Ties are broken by severity, then open
cases, then recurrences (more first), then ``target_id`` (ascending), so the ranking is a total order; scores
equal to 6 decimals count as equal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput

__all__ = ["METRIC_CRS", "ScoreWeights", "dated_names", "normalise_candidates", "rank_targets", "report_dates",
           "select_candidates"]

METRIC_CRS = "EPSG:4548"
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_TO_WGS84 = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)
_COUNTS = ("recurrences", "open_cases")


@dataclass(frozen=True)
class ScoreWeights:
    """Weights and caps of the target score (see the module docstring for the formula)."""

    severity: float = 0.4
    recurrence: float = 0.2
    confidence: float = 0.2
    open_cases: float = 0.2
    recurrence_cap: int = 5
    open_cases_cap: int = 5

    def __post_init__(self) -> None:
        weights = (self.severity, self.recurrence, self.confidence, self.open_cases)
        if any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
            raise InvalidInput("weights must be finite, >= 0 and not all 0", field="weights")
        if self.recurrence_cap < 1 or self.open_cases_cap < 1:
            raise InvalidInput("caps must be >= 1", field="weights")


def _codes(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        return tuple(p for p in (s.strip() for s in re.split(r"[,;]", value)) if p)
    if isinstance(value, Sequence | np.ndarray | set | frozenset):
        return tuple(str(v).strip() for v in value if v is not None and str(v).strip())
    return (str(value),)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _locate(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """x, y in EPSG:4548 from a GeoDataFrame, x/y columns or lon/lat columns."""
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
        geoms = frame.geometry
        if geoms.crs is None:
            raise InvalidInput("the candidates' geometry has no CRS", field="geometry")
        if geoms.isna().any() or geoms.is_empty.any():
            raise InvalidInput("a candidate has no geometry", field="geometry")
        points = geoms.to_crs(METRIC_CRS).representative_point()
        return shapely.get_x(points.values), shapely.get_y(points.values)
    if {"x", "y"} <= set(frame.columns):
        x, y = frame["x"], frame["y"]
        field = "x"
    elif {"lon", "lat"} <= set(frame.columns):
        lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
        if bad.any():
            raise InvalidInput(f"{int(bad.sum())} candidate(s) without a valid lon/lat", field="lon")
        x, y = _TO_METRIC.transform(lon, lat)
        field = "lon"
    else:
        raise InvalidInput("candidates need a geometry, x/y (EPSG:4548) or lon/lat columns", field="geometry")
    xs = pd.to_numeric(pd.Series(x), errors="coerce").to_numpy(float)
    ys = pd.to_numeric(pd.Series(y), errors="coerce").to_numpy(float)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise InvalidInput("a candidate has a missing or non-numeric coordinate", field=field)
    return xs, ys


def _counts(frame: pd.DataFrame, column: str, low: int, high: int | None) -> np.ndarray:
    if column not in frame:
        return np.zeros(len(frame), dtype=np.int64)
    values = pd.to_numeric(frame[column].fillna(0), errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values != np.round(values)) | (values < low)
    if high is not None:
        bad |= values > high
    if bad.any():
        bound = f"an integer >= {low}" if high is None else f"an integer {low}..{high}"
        raise InvalidInput(f"must be {bound}, got {values[bad][0]!r}", field=column)
    return values.astype(np.int64)


def normalise_candidates(candidates: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Validate a candidate table (columns in the module docstring) and return one clean row per target.

    The result has ``target_id``, ``name``, ``kind``, ``categories`` (tuple in catalog order, duplicates
    removed), ``zone_kinds`` (tuple), ``township_code``, ``x``/``y`` (EPSG:4548), ``lon``/``lat`` (WGS84),
    ``recurrences``, ``gi_bin``, ``open_cases`` and ``service_minutes`` (NaN when not given), in input order.
    Any bad value raises :class:`InvalidInput` naming the column: a missing or repeated ``target_id``, an
    unknown or missing category, a bad coordinate, a negative count, ``gi_bin`` outside −3..3.
    """
    if not isinstance(candidates, pd.DataFrame):
        raise InvalidInput("candidates must be a DataFrame or GeoDataFrame", field="candidates")
    n = len(candidates)
    if "target_id" not in candidates:
        raise InvalidInput("missing column", field="target_id")
    ids = [_text(v) for v in candidates["target_id"]]
    if any(i is None for i in ids):
        raise InvalidInput("a candidate has no target_id", field="target_id")
    repeated = sorted({i for i in ids if ids.count(i) > 1})  # type: ignore[type-var]
    if repeated:
        raise InvalidInput(f"target_id repeated: {', '.join(map(str, repeated[:5]))}", field="target_id")

    column = "categories" if "categories" in candidates else "category"
    if column not in candidates:
        raise InvalidInput("missing column (or 'category')", field="categories")
    order = {code: i for i, code in enumerate(catalog.categories)}
    cats: list[tuple[str, ...]] = []
    for tid, raw in zip(ids, candidates[column], strict=True):
        codes = _codes(raw)
        unknown = [c for c in codes if c not in order]
        if unknown:
            raise InvalidInput(f"target {tid}: unknown category {unknown[0]!r}", field="categories")
        if not codes:
            raise InvalidInput(f"target {tid}: no category", field="categories")
        cats.append(tuple(sorted(set(codes), key=order.__getitem__)))

    x, y = _locate(candidates)
    lon, lat = _TO_WGS84.transform(x, y)
    service = np.full(n, np.nan)
    if "service_minutes" in candidates:
        given = candidates["service_minutes"].notna().to_numpy()
        values = pd.to_numeric(candidates["service_minutes"], errors="coerce").to_numpy(float)
        if (given & ~(np.isfinite(values) & (values > 0))).any():
            raise InvalidInput("must be a number of minutes > 0", field="service_minutes")
        service = np.where(given, values, np.nan)

    def texts(name: str) -> list[str | None]:
        return [_text(v) for v in candidates[name]] if name in candidates else [None] * n

    zones = [_codes(v) for v in candidates["zone_kinds"]] if "zone_kinds" in candidates else [()] * n
    return pd.DataFrame({
        "target_id": ids,
        "name": texts("name"),
        "kind": texts("kind"),
        "categories": cats,
        "zone_kinds": zones,
        "township_code": texts("township_code"),
        "x": x, "y": y, "lon": np.asarray(lon), "lat": np.asarray(lat),
        "recurrences": _counts(candidates, "recurrences", 0, None),
        "gi_bin": _counts(candidates, "gi_bin", -3, 3),
        "open_cases": _counts(candidates, "open_cases", 0, None),
        "service_minutes": service,
    })


def select_candidates(
    targets: pd.DataFrame,
    *,
    townships: Collection[str] | None = None,
    area: shapely.Geometry | None = None,
    categories: Collection[str] | None = None,
) -> pd.DataFrame:
    """Keep the targets of an operation's scope: in ``townships``, inside ``area``, about ``categories``.

    ``targets`` is a :func:`normalise_candidates` table. ``area`` is a (multi)polygon in EPSG:4548; a target
    on its boundary counts as inside. With ``categories`` each target keeps only those of its categories
    (the operation is about them: departments and windows follow), and targets left with none are dropped.
    None means no restriction; an empty collection selects nothing.
    """
    keep = np.ones(len(targets), dtype=bool)
    if townships is not None:
        keep &= targets["township_code"].isin(list(townships)).to_numpy()
    if area is not None:
        if not isinstance(area, shapely.Geometry) or area.is_empty:
            raise InvalidInput("area must be a non-empty shapely geometry in EPSG:4548", field="area")
        keep &= shapely.intersects_xy(area, targets["x"].to_numpy(), targets["y"].to_numpy())
    out = targets.loc[keep].copy()
    if categories is not None:
        wanted = set(categories)
        out["categories"] = [tuple(c for c in cats if c in wanted) for cats in out["categories"]]
        out = out.loc[out["categories"].map(len) > 0]
    return out.reset_index(drop=True)


def report_dates(case_ids: pd.Series, observed_at: pd.Series, *, tz: str) -> pd.Series:
    """When each target's cases were reported, as a dispatcher tells targets apart: ``11-20`` (month-day, in
    the district's zone ``tz``) when they were all reported that day, ``11-18～11-20`` for the span of days of
    several. A day of another year than the latest report of all targets carries its year (``2025-12-30～01-02``).
    ``case_ids`` holds each target's case ids (a list; a candidate table's ``case_ids``), ``observed_at`` the
    aware report times indexed by case id; a target with no case known there (a hot spot) gets None."""
    pairs = case_ids.explode().dropna().astype(str)
    times = pd.Series(pd.to_datetime(observed_at, utc=True).to_numpy(), index=observed_at.index.astype(str))
    seen = pd.Series(times.reindex(pairs.to_numpy()).to_numpy(), index=pairs.index).dropna()
    if seen.empty:
        return pd.Series([None] * len(case_ids), index=case_ids.index, dtype=object)
    days = seen.dt.tz_convert(tz)
    first, last = days.groupby(level=0).min(), days.groupby(level=0).max()
    year = last.max().year

    def day(t: pd.Timestamp) -> str:
        return t.strftime("%m-%d") if t.year == year else t.strftime("%Y-%m-%d")

    labels = {i: day(a) if a.date() == b.date() else f"{day(a)}～{day(b)}"
              for i, a, b in zip(first.index, first, last, strict=True)}
    return pd.Series([labels.get(i) for i in case_ids.index], index=case_ids.index, dtype=object)


def dated_names(names: pd.Series, dates: pd.Series) -> pd.Series:
    """``names`` with the report dates of :func:`report_dates` after a ``·`` (``苏子峪村·案件点·11-20``); a name
    without dates stays as it is."""
    return names.where(dates.isna(), names.astype(str) + "·" + dates.astype(str))


def rank_targets(targets: pd.DataFrame, catalog: Catalog, weights: ScoreWeights | None = None) -> pd.DataFrame:
    """Score and rank targets by the module's formula; returns them sorted by ``rank`` (1 = visit first).

    ``targets`` is a :func:`normalise_candidates` table. Adds ``severity`` (the most severe level of its
    categories), the components ``s_severity``, ``s_recurrence``, ``s_confidence``, ``s_open_cases`` (each
    0..1), ``score`` (0–100, rounded to 0.01 for display; ranking uses the exact value) and ``rank``.
    """
    w = weights or ScoreWeights()
    levels = list(catalog.severity_levels) or sorted({c.severity for c in catalog.categories.values()})
    level_index = {code: i for i, code in enumerate(levels)}
    worst = np.array(
        [min(level_index[catalog.categories[c].severity] for c in cats) for cats in targets["categories"]],
        dtype=np.int64,
    )
    span = max(len(levels) - 1, 1)
    s_sev = (len(levels) - 1 - worst) / span if len(levels) > 1 else np.ones(len(targets))
    rec = targets["recurrences"].to_numpy(np.int64)
    opened = targets["open_cases"].to_numpy(np.int64)
    s_rec = np.minimum(rec, w.recurrence_cap) / w.recurrence_cap
    s_conf = np.clip(targets["gi_bin"].to_numpy(np.int64), 0, 3) / 3.0
    s_open = np.minimum(opened, w.open_cases_cap) / w.open_cases_cap
    total = w.severity + w.recurrence + w.confidence + w.open_cases
    score = 100.0 * (w.severity * s_sev + w.recurrence * s_rec + w.confidence * s_conf + w.open_cases * s_open)
    score = score / total

    out = targets.copy()
    out["severity"] = [levels[i] for i in worst]
    out["s_severity"], out["s_recurrence"], out["s_confidence"], out["s_open_cases"] = s_sev, s_rec, s_conf, s_open
    # lexsort: last key is primary. Higher score, more severe, more open cases, more recurrences, then id.
    ids = targets["target_id"].astype(str).to_numpy()
    order = np.lexsort((ids, -rec, -opened, worst, -np.round(score, 6)))  # equal to 6 decimals: a tie
    out["score"] = np.round(score, 2)
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out
