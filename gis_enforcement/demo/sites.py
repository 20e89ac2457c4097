"""Where reports are made: recurring problem sites and the district as the simulator sees it.

:class:`Setting` holds the townships, villages and zones of a jurisdiction and, per spatial domain (river
corridors, mining areas, truck routes, villages, urban communities, township borders, mountain townships, the
district), a pool of candidate positions; :func:`sample_positions` draws from a pool with scatter. Place words
('<village><direction><distance>') are coded as integers and turned into text only once per distinct place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from gis_enforcement.domain.names import short_township, short_village

__all__ = ["SITES", "Pool", "Setting", "Site", "m_to_deg", "sample_positions", "short_township", "short_village"]

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0
_POOL_SIZE = 3000


@dataclass(frozen=True)
class Site:
    """A recurring problem site: reported repeatedly over the season."""

    kind: str
    category: str
    domain: str
    share: float       # share of the season's reports it would like to have
    spread_m: float    # scatter of its reports around the site
    name: str          # "{v}" is replaced by the nearest village
    phrases: tuple[str, ...]


SITES: tuple[Site, ...] = (
    Site("sand_yard", "MIN-02", "river", 0.020, 30, "{v}河段砂石料场", (
        "又有铲车夜间采砂", "料场重新开工，堆砂增加", "夜间有运砂车进出", "查封后再次采砂")),
    Site("mine_pit", "MIN-01", "mining", 0.015, 45, "{v}后山采坑", (
        "采坑有新挖痕迹", "夜间有人进出采坑", "封堵的洞口被重新打开", "坑边发现新的运输便道")),
    Site("workshop", "ENV-01", "village", 0.015, 20, "{v}原纺织厂院内家具作坊", (
        "作坊恢复生产，喷漆味重", "关停后又偷偷开工", "夜里加班生产，无治污设施", "院门紧闭，内有机器声")),
    Site("dump_pit", "ENV-05", "border", 0.010, 40, "{v}村边废弃坑塘", (
        "坑塘又被倾倒建筑垃圾", "夜间有渣土车倾倒", "新增大量装修垃圾")),
    Site("farm", "ENV-04", "river_village", 0.008, 30, "{v}养殖小区", (
        "粪污再次直排河道", "下雨后粪水外溢", "粪便堆放在河边")),
    Site("truck_bypass", "TRK-03", "trucks", 0.010, 60, "{v}治超站绕行便道", (
        "货车绕行治超站", "夜间多辆大货车绕行", "绕行便道被压坏")),
)

_NE_MOUNTAIN = ("金海湖", "黄松峪", "镇罗营")
_MOUNTAIN = ("金海湖", "黄松峪", "镇罗营", "熊儿寨", "大华山", "刘家店")
_FALLBACK = {
    "river": "river_village", "river_village": "village", "village": "district", "urban": "village",
    "mining": "ne_mountains", "ne_mountains": "mountains", "mountains": "district", "redline": "mountains",
    "trucks": "district", "border": "district", "district": None,
}
_ZONE_OF_DOMAIN = {
    "river": "river_corridor",
    "mining": "mining_area",
    "trucks": "truck_route",
    "redline": "ecological_redline",
}
_DIRECTIONS = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
# distance words: bucket 0 = "附近" (< 150 m), 1..9 = hundreds of metres, 10..300 = tenths of km
_DIST_TEXT = ("附近",) + tuple(f"约{h * 100}米" for h in range(1, 10)) + tuple(
    f"约{k / 10:.1f}公里" for k in range(10, 301)
)


# -- small helpers -------------------------------------------------------------------------------------------
def m_to_deg(dx_m: np.ndarray, dy_m: np.ndarray, lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Metre offsets east/north at latitude ``lat`` as (degrees of longitude, degrees of latitude)."""
    return dx_m / (_M_PER_DEG_LON_EQ * np.cos(np.radians(lat))), dy_m / _M_PER_DEG_LAT




def _frame(gdf: Any) -> Any:
    if gdf is None or len(gdf) == 0:
        return None
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return gdf


def _uniform_in(geom: Any, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points uniformly inside (multi)polygon ``geom`` by rejection sampling (per part, by area)."""
    parts = [p for p in shapely.get_parts(geom) if p.area > 0]
    if not parts or n == 0:
        return np.empty(0), np.empty(0)
    areas = np.array([p.area for p in parts])
    counts = rng.multinomial(n, areas / areas.sum())
    lons, lats = [], []
    for part, k in zip(parts, counts, strict=True):
        if k == 0:
            continue
        shapely.prepare(part)
        x0, y0, x1, y1 = part.bounds
        ratio = max(part.area / max((x1 - x0) * (y1 - y0), 1e-18), 1e-4)
        got: list[np.ndarray] = []
        total = 0
        for _ in range(200):
            m = int(min(max((k - total) / ratio * 1.3, 64), 2_000_000))
            x = rng.uniform(x0, x1, m)
            y = rng.uniform(y0, y1, m)
            inside = shapely.contains_xy(part, x, y)
            got.append(np.column_stack([x[inside], y[inside]]))
            total += int(inside.sum())
            if total >= k:
                break
        xy = np.concatenate(got)[:k]
        lons.append(xy[:, 0])
        lats.append(xy[:, 1])
    if not lons:
        return np.empty(0), np.empty(0)
    return np.concatenate(lons), np.concatenate(lats)


class _Polyline:
    """The vertices of (multi)line geometry, for fast uniform sampling and approximate distances."""

    def __init__(self, lines: Any, kx: float):
        segs_a, segs_b = [], []
        for part in shapely.get_parts(shapely.line_merge(lines) if lines.geom_type != "Point" else lines):
            xy = shapely.get_coordinates(part)
            if len(xy) >= 2:
                segs_a.append(xy[:-1])
                segs_b.append(xy[1:])
        self.kx = kx
        if segs_a:
            self.a, self.b = np.concatenate(segs_a), np.concatenate(segs_b)
        else:
            self.a = self.b = np.empty((0, 2))
        d = (self.b - self.a) * [kx, _M_PER_DEG_LAT]
        self.length = np.hypot(d[:, 0], d[:, 1])
        # densified vertices (<= 25 m apart) for nearest-distance queries
        steps = np.maximum(np.ceil(self.length / 25.0).astype(int), 1)
        seg = np.repeat(np.arange(len(self.a)), steps)
        frac = (np.arange(steps.sum()) - np.repeat(np.cumsum(steps) - steps, steps)) / np.repeat(steps, steps)
        pts = self.a[seg] + (self.b[seg] - self.a[seg]) * frac[:, None]
        self.tree = cKDTree(pts * [kx, _M_PER_DEG_LAT]) if len(pts) else None

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if n == 0 or self.length.sum() == 0:
            return np.empty(0), np.empty(0)
        seg = rng.choice(len(self.length), size=n, p=self.length / self.length.sum())
        f = rng.random(n)[:, None]
        xy = self.a[seg] + (self.b[seg] - self.a[seg]) * f
        return xy[:, 0], xy[:, 1]

    def distance_m(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        if self.tree is None:
            return np.full(len(lon), np.inf)
        return self.tree.query(np.column_stack([lon * self.kx, lat * _M_PER_DEG_LAT]))[0]


# -- the setting: pools of candidate positions per domain ----------------------------------------------------
@dataclass
class Pool:
    lon: np.ndarray
    lat: np.ndarray
    spread_m: float                    # scatter added around pool points unless the habit says otherwise
    town: np.ndarray | None = None     # township index of each point (filled by Setting)
    village: np.ndarray | None = None  # nearest village index of each point (filled by Setting)
    edge_m: np.ndarray | None = None   # distance of each point to the district boundary (filled by Setting)

    def __len__(self) -> int:
        return len(self.lon)


_EMPTY_POOL = (np.empty(0), np.empty(0), 0.0)


class Setting:
    """The district as the simulator sees it: townships, villages, zones and sampling pools."""

    def __init__(self, jurisdiction: Any, rng: np.random.Generator):
        self.rng = rng
        towns = _frame(jurisdiction.townships)
        if towns is None:
            raise ValueError("the jurisdiction has no townships")
        self.towns = towns.reset_index(drop=True)
        self.town_names = [short_township(str(n)) for n in self.towns["name"]]
        self.town_geoms = np.asarray(self.towns.geometry.values, dtype=object)
        self.town_tree = shapely.STRtree(self.town_geoms)
        district = _frame(getattr(jurisdiction, "district", None))
        self.district = (shapely.union_all(district.geometry.values) if district is not None
                         else shapely.union_all(self.town_geoms))
        shapely.prepare(self.district)
        if "level" in self.towns.columns:
            level = self.towns["level"].astype(str).to_numpy()
        else:
            level = np.array(["街道" if n.endswith("街道") else "" for n in self.town_names])
        self.subdistrict = level == "街道"
        self.mountain = np.array([n.startswith(_MOUNTAIN) for n in self.town_names])
        self.lat0 = float(np.mean(self.district.bounds[1::2]))
        self.kx = _M_PER_DEG_LON_EQ * math.cos(math.radians(self.lat0))
        villages = _frame(getattr(jurisdiction, "villages", None))
        if villages is not None:
            pts = villages.geometry.representative_point()
            self.v_lon, self.v_lat = pts.x.to_numpy(), pts.y.to_numpy()
            self.v_name = [short_village(n) for n in villages["name"]]
        else:  # no village layer: township names stand in for places
            pts = self.towns.geometry.representative_point()
            self.v_lon, self.v_lat = pts.x.to_numpy(), pts.y.to_numpy()
            self.v_name = list(self.town_names)
        self.v_tree = cKDTree(np.column_stack([self.v_lon * self.kx, self.v_lat * _M_PER_DEG_LAT]))
        zones = _frame(getattr(jurisdiction, "zones", None))
        self.zones: dict[str, Any] = {}
        if zones is not None and "kind" in zones.columns:
            for kind, group in zones.groupby("kind"):
                self.zones[str(kind)] = shapely.union_all(group.geometry.values)
        self.edge = _Polyline(shapely.boundary(self.district), self.kx)
        self._pools: dict[str, Pool] = {}

    def township_of(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Township index of each position (the nearest township for positions outside them all)."""
        pts = shapely.points(lon, lat)
        out = np.full(len(pts), -1, dtype=np.int64)
        if len(pts) == 0:
            return out
        ip, it = self.town_tree.query(pts, predicate="intersects")
        out[ip] = it
        missing = np.flatnonzero(out < 0)
        if len(missing):
            ip2, it2 = self.town_tree.query_nearest(pts[missing], all_matches=False)
            out[missing[ip2]] = it2
        return out

    def nearest_village(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return self.v_tree.query(np.column_stack([lon * self.kx, lat * _M_PER_DEG_LAT]))[1]

    def place_codes(self, lon: np.ndarray, lat: np.ndarray, village: np.ndarray) -> np.ndarray:
        """Integer code of '<village><direction><distance>' for each position, relative to ``village``."""
        dx = (lon - self.v_lon[village]) * self.kx
        dy = (lat - self.v_lat[village]) * _M_PER_DEG_LAT
        dist = np.hypot(dx, dy)
        sector = np.round(np.degrees(np.arctan2(dx, dy)) / 45.0).astype(np.int64) % 8
        bucket = np.where(dist < 150, 0, np.clip(np.round(dist / 100.0), 1, 300)).astype(np.int64)
        return (village.astype(np.int64) * 8 + sector) * len(_DIST_TEXT) + bucket

    def place_text(self, code: int) -> str:
        rest, bucket = divmod(int(code), len(_DIST_TEXT))
        village, sector = divmod(rest, 8)
        if bucket == 0:
            return f"{self.v_name[village]}附近"
        return f"{self.v_name[village]}{_DIRECTIONS[sector]}{_DIST_TEXT[bucket]}"

    def _finish_pool(self, pool: Pool) -> Pool:
        pool.town = self.township_of(pool.lon, pool.lat)
        pool.village = (self.nearest_village(pool.lon, pool.lat) if len(pool)
                        else np.empty(0, dtype=np.int64))
        pool.edge_m = self.edge.distance_m(pool.lon, pool.lat)
        return pool

    def pool(self, domain: str) -> Pool:
        """The pool for ``domain``, or that of its fallback when the district has no such places."""
        d: str | None = domain
        while d is not None:
            if d not in self._pools:
                self._pools[d] = self._finish_pool(Pool(*self._build(d)))
            if len(self._pools[d]):
                return self._pools[d]
            d = _FALLBACK.get(d, "district")
        raise ValueError(f"no positions for domain {domain!r}")

    def outside_pool(self) -> Pool:
        if "outside" not in self._pools:
            self._pools["outside"] = self._finish_pool(Pool(*self._outside(_POOL_SIZE // 6)))
        return self._pools["outside"]

    def _build(self, domain: str) -> tuple[np.ndarray, np.ndarray, float]:
        rng, n = self.rng, _POOL_SIZE
        if domain in _ZONE_OF_DOMAIN:
            geom = self.zones.get(_ZONE_OF_DOMAIN[domain])
            return (*_uniform_in(geom, n, rng), 15.0) if geom is not None else _EMPTY_POOL
        if domain == "district":
            return (*_uniform_in(self.district, n, rng), 0.0)
        if domain in ("ne_mountains", "mountains"):
            prefixes = _NE_MOUNTAIN if domain == "ne_mountains" else _MOUNTAIN
            sel = [g for g, name in zip(self.town_geoms, self.town_names, strict=True)
                   if name.startswith(prefixes)]
            return (*_uniform_in(shapely.union_all(sel), n, rng), 0.0) if sel else _EMPTY_POOL
        if domain == "village":
            return self.v_lon, self.v_lat, 300.0
        if domain == "river_village":
            river = self.zones.get("river_corridor")
            if river is None:
                return _EMPTY_POOL
            near = _Polyline(shapely.boundary(river), self.kx).distance_m(self.v_lon, self.v_lat) < 1500
            near |= shapely.contains_xy(river, self.v_lon, self.v_lat)
            return self.v_lon[near], self.v_lat[near], 400.0
        if domain == "urban":
            is_comm = np.array(["社区" in v for v in self.v_name], dtype=bool)
            lon, lat = self.v_lon[is_comm], self.v_lat[is_comm]
            sub = [g for g, s in zip(self.town_geoms, self.subdistrict, strict=True) if s]
            if sub:
                ulon, ulat = _uniform_in(shapely.union_all(sub), max(len(lon), 200), rng)
                lon, lat = np.concatenate([lon, ulon]), np.concatenate([lat, ulat])
            return lon, lat, 350.0
        if domain == "border":
            lines = _Polyline(shapely.union_all(shapely.boundary(self.town_geoms)), self.kx)
            lon, lat = lines.sample(n * 2, rng)
            inner = self.edge.distance_m(lon, lat) > 300
            return lon[inner][:n], lat[inner][:n], 40.0
        raise ValueError(f"unknown domain {domain!r}")

    def _outside(self, n: int) -> tuple[np.ndarray, np.ndarray, float]:
        """Positions 150 m - 2.5 km outside the district boundary."""
        rng = self.rng
        c = shapely.centroid(self.district)
        lons: list[np.ndarray] = []
        lats: list[np.ndarray] = []
        total = 0
        for _ in range(20):
            lon, lat = self.edge.sample(n, rng)
            vx, vy = (lon - c.x) * self.kx, (lat - c.y) * _M_PER_DEG_LAT
            norm = np.hypot(vx, vy) + 1e-9
            d = rng.uniform(150, 2500, n)
            dlon, dlat = m_to_deg(vx / norm * d, vy / norm * d, lat)
            lon, lat = lon + dlon, lat + dlat
            keep = ~shapely.contains_xy(self.district, lon, lat) & (self.edge.distance_m(lon, lat) > 100)
            lons.append(lon[keep])
            lats.append(lat[keep])
            total += int(keep.sum())
            if total >= n:
                break
        return np.concatenate(lons)[:n], np.concatenate(lats)[:n], 0.0


def sample_positions(setting: Setting, domain: str, n: int, spread_m: float | None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n positions from a domain's pool with scatter; township and nearest village of the pool point."""
    rng = setting.rng
    pool = setting.pool(domain)
    idx = rng.integers(0, len(pool), size=n)
    spread = pool.spread_m if spread_m is None else spread_m
    lon, lat = pool.lon[idx], pool.lat[idx]
    assert pool.town is not None and pool.village is not None and pool.edge_m is not None
    if spread > 0:
        dlon, dlat = m_to_deg(rng.normal(0, spread, n), rng.normal(0, spread, n), lat)
        # scatter never carries a report out of the district (that is left to the 'outside' share)
        near = np.flatnonzero(pool.edge_m[idx] < 4 * spread)
        out = near[~shapely.contains_xy(setting.district, lon[near] + dlon[near], lat[near] + dlat[near])]
        dlon[out] = 0.0
        dlat[out] = 0.0
        lon, lat = lon + dlon, lat + dlat
    return lon, lat, pool.town[idx], pool.village[idx]
