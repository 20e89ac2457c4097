"""H3 cells of many points at once, equal to ``h3.latlng_to_cell`` point by point.

h3-py 4 has no array version of ``latlng_to_cell`` and one call per point costs ~0.7 s per million points, so the
first half of H3's own algorithm (nearest icosahedron face, gnomonic projection, rounding to the hex lattice:
``_geoToHex2d`` and ``_hex2dToCoordIJK``, with h3's constants) runs here in numpy; points are keyed by (face, i, j)
and h3 itself is called once per key, on one of its points, to name the cell (H3's index is a function of face
and ijk). A point within floating-point noise of one of the algorithm's decisions (nearest face, a rounding
edge, a folding axis) is asked of h3 directly, so the ids are exactly h3's; the tests compare them point by
point. :func:`h3_cells` names every point; :func:`h3_cell_counts` only counts points per cell, which is what
aggregation (and each partition of the distributed path) needs.
"""

from __future__ import annotations

from itertools import repeat

import h3.api.basic_int as h3_int
import numpy as np

#: a dense (face, i, j) counting table larger than this falls back to sorting
_DENSE_KEY_LIMIT = 20_000_000

# H3's icosahedron: face centres (lat, lng radians) and the azimuth of each face's i axis (Class II), from the h3
# library's faceijk.c; the gnomonic unit length of resolution 0 and the Class III rotation, from its constants.h
_FACE_CENTRES = np.array([
    (0.803582649718989942, 1.248397419617396099), (1.307747883455638156, 2.536945009877921159),
    (1.054751253523952054, -1.347517358900396623), (0.600191595538186799, -0.450603909469755746),
    (0.491715428198773866, 0.401988202911306943), (0.172745327415618701, 1.678146885280433686),
    (0.605929321571350690, 2.953923329812411617), (0.427370518328979641, -1.888876200336285401),
    (-0.079066118549212831, -0.733429513380867741), (-0.230961644455383637, 0.506495587332349035),
    (0.079066118549212831, 2.408163140208925497), (0.230961644455383637, -2.635097066257444203),
    (-0.172745327415618701, -1.463445768309359553), (-0.605929321571350690, -0.187669323777381622),
    (-0.427370518328979641, 1.252716453253507838), (-0.600191595538186799, 2.690988744120037492),
    (-0.491715428198773866, -2.739604450678486295), (-0.803582649718989942, -1.893195233972397139),
    (-1.307747883455638156, -0.604647643711872080), (-1.054751253523952054, 1.794075294689396615)])
_FACE_AXIS_AZIMUTH = np.array([
    5.619958268523939882, 5.760339081714187279, 0.780213654393430055, 0.430469363979999913, 6.130269123335111400,
    2.692877706530642877, 2.982963003477243874, 3.532912002790141181, 3.494305004259568154, 3.003214169499538391,
    5.930472956509811562, 0.138378484090254847, 0.448714947059150361, 0.158629650112549365, 5.891865957979238535,
    2.711123289609793325, 3.294508837434268316, 3.804819692245439833, 3.664438879055192436, 2.361378999196363184])
_RES0_U_GNOMONIC = 0.38196601125010500003
_AP7_ROT_RADS = 0.333473172251832115336090755351601070065900389
_CHUNK = 1 << 16


def _candidate_faces(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Faces that can be nearest for some point of the data's lon/lat box: nearest at a node of a 33 × 33 lattice
    over the box, or within twice the lattice's half-diagonal (an upper bound on how far a point is from its
    nearest node, hence on how much its dot products with the face centres can differ from the node's)."""
    lo_lon, hi_lon, lo_lat, hi_lat = (np.radians(v) for v in (lon.min(), lon.max(), lat.min(), lat.max()))
    glon, glat = np.meshgrid(np.linspace(lo_lon, hi_lon, 33), np.linspace(lo_lat, hi_lat, 33))
    slack = 2.0 * np.hypot((hi_lon - lo_lon) / 64, (hi_lat - lo_lat) / 64) + 1e-9
    fc = _FACE_CENTRES
    dots = (np.sin(glat.ravel())[:, None] * np.sin(fc[:, 0]) + np.cos(glat.ravel())[:, None] * np.cos(fc[:, 0])
            * np.cos(glon.ravel()[:, None] - fc[:, 1]))
    return np.flatnonzero((dots >= dots.max(axis=1, keepdims=True) - slack).any(axis=0))


_SIN_FACE_LAT, _COS_FACE_LAT = np.sin(_FACE_CENTRES[:, 0]), np.cos(_FACE_CENTRES[:, 0])
_SQRT3_2 = np.sqrt(3.0) / 2.0


def _h3_face_ijk_chunk(lon: np.ndarray, lat: np.ndarray, res: int,
                       faces: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    phi, lam = np.radians(lat), np.radians(lon)
    sin_phi, cos_phi = np.sin(phi), np.cos(phi)
    # D = cos(angular distance to the face centre) for each candidate face: the nearest face has the largest D
    face = np.full(len(lon), faces[0], dtype=np.int64)
    cos_delta = np.cos(lam - _FACE_CENTRES[faces[0], 1])
    best = sin_phi * _SIN_FACE_LAT[faces[0]] + cos_phi * _COS_FACE_LAT[faces[0]] * cos_delta
    second = np.full(len(lon), -2.0)
    for f in faces[1:]:
        cos_f = np.cos(lam - _FACE_CENTRES[f, 1])
        d = sin_phi * _SIN_FACE_LAT[f] + cos_phi * _COS_FACE_LAT[f] * cos_f
        better = d > best
        second = np.where(better, best, np.maximum(second, d))
        best = np.where(better, d, best)
        face = np.where(better, f, face)
        cos_delta = np.where(better, cos_f, cos_delta)
    unsure = (best - second) < 1e-12
    unsure |= best > np.cos(1e-2)  # close to a face centre h3's acos(1 − sqd/2) loses precision
    # H3: theta = axis azimuth − azimuth (− the Class III rotation), r = tan(distance) · √7^res / u0;
    # with azimuth = atan2(east, north) and tan(distance) = hypot(east, north) / D this is a rotation of
    # (north, east) scaled by √7^res / (u0 · D) — the gnomonic projection, without acos or atan2
    vx, vy = np.empty(len(lon)), np.empty(len(lon))
    unit = np.sqrt(7.0) ** res / _RES0_U_GNOMONIC
    for f in faces:  # one face's constants at a time (a district usually lies on one face)
        on = slice(None) if len(faces) == 1 else np.flatnonzero(face == f)
        east = cos_phi[on] * np.sin(lam[on] - _FACE_CENTRES[f, 1])  # tangent components seen from the centre
        north = _COS_FACE_LAT[f] * sin_phi[on] - _SIN_FACE_LAT[f] * cos_phi[on] * cos_delta[on]
        axis = _FACE_AXIS_AZIMUTH[f] - (_AP7_ROT_RADS if res % 2 else 0.0)
        scale = unit / best[on]
        vx[on] = scale * (np.cos(axis) * north + np.sin(axis) * east)
        vy[on] = scale * (np.sin(axis) * north - np.cos(axis) * east)
    # H3's _hex2dToCoordIJK, branch for branch, in the quadrant |x|, |y|
    ax, ay = np.abs(vx), np.abs(vy)
    x2 = ay / _SQRT3_2
    x1 = ax + x2 / 2.0
    m1, m2 = np.floor(x1), np.floor(x2)
    r1, r2 = x1 - m1, x2 - m2
    low, third, two_thirds = r1 < 0.5, r1 < 1.0 / 3.0, r1 < 2.0 / 3.0
    j_up = np.where(low & third, r2 >= (1.0 + r1) / 2.0, np.where(~low & ~two_thirds, r2 >= r1 / 2.0, r2 >= 1.0 - r1))
    i_up = np.where(low, ~third & (1.0 - r1 <= r2) & (r2 < 2.0 * r1),
                    ~two_thirds | ~((2.0 * r1 - 1.0 < r2) & (r2 < 1.0 - r1)))
    i, j = m1 + i_up, m2 + j_up
    # how far inside its hexagon the point lies (apothem 1/2, edges normal to 0°, 60°, 120°): a point within
    # floating-point noise of an edge, or of a folding axis, is left to h3
    dx, dy = ax - (i - 0.5 * j), ay - j * _SQRT3_2
    slant = np.maximum(np.abs(0.5 * dx + _SQRT3_2 * dy), np.abs(0.5 * dx - _SQRT3_2 * dy))
    inside = 0.5 - np.maximum(np.abs(dx), slant)
    tol = 1e-11 * (1.0 + ax + ay)
    unsure |= (inside < tol) | (ax < tol) | (ay < tol)
    i, j = i.astype(np.int64), j.astype(np.int64)
    # fold into the point's quadrant: for x < 0 h3 reflects i about the axis, i − 2(i − j/2) for even j and
    # i − (2(i − (j+1)/2) + 1) for odd j, both j − i; for y < 0, i − (2j+1)/2 = i − j (j ≥ 0) and j → −j
    i = np.where(vx < 0, j - i, i)
    south = vy < 0
    return face, np.where(south, i - j, i), np.where(south, -j, j), unsure


def _h3_face_ijk(lon: np.ndarray, lat: np.ndarray, res: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """H3's own point → (face, i, j) at ``res`` — its ``_geoToHex2d`` and ``_hex2dToCoordIJK`` before
    normalising, which is a function of these — for many points at once, in cache-sized chunks, and a mask of
    the points so close to one of its decisions (nearest face, hex rounding, axis folding) or to a face centre
    that floating-point differences could change the answer."""
    n = len(lon)
    out = (np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
           np.empty(n, dtype=bool))
    if n == 0:
        return out
    faces = _candidate_faces(lon, lat)
    for start in range(0, n, _CHUNK):
        part = slice(start, min(n, start + _CHUNK))
        for target, value in zip(out, _h3_face_ijk_chunk(lon[part], lat[part], res, faces), strict=True):
            target[part] = value
    return out


def h3_cell_counts(lon: np.ndarray, lat: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct H3 ids (uint64) of the points and how many points fall in each. Points are keyed by their
    (face, i, j) computed with numpy; one ``h3.latlng_to_cell`` call per key, on a point of that key, names the
    cell (H3's index is a function of face and ijk); points flagged as close to a decision are asked of h3 one
    by one. The result is the same as calling h3 for every point."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    face, i, j, unsure = _h3_face_ijk(lon, lat, resolution)
    sure = np.flatnonzero(~unsure)
    ids_parts: list[np.ndarray] = []
    count_parts: list[np.ndarray] = []
    if sure.size:
        f, a, b = face[sure], i[sure], j[sure]
        lo = (int(f.min()), int(a.min()), int(b.min()))
        span = (int(f.max()) - lo[0] + 1, int(a.max()) - lo[1] + 1, int(b.max()) - lo[2] + 1)
        key = ((f - lo[0]) * span[1] + (a - lo[1])) * span[2] + (b - lo[2])
        if span[0] * span[1] * span[2] <= _DENSE_KEY_LIMIT:
            dense = np.bincount(key, minlength=span[0] * span[1] * span[2])
            occupied = np.flatnonzero(dense)
            first = np.empty(len(dense), dtype=np.int64)
            first[key[::-1]] = sure[::-1]  # any point of the key will do; reversed so the first one is kept
            reps, counts = first[occupied], dense[occupied]
        else:
            _, where, counts = np.unique(key, return_index=True, return_counts=True)
            reps = sure[where]
        ids_parts.append(_h3_per_point(lon[reps], lat[reps], resolution))
        count_parts.append(counts)
    if unsure.any():
        ids_parts.append(_h3_per_point(lon[unsure], lat[unsure], resolution))
        count_parts.append(np.ones(int(unsure.sum()), dtype=np.int64))
    if not ids_parts:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    ids, inverse = np.unique(np.concatenate(ids_parts), return_inverse=True)
    return ids, np.bincount(inverse, weights=np.concatenate(count_parts), minlength=len(ids)).astype(np.int64)


def _h3_per_point(lon: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    lat_list, lon_list = np.asarray(lat, dtype=float).tolist(), np.asarray(lon, dtype=float).tolist()
    ids = map(h3_int.latlng_to_cell, lat_list, lon_list, repeat(int(resolution)))
    return np.fromiter(ids, dtype=np.uint64, count=len(lat_list))


def h3_cells(lon: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    """64-bit H3 ids (uint64) of the points at ``resolution``, equal to ``h3.latlng_to_cell(lat, lon, res)``
    point by point, by the keyed method of the module docstring (one h3 call per distinct cell, plus one per
    point lying on a cell edge to within floating-point noise)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    face, i, j, unsure = _h3_face_ijk(lon, lat, resolution)
    out = np.empty(len(lon), dtype=np.uint64)
    key = np.stack([face, i, j], axis=1)[~unsure]
    if len(key):
        _, where, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
        sure = np.flatnonzero(~unsure)
        out[sure] = _h3_per_point(lon[sure[where]], lat[sure[where]], resolution)[inverse.ravel()]
    out[unsure] = _h3_per_point(lon[unsure], lat[unsure], resolution)
    return out
