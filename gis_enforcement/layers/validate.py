"""Validation of jurisdiction layers: repair or refuse geometries, refuse duplicates and misplaced layers,
and measure township overlaps and gaps.

Policy: a fault that can be fixed without guessing is fixed and reported (an invalid ring repaired with
``shapely.make_valid``); a fault that changes what a point would be placed in is reported with its size
(overlaps and gaps between townships, in m² computed in EPSG:4548); a fault that makes the layer meaningless
is refused with ``LayerInvalid`` naming the feature (a geometry with no area left after repair, a duplicate
code, a layer that mostly lies outside the district — usually the wrong CRS or the wrong file).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from gis_enforcement.errors import LayerInvalid
from gis_enforcement.layers.projection import METRIC_CRS, reproject

POLYGONAL = ("Polygon", "MultiPolygon")
MIN_SHARE_INSIDE = 0.5
SLIVER_M2 = 1.0  # overlaps/gaps below this are counted in a note rather than listed one by one


@dataclass
class LayerReport:
    """What validation found; serialisable with ``to_dict`` (stored with each layer load)."""

    repaired: list[dict[str, Any]] = field(default_factory=list)
    overlaps: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    outside: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def overlap_area_m2(self) -> float:
        return float(sum(o["area_m2"] for o in self.overlaps))

    @property
    def gap_area_m2(self) -> float:
        return float(sum(g["area_m2"] for g in self.gaps))

    def lines(self) -> list[str]:
        """One human-readable line per finding (for the CLI and logs)."""
        out = [f"repaired {r['layer']} {r['code']} ({r['name']}): {r['reason']}" for r in self.repaired]
        out += [f"overlap {o['a']} / {o['b']}: {o['area_m2']:,.1f} m²" for o in self.overlaps]
        out += [f"gap of {g['area_m2']:,.1f} m² near {g['lon']}, {g['lat']}" for g in self.gaps]
        out += [f"{o['layer']} {o['code']} ({o['name']}): only {o['share_inside']:.0%} inside the district"
                for o in self.outside]
        return out + list(self.notes)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["overlap_area_m2"] = self.overlap_area_m2
        out["gap_area_m2"] = self.gap_area_m2
        return out


def _label(gdf: gpd.GeoDataFrame, i: int) -> str:
    name = gdf["name"].iloc[i] if "name" in gdf.columns else None
    return f"{gdf['code'].iloc[i]} ({name})" if name else str(gdf["code"].iloc[i])


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a (possibly mixed) geometry, as one Polygon or MultiPolygon (empty if none)."""
    parts = shapely.get_parts(geom)
    polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    polys = shapely.get_parts(polys)
    if len(polys) == 0:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(list(polys))


def repair_polygons(gdf: gpd.GeoDataFrame, layer: str, report: LayerReport) -> gpd.GeoDataFrame:
    """Return ``gdf`` with every geometry a valid Polygon/MultiPolygon: invalid ones repaired with
    ``shapely.make_valid`` (keeping the polygonal part) and reported with code, name, reason and the area
    before and after; a feature that is not polygonal or has no area after repair raises ``LayerInvalid``."""
    geoms = gdf.geometry.to_numpy()
    types = shapely.get_type_id(geoms)
    bad_type = ~np.isin(types, (3, 6))
    if bad_type.any():
        i = int(np.flatnonzero(bad_type)[0])
        raise LayerInvalid(
            f"{layer}: feature {_label(gdf, i)} is a {geoms[i].geom_type}, "
            "not a polygon (buffer lines and points into polygons first)",
            field=layer,
        )
    invalid = np.flatnonzero(~shapely.is_valid(geoms))
    if invalid.size == 0:
        return gdf
    geoms = geoms.copy()
    reasons = shapely.is_valid_reason(geoms[invalid])
    fixed = shapely.make_valid(geoms[invalid])
    area_before = shapely.area(reproject(geoms[invalid]))
    for k, i in enumerate(invalid.tolist()):
        poly = _polygonal_part(fixed[k])
        area = float(shapely.area(reproject(np.array([poly]))[0])) if not poly.is_empty else 0.0
        if poly.is_empty or area <= 0:
            raise LayerInvalid(
                f"{layer}: feature {_label(gdf, int(i))} has an invalid geometry ({reasons[k]}) and no "
                "area is left after repair",
                field=layer,
            )
        geoms[i] = poly
        report.repaired.append({
            "layer": layer, "code": str(gdf["code"].iloc[i]), "name": gdf["name"].iloc[i],
            "reason": str(reasons[k]), "area_before_m2": round(float(area_before[k]), 1),
            "area_after_m2": round(area, 1),
        })
    out = gdf.copy()
    out["geometry"] = geoms
    return out


def check_unique_codes(gdf: gpd.GeoDataFrame, layer: str) -> None:
    """Refuse a layer in which two features share a code (``LayerInvalid`` naming the codes)."""
    dup = gdf["code"][gdf["code"].duplicated(keep=False)]
    if len(dup):
        codes = sorted(set(dup.tolist()))[:10]
        raise LayerInvalid(f"{layer}: duplicate code(s) {', '.join(codes)}", field="code")


def check_inside_district(
    gdf: gpd.GeoDataFrame, district: shapely.Geometry, layer: str, report: LayerReport,
    *, min_share: float = MIN_SHARE_INSIDE,
) -> None:
    """Refuse a layer less than ``min_share`` of which (by area for polygons, by count for points) lies in
    the district — the signature of a wrong CRS, swapped axes or another place's file; features mostly
    outside in an otherwise good layer are only reported."""
    if len(gdf) == 0:
        return
    xmin, ymin, xmax, ymax = shapely.total_bounds(gdf.geometry.to_numpy())
    if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
        raise LayerInvalid(
            f"{layer}: coordinates ({xmin:.6g}, {ymin:.6g}) – ({xmax:.6g}, {ymax:.6g}) are not lon/lat — "
            "swapped lon/lat, or a projected layer without a declared CRS?",
            field=layer,
        )
    metric = reproject(gdf.geometry.to_numpy())
    dist_m = reproject(np.array([district]))[0]
    shapely.prepare(dist_m)
    polygonal = np.isin(shapely.get_type_id(metric), (3, 6))
    share = np.ones(len(metric))
    area = shapely.area(metric)
    if polygonal.any():
        inside = shapely.area(shapely.intersection(metric[polygonal], dist_m))
        share[polygonal] = np.divide(inside, area[polygonal], out=np.zeros(len(inside)),
                                     where=area[polygonal] > 0)
    if (~polygonal).any():
        share[~polygonal] = shapely.covers(dist_m, metric[~polygonal]).astype(float)
    weights = np.where(polygonal, area, 0.0)
    total = (share * weights).sum() / weights.sum() if weights.sum() > 0 else share.mean()
    if total < min_share:
        raise LayerInvalid(
            f"{layer}: only {total:.0%} of the layer lies inside the district (at least {min_share:.0%} "
            "expected) — wrong CRS, swapped lon/lat, or a layer of another place?",
            field=layer,
        )
    for i in np.flatnonzero(share < 0.5):
        report.outside.append({"layer": layer, "code": str(gdf["code"].iloc[i]), "name": gdf["name"].iloc[i],
                               "share_inside": round(float(share[i]), 4)})


def coverage_report(townships: gpd.GeoDataFrame, district: shapely.Geometry, report: LayerReport) -> None:
    """Record township overlaps (pairs with area) and gaps inside the district (pieces with area and a
    representative lon/lat), all in m² computed in EPSG:4548; slivers under ``SLIVER_M2`` are summed in a
    note."""
    metric = reproject(townships.geometry.to_numpy())
    dist_m = reproject(np.array([district]))[0]
    codes = townships["code"].to_numpy()
    left, right = shapely.STRtree(metric).query(metric, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(metric[left], metric[right]))
    small = (areas > 0) & (areas < SLIVER_M2)
    for i, j, a in zip(left[areas >= SLIVER_M2], right[areas >= SLIVER_M2], areas[areas >= SLIVER_M2],
                       strict=True):
        report.overlaps.append({"a": str(codes[i]), "b": str(codes[j]), "area_m2": round(float(a), 1)})
    if small.any():
        report.notes.append(f"townships: {int(small.sum())} overlap sliver(s) under {SLIVER_M2} m², "
                            f"{areas[small].sum():.3f} m² in all")
    union = shapely.union_all(metric)
    gaps = shapely.get_parts(shapely.difference(dist_m, union))
    gaps = gaps[np.isin(shapely.get_type_id(gaps), (3, 6))]
    gap_area = shapely.area(gaps)
    big = gaps[gap_area >= SLIVER_M2]
    if len(big):
        reps = reproject(shapely.point_on_surface(big), METRIC_CRS, "EPSG:4326")
        for g, p in zip(big, reps, strict=True):
            report.gaps.append({"area_m2": round(float(g.area), 1),
                                "lon": round(p.x, 6), "lat": round(p.y, 6)})
        report.gaps.sort(key=lambda g: -g["area_m2"])
    tiny = gap_area[(gap_area > 0) & (gap_area < SLIVER_M2)]
    if tiny.size:
        report.notes.append(
            f"townships: {tiny.size} gap sliver(s) under {SLIVER_M2} m², {tiny.sum():.3f} m² in all")
    beyond = shapely.area(shapely.difference(union, dist_m))
    if beyond >= SLIVER_M2:
        report.notes.append(f"townships extend {beyond:,.0f} m² beyond the district outline")
