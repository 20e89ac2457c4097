"""The habits the simulated whistle chain plays: shares, odds and the tables of invented detail.

Every share and distribution here is invented for the demo, tuned to look plausible; the module docstring of
:mod:`gis_enforcement.demo.chain` says in prose how the player uses them.
"""

from __future__ import annotations

__all__ = [
    "DECLINE_REASONS", "DESK_DECLINES", "DESK_DECLINES_OTHER", "DESK_MEDIAN_MIN", "DESK_SIGMA",
    "DUPLICATE_MEDIAN_MIN", "FINE_YUAN", "FOLLOW_UP_TASKS", "GIVEN_NAMES", "OVERRULE_REASON", "P_ABSENT",
    "P_ASSIST_RECORD", "P_DECLINE", "P_DESK_FORGETS", "P_DESK_LATE", "P_FINE", "P_FOLLOW_UP", "P_JOINT", "P_LATE_DAY",
    "P_LATE_NIGHT", "P_NARROW", "P_QUEUED", "P_REFUSED_FIRST", "P_REOPEN", "RELEASE_DECLINED", "RELEASE_NO_SHOW",
    "REOPEN_REASONS", "REPEAT_REASON", "REVISIT_P", "REVISIT_P_OTHER", "REVISIT_TAG", "SEIZED", "SEVERITY_WEIGHT",
    "STORY_CATEGORY", "STORY_TOWNSHIP", "SURNAMES",
]

#: The first whistle: a MIN-01 case in the township of the 2016 gold-mine accident.
STORY_TOWNSHIP = "金海湖镇"
STORY_CATEGORY = "MIN-01"
REVISIT_TAG = "回头看"

SEVERITY_WEIGHT = {"critical": 4.0, "high": 2.5, "medium": 1.2, "low": 0.6}
P_ABSENT = 0.03
P_LATE_DAY, P_LATE_NIGHT = 0.13, 0.22
P_REFUSED_FIRST = 0.025
P_DECLINE = 0.01
P_REOPEN = 0.03
P_NARROW = {"critical": 0.35, "high": 0.5, "medium": 0.7, "low": 0.8}
P_JOINT = 0.7
P_FOLLOW_UP = 0.30
P_ASSIST_RECORD = 0.15

#: Fine ranges in yuan (log-uniform), where the rule's measures include a fine — plausible orders of
#: magnitude for the laws the lists cite, invented for the demo.
FINE_YUAN: dict[str, tuple[float, float]] = {
    "MIN-01": (20_000, 300_000), "MIN-02": (10_000, 100_000), "ENV-01": (10_000, 100_000),
    "ENV-02": (20_000, 200_000), "ENV-03": (500, 2_000), "ENV-04": (3_000, 30_000), "ENV-05": (5_000, 100_000),
    "TRK-01": (500, 30_000), "TRK-02": (2_000, 20_000), "TRK-03": (100, 200), "CON-01": (20_000, 200_000),
    "LAND-01": (10_000, 200_000), "CON-03": (10_000, 100_000), "WATER-01": (10_000, 50_000),
    "SAFE-01": (20_000, 200_000), "MKT-01": (1_000, 10_000), "FOR-01": (5_000, 100_000),
}
P_FINE = {"MIN-01": 0.75, "MIN-02": 0.75, "TRK-01": 0.8, "TRK-03": 0.9}
SEIZED = {"MIN-01": "挖掘机{n}台", "MIN-02": "抽砂泵{n}套、运砂车1辆", "TRK-01": "超限货车1辆", "ENV-05": "渣土车1辆",
          "SAFE-01": "危化品{n}桶", "MKT-01": "货物{n}箱"}
#: Follow-up tasks departments hand to townships, by category (部门要求、街乡落实).
FOLLOW_UP_TASKS = {
    "MIN-01": "纳入网格巡查，夜间重点盯守，防止盗采复工", "MIN-02": "河长制巡河每日巡查，砂坑回填后复查",
    "ENV-01": "断电后纳入网格日常巡查，防止散乱污复产", "ENV-03": "村级巡查员每日巡查，做好禁烧宣传",
    "ENV-04": "督促养殖户按期清运粪污，村委会每周检查", "ENV-05": "倾倒点围挡并纳入视频监控，村委会每日巡查",
    "CON-01": "社区每日巡查，防止违建复建", "CON-02": "村委会每日巡查，防止违建复建",
    "LAND-01": "督促复垦复绿，村委会每周巡查", "WATER-01": "河长制巡河，防止再次倾倒",
    "MKT-01": "纳入街乡日常管理，定期回访", "TRK-02": "路段保洁并盯守渣土车出入口",
}
REVISIT_P = {"MIN-01": 0.025, "MIN-02": 0.03, "ENV-01": 0.025, "ENV-05": 0.025}
REVISIT_P_OTHER = 0.004
DECLINE_REASONS = ("非本部门职责范围", "执法人员正在其他现场，无法到场", "该点位不在本部门管辖范围")
REOPEN_REASONS = ("现场复核发现仍在生产", "违法设施未拆除到位", "现场复核发现机具仍在现场", "整改不到位，群众再次反映")
RELEASE_NO_SHOW = "未到场，街乡解除召集"
RELEASE_DECLINED = "退单经审核同意，街乡解除召集"
OVERRULE_REASON = "经核实属本部门职责，维持召集"
#: Officers' names on the enforcement records.
SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林郑谢罗梁宋唐韩冯于董程曹袁邓许沈曾彭吕苏蒋蔡贾丁魏薛叶")
GIVEN_NAMES = ("强", "伟", "军", "勇", "杰", "磊", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "静", "敏", "建国",
               "志强", "海燕", "国庆", "立新", "春生", "永刚", "红梅", "振华", "德明")

# -- the township desks (分拣) ------------------------------------------------------------------------------
#: Share of reports a phone keeps in its queue (no signal in the hills) and sends half an hour to six hours
#: after the observation; the others come in a minute or two after it.
P_QUEUED = 0.05
#: How long a desk takes to decide a report the chain does not play with its full plan, from its receipt:
#: log-normal, median ``DESK_MEDIAN_MIN`` minutes (someone often has to look on site first), within the day.
DESK_MEDIAN_MIN, DESK_SIGMA = 75.0, 1.0
#: A likely duplicate is recognised sooner: the intake already names the case it repeats.
DUPLICATE_MEDIAN_MIN = 40.0
#: Share of reports a desk leaves for more than a day (decided 26-60 h after they came in: W13 at the next
#: nightly pass), and of reports nobody ever looks at (still on the desk when the season ends: W13).
P_DESK_LATE, P_DESK_FORGETS = 0.012, 0.002
#: Reports a desk does not take into the chain (不予受理), by problem family: the share, and the reasons
#: (weight, reason) — a truck long gone, nothing found on site, a permit shown, the party already put it right.
#: The desk whistles the others, to their lead alone (a routine case; for burning and village building the lead
#: is the township's own team, which holds those powers).
DESK_DECLINES: dict[str, tuple[float, tuple[tuple[float, str], ...]]] = {
    "TRK": (0.6, ((0.8, "车辆已驶离，现场无法核实；已通报治超检查站和交警卡口"), (0.2, "经现场核查，系合规运输车辆"))),
    "MIN": (0.3, ((0.8, "经现场核查，未发现盗采作业，机具已撤离；纳入网格夜间巡查"),
                  (0.2, "经现场核查，系持证矿山的合法作业"))),
    "ENV": (0.2, ((0.6, "经现场核查，当事人已自行整改，无需执法"), (0.4, "经现场核查，未发现所反映问题"))),
    "CON": (0.2, ((0.7, "经现场核查，系已批准建设，不属违法建设"), (0.3, "经现场核查，未发现所反映问题"))),
    "LAND": (0.2, ((1.0, "经现场核查，系已备案的设施农业用地"),)),
    "WATER": (0.2, ((1.0, "经现场核查，未发现所反映问题"),)),
    "MKT": (0.4, ((0.5, "经现场核查，已停止经营"), (0.5, "经现场核查，已取得营业执照"))),
    "SAFE": (0.1, ((1.0, "经现场核查，未发现所反映问题"),)),
    "FOR": (0.3, ((0.6, "经现场核查，系持证采伐"), (0.4, "经现场核查，未发现所反映问题"))),
}
DESK_DECLINES_OTHER: tuple[float, tuple[tuple[float, str], ...]] = (0.2, ((1.0, "经现场核查，未发现所反映问题"),))
#: A repeat the desk cannot mark 重复 (the case it repeats was declined, or lies in a township too far away).
REPEAT_REASON = "重复反映：同一问题已核查处理"
