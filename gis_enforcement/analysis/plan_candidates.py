"""Candidates for a joint operation (联合执法): open cases, recurring sites and hot spots merged into one row per
site, ready for :func:`gis_enforcement.analysis.planning.plan_operation`. Pure.

1. **Open cases** of one category are grouped when they chain within ``merge_m`` of each other (DBSCAN with
   one case enough, in metres): a group is one place to visit, at the mean of its cases, with ``open_cases`` =
   its size and the ids in ``case_ids``.
2. **Recurring sites** from the register are targets of their own (``recurrences`` = returns after a closure).
   An open-case group within ``merge_m`` (default 300 m) of a site that shares a category is folded into the
   site: the operation visits the place once, for the site's history and the cases open there.
3. **Hot spots** (cells with Gi* bin > 0 of a stored run) give their bin (``gi_bin``) to every target inside
   them; a hot cell with no target in it becomes a target at its representative point — but only when the
   run was made for given categories (a hot spot of "all problems" does not say which lists apply).

Places outside every township (reports from beyond the district line) are left out: no township whistles them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gis_enforcement.analysis.clusters import dbscan_labels, project_to_metres

CANDIDATE_COLUMNS = ("target_id", "name", "kind", "categories", "lon", "lat", "township_code", "zone_kinds",
                     "recurrences", "gi_bin", "open_cases", "case_ids")


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CANDIDATE_COLUMNS})


def _mode(values: pd.Series) -> Any:
    v = values.dropna()
    return v.mode().iloc[0] if len(v) else None


def open_case_groups(cases: pd.DataFrame, *, zone_kinds: Mapping[str, str], merge_m: float = 300.0) -> pd.DataFrame:
    """One candidate per place of open cases of one category (``id``, ``lon``, ``lat``, ``category``,
    ``township_code``, ``zone_codes`` ``;``-joined): cases chaining within ``merge_m`` are one place."""
    if cases.empty:
        return _empty()
    rows = []
    for category, c in cases.groupby("category", sort=True):
        x, y = project_to_metres(c["lon"].to_numpy(dtype=float), c["lat"].to_numpy(dtype=float))
        labels = dbscan_labels(x, y, eps_m=merge_m, min_samples=1)
        for _, g in c.assign(place=labels).groupby("place", sort=True):
            zones = {z for codes in g["zone_codes"].dropna() for z in str(codes).split(";") if z}
            ids = sorted(g["id"].astype(str))
            rows.append({
                "target_id": f"cases:{category}:{ids[0][:8]}", "name": f"{category} ×{len(g)}", "kind": "open_cases",
                "categories": (str(category),), "lon": float(g["lon"].mean()), "lat": float(g["lat"].mean()),
                "township_code": _mode(g["township_code"]),
                "zone_kinds": tuple(sorted({zone_kinds[z] for z in zones if z in zone_kinds})),
                "recurrences": 0, "gi_bin": 0, "open_cases": len(g), "case_ids": ids,
            })
    out = pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS))
    return out.sort_values("target_id", kind="stable").reset_index(drop=True)


def site_targets(sites: pd.DataFrame) -> pd.DataFrame:
    """One candidate per recurring site of the register (``site_id``, ``kind``, ``categories``,
    ``township_code``, ``n_recurrences``, ``lon``, ``lat``)."""
    if sites.empty:
        return _empty()
    return pd.DataFrame({
        "target_id": "site:" + sites["site_id"].astype(str), "name": sites["site_id"].astype(str),
        "kind": "recurring_site", "categories": [tuple(c) for c in sites["categories"]],
        "lon": sites["lon"].astype(float), "lat": sites["lat"].astype(float),
        "township_code": sites["township_code"], "zone_kinds": [()] * len(sites),
        "recurrences": sites["n_recurrences"].astype(int), "gi_bin": 0, "open_cases": 0,
        "case_ids": [[] for _ in range(len(sites))],
    })[list(CANDIDATE_COLUMNS)]


def _fold_into_sites(groups: pd.DataFrame, sites: pd.DataFrame, merge_m: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    if groups.empty or sites.empty:
        return groups, sites
    gx, gy = project_to_metres(groups["lon"].to_numpy(), groups["lat"].to_numpy())
    sx, sy = project_to_metres(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    tree = cKDTree(np.column_stack([sx, sy]))
    sites = sites.copy()
    keep = np.ones(len(groups), dtype=bool)
    for i, (near, cats) in enumerate(zip(tree.query_ball_point(np.column_stack([gx, gy]), r=merge_m),
                                         groups["categories"], strict=True)):
        shared = [j for j in sorted(near, key=lambda j: np.hypot(sx[j] - gx[i], sy[j] - gy[i]))
                  if set(cats) & set(sites.iloc[j]["categories"])]
        if not shared:
            continue
        j = shared[0]
        sites.iat[j, sites.columns.get_loc("open_cases")] += int(groups.iloc[i]["open_cases"])
        sites.iat[j, sites.columns.get_loc("case_ids")] = sites.iloc[j]["case_ids"] + list(groups.iloc[i]["case_ids"])
        zones = set(sites.iloc[j]["zone_kinds"]) | set(groups.iloc[i]["zone_kinds"])
        sites.iat[j, sites.columns.get_loc("zone_kinds")] = tuple(sorted(zones))
        keep[i] = False
    return groups[keep], sites


def build_candidates(
    *,
    open_cases: pd.DataFrame,
    sites: pd.DataFrame,
    zone_kinds: Mapping[str, str],
    hot_cells: gpd.GeoDataFrame | None = None,
    hot_categories: Sequence[str] = (),
    cell_townships: Mapping[str, str] | None = None,
    merge_m: float = 300.0,
) -> pd.DataFrame:
    """The candidates of the module docstring, one row per site (columns :data:`CANDIDATE_COLUMNS`), in a
    stable order (sites, then case groups, then hot cells; each by id)."""
    groups, site_rows = _fold_into_sites(open_case_groups(open_cases, zone_kinds=zone_kinds, merge_m=merge_m),
                                         site_targets(sites), merge_m)
    frames = [f for f in (site_rows, groups) if not f.empty]
    out = pd.concat(frames, ignore_index=True) if frames else _empty()
    if hot_cells is not None and not hot_cells.empty:
        hot = hot_cells[hot_cells["gi_bin"].fillna(0) > 0].to_crs(4326)
        if not hot.empty:
            polys = hot.geometry.to_numpy()
            tree = shapely.STRtree(polys)
            covered = np.zeros(len(hot), dtype=bool)
            if not out.empty:
                points = shapely.points(out["lon"].to_numpy(dtype=float), out["lat"].to_numpy(dtype=float))
                pt, cell = tree.query(points, predicate="within")
                bins = hot["gi_bin"].to_numpy(dtype=int)
                best = np.zeros(len(out), dtype=int)
                np.maximum.at(best, pt, bins[cell])
                out["gi_bin"] = best
                covered[np.unique(cell)] = True
            if hot_categories:
                rest = hot[~covered]
                rep = shapely.point_on_surface(rest.geometry.to_numpy())
                towns = cell_townships or {}
                extra = pd.DataFrame({
                    "target_id": "hot:" + rest["cell_id"].astype(str), "name": rest["cell_id"].astype(str),
                    "kind": "hotspot", "categories": [tuple(hot_categories)] * len(rest),
                    "lon": shapely.get_x(rep), "lat": shapely.get_y(rep),
                    "township_code": [towns.get(c) for c in rest["cell_id"].astype(str)],
                    "zone_kinds": [()] * len(rest), "recurrences": 0,
                    "gi_bin": rest["gi_bin"].astype(int).to_numpy(), "open_cases": 0,
                    "case_ids": [[] for _ in range(len(rest))],
                })
                out = pd.concat([f for f in (out, extra) if not f.empty], ignore_index=True) if len(extra) else out
    if out.empty:
        return _empty()
    # a place outside every township is no township's to whistle (and the township team is counted per township)
    inside = out["township_code"].map(lambda t: isinstance(t, str) and bool(t))
    return out[inside].reset_index(drop=True)[list(CANDIDATE_COLUMNS)]
