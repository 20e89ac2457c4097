"""When, and in whose words, each problem category is reported in the simulated season.

Hours of the day, months, weekends, the truck campaign, the phrases patrols write and the district teams that
share a category's reports; see :mod:`gis_enforcement.demo.season` for the habits in prose. All weights are
invented for the demo, tuned to look plausible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

__all__ = ["GENERIC_HABIT", "HABITS", "HOURS", "NIGHT_HOURS", "Habit", "day_weights", "draw_seconds"]

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
NIGHT_HOURS = (_H >= 20) | (_H <= 5)


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
#: What a patrol writes when it cannot tell which of the lists' problems it sees, by the problem it turns out to
#: be — the ambiguous ones. It files such a report under the lists' placeholder (类别待定); the township's desk
#: reads the words (and the photos) and names the category (改类) before it whistles.
UNSURE: dict[str, str] = {
    "ENV-05": "路边倒了一大片渣土和垃圾，看不准归哪类，请街乡核实",
    "CON-03": "工地周边尘土很大、渣土裸露，看不准归哪类，请街乡核实",
    "LAND-01": "地里新堆了土方、像是要硬化，看不准归哪类，请街乡核实",
    "CON-02": "村边新搭彩钢棚，不清楚是违建还是临时设施，请街乡核实",
    "ENV-01": "院内有机器声和刺鼻气味，看不清在做什么，请街乡核实",
}
#: The share of reports of those problems that a patrol files as 类别待定.
UNSURE_SHARE = 0.15

GENERIC_HABIT = Habit(
    2, (("village", 0.6, 500), ("district", 0.4, 0)), "day", ("巡查发现疑似{zh}问题",), weekend=0.7
)


def day_weights(habit: Habit, start: date, days: int) -> np.ndarray:
    """Probability of each day of the season for ``habit``: months, weekends and campaign applied."""
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


def draw_seconds(rng: np.random.Generator, hours: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Seconds since the season's first local midnight: on ``day``, at an hour drawn from ``hours``."""
    hour = rng.choice(24, size=len(day), p=hours)
    return day.astype(np.int64) * 86400 + hour * 3600 + rng.integers(0, 3600, size=len(day))
