"""Metric questions about township boundaries: who is within r metres of a point (near-border), and which
township is nearest to a point that lies in none (outside the district).

Both start from the township lookup raster of ``PolygonIndex`` (its *mixed* cells are exactly the cells a
boundary passes through) and both finish with exact distances in EPSG:4548:

* near-border: a Euclidean distance transform of the raster (``scipy.ndimage``, in metres with conservative
  scales) bounds from below each cell's distance to any boundary. Only points whose bound is within their
  radius are passed to ``SegmentIndex.within`` — exact distances to every other township's boundary.
* outside: the district outline (boundary of the union of the townships) is cut into segments, each owned
  by the township it borders. A second distance transform, over the cells the outline crosses, seeds every
  point with an outline segment near it; a descent along the outline ring (to the previous/next segment
  while the distance drops) reaches the nearest point of that stretch of outline. Within ``exact_within_m``
  the answer is then replaced by an exhaustive ``SegmentIndex`` search, so it is exact where GPS noise puts
  points. Farther out the descent's answer is exact unless the seed lay on another stretch of outline,
  one almost as near (the transform compares cell centres, so two stretches within a few cell diagonals
  of the same distance can be confused); the distance is then a little too large, but always the distance
  to a real boundary point of the township named. Measured on 20,000 random points around Pinggu: exact
  for 92 %, worst excess 74 m (tests check exactness within 250 m and an excess under 150 m).
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import ndimage

from gis_enforcement.layers.projection import METRIC_CRS, WGS84, transformer
from gis_enforcement.layers.spatial_index import PolygonIndex, SegmentIndex, ring_segments

_GRS80_A, _GRS80_E2 = 6378137.0, 0.00669438002290
MAX_DESCENT_STEPS = 200


def metres_per_degree(lat: float) -> tuple[float, float]:
    """(east, north) metres per degree of longitude/latitude on the GRS80 ellipsoid at ``lat``."""
    phi = np.radians(lat)
    w = np.sqrt(1 - _GRS80_E2 * np.sin(phi) ** 2)
    return (float(np.radians(1) * _GRS80_A / w * np.cos(phi)),
            float(np.radians(1) * _GRS80_A * (1 - _GRS80_E2) / w**3))


class BoundaryIndex:
    """Near-border and nearest-township queries for one township layer (module doc)."""

    def __init__(self, towns: PolygonIndex, *, exact_within_m: float = 250.0) -> None:
        self.exact_within_m = exact_within_m
        self.frame = frame = towns.frame
        to_m = transformer(WGS84, METRIC_CRS)

        def metric(points: np.ndarray) -> np.ndarray:
            return np.column_stack(to_m.transform(points[:, 0], points[:, 1])) if len(points) else points

        a, b, owner = ring_segments(towns.geoms)
        self.segments = SegmentIndex(metric(a), metric(b), owner)

        # conservative metres per cell over the raster: smallest scales for distances, largest for diagonals
        lat_lo, lat_hi = frame.y0, frame.y0 + frame.ny * frame.dy
        east_lo, east_hi = metres_per_degree(lat_hi)[0], metres_per_degree(lat_lo)[0]
        north_lo, north_hi = metres_per_degree(lat_lo)[1], metres_per_degree(lat_hi)[1]
        self._sampling = (frame.dy * north_lo * 0.999, frame.dx * east_lo * 0.999)
        self._diag = float(np.hypot(frame.dx * east_hi, frame.dy * north_hi)) * 1.001
        # a point in cell C is at least edt(C) - (half diagonal of C + half diagonal of the boundary cell)
        # from any boundary; cells a boundary crosses get a negative bound and are always checked
        mixed2d = towns.mixed.reshape(frame.ny, frame.nx)
        dist = ndimage.distance_transform_edt(~mixed2d, sampling=self._sampling) if mixed2d.any() \
            else np.full(mixed2d.shape, np.inf)
        self.clearance = (dist.ravel() - self._diag).astype(np.float32)
        self.clearance[towns.mixed] = -1.0
        self._build_outline(towns, metric)

    def _build_outline(self, towns: PolygonIndex, metric: object) -> None:
        rings = shapely.get_rings(shapely.get_parts(shapely.union_all(towns.geoms)))
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        same = ring_of[1:] == ring_of[:-1]
        a, b, ring = coords[:-1][same], coords[1:][same], ring_of[:-1][same]
        self._oa, self._ob = metric(a), metric(b)  # type: ignore[operator]
        self._ox, self._oy = self._oa[:, 0].copy(), self._oa[:, 1].copy()
        self._odx, self._ody = self._ob[:, 0] - self._ox, self._ob[:, 1] - self._oy
        len2 = self._odx**2 + self._ody**2
        self._oinv = np.divide(1.0, len2, out=np.zeros_like(len2), where=len2 > 0)
        n = len(a)
        idx = np.arange(n)
        first = np.r_[True, ring[1:] != ring[:-1]] if n else np.empty(0, bool)
        last = np.r_[ring[1:] != ring[:-1], True] if n else np.empty(0, bool)
        start = np.maximum.accumulate(np.where(first, idx, 0)) if n else idx
        end = np.flip(np.minimum.accumulate(np.flip(np.where(last, idx, n)))) if n else idx
        self._prev = np.where(first, end, idx - 1)
        self._next = np.where(last, start, idx + 1)
        # each outline segment belongs to the township whose boundary it lies on (distance ~0)
        mid = (self._oa + self._ob) / 2
        owner, _ = self.segments.nearest(mid[:, 0], mid[:, 1], np.full(n, 1.0)) if n else (idx, None)
        self._owner = owner
        # seed raster: for every cell, one outline segment crossing the outline cell nearest to it
        f = self.frame
        cell, seg = f.mark_segments(a, b)
        seed_of_cell = np.full(f.size, -1, dtype=np.int64)
        seed_of_cell[cell[::-1]] = seg[::-1]  # any segment of the cell will do; the descent refines it
        mask = (seed_of_cell >= 0).reshape(f.ny, f.nx)
        self._seed = np.full(f.size, -1, dtype=np.int32)
        if mask.any():
            _, (ii, jj) = ndimage.distance_transform_edt(~mask, sampling=self._sampling, return_indices=True)
            seed = seed_of_cell[(ii.astype(np.int64) * f.nx + jj).ravel()]
            # polish the seeds of the cells an outside point can be in (not wholly inside a township) by
            # descending from their centres, so a query usually confirms its seed in one step
            cells = np.flatnonzero(towns.cells_outside_or_mixed())
            cx, cy = f.centres(cells)
            mx, my = transformer(WGS84, METRIC_CRS).transform(cx, cy)
            self._seed[cells] = self._descend(np.asarray(mx), np.asarray(my), seed[cells])[0]
        self._outline_tree = shapely.STRtree(shapely.linestrings(np.stack([self._oa, self._ob], axis=1))) \
            if n else None

    def near(self, x: np.ndarray, y: np.ndarray, radius: np.ndarray, town: np.ndarray, flat: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For points (metric ``x``, ``y``; township rows ``town``, -1 for a point in none; raster cells
        ``flat``): every (point, other township, distance) with that township's boundary within ``radius``
        metres, sorted by point then distance — for a point in no township, every township within reach.
        Points whose raster bound rules it out are never measured (a point beyond the raster is clamped into
        its margin, which is no farther from any boundary)."""
        cand = np.flatnonzero(self.clearance.take(flat) <= radius)
        if cand.size == 0:  # every point is far from every other township (most single submissions)
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        pt, own, d = self.segments.within(x[cand], y[cand], radius[cand], exclude=town[cand])
        return cand[pt], own, d

    def _dist(self, x: np.ndarray, y: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """Distance from points to outline segments ``seg`` (same length), in metres."""
        wx = x - self._ox.take(seg)
        wy = y - self._oy.take(seg)
        dx, dy = self._odx.take(seg), self._ody.take(seg)
        t = wx * dx
        t += wy * dy
        t *= self._oinv.take(seg)
        np.clip(t, 0.0, 1.0, out=t)
        wx -= t * dx
        wy -= t * dy
        return np.hypot(wx, wy, out=wx)

    def _descend(self, x: np.ndarray, y: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """From a starting outline segment per point, step to the previous/next segment of the ring while
        the distance drops: the nearest point of that stretch of outline. Returns (segment, distance)."""
        seg = seg.astype(np.int64)
        d = self._dist(x, y, seg)
        active = np.arange(len(x))
        for _ in range(MAX_DESCENT_STEPS):
            if active.size == 0:
                break
            ax, ay, s = x[active], y[active], seg[active]
            prev, nxt = self._prev.take(s), self._next.take(s)
            dp, dn = self._dist(ax, ay, prev), self._dist(ax, ay, nxt)
            best = np.minimum(dp, dn)
            better = best < d[active]
            step = np.where(dp < dn, prev, nxt)
            active = active[better]
            seg[active] = step[better]
            d[active] = best[better]
        return seg, d

    def nearest_outside(self, lon: np.ndarray, lat: np.ndarray, x: np.ndarray, y: np.ndarray,
                        flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest township row and distance in metres for points in no township (module doc)."""
        n = len(x)
        owner = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.nan)
        if n == 0 or len(self._oa) == 0:
            return owner, dist
        f = self.frame
        in_raster = (lon >= f.x0) & (lon <= f.x0 + f.nx * f.dx) & (lat >= f.y0) & (lat <= f.y0 + f.ny * f.dy)
        rows = np.flatnonzero(in_raster)
        seg, d = self._descend(x[rows], y[rows], self._seed.take(flat[rows]))
        owner[rows] = self._owner[seg]
        dist[rows] = d
        exact = rows[d <= self.exact_within_m]
        if exact.size:
            o, dd = self.segments.nearest(x[exact], y[exact], dist[exact])
            found = o >= 0
            owner[exact[found]], dist[exact[found]] = o[found], dd[found]
        far = np.flatnonzero(~in_raster & np.isfinite(x) & np.isfinite(y))
        if far.size and self._outline_tree is not None:  # beyond the raster: rare, exact but slow
            pts = shapely.points(x[far], y[far])
            (q, s), dd = self._outline_tree.query_nearest(pts, return_distance=True, all_matches=False)
            owner[far[q]] = self._owner[s]
            dist[far[q]] = dd
        return owner, dist
