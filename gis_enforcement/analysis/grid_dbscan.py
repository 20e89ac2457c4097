"""Exact DBSCAN for points in metres, on a grid: dense places cost no pair search. Pure numpy/scipy.

DBSCAN (a point with at least ``min_samples`` points — itself included — within ``eps`` is a core point;
clusters are core points chained by ``eps``, plus the border points they reach; the rest is noise) usually
builds every point's list of neighbours. Incident sites are dense — a sand yard reported hundreds of times —
so those lists run to hundreds of millions of pairs. On a grid of square cells of side ``eps/√2`` every two
points of one cell are within ``eps`` of each other, which gives three short cuts:

1. **Core points.** Every point of a cell holding ``min_samples`` points or more is a core point. Only points of
   sparser cells are counted exactly (a k-d tree count, no lists).
2. **Chaining.** The core points of one cell are all chained, so clusters are connected components of *cells*.
   Two cells can only be chained if they are at most two cells apart (not diagonally two); each such pair is
   decided by its closest two core points. Most pairs are settled by their two extreme points along the
   direction between the cells (a real pair within ``eps`` proves the link); the pairs left that are not yet
   in one component are checked exactly — every cross pair at once for small cells, a k-d tree for big ones.
3. **Border points** join the cluster of their nearest core point within ``eps``.

The core points, the noise and the partition of the core points are exactly those of any DBSCAN. A border point
within ``eps`` of two clusters may be given to either (DBSCAN's own choice depends on visiting order; scikit-
learn and PostGIS differ there too). Clusters are numbered by their first core point in input order, as
scikit-learn numbers them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

#: cell offsets (dx, dy) of the neighbours that can hold a point within eps (half of them: pairs are symmetric)
_OFFSETS = ((1, 0), (0, 1), (1, 1), (1, -1), (2, 0), (0, 2), (2, 1), (1, 2), (2, -1), (1, -2))


def _cells(x: np.ndarray, y: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    ix = np.floor((x - x.min()) / side).astype(np.int64) + 2
    iy = np.floor((y - y.min()) / side).astype(np.int64) + 2
    width = int(iy.max()) + 3
    return ix, iy, ix * width + iy, width


def _extreme(score: np.ndarray, members: np.ndarray, sorted_cells: np.ndarray, starts: np.ndarray,
             largest: bool) -> np.ndarray:
    """Per cell, the index of its point with the largest (or smallest) ``score``; ``members`` lists the points
    cell by cell (``sorted_cells`` their cells, ``starts`` where each cell begins). No sort: one reduction."""
    s = score[members] if largest else -score[members]
    best = np.maximum.reduceat(s, starts)
    hit = np.flatnonzero(s == best[sorted_cells])
    first = np.r_[True, sorted_cells[hit][1:] != sorted_cells[hit][:-1]]
    return members[hit[first]]  # type: ignore[no-any-return]


def _any_close(a: np.ndarray, b: np.ndarray, members: np.ndarray, bounds: np.ndarray, x: np.ndarray,
               y: np.ndarray, eps: float) -> np.ndarray:
    """For each pair of cells (``a[k]``, ``b[k]``), whether any of their points are within ``eps``: every
    cross pair at once (the caller passes only small cells)."""
    if len(a) == 0:
        return np.empty(0, dtype=bool)
    na, nb = np.diff(bounds)[a], np.diff(bounds)[b]
    per = na * nb
    pair = np.repeat(np.arange(len(a)), per)
    t = np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per)
    ia = members[bounds[a][pair] + t // nb[pair]]
    ib = members[bounds[b][pair] + t % nb[pair]]
    close = np.hypot(x[ia] - x[ib], y[ia] - y[ib]) <= eps
    return np.bincount(pair[close], minlength=len(a)) > 0


def grid_dbscan(x: np.ndarray, y: np.ndarray, *, eps: float, min_samples: int) -> np.ndarray:
    """DBSCAN labels (−1 noise) of points at ``x``, ``y`` (metres), as described in the module docstring."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    side = eps / math.sqrt(2.0) * (1.0 - 1e-12)  # a cell's diagonal stays within eps despite rounding
    _, _, key, width = _cells(x, y, side)
    cell_keys, cell_of, per_cell = np.unique(key, return_inverse=True, return_counts=True)
    tree = cKDTree(np.column_stack([x, y]))

    # 1. core points
    core = per_cell[cell_of] >= min_samples
    check = np.nonzero(~core)[0]
    if len(check):
        counts = tree.query_ball_point(np.column_stack([x[check], y[check]]), r=eps, return_length=True,
                                       workers=-1)
        core[check] = np.asarray(counts) >= min_samples
    if not core.any():
        return labels

    # 2. chaining core cells
    core_idx = np.nonzero(core)[0]
    core_cells, core_cell_of = np.unique(cell_of[core_idx], return_inverse=True)
    m = len(core_cells)
    ckeys = cell_keys[core_cells]
    cx, cy = x[core_idx], y[core_idx]
    members = np.argsort(core_cell_of, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(core_cell_of, minlength=m))]
    sorted_cells = core_cell_of[members]
    pairs_a, pairs_b, sure = [], [], []
    for dx, dy in _OFFSETS:
        target = ckeys + dx * width + dy
        pos = np.searchsorted(ckeys, target)
        pos = np.minimum(pos, m - 1)
        hit = ckeys[pos] == target
        a, b = np.nonzero(hit)[0], pos[hit]
        if len(a) == 0:
            continue
        score = cx * dx + cy * dy
        far_a = _extreme(score, members, sorted_cells, bounds[:-1], largest=True)[a]   # A's point nearest B
        far_b = _extreme(score, members, sorted_cells, bounds[:-1], largest=False)[b]  # B's point nearest A
        close = np.hypot(cx[far_a] - cx[far_b], cy[far_a] - cy[far_b]) <= eps
        pairs_a.append(a)
        pairs_b.append(b)
        sure.append(close)
    if pairs_a:
        pa, pb, ok = np.concatenate(pairs_a), np.concatenate(pairs_b), np.concatenate(sure)
    else:
        pa = pb = np.empty(0, dtype=np.int64)
        ok = np.empty(0, dtype=bool)

    def components(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(m, m))
        return connected_components(graph, directed=False)[1]

    comp = components(pa[ok], pb[ok])
    undecided = np.nonzero(~ok & (comp[pa] != comp[pb]))[0]
    sizes = np.diff(bounds)
    ua, ub = pa[undecided], pb[undecided]
    small = sizes[ua] * sizes[ub] <= 256
    linked = [_any_close(ua[small], ub[small], members, bounds, cx, cy, eps)]
    for a, b in zip(ua[~small], ub[~small], strict=True):  # rare: two big cells whose extreme points miss
        pts_a = members[bounds[a]:bounds[a + 1]]
        pts_b = members[bounds[b]:bounds[b + 1]]
        da, _ = cKDTree(np.column_stack([cx[pts_b], cy[pts_b]])).query(
            np.column_stack([cx[pts_a], cy[pts_a]]), k=1, distance_upper_bound=np.nextafter(eps, np.inf))
        linked.append(np.array([np.isfinite(da).any()]))
    hit = np.concatenate(linked) if linked else np.empty(0, dtype=bool)
    if hit.any():
        order = np.r_[np.nonzero(small)[0], np.nonzero(~small)[0]]
        comp = components(np.r_[pa[ok], ua[order][hit]], np.r_[pb[ok], ub[order][hit]])

    # number clusters by their first core point in input order
    point_comp = comp[core_cell_of]
    first = np.full(comp.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, point_comp, core_idx)
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    labels[core_idx] = rank[point_comp]

    # 3. border points: the nearest core point within eps
    rest = np.nonzero(~core)[0]
    if len(rest):
        within = np.nextafter(eps, np.inf)  # the query's bound is strict; DBSCAN's eps is inclusive
        dist, nearest = cKDTree(np.column_stack([cx, cy])).query(np.column_stack([x[rest], y[rest]]), k=1,
                                                                 distance_upper_bound=within, workers=-1)
        reached = np.isfinite(dist)
        labels[rest[reached]] = labels[core_idx[nearest[reached]]]
    return labels
