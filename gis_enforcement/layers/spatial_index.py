"""Exact point-in-polygon lookups at raster speed, and exact point-to-boundary distances in metres.

``PolygonIndex`` answers "which polygons contain this point" with the same semantics as
``shapely.contains_xy`` / PostGIS ``ST_Contains`` (a point on a boundary is not contained), for millions of
points per call. It lays a lon/lat raster over the polygons and sorts its cells in two kinds:

* *pure* cells, which no polygon boundary comes within ``EPS_DEG`` of: every point of such a cell lies in the
  same set of polygons, read from a table;
* *mixed* cells, crossed (or nearly touched) by a boundary: points there are tested exactly with
  ``shapely.contains_xy``, but only against the few candidate polygons of that cell.

Why this is exact: boundaries are marked conservatively (every ring segment is cut into pieces no longer than
a cell and each piece marks every cell within ``EPS_DEG`` of its bounding box), so a pure cell's closed box is
free of boundary; a 4-connected run of pure cells is therefore inside one face of the polygon arrangement, and
one exact test of a representative point labels the whole run. The padding (1e-9 degree, 0.1 mm) is many
orders of magnitude above the floating-point error of mapping a point to its cell, so a point rounded into a
neighbouring cell is still within the padding. A mixed cell's candidates are the polygons whose boundary
marked it plus the polygons containing its centre: a polygon containing any point of the cell either has
boundary in the cell or contains the whole cell, hence its centre.

``SegmentIndex`` holds polygon ring segments in a metric CRS in square buckets and returns, for each point and
radius, every polygon whose boundary lies within that radius and the exact distance to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage

EPS_DEG = 1e-9
DEFAULT_CELL_DEG = 0.0005
CHUNK = 65_536


def ring_segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ring segments of (multi)polygons as ``(start (m, 2), end (m, 2), owner (m,))``; ``owner`` is the
    index of the geometry each segment comes from (exterior and interior rings alike)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.empty((0, 2)), np.empty((0, 2)), np.empty(0, dtype=np.int64)
    parts, part_src = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same = ring_of[1:] == ring_of[:-1]
    owner = part_src[ring_part[ring_of[:-1][same]]]
    return coords[:-1][same], coords[1:][same], owner.astype(np.int64)


def _expand_csr(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each position in ``rows`` (indices into a CSR table), repeat the position once per entry of that
    row; returns (position, entry index into the CSR values), grouped by position in input order."""
    start = ptr[rows]
    count = ptr[rows + 1] - start
    pos = np.repeat(np.arange(len(rows)), count)
    if pos.size == 0:
        return pos, pos.copy()
    ends = np.cumsum(count)
    entry = np.arange(ends[-1]) - np.repeat(ends - count, count) + np.repeat(start, count)
    return pos, entry


def _csr(keys: np.ndarray, values: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR table from (key, value) pairs: values sorted by (key, value), pointer array of length n_keys+1."""
    order = np.lexsort((values, keys))
    ptr = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_keys), out=ptr[1:])
    return ptr, values[order]


@dataclass(frozen=True)
class RasterFrame:
    """A lon/lat lattice: cell (i, j) covers [x0 + i*dx, x0 + (i+1)*dx) x [y0 + j*dy, y0 + (j+1)*dy)."""

    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int

    @classmethod
    def around(cls, bounds: tuple[float, float, float, float], cell_deg: float) -> RasterFrame:
        """A lattice aligned on multiples of ``cell_deg`` with two empty cells of margin on every side, so
        points outside it (clamped onto the margin) land in cells no boundary touches."""
        xmin, ymin, xmax, ymax = bounds
        x0 = (np.floor(xmin / cell_deg) - 2) * cell_deg
        y0 = (np.floor(ymin / cell_deg) - 2) * cell_deg
        nx = int(np.ceil((xmax - x0) / cell_deg)) + 3
        ny = int(np.ceil((ymax - y0) / cell_deg)) + 3
        return cls(float(x0), float(y0), cell_deg, cell_deg, nx, ny)

    @property
    def size(self) -> int:
        return self.nx * self.ny

    def cells(self, x: np.ndarray, y: np.ndarray, table: np.ndarray | None = None) -> np.ndarray:
        """Flat cell index (int64) of each point — or, with ``table``, ``table[cell]`` — where points beyond
        the lattice (and NaN) map to a margin cell. Works in cache-sized chunks: the chain of element-wise
        passes then stays in L2 instead of streaming ~10 temporaries through memory."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        out = np.empty(len(x), dtype=np.int64 if table is None else table.dtype)
        inv_x, inv_y = 1.0 / self.dx, 1.0 / self.dy
        if len(x) == 1 and math.isfinite(x[0]) and math.isfinite(y[0]):
            # one point (a single submission): ``cell_one``, without a dozen array calls; NaN is left to the
            # array path, which clamps it into the margin
            cell = self.cell_one(float(x[0]), float(y[0]))
            out[0] = cell if table is None else table[cell]
            return out
        for s in range(0, len(x), CHUNK):
            u = np.subtract(x[s:s + CHUNK], self.x0)
            u *= inv_x
            np.fmax(u, 0.0, out=u)  # fmax/fmin, unlike clip, turn NaN into the bound: NaN lands in the margin
            np.fmin(u, self.nx - 1, out=u)
            v = np.subtract(y[s:s + CHUNK], self.y0)
            v *= inv_y
            np.fmax(v, 0.0, out=v)
            np.fmin(v, self.ny - 1, out=v)
            np.floor(u, out=u)
            np.floor(v, out=v)
            v *= self.nx
            v += u  # exact: integers far below 2**53
            if table is None:
                out[s:s + CHUNK] = v
            else:
                table.take(v.astype(np.intp), out=out[s:s + CHUNK])
        return out

    def cell_one(self, x: float, y: float) -> int:
        """``cells`` of one finite point, as a Python int: the same operations on Python floats."""
        u = math.floor(min(max((x - self.x0) * (1.0 / self.dx), 0.0), self.nx - 1))
        v = math.floor(min(max((y - self.y0) * (1.0 / self.dy), 0.0), self.ny - 1))
        return int(v * self.nx + u)

    def centres(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        j, i = np.divmod(flat, self.nx)
        return self.x0 + (i + 0.5) * self.dx, self.y0 + (j + 0.5) * self.dy

    def mark_segments(self, a: np.ndarray, b: np.ndarray, pad: float = EPS_DEG
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Every (cell, segment) pair where the segment a[k]-b[k] comes within ``pad`` (coordinate units) of
        the cell's closed box — conservatively: pieces of at most one cell, each marking its padded bbox."""
        if len(a) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        inv_x, inv_y = 1.0 / self.dx, 1.0 / self.dy
        ua, va = (a[:, 0] - self.x0) * inv_x, (a[:, 1] - self.y0) * inv_y
        du, dv = (b[:, 0] - self.x0) * inv_x - ua, (b[:, 1] - self.y0) * inv_y - va
        k = np.maximum(np.ceil(np.maximum(np.abs(du), np.abs(dv))), 1).astype(np.int64)
        seg = np.repeat(np.arange(len(a)), k)
        step = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
        t0 = step / k[seg]
        t1 = (step + 1) / k[seg]
        u0, u1 = ua[seg] + du[seg] * t0, ua[seg] + du[seg] * t1
        v0, v1 = va[seg] + dv[seg] * t0, va[seg] + dv[seg] * t1
        pad_u, pad_v = pad * inv_x, pad * inv_y
        lo_u = np.floor(np.minimum(u0, u1) - pad_u).astype(np.int64)
        hi_u = np.floor(np.maximum(u0, u1) + pad_u).astype(np.int64)
        lo_v = np.floor(np.minimum(v0, v1) - pad_v).astype(np.int64)
        hi_v = np.floor(np.maximum(v0, v1) + pad_v).astype(np.int64)
        cells, segs = [], []
        for di in range(3):  # a piece spans at most 1 cell (+ padding), so at most 3 cells per axis
            for dj in range(3):
                ok = (lo_u + di <= hi_u) & (lo_v + dj <= hi_v)
                cells.append((lo_v[ok] + dj) * self.nx + lo_u[ok] + di)
                segs.append(seg[ok])
        key = np.unique(np.concatenate(cells) * len(a) + np.concatenate(segs))
        return key // len(a), key % len(a)


class PolygonIndex:
    """Exact, vectorised point-in-polygon over a fixed array of (multi)polygons in lon/lat (module doc)."""

    def __init__(self, geoms: np.ndarray, *, cell_deg: float = DEFAULT_CELL_DEG):
        self.geoms = np.asarray(geoms, dtype=object)
        shapely.prepare(self.geoms)
        n = len(self.geoms)
        bounds = shapely.total_bounds(self.geoms) if n else np.array([0.0, 0.0, cell_deg, cell_deg])
        self.frame = frame = RasterFrame.around(tuple(bounds), cell_deg)
        a, b, owner = ring_segments(self.geoms)
        seg_cell, seg = frame.mark_segments(a, b)
        pair = np.unique(seg_cell * max(n, 1) + owner[seg])
        mark_cell, mark_poly = pair // max(n, 1), pair % max(n, 1)

        mixed_cells = np.unique(mark_cell)
        self.mixed = np.zeros(frame.size, dtype=bool)
        self.mixed[mixed_cells] = True
        tree = shapely.STRtree(self.geoms)
        # candidates of a mixed cell: boundary marks + polygons containing its centre
        cx, cy = frame.centres(mixed_cells)
        none = (np.empty(0, dtype=np.int64),) * 2
        hit_pt, hit_poly = tree.query(shapely.points(cx, cy), predicate="within") if n else none
        mixed_id = np.searchsorted(mixed_cells, np.concatenate([mark_cell, mixed_cells[hit_pt]]))
        polys = np.concatenate([mark_poly, hit_poly])
        key = np.unique(mixed_id * max(n, 1) + polys)
        self._mix_ptr, self._mix_poly = _csr(key // max(n, 1), key % max(n, 1), len(mixed_cells))

        # pure cells: 4-connected runs share one answer; test one representative per run
        labels, n_runs = ndimage.label(~self.mixed.reshape(frame.ny, frame.nx))
        labels = labels.ravel()
        _, rep = np.unique(labels, return_index=True)
        rep = rep[1:] if labels[rep[0]] == 0 else rep
        rx, ry = frame.centres(rep)
        run_pt, run_poly = tree.query(shapely.points(rx, ry), predicate="within") if n else none
        self._run_ptr, self._run_poly = _csr(run_pt, run_poly, n_runs)
        run_first = np.full(n_runs + 1, -1, dtype=np.int32)
        firsts = self._run_poly[self._run_ptr[:-1][np.diff(self._run_ptr) > 0]]
        run_first[1:][np.diff(self._run_ptr) > 0] = firsts
        # one int32 raster for the fast path: >= -1 is the answer (first polygon or -1), <= -2 means
        # "mixed cell number -(v + 2)"
        first = run_first[labels]
        first[mixed_cells] = -2 - np.arange(len(mixed_cells), dtype=np.int32)
        self._first = first
        self.overlapping = bool(np.any(np.diff(self._run_ptr) > 1))
        self._labels = labels.astype(np.int32) if self.overlapping else None
        self.n_runs = n_runs

    def __len__(self) -> int:
        return len(self.geoms)

    @property
    def first_raster(self) -> np.ndarray:
        """Per raster cell (flat): the first polygon wholly containing it, -1 for none, <= -2 when mixed."""
        return self._first

    def is_mixed(self, flat: np.ndarray) -> np.ndarray:
        """Whether each raster cell (flat index) is crossed by a boundary (answers there need exact tests)."""
        return self._first.take(flat) <= -2

    def cells_outside_or_mixed(self) -> np.ndarray:
        """Boolean mask of raster cells not wholly inside some polygon (flat order)."""
        return self._first < 0

    @property
    def nbytes(self) -> int:
        arrays = [self._first, self.mixed, self._mix_ptr, self._mix_poly, self._run_ptr, self._run_poly]
        if self._labels is not None:
            arrays.append(self._labels)
        return int(sum(a.nbytes for a in arrays))

    def _test_pairs(self, pt: np.ndarray, poly: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Exact ``contains_xy`` for (point, polygon) pairs in one vectorised call (geometries are prepared
        once, at construction)."""
        if len(pt) == 0:
            return np.zeros(0, dtype=bool)
        return shapely.contains_xy(self.geoms[poly], x[pt], y[pt])

    def first(self, x: np.ndarray, y: np.ndarray, flat: np.ndarray | None = None) -> np.ndarray:
        """Index of the lowest-numbered polygon containing each point (int32), -1 when none; ``flat`` may
        pass precomputed ``frame.cells(x, y)``. NaN coordinates give -1."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        out = self.frame.cells(x, y, self._first) if flat is None else self._first.take(flat)
        sel = np.flatnonzero(out <= -2)
        if sel.size:
            pos, entry = _expand_csr(self._mix_ptr, -2 - out[sel])
            pt, poly = sel[pos], self._mix_poly[entry]
            hit = self._test_pairs(pt, poly, x, y)
            out[sel] = -1
            pt, poly = pt[hit], poly[hit]
            # candidates are sorted per point, so the first hit of a point is its lowest polygon
            keep = np.r_[True, pt[1:] != pt[:-1]] if pt.size else np.empty(0, dtype=bool)
            out[pt[keep]] = poly[keep]
        return out

    def _hits_one(self, x: float, y: float, code: int) -> list[int]:
        """The candidates of mixed cell ``-(code + 2)`` that contain the point, ascending."""
        m = -2 - code
        cand = self._mix_poly[self._mix_ptr[m]:self._mix_ptr[m + 1]]
        if cand.size == 0:
            return []
        return cand[shapely.contains_xy(self.geoms[cand], x, y)].tolist()  # type: ignore[no-any-return]

    def first_one(self, x: float, y: float, flat: int) -> int:
        """``first`` for one finite point in raster cell ``flat``, as a Python int."""
        code = int(self._first[flat])
        if code >= -1:
            return code
        hits = self._hits_one(x, y, code)
        return hits[0] if hits else -1

    def members_one(self, x: float, y: float) -> list[int]:
        """``pairs`` for one finite point: the polygons containing it, ascending."""
        flat = self.frame.cell_one(x, y)
        code = int(self._first[flat])
        if code <= -2:
            return self._hits_one(x, y, code)
        if self._labels is None:
            return [code] if code >= 0 else []
        run = int(self._labels[flat]) - 1
        return self._run_poly[self._run_ptr[run]:self._run_ptr[run + 1]].tolist()  # type: ignore[no-any-return]

    def pairs(self, x: np.ndarray, y: np.ndarray, flat: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """Every (point, polygon) containment as two int64 arrays sorted by point then polygon."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if flat is None and self._labels is not None:
            flat = self.frame.cells(x, y)
        code = self.frame.cells(x, y, self._first) if flat is None else self._first.take(flat)
        mixed = code <= -2
        sel = np.flatnonzero(mixed)
        pos, entry = _expand_csr(self._mix_ptr, -2 - code[sel])
        mpt, mpoly = sel[pos], self._mix_poly[entry]
        hit = self._test_pairs(mpt, mpoly, x, y)
        mpt, mpoly = mpt[hit], mpoly[hit]
        if self._labels is None:
            ppt = np.flatnonzero(~mixed & (code >= 0))
            ppoly = code[ppt].astype(np.int64)
        else:
            pure = np.flatnonzero(~mixed)
            assert flat is not None
            runs = self._labels.take(flat[pure]).astype(np.int64) - 1  # every pure cell has a run label >= 1
            pos, entry = _expand_csr(self._run_ptr, runs)
            ppt, ppoly = pure[pos], self._run_poly[entry]
        pt = np.concatenate([ppt, mpt]).astype(np.int64)
        poly = np.concatenate([ppoly, mpoly]).astype(np.int64)
        order = np.lexsort((poly, pt))
        return pt[order], poly[order]


def point_segment_distance(
    px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> np.ndarray:
    """Euclidean distance from points to segments, element-wise (degenerate segments allowed)."""
    dx, dy = bx - ax, by - ay
    wx, wy = px - ax, py - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(len2 > 0, (wx * dx + wy * dy) / len2, 0.0)
    np.clip(t, 0.0, 1.0, out=t)
    return np.hypot(wx - t * dx, wy - t * dy)


class SegmentIndex:
    """Polygon ring segments in a metric CRS, bucketed on a square grid, for exact "which polygons' boundary
    lies within r metres of this point" queries (module doc)."""

    def __init__(self, a: np.ndarray, b: np.ndarray, owner: np.ndarray, *, bucket_m: float = 100.0,
                 max_buckets: int = 1_000_000) -> None:
        self.a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
        self.b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
        self.owner = np.asarray(owner, dtype=np.int64)
        self.n_owner = int(self.owner.max()) + 1 if len(self.owner) else 1
        self.bucket_m = bucket_m
        self.max_buckets = max_buckets
        m = len(self.a)
        pts = np.concatenate([self.a, self.b]) if m else np.zeros((1, 2))
        self.gx0, self.gy0 = pts.min(axis=0) - bucket_m
        gx1, gy1 = pts.max(axis=0) + bucket_m
        self.nbx = int((gx1 - self.gx0) // bucket_m) + 1
        self.nby = int((gy1 - self.gy0) // bucket_m) + 1
        # register each segment in every bucket within 1 mm of it (pieces of at most one bucket, padded bbox)
        frame = RasterFrame(float(self.gx0), float(self.gy0), bucket_m, bucket_m, self.nbx, self.nby)
        bucket, seg = frame.mark_segments(self.a, self.b, pad=1e-3)
        self._ptr, self._seg = _csr(bucket, seg, self.nbx * self.nby)

    def _bucket_ranges(self, px: np.ndarray, py: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, ...]:
        g = self.bucket_m
        bx0 = np.clip(np.floor((px - r - self.gx0) / g), 0, self.nbx).astype(np.int64)
        bx1 = np.clip(np.floor((px + r - self.gx0) / g), -1, self.nbx - 1).astype(np.int64)
        by0 = np.clip(np.floor((py - r - self.gy0) / g), 0, self.nby).astype(np.int64)
        by1 = np.clip(np.floor((py + r - self.gy0) / g), -1, self.nby - 1).astype(np.int64)
        wx = np.maximum(bx1 - bx0 + 1, 0)
        wy = np.maximum(by1 - by0 + 1, 0)
        return bx0, by0, wx, wx * wy

    def within(
        self, px: np.ndarray, py: np.ndarray, r: np.ndarray, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All (point, owner) pairs whose boundary is within ``r[point]`` metres, with the exact minimum
        distance; owners equal to ``exclude[point]`` are skipped. Sorted by point, distance, owner."""
        px = np.asarray(px, dtype=np.float64)
        py = np.asarray(py, dtype=np.float64)
        r = np.broadcast_to(np.asarray(r, dtype=np.float64), px.shape)
        ok = np.isfinite(px) & np.isfinite(py) & np.isfinite(r)
        bx0, by0, wx, nb = self._bucket_ranges(np.where(ok, px, 0), np.where(ok, py, 0), np.where(ok, r, -1))
        nb = np.where(ok, nb, 0)
        # chunk the points so the expanded (point, bucket) table stays bounded whatever the radii
        cum = np.cumsum(nb)
        total = int(cum[-1]) if len(cum) else 0
        splits = np.searchsorted(cum, np.arange(1, -(-total // self.max_buckets)) * self.max_buckets)
        out_pt, out_owner, out_d = [], [], []
        for sl in np.split(np.arange(len(px)), splits):
            pos = np.repeat(sl, nb[sl])
            if pos.size == 0:
                continue
            ends = np.cumsum(nb[sl])
            k = np.arange(ends[-1]) - np.repeat(ends - nb[sl], nb[sl])
            bucket = (by0[pos] + k // wx[pos]) * self.nbx + bx0[pos] + k % wx[pos]
            p2, entry = _expand_csr(self._ptr, bucket)
            pt, seg = pos[p2], self._seg[entry]
            own = self.owner[seg]
            if exclude is not None:
                keep = own != exclude[pt]
                pt, seg, own = pt[keep], seg[keep], own[keep]
            d = point_segment_distance(px[pt], py[pt], self.a[seg, 0], self.a[seg, 1],
                                       self.b[seg, 0], self.b[seg, 1])
            keep = d <= r[pt]
            out_pt.append(pt[keep])
            out_owner.append(own[keep])
            out_d.append(d[keep])
        if not out_pt:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        pt, own, d = np.concatenate(out_pt), np.concatenate(out_owner), np.concatenate(out_d)
        order = np.lexsort((d, own, pt))
        pt, own, d = pt[order], own[order], d[order]
        first = np.r_[True, (pt[1:] != pt[:-1]) | (own[1:] != own[:-1])] if pt.size else np.empty(0, bool)
        pt, own, d = pt[first], own[first], d[first]
        order = np.lexsort((own, d, pt))
        return pt[order], own[order], d[order]

    def nearest(self, px: np.ndarray, py: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact nearest owner and distance for points whose distance is known to be at most ``upper``
        (owner -1 and distance inf where nothing lies within it)."""
        upper = np.asarray(upper, dtype=np.float64)
        pt, own, d = self.within(px, py, upper * (1 + 1e-12) + 1e-9)
        owner = np.full(len(px), -1, dtype=np.int64)
        dist = np.full(len(px), np.inf)
        first = np.r_[True, pt[1:] != pt[:-1]] if pt.size else np.empty(0, bool)
        owner[pt[first]] = own[first]
        dist[pt[first]] = d[first]
        return owner, dist
