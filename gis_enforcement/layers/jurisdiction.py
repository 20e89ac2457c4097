"""Load, validate and assemble the jurisdiction: district, townships, villages, special zones and grid.

By default the layers shipped in ``data/boundaries`` are used — the real district outline, the SYNTHETIC
township polygons (示意边界: interior lines invented), the village points and the DEMO zones. Any of them can
be replaced by a real layer in GeoJSON, GeoPackage or Shapefile; every layer goes through the same checks
(``validate``), and the grid is always rebuilt from the townships and villages actually loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_enforcement.errors import LayerInvalid
from gis_enforcement.layers.grid import build_grid
from gis_enforcement.layers.io import read_layer
from gis_enforcement.layers.validate import (
    LayerReport,
    check_inside_district,
    check_unique_codes,
    coverage_report,
    repair_polygons,
)
from gis_enforcement.settings import PROJECT_ROOT

DEFAULT_DIRECTORY = PROJECT_ROOT / "data" / "boundaries"
DEFAULT_FILES = {
    "district": "pinggu_district_wgs84.geojson",
    "townships": "pinggu_townships_SYNTHETIC_wgs84.geojson",
    "villages": "pinggu_villages_points_wgs84.geojson",
    "zones": "zones_DEMO_wgs84.geojson",
}
ZONE_KINDS = ("river_corridor", "mining_area", "truck_route", "ecological_redline")
_DIGITS = re.compile(r"^\d+$")


@dataclass
class Jurisdiction:
    """All layers one district is placed against, in EPSG:4326, plus what validation found."""

    district: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    grid: gpd.GeoDataFrame
    report: LayerReport
    sources: dict[str, str] = field(default_factory=dict)
    grid_size_m: float | None = None  # set when ``grid`` is the lattice grid of ``build_grid``

    @property
    def district_code(self) -> str:
        return str(self.district["code"].iloc[0])

    @property
    def synthetic(self) -> bool:
        """True when any township polygon is synthetic (label maps 示意边界 / illustrative boundaries)."""
        return bool(self.townships["synthetic"].any())


def _township_level(name: str) -> str | None:
    """街道 / 镇 / 乡 from the name, ignoring a parenthetical alias such as 平谷镇(渔阳地区)."""
    base = re.sub(r"[（(].*?[）)]", "", name or "").strip()
    for suffix in ("街道", "镇", "乡"):
        if base.endswith(suffix) or base.endswith(suffix + "办事处"):
            return suffix
    return None


def _require_codes(gdf: gpd.GeoDataFrame, layer: str, length: int) -> None:
    bad = [c for c in gdf["code"] if len(c) != length or not _DIGITS.match(c)]
    if bad:
        raise LayerInvalid(f"{layer}: code(s) {', '.join(bad[:5])} are not {length}-digit codes",
                           field="code")


def _load_district(path: Path, report: LayerReport) -> gpd.GeoDataFrame:
    gdf = read_layer(path)
    report.notes.extend(gdf.attrs.get("notes", []))
    if gdf["code"].nunique() != 1:
        raise LayerInvalid(f"district: {path.name} holds {gdf['code'].nunique()} districts; give one",
                           field="district")
    gdf = repair_polygons(gdf, "district", report)
    geom = shapely.union_all(gdf.geometry.to_numpy())
    code = str(gdf["code"].iloc[0])
    if len(code) < 6 or not code[:6].isdigit():
        raise LayerInvalid(f"district: code {code!r} does not start with a 6-digit county code", field="code")
    return gpd.GeoDataFrame({"code": [code[:6]], "name": [gdf["name"].iloc[0]]}, geometry=[geom],
                            crs="EPSG:4326")


def _load_townships(path: Path, district: gpd.GeoDataFrame, report: LayerReport) -> gpd.GeoDataFrame:
    gdf = read_layer(path)
    report.notes.extend(gdf.attrs.get("notes", []))
    _require_codes(gdf, "townships", 9)
    check_unique_codes(gdf, "townships")
    gdf = repair_polygons(gdf, "townships", report)
    dist_geom = district.geometry.iloc[0]
    check_inside_district(gdf, dist_geom, "townships", report)
    county = str(district["code"].iloc[0])
    foreign = sorted(c for c in gdf["code"] if not c.startswith(county))
    if foreign:
        report.notes.append(
            f"townships: code(s) {', '.join(foreign[:5])} do not start with district code {county}")
    level = gdf["level"] if "level" in gdf.columns else gdf["name"].map(_township_level)
    synthetic = gdf["synthetic"].fillna(False).astype(bool) if "synthetic" in gdf.columns else False
    out = gpd.GeoDataFrame(
        {"code": gdf["code"].astype(str), "name": gdf["name"], "level": level, "synthetic": synthetic},
        geometry=gdf.geometry.to_numpy(), crs="EPSG:4326",
    )
    # code order: the locator's "lowest row wins" rule for overlaps then means "smallest code wins",
    # the same rule storage applies to ST_Contains
    out = out.sort_values("code", kind="stable").reset_index(drop=True)
    coverage_report(out, dist_geom, report)
    if out["synthetic"].any():
        report.notes.append("townships: SYNTHETIC boundaries (示意边界), interior lines invented")
    return out


def _load_villages(path: Path, district: gpd.GeoDataFrame, townships: gpd.GeoDataFrame,
                   report: LayerReport) -> gpd.GeoDataFrame:
    gdf = read_layer(path)
    report.notes.extend(gdf.attrs.get("notes", []))
    _require_codes(gdf, "villages", 12)
    check_unique_codes(gdf, "villages")
    types = shapely.get_type_id(gdf.geometry.to_numpy())
    if not np.isin(types, (0, 3, 6)).all():
        raise LayerInvalid("villages: features must be points or polygons", field="villages")
    polygonal = np.isin(types, (3, 6))
    if polygonal.any():
        fixed = repair_polygons(gdf[polygonal], "villages", report)
        gdf = gdf.copy()
        gdf.loc[polygonal, "geometry"] = fixed.geometry.to_numpy()
    check_inside_district(gdf, district.geometry.iloc[0], "villages", report)
    town = gdf["township_code"].astype(str) if "township_code" in gdf.columns else gdf["code"].str[:9]
    unknown = sorted(set(town) - set(townships["code"]))
    if unknown:
        report.notes.append(f"villages: township code(s) {', '.join(unknown[:5])} match no township")
    return gpd.GeoDataFrame(
        {"code": gdf["code"].astype(str), "name": gdf["name"], "township_code": town.to_numpy()},
        geometry=gdf.geometry.to_numpy(), crs="EPSG:4326",
    ).sort_values("code", kind="stable").reset_index(drop=True)


def _load_zones(path: Path, district: gpd.GeoDataFrame, report: LayerReport) -> gpd.GeoDataFrame:
    gdf = read_layer(path)
    report.notes.extend(gdf.attrs.get("notes", []))
    if "kind" not in gdf.columns:
        raise LayerInvalid(f"zones: {path.name} has no 'kind' field ({', '.join(ZONE_KINDS)})", field="kind")
    if gdf["kind"].isna().any():
        raise LayerInvalid("zones: empty 'kind' in " + ", ".join(gdf.loc[gdf["kind"].isna(), "code"][:5]),
                           field="kind")
    check_unique_codes(gdf, "zones")
    gdf = repair_polygons(gdf, "zones", report)
    check_inside_district(gdf, district.geometry.iloc[0], "zones", report)
    other = sorted(set(gdf["kind"]) - set(ZONE_KINDS))
    if other:
        report.notes.append(f"zones: kind(s) {', '.join(other)} are not among {', '.join(ZONE_KINDS)}")
    extra = [c for c in gdf.columns if c not in ("kind", "code", "name", "geometry")]
    return gpd.GeoDataFrame(
        pd.concat([gdf[["kind", "code", "name"]].astype(object), gdf[extra]], axis=1),
        geometry=gdf.geometry.to_numpy(), crs="EPSG:4326",
    ).sort_values("code", kind="stable").reset_index(drop=True)


def _empty_zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": [], "code": [], "name": []}, geometry=[], crs="EPSG:4326")


def load_jurisdiction(
    directory: Path | None = None,
    *,
    district: Path | None = None,
    townships: Path | None = None,
    villages: Path | None = None,
    zones: Path | None = None,
    grid_size_m: float = 500.0,
) -> Jurisdiction:
    """Read and validate every layer and build the grid; see the module doc for defaults.

    Layers not given explicitly are the default files of ``directory`` (``data/boundaries``); a missing
    default zones file means "no zones". Raises ``LayerInvalid`` for a layer that cannot be used (the
    message names the file, the feature and the field); repairs, overlaps, gaps and notes go in ``report``.
    """
    directory = Path(directory) if directory is not None else DEFAULT_DIRECTORY
    paths = {
        "district": Path(district) if district else directory / DEFAULT_FILES["district"],
        "townships": Path(townships) if townships else directory / DEFAULT_FILES["townships"],
        "villages": Path(villages) if villages else directory / DEFAULT_FILES["villages"],
        "zones": Path(zones) if zones else directory / DEFAULT_FILES["zones"],
    }
    report = LayerReport()
    dist = _load_district(paths["district"], report)
    towns = _load_townships(paths["townships"], dist, report)
    vills = _load_villages(paths["villages"], dist, towns, report)
    if zones is None and not paths["zones"].exists():
        zone_frame = _empty_zones()
        report.notes.append("zones: none loaded")
    else:
        zone_frame = _load_zones(paths["zones"], dist, report)
    grid = build_grid(towns, vills, district_code=str(dist["code"].iloc[0]), size_m=grid_size_m)
    return Jurisdiction(
        district=dist, townships=towns, villages=vills, zones=zone_frame, grid=grid, report=report,
        sources={name: str(p) for name, p in paths.items()}, grid_size_m=float(grid_size_m),
    )
