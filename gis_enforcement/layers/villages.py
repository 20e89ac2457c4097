"""Which village or community a point belongs to: the containing village polygon, else the nearest member
village (same ``township_code``) of the point's township, with the distance in metres (EPSG:4548).

Nearest-village search is exact and mostly O(1) per point: for every raster cell wholly inside one township
the build keeps the (at most two) member villages that can be nearest to *some* point of the cell — those
within d_min + 2h of the cell centre, d_min being the centre's nearest-village distance and h the cell's
half diagonal (a point of the cell is at most h from the centre, so its nearest village is within
d_min + 2h of the centre). Cells with more candidates, and cells a township boundary crosses, fall back to
brute force over the township's villages (tens at most). Ties go to the lower row, i.e. the smaller code.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gis_enforcement.layers.border import metres_per_degree
from gis_enforcement.layers.projection import LocalProjection, reproject
from gis_enforcement.layers.spatial_index import PolygonIndex

_BRUTE = -2  # candidate marker: this cell needs the brute-force search


class VillageIndex:
    """Village lookup for one village layer against one township ``PolygonIndex`` (module doc)."""

    def __init__(self, villages: gpd.GeoDataFrame, township_codes: np.ndarray, towns: PolygonIndex,
                 proj: LocalProjection) -> None:
        row_of = {c: i for i, c in enumerate(township_codes)}
        self.town = np.array([row_of.get(c, -1) for c in villages["township_code"]], dtype=np.int64)
        self.metric = reproject(villages.geometry.to_numpy())
        self.is_point = shapely.get_type_id(self.metric) == 0
        safe = self.metric.copy()
        safe[~self.is_point] = None  # polygons: get_x/get_y of None give NaN
        self.x, self.y = shapely.get_x(safe), shapely.get_y(safe)
        self.members = [np.flatnonzero(self.town == t) for t in range(len(township_codes))]
        self._all_points = [bool(self.is_point[m].all()) for m in self.members]
        poly_rows = np.flatnonzero(~self.is_point)
        self._poly_rows = poly_rows
        self._polys = PolygonIndex(villages.geometry.to_numpy()[poly_rows]) if poly_rows.size else None
        self._build_candidates(towns, proj)

    def _build_candidates(self, towns: PolygonIndex, proj: LocalProjection) -> None:
        f = towns.frame
        self._c1 = np.full(f.size, _BRUTE, dtype=np.int32)
        self._c2 = np.full(f.size, -1, dtype=np.int32)
        first = towns.first_raster
        # half diagonal of a cell in metres, over-estimated: east-west degrees are longest at the southern
        # edge, north-south ones at the northern edge; 1 % for the projection's scale and rounding
        east = metres_per_degree(f.y0)[0]
        north = metres_per_degree(f.y0 + f.ny * f.dy)[1]
        h = 0.5 * float(np.hypot(f.dx * east, f.dy * north)) * 1.01
        for t, members in enumerate(self.members):
            cells = np.flatnonzero(first == t)
            if cells.size == 0:
                continue
            if members.size == 0:
                self._c1[cells] = -1
                continue
            if not self._all_points[t]:
                continue  # polygon villages: brute force (containment first, then distance to polygons)
            cx, cy = proj.forward(*f.centres(cells))
            d = np.hypot(cx[:, None] - self.x[members], cy[:, None] - self.y[members])
            near = d <= d.min(axis=1, keepdims=True) + 2 * h
            count = near.sum(axis=1)
            order = np.argsort(~near, axis=1, kind="stable")  # candidates first, in member (code) order
            ok = count <= 2
            self._c1[cells[ok]] = members[order[ok, 0]]
            two = ok & (count == 2)
            if two.any():
                self._c2[cells[two]] = members[order[two, 1]]

    def _brute(self, town: np.ndarray, x: np.ndarray, y: np.ndarray, rows: np.ndarray,
               vill: np.ndarray, vdist: np.ndarray) -> None:
        """Nearest member village by exhaustive search, township by township."""
        key = town[rows].astype(np.int16) if len(self.members) < 32_000 else town[rows]  # radix sort
        order = rows[np.argsort(key, kind="stable")]
        t_sorted = town[order]
        bounds = np.flatnonzero(np.r_[True, t_sorted[1:] != t_sorted[:-1], True])
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            members = self.members[t_sorted[s]]
            if members.size == 0:
                continue
            grp = order[s:e]
            chunk = max(1, 4_000_000 // members.size)  # bound the (points x villages) matrix
            for c in range(0, len(grp), chunk):
                g = grp[c:c + chunk]
                if self._all_points[t_sorted[s]]:
                    d = np.hypot(x[g, None] - self.x[members], y[g, None] - self.y[members])
                else:
                    d = shapely.distance(shapely.points(x[g], y[g])[:, None], self.metric[members][None, :])
                k = np.argmin(d, axis=1)
                vdist[g] = d[np.arange(len(g)), k]
                vill[g] = members[k]

    def lookup_one(self, lon: float, lat: float, x: float, y: float, town: int, flat: int) -> tuple[int, float]:
        """``lookup`` for one point, as Python numbers; the cells with at most two candidates (most of a
        township) are answered here by the same arithmetic, the rest by ``lookup``."""
        c1 = int(self._c1[flat])
        if self._polys is not None or c1 < 0:
            vill, vdist = self.lookup(np.array([lon]), np.array([lat]), np.array([x]), np.array([y]),
                                      np.array([town]), np.array([flat]))
            return int(vill[0]), float(vdist[0])
        da = np.hypot(x - self.x[c1], y - self.y[c1])
        b = int(self._c2[flat])
        if b >= 0:
            db = np.hypot(x - self.x[b], y - self.y[b])
            if db < da or (db == da and b < c1):
                return b, float(db)
        return c1, float(da)

    def lookup(self, lon: np.ndarray, lat: np.ndarray, x: np.ndarray, y: np.ndarray, town: np.ndarray,
               flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(village row or -1, distance in metres — NaN when a village polygon contains the point or there is
        no village) for points in township rows ``town`` (>= 0), raster cells ``flat``."""
        n = len(x)
        vill = np.full(n, -1, dtype=np.int64)
        vdist = np.full(n, np.nan)
        pending = np.arange(n)
        if self._polys is not None and n:
            hit = self._polys.first(lon, lat)
            rows = np.flatnonzero(hit >= 0)
            cand = self._poly_rows[hit[rows]]
            same = self.town[cand] == town[rows]  # a village of another township does not count
            vill[rows[same]] = cand[same]
            pending = np.flatnonzero(vill < 0)
        c1 = self._c1.take(flat[pending])
        fast = c1 >= 0
        rows, a = pending[fast], c1[fast].astype(np.int64)
        b = self._c2.take(flat[rows]).astype(np.int64)
        da = np.hypot(x[rows] - self.x[a], y[rows] - self.y[a])
        b0 = np.maximum(b, 0)
        db = np.where(b >= 0, np.hypot(x[rows] - self.x[b0], y[rows] - self.y[b0]), np.inf)
        pick_b = (db < da) | ((db == da) & (b < a) & (b >= 0))
        vill[rows] = np.where(pick_b, b, a)
        vdist[rows] = np.where(pick_b, db, da)
        slow = pending[c1 == _BRUTE]
        if slow.size:
            self._brute(town, x, y, slow, vill, vdist)
        return vill, vdist
