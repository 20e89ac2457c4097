"""Place points: township, village, grid cell, special zones and location flags, millions per second.

Built once from a ``Jurisdiction``; every answer is vectorised over the batch:

* township — ``PolygonIndex``, exactly ``ST_Contains``: a point on a boundary is in no township; where
  townships overlap, the lowest row (the smallest code, as ``load_jurisdiction`` sorts them) wins;
* grid cell and zones — the same index over the grid cells and over the zones (a point may be in several
  zones: all are listed);
* metres — points are projected to EPSG:4548 with ``LocalProjection`` (a fitted polynomial, µm-accurate);
* village — the village polygon of the point's township containing the point, otherwise the nearest member
  village (same ``township_code``) with its distance; none in the township: flag ``no_village``;
* ``near_border`` and ``outside_district`` — ``BoundaryIndex``: exact distances to the other townships within
  max(accuracy, ``near_border_min_m``); the nearest township of a point in none (exact within 250 m). A
  point in none also lists the townships within that radius as ``border_townships`` (nearest first): the
  townships it may lie in, whose desks show it.

Batch input must be validated by the caller: rows with non-finite coordinates come back unplaced (every
field None/NaN, no flags). ``locate_one`` refuses them with ``InvalidInput``.

``locate_one`` (a single submission) places a point well inside a township on Python numbers, by the same
arithmetic as the batch (the same cell, the same candidates, the same float operations), in about a quarter of
the time the array path takes for one point; near a border or outside the district it takes the array path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from gis_enforcement.domain.enums import LocationFlag
from gis_enforcement.domain.records import Placement, ZoneRef
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.border import BoundaryIndex
from gis_enforcement.layers.grid import GridIndex
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.projection import LocalProjection
from gis_enforcement.layers.spatial_index import DEFAULT_CELL_DEG, PolygonIndex
from gis_enforcement.layers.villages import VillageIndex

COLUMNS = (
    "lon", "lat", "township_code", "township_name", "village_code", "village_name", "village_distance_m",
    "grid_code", "zones", "zone_kinds", "flags", "border_townships", "nearest_township_code",
    "nearest_township_distance_m",
)
_NEAR, _OUTSIDE, _NO_VILLAGE = 1, 2, 4


def _with_none(values: list[object] | np.ndarray) -> np.ndarray:
    """Object lookup table whose index -1 is None, so ``table[idx]`` maps "no match" (-1) to None."""
    out = np.empty(len(values) + 1, dtype=object)
    out[:-1] = list(values)
    out[-1] = None
    return out


def _tuples_by_point(n: int, pt: np.ndarray, item: np.ndarray, n_items: int, make: object) -> np.ndarray:
    """Object array of length n: for each point the tuple ``make(items)`` of its items (pairs grouped by
    point, items in the order given), ``()`` for points without items. One tuple is built per distinct item
    sequence, not per point: sequences are encoded as integers (base n_items + 1) and deduplicated."""
    out = np.empty(n, dtype=object)
    out.fill(())
    if pt.size == 0:
        return out
    starts = np.flatnonzero(np.r_[True, pt[1:] != pt[:-1]])
    counts = np.diff(np.r_[starts, len(pt)])
    rank = np.arange(len(pt)) - np.repeat(starts, counts)
    width = int(counts.max())
    base = n_items + 1
    if width * np.log2(base) < 62:
        key = np.zeros(len(starts), dtype=np.int64)
        np.add.at(key, np.repeat(np.arange(len(starts)), counts), (item.astype(np.int64) + 1) * base ** rank)
        uniq, inverse = np.unique(key, return_inverse=True)
        rows = [[int(k // base**r % base) - 1 for r in range(width)] for k in uniq]
    else:  # too many items per point for one integer key: fall back to unique rows
        table = np.full((len(starts), width), -1, dtype=np.int64)
        table[np.repeat(np.arange(len(starts)), counts), rank] = item
        urows, inverse = np.unique(table, axis=0, return_inverse=True)
        rows = urows.tolist()
    built = np.empty(len(rows), dtype=object)
    built[:] = [make(tuple(v for v in row if v >= 0)) for row in rows]  # type: ignore[operator]
    out[pt[starts]] = built[np.asarray(inverse).ravel()]
    return out


class Locator:
    """In-memory placement of points against one jurisdiction (module doc); see ``from_jurisdiction``."""

    def __init__(self, j: Jurisdiction, *, near_border_min_m: float, cell_deg: float) -> None:
        self.near_border_min_m = float(near_border_min_m)
        towns = j.townships
        self.township_codes = towns["code"].astype(str).to_numpy(dtype=object)
        self._town_code = _with_none(self.township_codes)
        self._town_name = _with_none(towns["name"].tolist())
        self._towns = PolygonIndex(towns.geometry.to_numpy(), cell_deg=cell_deg)
        self._proj = LocalProjection(tuple(shapely.total_bounds(towns.geometry.to_numpy())))
        self._border = BoundaryIndex(self._towns)
        geoms = self._towns.geoms
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = left < right
        self._town_overlap = bool(
            np.any(shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]])) > 0))
        self._build_villages(j)
        grid_size = j.grid_size_m or j.grid.attrs.get("grid_size_m")
        self._grid = GridIndex(j.grid, self.township_codes, size_m=grid_size)
        self._grid_code = _with_none(j.grid["code"].astype(str).tolist())
        self._zones = PolygonIndex(j.zones.geometry.to_numpy(), cell_deg=cell_deg)
        self._zone_refs = np.empty(len(j.zones), dtype=object)
        z = j.zones
        self._zone_refs[:] = [ZoneRef(str(k), str(c), str(n))
                              for k, c, n in zip(z["kind"], z["code"], z["name"], strict=True)]
        self._zone_kind = j.zones["kind"].astype(str).to_numpy(dtype=object)
        self._flag_sets = _flag_table()

    @classmethod
    def from_jurisdiction(
        cls, j: Jurisdiction, *, near_border_min_m: float = 50.0, cell_deg: float = DEFAULT_CELL_DEG
    ) -> Locator:
        """Build every index for ``j`` (about half a second for Pinggu); ``near_border_min_m`` is the
        smallest radius for the near-border test, ``cell_deg`` the lookup raster cell in degrees."""
        return cls(j, near_border_min_m=near_border_min_m, cell_deg=cell_deg)

    # -- build helpers -------------------------------------------------------------------------------------

    def _build_villages(self, j: Jurisdiction) -> None:
        self._vill_code = _with_none(j.villages["code"].astype(str).tolist())
        self._vill_name = _with_none(j.villages["name"].tolist())
        self._villages = VillageIndex(j.villages, self.township_codes, self._towns, self._proj)

    # -- queries ---------------------------------------------------------------------------------------------

    def township_index(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Row index into ``j.townships`` of the township containing each point (int32), -1 if none —
        exactly ``shapely.contains_xy`` / ``ST_Contains``; overlaps resolve to the lowest row."""
        return self._towns.first(lon, lat)

    def locate(self, lon: np.ndarray, lat: np.ndarray, accuracy_m: np.ndarray | None = None) -> pd.DataFrame:
        """Place every point (module doc); one row per input point, in input order, index 0..n-1, with the
        columns of ``COLUMNS``. ``accuracy_m`` (metres, NaN = unknown) widens the near-border radius.
        String columns are object dtype with None for "no value"; distances are float with NaN."""
        columns = self._placement_columns(lon, lat, accuracy_m)
        frame = pd.DataFrame(index=pd.RangeIndex(len(columns["lon"])))
        # one column at a time: building from a dict would consolidate the object columns into one 2-D
        # block — a copy of ten million pointers that costs more than all the geometry above
        for name in COLUMNS:
            values = columns[name]
            frame[name] = pd.Series(values, copy=False, dtype=object if values.dtype == object else None)
        return frame

    def _placement_columns(self, lon: np.ndarray, lat: np.ndarray,
                           accuracy_m: np.ndarray | None) -> dict[str, np.ndarray]:
        """The columns of ``locate`` as arrays, before they become a frame (``locate_one`` reads them as they
        are: a one-row frame would cost more than placing the point)."""
        lon = np.ascontiguousarray(lon, dtype=np.float64).ravel()
        lat = np.ascontiguousarray(lat, dtype=np.float64).ravel()
        n = len(lon)
        if len(lat) != n:
            raise InvalidInput(f"lon has {n} values, lat {len(lat)}", field="lat")
        acc = np.full(n, np.nan) if accuracy_m is None else \
            np.broadcast_to(np.asarray(accuracy_m, dtype=np.float64), (n,))
        radius = np.fmax(acc, self.near_border_min_m)  # fmax: unknown accuracy (NaN) means the minimum
        valid = np.isfinite(lon) & np.isfinite(lat)

        flat = self._towns.frame.cells(lon, lat)
        town = self._towns.first(lon, lat, flat)
        inside_rows = np.flatnonzero(town >= 0)
        x, y = self._proj.forward(lon, lat)

        # villages (inside points only)
        ir = inside_rows
        vill = np.full(n, -1, dtype=np.int64)
        vdist = np.full(n, np.nan)
        vill[ir], vdist[ir] = self._villages.lookup(lon[ir], lat[ir], x[ir], y[ir], town[ir], flat[ir])

        # grid cells (inside points only: the grid covers the townships)
        grid = np.full(n, -1, dtype=np.int64)
        if inside_rows.size:
            ir = inside_rows
            exact = self._towns.is_mixed(flat[ir])
            grid[ir] = self._grid.lookup(lon[ir], lat[ir], x[ir], y[ir], town[ir], exact)

        # zones (any point; zones may overlap)
        zpt, zpoly = self._zones.pairs(lon, lat) if len(self._zones) else (np.empty(0, np.int64),) * 2
        nz = len(self._zone_refs)
        zones = _tuples_by_point(n, zpt, zpoly, nz, lambda t: tuple(self._zone_refs[list(t)]))
        kinds = _tuples_by_point(n, zpt, zpoly, nz, lambda t: tuple(sorted(set(self._zone_kind[list(t)]))))

        # near border: exact search only where the raster's lower bound allows it. A point in no township
        # is measured too: the townships within its radius are its candidates (``border_townships``), so that
        # a poor fix just outside the district reaches the township it may well be in; it is flagged
        # ``outside_district``, not ``near_border``
        flags = np.zeros(n, dtype=np.int64)
        ir = inside_rows
        vr = np.flatnonzero(valid)
        bpt, bown, bd = self._border.near(x[vr], y[vr], radius[vr], town[vr], flat[vr])
        bpt = vr[bpt]
        if self._town_overlap and ir.size:
            cand = ir[self._border.clearance.take(flat[ir]) <= radius[ir]]
            opt, opoly = self._towns.pairs(lon[cand], lat[cand])
            other = opoly != town[cand[opt]]
            bpt, bown = np.r_[bpt, cand[opt[other]]], np.r_[bown, opoly[other]]
            bd = np.r_[bd, np.zeros(int(other.sum()))]
            order = np.lexsort((bown, bd, bpt))
            bpt, bown, bd = bpt[order], bown[order], bd[order]
            seen = np.unique(bpt * len(self.township_codes) + bown, return_index=True)[1]
            keep = np.zeros(len(bpt), dtype=bool)
            keep[seen] = True
            bpt, bown = bpt[keep], bown[keep]
        flags[bpt[town[bpt] >= 0]] |= _NEAR
        nt = len(self.township_codes)
        border = _tuples_by_point(n, bpt, bown, nt, lambda t: tuple(self.township_codes[list(t)]))

        # outside every township
        out_rows = np.flatnonzero(valid & (town < 0))
        flags[out_rows] |= _OUTSIDE
        nearest = np.full(n, -1, dtype=np.int64)
        ndist = np.full(n, np.nan)
        o = out_rows
        nearest[o], ndist[o] = self._border.nearest_outside(lon[o], lat[o], x[o], y[o], flat[o])
        flags[inside_rows[vill[inside_rows] < 0]] |= _NO_VILLAGE

        columns = {
            "lon": lon, "lat": lat,
            "township_code": self._town_code[town], "township_name": self._town_name[town],
            "village_code": self._vill_code[vill], "village_name": self._vill_name[vill],
            "village_distance_m": vdist, "grid_code": self._grid_code[grid],
            "zones": zones, "zone_kinds": kinds, "flags": self._flag_sets[flags], "border_townships": border,
            "nearest_township_code": self._town_code[nearest], "nearest_township_distance_m": ndist,
        }
        if not valid.all():
            bad = ~valid  # unplaced rows: nothing may stick to them, whatever cell NaN was clamped into
            empty = np.empty(int(bad.sum()), dtype=object)
            empty.fill(())
            for col in ("zones", "zone_kinds", "flags", "border_townships"):
                columns[col][bad] = empty
        return columns

    def _place_one(self, lon: float, lat: float, accuracy_m: float | None) -> dict[str, Any] | None:
        """The row of ``_placement_columns`` for one finite point well inside a township, computed on Python
        numbers by the same arithmetic (the array path costs ~300 array calls for one point). None for the
        points that need the rest of the array path: outside every township, or where the raster cannot rule
        out another township's boundary within the near-border radius (or townships overlap)."""
        if self._town_overlap:
            return None
        towns = self._towns
        flat = towns.frame.cell_one(lon, lat)
        town = towns.first_one(lon, lat, flat)
        radius = self.near_border_min_m if accuracy_m is None else max(float(accuracy_m), self.near_border_min_m)
        if town < 0 or float(self._border.clearance[flat]) <= radius:
            return None
        x, y = self._proj.forward_one(lon, lat)
        vill, vdist = self._villages.lookup_one(lon, lat, x, y, town, flat)
        grid = self._grid.lookup_one(lon, lat, x, y, town, bool(towns.mixed[flat]))
        zones = tuple(self._zone_refs[p] for p in self._zones.members_one(lon, lat)) if len(self._zones) else ()
        return {
            "lon": lon, "lat": lat,
            "township_code": self._town_code[town], "township_name": self._town_name[town],
            "village_code": self._vill_code[vill], "village_name": self._vill_name[vill],
            "village_distance_m": vdist, "grid_code": self._grid_code[grid], "zones": zones,
            "flags": self._flag_sets[_NO_VILLAGE if vill < 0 else 0], "border_townships": (),
            "nearest_township_code": None, "nearest_township_distance_m": float("nan"),
        }

    def locate_one(self, lon: float, lat: float, accuracy_m: float | None = None) -> Placement:
        """Place one point; raises ``InvalidInput`` for coordinates that are not finite or out of range
        (longitude beyond ±180°, latitude beyond ±90°) or a negative accuracy."""
        for name, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
            if value is None or not np.isfinite(value):
                raise InvalidInput(f"{name} must be a finite number, got {value!r}", field=name)
            if abs(value) > limit:
                raise InvalidInput(f"{name} must be within [-{limit:g}, {limit:g}], got {value!r}", field=name)
        if accuracy_m is not None and (not np.isfinite(accuracy_m) or accuracy_m < 0):
            raise InvalidInput(f"accuracy_m must be a non-negative number, got {accuracy_m!r}",
                               field="accuracy_m")
        row: dict[str, Any] | None = self._place_one(float(lon), float(lat), accuracy_m)
        if row is None:
            columns = self._placement_columns(np.array([lon], dtype=float), np.array([lat], dtype=float),
                                              None if accuracy_m is None else np.array([accuracy_m], dtype=float))
            row = {name: values[0] for name, values in columns.items()}

        def num(v: float) -> float | None:
            return None if v is None or not np.isfinite(v) else float(v)

        return Placement(
            lon=float(row["lon"]), lat=float(row["lat"]),
            township_code=row["township_code"], township_name=row["township_name"],
            village_code=row["village_code"], village_name=row["village_name"],
            village_distance_m=num(row["village_distance_m"]), grid_code=row["grid_code"],
            zones=row["zones"], flags=row["flags"], border_townships=row["border_townships"],
            nearest_township_code=row["nearest_township_code"],
            nearest_township_distance_m=num(row["nearest_township_distance_m"]),
        )


def _flag_table() -> np.ndarray:
    """Tuple of flag strings for each bit combination of _NEAR | _OUTSIDE | _NO_VILLAGE."""
    table = np.empty(8, dtype=object)
    for bits in range(8):
        table[bits] = tuple(f.value for bit, f in (
            (_NEAR, LocationFlag.NEAR_BORDER), (_OUTSIDE, LocationFlag.OUTSIDE_DISTRICT),
            (_NO_VILLAGE, LocationFlag.NO_VILLAGE)) if bits & bit)
    return table
