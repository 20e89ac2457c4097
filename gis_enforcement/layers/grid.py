"""Management grid (网格): square cells per township, coded in the national 15-digit style.

Cells are squares of ``size_m`` (default 500 m) on a lattice anchored at the origin of EPSG:4548
(CGCS2000 / 3-degree Gauss-Kruger, central meridian 117°E): lattice cell (ix, iy) spans
[ix*size, (ix+1)*size) x [iy*size, (iy+1)*size) in metres. The lattice does not depend on the layers, so the
same square always has the same (ix, iy). Each square is intersected with every township it overlaps; each
non-empty piece is one grid cell (a square straddling a township line becomes two cells, one per township).
Squares are built from lattice corners projected to lon/lat (shared corners are computed once, so squares
tile exactly) and intersected with the township polygons in lon/lat, so a cell's township edges are the
township's own edges.

Code = 6-digit county (district code) + 3-digit township (digits 7–9 of the township code) + 3-digit
village + 3-digit sequence, e.g. ``110117006014007``:

* village: the member village (same ``township_code``) nearest, in metres, to a point on the cell's surface
  — for village polygons, the one containing it; its 3 digits are digits 10–12 of the village code. A
  township with no village gets ``000``.
* sequence: within one (township, village) group, cells numbered 001, 002, … in reading order of the
  lattice — north to south by ``iy``, then west to east by ``ix``. The numbering depends only on the
  layers and ``size_m``, so the same layers give the same codes on every run; a group of more than 999 cells
  is refused (choose a larger ``size_m``).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_enforcement.errors import LayerInvalid
from gis_enforcement.layers.projection import METRIC_CRS, WGS84, reproject, transformer
from gis_enforcement.layers.spatial_index import PolygonIndex

MAX_SEQUENCE = 999
#: lattice squares looked at before any is built (the townships' bounding boxes): about 1.5 GB of work at most
MAX_BOXES = 5_000_000


def _check_size(metric: np.ndarray, town_codes: np.ndarray, villages: gpd.GeoDataFrame, size_m: float) -> None:
    """Refuse, before building anything, a size the code scheme or the machine cannot hold: a township whose area
    alone needs more cells than its villages can number (``MAX_SEQUENCE`` each), or more lattice squares than
    :data:`MAX_BOXES` to look at. Names the township and the smallest size that would do."""
    area = shapely.area(metric)
    per_town = villages["township_code"].astype(str).value_counts() if len(villages) else pd.Series(dtype=int)
    slots = np.maximum(per_town.reindex(town_codes).fillna(0).to_numpy(dtype=float), 1.0) * MAX_SEQUENCE
    need = area / size_m**2  # at least this many squares cover the township
    if (need > slots).any():
        i = int(np.argmax(need / slots))
        smallest = math.ceil(math.sqrt(area[i] / slots[i]))
        raise LayerInvalid(
            f"grid: {size_m:g} m cells would put at least {int(need[i]):,} cells in township {town_codes[i]}, "
            f"more than its {int(slots[i] // MAX_SEQUENCE)} village(s) × {MAX_SEQUENCE} the 3-digit sequence can "
            f"number — use a grid size larger than {smallest} m (cells cut by the border need numbers too)",
            field="grid_size_m")
    bounds = shapely.bounds(metric)
    boxes = (np.floor(bounds[:, 2] / size_m) - np.floor(bounds[:, 0] / size_m) + 1) * (
        np.floor(bounds[:, 3] / size_m) - np.floor(bounds[:, 1] / size_m) + 1)
    if boxes.sum() > MAX_BOXES:
        smallest = math.ceil(size_m * math.sqrt(boxes.sum() / MAX_BOXES))
        raise LayerInvalid(f"grid: {size_m:g} m cells would mean {int(boxes.sum()):,} squares to lay over the "
                           f"townships, more than {MAX_BOXES:,} — use a grid size of at least {smallest} m",
                           field="grid_size_m")


def _lattice_boxes(bounds_m: np.ndarray, size_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(owner, ix, iy) of every lattice square meeting each bbox (rows: minx, miny, maxx, maxy)."""
    lo = np.floor(bounds_m[:, :2] / size_m).astype(np.int64)
    hi = np.floor(bounds_m[:, 2:] / size_m).astype(np.int64)
    wx, wy = hi[:, 0] - lo[:, 0] + 1, hi[:, 1] - lo[:, 1] + 1
    count = wx * wy
    owner = np.repeat(np.arange(len(bounds_m)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return owner, lo[owner, 0] + k % wx[owner], lo[owner, 1] + k // wx[owner]


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (an intersection may add stray lines or points)."""
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)
    if mixed.size == 0:
        return geoms
    parts, idx = shapely.get_parts(geoms[mixed], return_index=True)
    parts, sub = shapely.get_parts(parts, return_index=True)  # a collection may hold multipolygons
    idx = idx[sub]
    keep = shapely.get_type_id(parts) == 3
    merged = np.full(len(mixed), shapely.Polygon(), dtype=object)
    if keep.any():
        shapely.multipolygons(parts[keep], indices=idx[keep], out=merged)
    out = geoms.copy()
    out[mixed] = merged
    return out


def _nearest_village_digits(
    cell_town: np.ndarray, cell_x: np.ndarray, cell_y: np.ndarray, town_codes: np.ndarray,
    villages: gpd.GeoDataFrame,
) -> np.ndarray:
    """3-digit village part per cell: nearest member village of the cell's township, '000' if none."""
    out = np.full(len(cell_town), "000", dtype=object)
    if len(villages) == 0:
        return out
    vcode = villages["code"].astype(str).to_numpy()
    vtown = villages["township_code"].astype(str).to_numpy()
    vgeom = reproject(villages.geometry.to_numpy())
    digits = np.array([c[9:12] if len(c) == 12 and c.isdigit() else "000" for c in vcode], dtype=object)
    for t, tcode in enumerate(town_codes):
        cells = np.flatnonzero(cell_town == t)
        members = np.flatnonzero(vtown == tcode)
        if cells.size == 0 or members.size == 0:
            continue
        pts = shapely.points(cell_x[cells], cell_y[cells])
        # distance matrix (cells x member villages) is small: a township has tens of villages at most
        dist = shapely.distance(pts[:, None], vgeom[members][None, :])
        out[cells] = digits[members[np.argmin(dist, axis=1)]]
    return out


def build_grid(
    townships: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    *,
    district_code: str,
    size_m: float = 500.0,
) -> gpd.GeoDataFrame:
    """Grid cells for every township (module doc for the geometry and the code scheme).

    ``townships``: code (9 digits), geometry, EPSG:4326; ``villages``: code, township_code, geometry.
    Returns a GeoDataFrame in EPSG:4326 with ``code`` (15 digits), ``township_code``, ``village_code``
    (None when the township has no village), ``ix``, ``iy`` (lattice indices in EPSG:4548), ``area_m2``
    and ``geometry``, sorted by code; ``attrs["grid_size_m"]`` records the size.
    """
    if not size_m > 0:
        raise LayerInvalid(f"grid size must be positive, got {size_m}", field="grid_size_m")
    town_geom = townships.geometry.to_numpy()
    town_codes = townships["code"].astype(str).to_numpy()
    metric = reproject(town_geom)
    _check_size(metric, town_codes, villages, size_m)
    owner, ix, iy = _lattice_boxes(shapely.bounds(metric), size_m)

    # project each distinct lattice corner once, so neighbouring squares share exact corner coordinates
    corners = np.stack([np.r_[ix, ix + 1, ix + 1, ix], np.r_[iy, iy, iy + 1, iy + 1]], axis=1)
    uniq, inv = np.unique(corners, axis=0, return_inverse=True)
    lon, lat = transformer(METRIC_CRS, WGS84).transform(uniq[:, 0] * size_m, uniq[:, 1] * size_m)
    inv = inv.reshape(4, -1).T
    ring = np.stack([lon[inv], lat[inv]], axis=2)
    squares = shapely.polygons(np.concatenate([ring, ring[:, :1]], axis=1))

    shapely.prepare(town_geom)
    hit = shapely.intersects(town_geom[owner], squares)
    owner, ix, iy, squares = owner[hit], ix[hit], iy[hit], squares[hit]
    cells = _polygonal(shapely.intersection(squares, town_geom[owner]))
    cell_metric = reproject(cells)
    area = shapely.area(cell_metric)
    keep = area > 0
    owner, ix, iy, cells, cell_metric, area = (a[keep] for a in (owner, ix, iy, cells, cell_metric, area))

    rep = shapely.point_on_surface(cell_metric)
    village3 = _nearest_village_digits(owner, shapely.get_x(rep), shapely.get_y(rep), town_codes, villages)
    frame = pd.DataFrame({"t": owner, "v": village3, "ix": ix, "iy": iy})
    frame = frame.sort_values(["t", "v", "iy", "ix"], ascending=[True, True, False, True], kind="stable")
    frame["seq"] = frame.groupby(["t", "v"], sort=False).cumcount() + 1
    if frame["seq"].max() > MAX_SEQUENCE:
        worst = frame.loc[frame["seq"].idxmax()]
        raise LayerInvalid(
            f"grid: township {town_codes[worst['t']]} village {worst['v']} would need "
            f"{int(worst['seq'])} cells of {size_m:g} m; at most {MAX_SEQUENCE} fit the 3-digit "
            "sequence — use a larger grid size",
            field="grid_size_m",
        )
    seq = frame["seq"].sort_index().to_numpy()
    county = str(district_code)[:6]
    town3 = np.array([c[6:9] for c in town_codes], dtype=object)[owner]
    seq3 = np.char.zfill(seq.astype(str), 3).astype(object)
    codes = county + town3.astype(str) + village3.astype(str) + seq3
    village_code = np.where(village3 == "000", None, town_codes[owner].astype(object) + village3)
    grid = gpd.GeoDataFrame(
        {"code": codes.astype(str), "township_code": town_codes[owner], "village_code": village_code,
         "ix": ix, "iy": iy, "area_m2": area},
        geometry=cells, crs="EPSG:4326",
    ).sort_values("code", kind="stable").reset_index(drop=True)
    grid.attrs["grid_size_m"] = float(size_m)
    return grid


class GridIndex:
    """Which grid cell holds each point: the cell of the point's own township containing it (``contains_xy``
    on the stored polygons); a point that no such cell contains — exactly on a cell edge, or within
    floating-point round-off of a township line — gets the nearest cell of its township (ties: the smaller
    code). So every point in a township has a grid code, and it always agrees with the township code.

    For a grid built by ``build_grid`` with a known ``size_m`` (``ix``/``iy`` columns, or recomputed when a
    grid read back from storage lacks them; verified against the cells) the cell is read from the lattice:
    township row + floor(x / size), floor(y / size) in EPSG:4548, through a dense per-township table.
    Points within ``tolerance_m`` of a lattice line, or in a township raster cell crossed by a township
    boundary, are tested exactly against the candidate cells instead; everywhere else the lattice
    answer is the polygon answer, because the cell polygons are the lattice squares (corners projected to
    lon/lat, straight in between — off the EPSG:4548 line by far less than ``tolerance_m``, checked at
    construction) intersected with the townships. Any other grid goes through a ``PolygonIndex`` (plain
    containment over all cells).
    """

    def __init__(self, grid: gpd.GeoDataFrame, township_codes: np.ndarray, *, size_m: float | None,
                 tolerance_m: float = 0.05) -> None:
        self.geoms = grid.geometry.to_numpy()
        shapely.prepare(self.geoms)
        self.size_m = size_m
        self._polygons: PolygonIndex | None = None
        lattice = self._lattice_indices(grid, size_m) if size_m and len(grid) else None
        if lattice is None:
            self._polygons = PolygonIndex(self.geoms)
            return
        assert size_m is not None
        row_of = {c: i for i, c in enumerate(township_codes)}
        town = np.array([row_of.get(c, -1) for c in grid["township_code"]], dtype=np.int64)
        ix, iy = lattice
        n_towns = len(township_codes)
        ok = town >= 0
        self._ix0 = np.full(n_towns, 0, dtype=np.int64)
        self._iy0 = np.full(n_towns, 0, dtype=np.int64)
        self._w = np.zeros(n_towns, dtype=np.int64)
        self._h = np.zeros(n_towns, dtype=np.int64)
        frame = pd.DataFrame({"t": town[ok], "ix": ix[ok], "iy": iy[ok]}).groupby("t")
        lo, hi = frame.min(), frame.max()
        t_idx = lo.index.to_numpy()
        self._ix0[t_idx], self._iy0[t_idx] = lo["ix"].to_numpy(), lo["iy"].to_numpy()
        self._w[t_idx] = hi["ix"].to_numpy() - lo["ix"].to_numpy() + 1
        self._h[t_idx] = hi["iy"].to_numpy() - lo["iy"].to_numpy() + 1
        self._base = np.r_[0, np.cumsum(self._w * self._h)[:-1]]
        self._table = np.full(int((self._w * self._h).sum()) or 1, -1, dtype=np.int64)
        rows = np.flatnonzero(ok)
        self._table[self._slot(town[ok], ix[ok], iy[ok])[0]] = rows
        self.tolerance_m = max(tolerance_m, 10 * self._edge_deviation(ix, iy, size_m))

    @staticmethod
    def _lattice_indices(grid: gpd.GeoDataFrame, size_m: float) -> tuple[np.ndarray, np.ndarray] | None:
        """(ix, iy) of every cell — from the columns, or from a point inside each cell when a grid read back
        from storage has lost them — or None when the cells are not pieces of ``size_m`` lattice squares
        (another grid, or the wrong size): then the generic polygon index is used."""
        metric = reproject(grid.geometry.to_numpy())
        if {"ix", "iy"} <= set(grid.columns):
            ix, iy = grid["ix"].to_numpy(np.int64), grid["iy"].to_numpy(np.int64)
        else:
            rep = shapely.point_on_surface(metric)
            ix = np.floor(shapely.get_x(rep) / size_m).astype(np.int64)
            iy = np.floor(shapely.get_y(rep) / size_m).astype(np.int64)
        b = shapely.bounds(metric)
        slack = 0.01 * size_m
        fits = ((b[:, 0] >= ix * size_m - slack) & (b[:, 2] <= (ix + 1) * size_m + slack)
                & (b[:, 1] >= iy * size_m - slack) & (b[:, 3] <= (iy + 1) * size_m + slack))
        return (ix, iy) if fits.all() else None

    @staticmethod
    def _edge_deviation(ix: np.ndarray, iy: np.ndarray, size_m: float) -> float:
        """How far (m) a cell edge drawn straight in lon/lat strays from the straight EPSG:4548 lattice line:
        the midpoints of sample edges (the lattice's corners and centre) projected back and measured."""
        sx = np.array([ix.min(), ix.max(), (ix.min() + ix.max()) // 2])
        sy = np.array([iy.min(), iy.max(), (iy.min() + iy.max()) // 2])
        gx, gy = (a.ravel().astype(float) * size_m for a in np.meshgrid(sx, sy))
        to_ll, to_m = transformer(METRIC_CRS, WGS84), transformer(WGS84, METRIC_CRS)
        worst = 0.0
        for ex, ey in ((size_m, 0.0), (0.0, size_m)):  # horizontal and vertical edges
            lon0, lat0 = to_ll.transform(gx, gy)
            lon1, lat1 = to_ll.transform(gx + ex, gy + ey)
            mx, my = to_m.transform((np.asarray(lon0) + lon1) / 2, (np.asarray(lat0) + lat1) / 2)
            off = np.asarray(my) - gy if ey == 0 else np.asarray(mx) - gx
            worst = max(worst, float(np.abs(off).max()))
        return worst

    def _slot(self, t: np.ndarray, ix: np.ndarray, iy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = ix - self._ix0[t], iy - self._iy0[t]
        inside = (dx >= 0) & (dx < self._w[t]) & (dy >= 0) & (dy < self._h[t])
        return np.where(inside, self._base[t] + dx * self._h[t] + dy, 0), inside

    def lookup_one(self, lon: float, lat: float, x: float, y: float, town: int, exact: bool) -> int:
        """``lookup`` for one point, as a Python int: a point clear of the lattice lines in a township cell no
        boundary crosses is read from the table here; any other by ``lookup``."""
        if self._polygons is None and not exact:
            assert self.size_m is not None
            fx, fy = x / self.size_m, y / self.size_m
            ix, iy = math.floor(fx), math.floor(fy)
            tol = self.tolerance_m / self.size_m
            if not (fx - ix < tol or ix + 1 - fx < tol or fy - iy < tol or iy + 1 - fy < tol):
                dx, dy = ix - int(self._ix0[town]), iy - int(self._iy0[town])
                w, h = int(self._w[town]), int(self._h[town])
                return int(self._table[int(self._base[town]) + dx * h + dy]) if 0 <= dx < w and 0 <= dy < h else -1
        return int(self.lookup(np.array([lon]), np.array([lat]), np.array([x]), np.array([y]), np.array([town]),
                               np.array([exact]))[0])

    def lookup(self, lon: np.ndarray, lat: np.ndarray, x: np.ndarray, y: np.ndarray, town: np.ndarray,
               exact: np.ndarray) -> np.ndarray:
        """Grid row (int64, -1 if none) for points known to be in township row ``town`` (>= 0); ``x``/``y``
        are EPSG:4548 metres; ``exact`` marks points to test against polygons whatever the lattice says."""
        if self._polygons is not None:
            return self._polygons.first(lon, lat).astype(np.int64)
        assert self.size_m is not None
        fx, fy = x / self.size_m, y / self.size_m
        ix, iy = np.floor(fx), np.floor(fy)
        tol = self.tolerance_m / self.size_m
        lo_x, hi_x = fx - ix < tol, ix + 1 - fx < tol
        lo_y, hi_y = fy - iy < tol, iy + 1 - fy < tol
        ix, iy = ix.astype(np.int64), iy.astype(np.int64)
        slot, ok = self._slot(town, ix, iy)
        out = np.where(ok, self._table[slot], -1)
        check = np.flatnonzero(exact | lo_x | hi_x | lo_y | hi_y)
        if check.size == 0:
            return out
        pts, rows = [], []
        for di, need_x in ((-1, lo_x), (0, None), (1, hi_x)):
            for dj, need_y in ((-1, lo_y), (0, None), (1, hi_y)):
                sel = check
                if need_x is not None:
                    sel = sel[need_x[sel]]
                if need_y is not None:
                    sel = sel[need_y[sel]]
                s, inside = self._slot(town[sel], ix[sel] + di, iy[sel] + dj)
                r = np.where(inside, self._table[s], -1)
                pts.append(sel[r >= 0])
                rows.append(r[r >= 0])
        pt, row = np.concatenate(pts), np.concatenate(rows)
        hit = shapely.contains_xy(self.geoms[row], lon[pt], lat[pt])
        out[check] = -1
        order = np.lexsort((row[hit], pt[hit]))
        hp, hr = pt[hit][order], row[hit][order]
        keep = np.r_[True, hp[1:] != hp[:-1]] if hp.size else np.empty(0, dtype=bool)
        out[hp[keep]] = hr[keep]
        # A point of township t that no cell of t contains lies on a cell edge, or within round-off (~1e-15°)
        # of t's boundary where the overlay that cut the cells moved an edge by an ulp: nearest cell of t.
        lost = np.isin(pt, check[out[check] < 0])
        if lost.any():
            lp, lr = pt[lost], row[lost]
            d = shapely.distance(self.geoms[lr], shapely.points(lon[lp], lat[lp]))
            order = np.lexsort((lr, d, lp))
            lp, lr = lp[order], lr[order]
            first = np.r_[True, lp[1:] != lp[:-1]]
            out[lp[first]] = lr[first]
        return out
