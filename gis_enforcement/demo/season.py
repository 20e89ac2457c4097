"""A simulated patrol season for Pinggu: seeded, reproducible GPS incident reports in the intake format.

:func:`simulate_season` returns GeoJSON Features exactly as phones and the web page submit them (client UUID,
``[lon, lat]`` Point, category code, ISO 8601 time with the +08:00 offset, GPS accuracy, reporter,
description, datum). :func:`simulate_incident_table` returns the same season as the CSV intake table (all
WGS84), fully vectorised, fast enough to write a million-row benchmark file.

The same ``seed`` always gives the same reports (ids included); a different seed gives a different season.
Nothing is read from the clock or the network.

Habits simulated (all probabilities and shares are invented for the demo, tuned to look plausible)
-------------------------------------------------------------------------------------------------
Where
  * MIN-02 river sand: inside ``river_corridor`` zones; mostly at night (about 80 % between 21:00 and 04:00).
  * MIN-01 illegal mining: ``mining_area`` zones and the north-east mountain townships 金海湖镇, 黄松峪乡 and
    镇罗营镇 (the 2016 gold-mine accident area); about half at night, the rest by day.
  * TRK-01/02/03 heavy trucks: on ``truck_route`` zones, day and night (overloaded trucks run at night,
    dust and banned-route trucks by day); a one-month overload campaign (治超专项行动) from day 45 of the
    season doubles truck reports.
  * ENV-01 polluting workshops (散乱污): within a few hundred metres of village points, working hours, fewer
    at weekends. CON-02 rural illegal building: near villages. CON-01 town illegal building, CON-03 site dust
    and MKT-01 unlicensed trading: urban communities (社区) and the 街道, and the larger villages (town
    planning areas of the 镇).
  * ENV-03 open burning: near villages and fields, mostly March-April and October-November (some in June,
    after the wheat harvest), afternoon and evening.
  * ENV-04 livestock pollution and ENV-02 outfalls: villages close to river corridors / the corridors.
  * ENV-05 construction-waste dumping: truck routes and township borders (the classic 三不管 spots).
  * FOR-01 logging: ecological red line and mountain townships. LAND-01, SAFE-01: around villages.
  * Categories of another district's catalog without a habit here: anywhere, by day.
Recurring problem sites
  A handful of fixed sites per season, placed by the seed: a sand yard on a river, a mine pit in the
  mountains, a furniture workshop in an old textile mill, a dumping pit on a township border, a livestock
  farm by a river, a truck bypass round a checkpoint. Each is reported again and again over the season,
  always more than the category's dedupe window apart (they are recurrences, not duplicates).
Near-duplicates
  About 3 % of reports are a second patrol reporting the same problem 8-60 m away and 10-120 minutes later
  (another reporter, its own words), so intake's likely-duplicate detection has genuine pairs to find;
  with chance coincidences about 3-5 % of a 3,000-report season are flagged.
Borders and the district edge
  About 2.5 % of reports are moved onto township borders (±40 m), and about 0.5 % lie 150 m to 2.5 km
  outside the district (a patrol following a problem across the line into Hebei or Tianjin), so
  ``near_border`` and ``outside_district`` flags appear. Scatter around villages never leaves the district
  by itself. Reports come in time order.
GPS and datum
  Accuracy: mostly 3-15 m (phone GPS); 30-80 m for about 10 % of fixes (5 % base, more in the mountain
  townships and at night); about 1 % worse than 100 m. The reported point is the true one plus an error of
  that size. About 20 % of reports come in GCJ-02 (phone map SDKs) and 2 % in BD-09 (Baidu), converted
  with :func:`gis_enforcement.domain.datum.from_wgs84`; the rest are WGS84.
Who
  Township patrol teams ("金海湖镇巡查队-李强") and, for their categories, district teams (water authority
  river patrols, transport overload teams, planning/natural-resources, ecology, forestry).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from scipy.spatial import cKDTree

from gis_enforcement.domain.datum import from_wgs84

__all__ = [
    "TABLE_COLUMNS",
    "season_feature_collection",
    "simulate_incident_table",
    "simulate_season",
]

#: Columns of :func:`simulate_incident_table` (the CSV intake format).
TABLE_COLUMNS = ("id", "category", "lon", "lat", "accuracy_m", "observed_at", "reporter", "description")

BEIJING = timezone(timedelta(hours=8))
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0
_POOL_SIZE = 3000

DUPLICATE_SHARE = 0.03
BORDER_SHARE = 0.025
OUTSIDE_SHARE = 0.005
GCJ02_SHARE = 0.20
BD09_SHARE = 0.02

# ------------------------------------------------------------------------------------------------------------
# Hours of the day (local time): relative weights for 0..23.
_H = np.arange(24)
_NIGHT = np.where((_H >= 21) | (_H <= 3), 10.0, np.where((_H == 4) | (_H == 20), 3.0, 0.5))
_DAY = np.select(
    [(_H >= 8) & (_H <= 11), (_H >= 14) & (_H <= 17), (_H == 12) | (_H == 13), (_H == 7) | (_H == 18),
     (_H >= 19) & (_H <= 21)],
    [10.0, 10.0, 5.0, 4.0, 1.5],
    0.2,
)
_EVENING = np.select([(_H >= 14) & (_H <= 20), (_H >= 10) & (_H <= 13), (_H == 21) | (_H == 22)],
                     [10.0, 4.0, 3.0], 0.3)


def _norm(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


HOURS: dict[str, np.ndarray] = {
    "night": _norm(_NIGHT),
    "day": _norm(_DAY),
    "evening": _norm(_EVENING),
    "mostly_night": _norm(0.6 * _norm(_NIGHT) + 0.4 * _norm(_DAY)),
    "round_clock": _norm(0.5 * _norm(_NIGHT) + 0.5 * _norm(_DAY)),
}
_NIGHT_HOURS = (_H >= 20) | (_H <= 5)


@dataclass(frozen=True)
class Habit:
    """Where, when and in whose words a category is reported (see the module docstring)."""

    weight: float                                   # relative share of ordinary reports
    where: tuple[tuple[str, float, float], ...]     # (domain, share, scatter in m around a domain point)
    hours: str                                      # key of HOURS
    phrases: tuple[str, ...]
    months: Mapping[int, float] | None = None       # month -> relative intensity (missing months: 1)
    weekend: float = 1.0                            # weekend intensity relative to weekdays
    campaign: tuple[int, int, float] | None = None  # (first day of the season, length in days, factor)
    team: tuple[str, float] | None = None           # (district team name, share of reports it makes)


_TRUCK_CAMPAIGN = (45, 30, 2.0)

HABITS: dict[str, Habit] = {
    "MIN-01": Habit(9, (("mining", 0.6, 40), ("ne_mountains", 0.4, 30)), "mostly_night", (
        "山体有新开挖痕迹，疑似盗采", "夜间有挖掘机作业，发现后逃离", "发现私挖金矿洞口，洞口有新土",
        "山坡被挖出大坑，现场有运输车辙", "废弃矿洞有人员进出，疑似恢复盗采", "现场发现炸药包装及钻孔痕迹",
        "群众反映夜里听到放炮声", "盗采砂石后堆放在林地边"),
        team=("区规自分局执法队", 0.25)),
    "MIN-02": Habit(11, (("river", 1.0, 15),), "night", (
        "河道内有铲车夜间采砂", "河床被挖出深坑，有新鲜车辙", "发现运砂车从河滩驶出", "河道内堆有新采砂石",
        "夜间河滩有灯光和机械声", "筛砂设备藏在河边树林里", "河岸被挖塌，疑似盗采河砂", "现场抓获采砂车一辆"),
        months={7: 0.7, 8: 0.7}, team=("区水务局河道巡查队", 0.3)),
    "TRK-01": Habit(9, (("trucks", 1.0, 15),), "round_clock", (
        "大货车明显超载，轮胎变形", "货车夜间绕行治超站", "车斗货物高出护栏", "重型货车压坏路面",
        "拦截超限车辆，货物为砂石", "多辆超载货车结队通行"),
        campaign=_TRUCK_CAMPAIGN, team=("区交通局治超队", 0.5)),
    "TRK-02": Habit(7, (("trucks", 0.85, 15), ("urban", 0.15, 400)), "day", (
        "渣土车未苫盖，沿路遗撒", "运输车辆遗撒泥土，路面污染", "渣土车车轮带泥上路",
        "砂石车未密闭，扬尘严重",
        "路面有大片遗撒，疑似夜间渣土车所致"),
        campaign=_TRUCK_CAMPAIGN, team=("区交通局治超队", 0.3)),
    "TRK-03": Habit(6, (("trucks", 1.0, 15),), "round_clock", (
        "大货车在禁行时段进入镇区", "货车走村道绕行", "重型货车违规驶入禁行路段", "货车夜间穿村扰民",
        "大货车在学校门口违规通行"),
        campaign=_TRUCK_CAMPAIGN, team=("区交通局治超队", 0.4)),
    "ENV-01": Habit(10, (("village", 1.0, 300),), "day", (
        "无证小作坊生产，无治污设施", "家具喷漆作坊气味刺鼻", "废旧塑料加工点露天堆放", "小型铸造作坊冒黑烟",
        "院内有无照生产加工，污水直排", "废弃厂房内有人生产", "石材加工点粉尘大"),
        weekend=0.55, team=("区生态环境局执法队", 0.2)),
    "ENV-02": Habit(4, (("river", 0.7, 15), ("river_village", 0.3, 500)), "day", (
        "河边有暗管排放污水", "排污口有黑色污水流入河道", "河水发黑发臭", "私设排污口",
        "沟渠内有污水直排河道"),
        months={6: 1.2, 7: 1.5, 8: 1.5}, weekend=0.6, team=("区水务局河道巡查队", 0.25)),
    "ENV-03": Habit(5, (("village", 1.0, 600),), "evening", (
        "田间焚烧秸秆", "有人焚烧垃圾，浓烟较大", "果园内焚烧枝条", "路边焚烧树叶",
        "地头焚烧废塑料，气味刺鼻"),
        months={1: 0.4, 2: 0.8, 3: 3.0, 4: 3.0, 5: 0.6, 6: 1.0, 7: 0.2, 8: 0.2, 9: 0.5, 10: 3.0, 11: 3.0,
                12: 0.6}),
    "ENV-04": Habit(4, (("river_village", 1.0, 500),), "day", (
        "养殖场粪污直排沟渠", "养猪场粪便堆放在河边", "养殖废水流入河道", "鸡场粪污未处理，臭味大",
        "养殖场无粪污处理设施"),
        months={6: 1.3, 7: 1.6, 8: 1.5}, weekend=0.6),
    "ENV-05": Habit(5, (("trucks", 0.5, 150), ("border", 0.5, 60)), "night", (
        "路边偷倒建筑垃圾", "夜间有渣土车倾倒渣土", "坑塘被建筑垃圾填埋", "村边空地堆放大量装修垃圾",
        "农田里倾倒渣土")),
    "CON-01": Habit(7, (("urban", 0.55, 350), ("village", 0.45, 300)), "day", (
        "楼顶私搭彩钢房", "沿街私自扩建门脸", "小区内违规加盖", "空地上新建房屋，无规划许可",
        "院内私搭乱建"), weekend=0.6),
    "CON-02": Habit(8, (("village", 1.0, 350),), "day", (
        "村内新建房屋未办审批", "农田里搭建大棚房", "宅基地外违规扩建", "村边新起砖房", "耕地上建看护房超标"),
        weekend=0.6),
    "CON-03": Habit(4, (("urban", 0.4, 500), ("village", 0.6, 400)), "day", (
        "工地未覆盖裸土，扬尘大", "施工现场未洒水降尘", "工地出口车辆未冲洗", "拆迁现场扬尘严重"),
        months={3: 1.6, 4: 1.8, 5: 1.4, 7: 0.7, 8: 0.7}, weekend=0.7),
    "LAND-01": Habit(3, (("village", 1.0, 900),), "day", (
        "耕地被硬化", "林地内违规建设", "占用基本农田堆放砂石", "耕地上挖塘", "占地建停车场"),
        weekend=0.6, team=("区规自分局执法队", 0.3)),
    "WATER-01": Habit(3, (("river", 1.0, 15),), "day", (
        "河道内私建房屋", "河道内倾倒垃圾", "河滩被围垦种地", "河道内搭建养殖棚"),
        weekend=0.6, team=("区水务局河道巡查队", 0.4)),
    "SAFE-01": Habit(2, (("village", 0.7, 500), ("urban", 0.3, 400)), "day", (
        "无证储存液化气罐", "小作坊内电线私拉乱接", "仓库内堆放危化品", "无资质人员电焊作业"), weekend=0.7),
    "MKT-01": Habit(2, (("urban", 0.6, 400), ("village", 0.4, 250)), "evening", (
        "路边无照摆摊", "无证经营小饭馆", "无照经营废品收购站", "沿街占道经营")),
    "FOR-01": Habit(2, (("redline", 0.5, 30), ("mountains", 0.5, 30)), "day", (
        "山上有人砍伐林木", "林地内发现新伐树桩", "私自采伐果树外的林木", "盗挖山上树木"),
        months={3: 1.5, 4: 1.3, 6: 0.7, 7: 0.6, 8: 0.6, 11: 1.3, 12: 1.3}, team=("区园林绿化局护林队", 0.3)),
}
_GENERIC = Habit(
    2, (("village", 0.6, 500), ("district", 0.4, 0)), "day", ("巡查发现疑似{zh}问题",), weekend=0.7
)


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

_SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林郑谢罗梁宋唐韩冯于董萧程曹袁邓许傅沈曾彭吕"
                  "苏卢蒋蔡贾丁魏薛叶阎")
_GIVEN = tuple("强伟军勇杰磊涛明超刚平辉鹏华丽静敏艳娜") + (
    "建国", "建华", "志强", "海燕", "秀英", "桂兰", "国庆", "立新", "春生", "永刚", "红梅", "振华", "德明",
)
_TEAM_SIZE = 6
_PLATE_PREFIX = ("冀B", "冀J", "冀R", "冀E", "津A", "津N", "京A", "京Q", "蒙D", "辽B")
_DIRECTIONS = ("北", "东北", "东", "东南", "南", "西南", "西", "西北")
# distance words: bucket 0 = "附近" (< 150 m), 1..9 = hundreds of metres, 10..300 = tenths of km
_DIST_TEXT = ("附近",) + tuple(f"约{h * 100}米" for h in range(1, 10)) + tuple(
    f"约{k / 10:.1f}公里" for k in range(10, 301)
)


# -- small helpers -------------------------------------------------------------------------------------------
def _m_to_deg(dx_m: np.ndarray, dy_m: np.ndarray, lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    return dx_m / (_M_PER_DEG_LON_EQ * np.cos(np.radians(lat))), dy_m / _M_PER_DEG_LAT


def short_township(name: str) -> str:
    """'金海湖镇(金海湖地区)' -> '金海湖镇'."""
    for sep in ("(", "（"):
        name = name.split(sep)[0]
    return name.strip()


def short_village(name: str) -> str:
    """'杜辛庄村委会' -> '杜辛庄村', '平粮社区居委会' -> '平粮社区'."""
    name = str(name).strip()
    if name.endswith("村委会"):
        return name[:-2]
    if name.endswith("居委会"):
        return name[:-3]
    return name


def _fixed_width_strings(chars: np.ndarray) -> pa.StringArray:
    """An Arrow string array from an (n, w) uint8 matrix of ASCII codes (no Python objects)."""
    n, w = chars.shape
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars)))


def _uuid4_strings(rng: np.random.Generator, n: int) -> pa.StringArray:
    """n random version-4 UUIDs from ``rng`` as canonical strings (vectorised; same rng -> same ids)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2] = hexdigits[raw >> 4]
    hexed[:, 1::2] = hexdigits[raw & 0x0F]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst, width in ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)):
        out[:, dst:dst + width] = hexed[:, src:src + width]
    return _fixed_width_strings(out)


def _iso_times(start: date, t: np.ndarray) -> pa.StringArray:
    """'2026-03-01T21:15:02+08:00' for seconds ``t`` since local midnight of ``start``."""
    day, sod = np.divmod(t.astype(np.int64), 86400)
    n_days = int(day.max()) + 1 if len(day) else 0
    dates = pa.array([(start + timedelta(days=int(d))).isoformat() for d in range(n_days)], pa.string())
    return pc.binary_join_element_wise(dates.take(pa.array(day)), _clock_table().take(pa.array(sod)), "T")


_CLOCK: list[pa.StringArray] = []


def _clock_table() -> pa.StringArray:
    """'HH:MM:SS+08:00' for each second of the day (built once)."""
    if not _CLOCK:
        s = np.arange(86400)
        chars = np.frombuffer(b"00:00:00+08:00" * 86400, dtype=np.uint8).reshape(86400, 14).copy()
        for col, value in ((0, s // 36000), (1, s // 3600 % 10), (3, s // 600 % 6), (4, s // 60 % 10),
                           (6, s % 60 // 10), (7, s % 10)):
            chars[:, col] = ord("0") + value
        _CLOCK.append(_fixed_width_strings(chars))
    return _CLOCK[0]


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
class _Pool:
    lon: np.ndarray
    lat: np.ndarray
    spread_m: float                    # scatter added around pool points unless the habit says otherwise
    town: np.ndarray | None = None     # township index of each point (filled by _Setting)
    village: np.ndarray | None = None  # nearest village index of each point (filled by _Setting)
    edge_m: np.ndarray | None = None   # distance of each point to the district boundary (filled by _Setting)

    def __len__(self) -> int:
        return len(self.lon)


_EMPTY_POOL = (np.empty(0), np.empty(0), 0.0)


class _Setting:
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
        self._pools: dict[str, _Pool] = {}

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

    def _finish_pool(self, pool: _Pool) -> _Pool:
        pool.town = self.township_of(pool.lon, pool.lat)
        pool.village = (self.nearest_village(pool.lon, pool.lat) if len(pool)
                        else np.empty(0, dtype=np.int64))
        pool.edge_m = self.edge.distance_m(pool.lon, pool.lat)
        return pool

    def pool(self, domain: str) -> _Pool:
        """The pool for ``domain``, or that of its fallback when the district has no such places."""
        d: str | None = domain
        while d is not None:
            if d not in self._pools:
                self._pools[d] = self._finish_pool(_Pool(*self._build(d)))
            if len(self._pools[d]):
                return self._pools[d]
            d = _FALLBACK.get(d, "district")
        raise ValueError(f"no positions for domain {domain!r}")

    def outside_pool(self) -> _Pool:
        if "outside" not in self._pools:
            self._pools["outside"] = self._finish_pool(_Pool(*self._outside(_POOL_SIZE // 6)))
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
            dlon, dlat = _m_to_deg(vx / norm * d, vy / norm * d, lat)
            lon, lat = lon + dlon, lat + dlat
            keep = ~shapely.contains_xy(self.district, lon, lat) & (self.edge.distance_m(lon, lat) > 100)
            lons.append(lon[keep])
            lats.append(lat[keep])
            total += int(keep.sum())
            if total >= n:
                break
        return np.concatenate(lons)[:n], np.concatenate(lats)[:n], 0.0


# -- the simulation ------------------------------------------------------------------------------------------
def _day_weights(habit: Habit, start: date, days: int) -> np.ndarray:
    dates = pd.date_range(start, periods=days, freq="D")
    w = np.ones(days)
    if habit.months:
        w *= np.array([habit.months.get(m, 1.0) for m in dates.month])
    if habit.weekend != 1.0:
        w *= np.where(dates.day_of_week >= 5, habit.weekend, 1.0)
    if habit.campaign:
        first, length, factor = habit.campaign
        idx = np.arange(days)
        w *= np.where((idx >= first) & (idx < first + length), factor, 1.0)
    return w / w.sum()


def _draw_seconds(rng: np.random.Generator, hours: np.ndarray, day: np.ndarray) -> np.ndarray:
    hour = rng.choice(24, size=len(day), p=hours)
    return day.astype(np.int64) * 86400 + hour * 3600 + rng.integers(0, 3600, size=len(day))


@dataclass
class _Season:
    """The simulated season as parallel integer/float arrays (strings only at the very end)."""

    codes: list[str]       # category codes; ``cat`` indexes them
    cat: np.ndarray
    lon: np.ndarray        # true position, WGS84
    lat: np.ndarray
    t: np.ndarray          # seconds since local midnight of the season start
    town: np.ndarray       # township of the reporting team
    place: np.ndarray      # index into ``places``
    places: list[str]
    phrase: np.ndarray     # index into ``phrases``
    phrases: list[str]
    team: np.ndarray       # -1: the township's team; else index into ``teams``
    teams: list[str]
    town_names: list[str]
    mountain: np.ndarray   # bool: reported in a mountain township


def _sample(setting: _Setting, domain: str, n: int, spread_m: float | None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n positions from a domain's pool with scatter; township and nearest village of the pool point."""
    rng = setting.rng
    pool = setting.pool(domain)
    idx = rng.integers(0, len(pool), size=n)
    spread = pool.spread_m if spread_m is None else spread_m
    lon, lat = pool.lon[idx], pool.lat[idx]
    assert pool.town is not None and pool.village is not None and pool.edge_m is not None
    if spread > 0:
        dlon, dlat = _m_to_deg(rng.normal(0, spread, n), rng.normal(0, spread, n), lat)
        # scatter never carries a report out of the district (that is left to the 'outside' share)
        near = np.flatnonzero(pool.edge_m[idx] < 4 * spread)
        out = near[~shapely.contains_xy(setting.district, lon[near] + dlon[near], lat[near] + dlat[near])]
        dlon[out] = 0.0
        dlat[out] = 0.0
        lon, lat = lon + dlon, lat + dlat
    return lon, lat, pool.town[idx], pool.village[idx]


def _simulate(jurisdiction: Any, catalog: Any, count: int, seed: int, start: date, days: int) -> _Season:
    if count < 0:
        raise ValueError("count must be >= 0")
    if days < 1:
        raise ValueError("days must be >= 1")
    rng = np.random.default_rng(seed)
    setting = _Setting(jurisdiction, rng)
    codes = list(catalog.categories)
    habits = [HABITS.get(c, _GENERIC) for c in codes]
    code_idx = {c: i for i, c in enumerate(codes)}
    window_h = [float(getattr(catalog.categories[c], "dedupe_window_hours", 72) or 72) for c in codes]
    # phrase table: each category's phrases, then each site's
    phrases: list[str] = []
    phrase_range: list[tuple[int, int]] = []
    for code, habit in zip(codes, habits, strict=True):
        first = len(phrases)
        phrases += [p.format(zh=catalog.categories[code].zh) for p in habit.phrases]
        phrase_range.append((first, len(phrases)))
    teams = sorted({h.team[0] for h in habits if h.team})
    team_idx = {name: i for i, name in enumerate(teams)}

    n_dup = int(round(count * DUPLICATE_SHARE)) if count >= 20 else 0
    n_base = count - n_dup
    # columns: cat, lon, lat, t, town, village, site (-1 = ordinary), phrase, team
    parts: list[tuple[np.ndarray, ...]] = []
    site_places: list[str] = []

    # 1. recurring problem sites: reported again and again, always more than the dedupe window apart
    n_sites = 0
    site_phrase_range: dict[int, tuple[int, int]] = {}
    for site in SITES:
        if site.category not in code_idx or n_base < 200:
            continue
        ci = code_idx[site.category]
        gap = math.ceil(window_h[ci] / 24.0) + 1
        phase = int(rng.integers(0, gap))
        slots = max((days - phase + gap - 1) // gap, 0)
        k = min(int(round(n_base * site.share)), slots)
        if k <= 0:
            continue
        slon, slat, stown, svil = _sample(setting, site.domain, 1, None)
        day = rng.choice(slots, size=k, replace=False) * gap + phase
        t = _draw_seconds(rng, HOURS[habits[ci].hours], day)
        dlon, dlat = _m_to_deg(rng.normal(0, site.spread_m, k), rng.normal(0, site.spread_m, k), slat)
        first = len(phrases)
        phrases += list(site.phrases)
        site_phrase_range[ci] = (first, len(phrases))
        site_places.append(site.name.format(v=setting.v_name[int(svil[0])]))
        parts.append((
            np.full(k, ci), slon + dlon, slat + dlat, t, np.repeat(stown, k), np.repeat(svil, k),
            np.full(k, len(site_places) - 1), rng.integers(first, len(phrases), size=k), np.full(k, -1),
        ))
        n_sites += k

    # 2. ordinary reports, by category, domain, season and hour
    weights = np.array([h.weight for h in habits], dtype=float)
    per_cat = rng.multinomial(n_base - n_sites, weights / weights.sum()) if codes else []
    for ci, (habit, k) in enumerate(zip(habits, per_cat, strict=True)):
        if k == 0:
            continue
        shares = np.array([w[1] for w in habit.where])
        per_domain = rng.multinomial(k, shares / shares.sum())
        day = rng.choice(days, size=k, p=_day_weights(habit, start, days))
        t = _draw_seconds(rng, HOURS[habit.hours], day)
        pos = [_sample(setting, domain, int(kd), spread)
               for (domain, _, spread), kd in zip(habit.where, per_domain, strict=True) if kd]
        team = np.full(k, -1)
        if habit.team:
            team[rng.random(k) < habit.team[1]] = team_idx[habit.team[0]]
        lo, hi = phrase_range[ci]
        lon, lat, town, village = (np.concatenate([p[j] for p in pos]) for j in range(4))
        parts.append((
            np.full(k, ci), lon, lat, t, town, village, np.full(k, -1), rng.integers(lo, hi, size=k), team,
        ))
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)] if parts else [np.empty(0)] * 9
    cat, lon, lat, t, town, village, site, phrase, team = (
        cols[0].astype(np.int64), cols[1].astype(float), cols[2].astype(float), cols[3].astype(np.int64),
        cols[4].astype(np.int64), cols[5].astype(np.int64), cols[6].astype(np.int64),
        cols[7].astype(np.int64), cols[8].astype(np.int64),
    )
    n = len(cat)

    # 3. township borders and just outside the district (ordinary reports only: sites stay put)
    ordinary = np.flatnonzero(site < 0)
    if len(ordinary):
        move = rng.random(len(ordinary))
        to_border = ordinary[move < BORDER_SHARE]
        to_out = ordinary[(move >= BORDER_SHARE) & (move < BORDER_SHARE + OUTSIDE_SHARE)]
        if len(to_border):
            lon[to_border], lat[to_border], town[to_border], village[to_border] = _sample(
                setting, "border", len(to_border), None)
        outside = setting.outside_pool()
        if len(to_out) and len(outside):
            j = rng.integers(0, len(outside), size=len(to_out))
            assert outside.town is not None and outside.village is not None
            lon[to_out], lat[to_out] = outside.lon[j], outside.lat[j]
            town[to_out], village[to_out] = outside.town[j], outside.village[j]

    # 4. genuine near-duplicates: a second patrol, 8-60 m away, 10-120 minutes later, its own words
    if n_dup and n:
        src = rng.choice(n, size=n_dup, replace=n_dup > n)
        ang = rng.uniform(0, 2 * np.pi, n_dup)
        d = rng.uniform(8, 60, n_dup)
        dlon, dlat = _m_to_deg(d * np.sin(ang), d * np.cos(ang), lat[src])
        dt = rng.integers(10 * 60, 120 * 60, size=n_dup)
        t_dup = t[src] + dt
        late = t_dup >= days * 86400
        t_dup[late] = np.maximum(t[src][late] - dt[late], 0)
        # its own words: any phrase of the category (or of its site)
        lo = np.array([phrase_range[c][0] for c in range(len(codes))])[cat[src]]
        hi = np.array([phrase_range[c][1] for c in range(len(codes))])[cat[src]]
        from_site = site[src] >= 0
        if from_site.any():
            s_lo = np.array([site_phrase_range.get(c, phrase_range[c])[0] for c in range(len(codes))])
            s_hi = np.array([site_phrase_range.get(c, phrase_range[c])[1] for c in range(len(codes))])
            lo = np.where(from_site, s_lo[cat[src]], lo)
            hi = np.where(from_site, s_hi[cat[src]], hi)
        dup_phrase = lo + (rng.random(n_dup) * (hi - lo)).astype(np.int64)
        dup_team = np.where(rng.random(n_dup) < 0.5, -1, team[src])
        cat, town, village, site = (np.concatenate([a, a[src]]) for a in (cat, town, village, site))
        lon = np.concatenate([lon, lon[src] + dlon])
        lat = np.concatenate([lat, lat[src] + dlat])
        t = np.concatenate([t, t_dup])
        phrase = np.concatenate([phrase, dup_phrase])
        team = np.concatenate([team, dup_team])

    # place words: the site's name, or '<village><direction><distance>' from the true position
    place_code = np.where(site >= 0, -1 - site, setting.place_codes(lon, lat, village))
    uniq, place = np.unique(place_code, return_inverse=True)
    places = [site_places[-1 - int(c)] if c < 0 else setting.place_text(int(c)) for c in uniq]
    mountain = setting.mountain[town] if len(town) else np.empty(0, dtype=bool)

    order = np.lexsort((np.arange(len(t)), t))
    return _Season(
        codes=codes, cat=cat[order], lon=lon[order], lat=lat[order], t=t[order], town=town[order],
        place=place.ravel()[order], places=places, phrase=phrase[order], phrases=phrases, team=team[order],
        teams=teams, town_names=setting.town_names, mountain=mountain[order],
    )


def _finish(season: _Season, rng: np.random.Generator, start: date) -> dict[str, Any]:
    """Ids, GPS accuracy and error, times, reporters and descriptions; strings as Arrow arrays."""
    n = len(season.t)
    ids = _uuid4_strings(rng, n)
    night = _NIGHT_HOURS[(season.t // 3600) % 24]
    p_bad = 0.05 + 0.10 * season.mountain + 0.06 * night
    p_vbad = 0.006 + 0.008 * season.mountain
    u = rng.random(n)
    good = np.clip(rng.lognormal(np.log(6.5), 0.4, n), 3.0, 15.0)
    bad = rng.uniform(30.0, 80.0, n)
    vbad = np.exp(rng.uniform(np.log(101.0), np.log(300.0), n))
    accuracy = np.round(np.where(u < p_vbad, vbad, np.where(u < p_vbad + p_bad, bad, good)), 1)
    # the reported fix is off by about its stated accuracy
    err = accuracy * 0.5
    dlon, dlat = _m_to_deg(rng.normal(0, 1, n) * err, rng.normal(0, 1, n) * err, season.lat)
    lon = np.round(season.lon + dlon, 6)
    lat = np.round(season.lat + dlat, 6)
    # reporters: the township's patrol team, or the category's district team
    team_names = [f"{name}巡查队" for name in season.town_names] + [f"{t}" for t in season.teams]
    members: list[str] = []
    for tname in team_names:
        picked: list[str] = []
        while len(picked) < _TEAM_SIZE:
            person = _SURNAMES[int(rng.integers(len(_SURNAMES)))] + _GIVEN[int(rng.integers(len(_GIVEN)))]
            if person not in picked:
                picked.append(person)
        members += [f"{tname}-{p}" for p in picked]
    team_row = np.where(season.team >= 0, len(season.town_names) + season.team, season.town)
    who = team_row * _TEAM_SIZE + rng.integers(0, _TEAM_SIZE, size=n)
    reporter = pa.array(members, pa.string()).take(pa.array(who))
    # descriptions: place + phrase (+ a plate for trucks, from a fleet of recurring trucks)
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    plates = [
        _PLATE_PREFIX[int(rng.integers(len(_PLATE_PREFIX)))] + letters[int(rng.integers(len(letters)))]
        + f"{int(rng.integers(100000)):05d}" for _ in range(800)
    ]
    tails = pa.array([""] + [f"，车牌{p}" for p in plates], pa.string())
    truck = np.array([c.startswith("TRK-") for c in season.codes] + [False], dtype=bool)[season.cat]
    with_plate = truck & (rng.random(n) < 0.6)
    tail = np.where(with_plate, 1 + rng.integers(0, len(plates), size=n), 0)
    description = pc.binary_join_element_wise(
        pa.array(season.places, pa.string()).take(pa.array(season.place)), "，",
        pa.array(season.phrases, pa.string()).take(pa.array(season.phrase)),
        tails.take(pa.array(tail)), "",
    )
    return {"id": ids, "lon": lon, "lat": lat, "accuracy_m": accuracy,
            "observed_at": _iso_times(start, season.t), "reporter": reporter, "description": description,
            "category": pa.array(season.codes, pa.string()).take(pa.array(season.cat))}


def _run(jurisdiction: Any, catalog: Any, count: int, seed: int, start: date, days: int
         ) -> tuple[_Season, dict[str, Any], np.random.Generator]:
    season = _simulate(jurisdiction, catalog, count, seed, start, days)
    rng = np.random.default_rng([seed, 1])  # a second stream: finishing never shifts the positions
    return season, _finish(season, rng, start), rng


def simulate_incident_table(
    jurisdiction: Any,
    catalog: Any,
    *,
    count: int = 3000,
    seed: int = 2017,
    start: date = date(2026, 3, 1),
    days: int = 183,
) -> pd.DataFrame:
    """The season as the CSV intake table: columns :data:`TABLE_COLUMNS`, every position in WGS84.

    Fully vectorised (a million rows take a couple of seconds); string columns are Arrow-backed. Same
    arguments -> the same table; its ids, categories and times are those of :func:`simulate_season`.
    """
    _, done, _ = _run(jurisdiction, catalog, count, seed, start, days)
    return pa.table({c: done[c] for c in TABLE_COLUMNS}).to_pandas()


def simulate_season(
    jurisdiction: Any,
    catalog: Any,
    *,
    count: int = 3000,
    seed: int = 2017,
    start: date = date(2026, 3, 1),
    days: int = 183,
) -> list[dict[str, Any]]:
    """``count`` patrol reports over ``days`` days from ``start`` (local time), as intake GeoJSON Features.

    ``jurisdiction`` is a :class:`gis_enforcement.layers.jurisdiction.Jurisdiction` (district, townships,
    villages, zones); ``catalog`` the loaded four lists (only ``catalog.categories`` is read). Features come
    in time order. See the module docstring for the habits simulated. Same arguments -> identical features,
    ids included.
    """
    _, done, rng = _run(jurisdiction, catalog, count, seed, start, days)
    n = len(done["lon"])
    u = rng.random(n)
    crs = np.where(u < BD09_SHARE, "bd09", np.where(u < BD09_SHARE + GCJ02_SHARE, "gcj02", "wgs84"))
    lon, lat = done["lon"].copy(), done["lat"].copy()
    for datum in ("gcj02", "bd09"):
        sel = crs == datum
        if sel.any():
            x, y = from_wgs84(lon[sel], lat[sel], datum)
            lon[sel], lat[sel] = np.round(x, 6), np.round(y, 6)
    ids, cats = done["id"].to_pylist(), done["category"].to_pylist()
    obs, rep, desc = (done[k].to_pylist() for k in ("observed_at", "reporter", "description"))
    acc, lons, lats, crss = done["accuracy_m"].tolist(), lon.tolist(), lat.tolist(), crs.tolist()
    return [
        {
            "type": "Feature",
            "id": ids[i],
            "geometry": {"type": "Point", "coordinates": [lons[i], lats[i]]},
            "properties": {
                "category": cats[i],
                "observed_at": obs[i],
                "accuracy_m": acc[i],
                "reporter": rep[i],
                "description": desc[i],
                "crs": crss[i],
            },
        }
        for i in range(n)
    ]


def season_feature_collection(
    jurisdiction: Any,
    catalog: Any,
    *,
    count: int = 3000,
    seed: int = 2017,
    start: date = date(2026, 3, 1),
    days: int = 183,
) -> dict[str, Any]:
    """:func:`simulate_season` wrapped in a GeoJSON FeatureCollection (ready for ``json.dump``)."""
    features = simulate_season(jurisdiction, catalog, count=count, seed=seed, start=start, days=days)
    return {"type": "FeatureCollection", "features": features}


def season_window(start: date = date(2026, 3, 1), days: int = 183) -> tuple[datetime, datetime]:
    """The [first, end) instants of a season, timezone-aware (+08:00)."""
    first = datetime(start.year, start.month, start.day, tzinfo=BEIJING)
    return first, first + timedelta(days=days)
