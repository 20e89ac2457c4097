"""The incidents map's key: category colours and names, the words of its UI, the title box and the legend."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from gis_enforcement.mapping.features import local_times

__all__ = [
    "CATEGORY_COLORS",
    "FAMILY_COLORS",
    "FAMILY_NAMES",
    "FLAG_NAMES",
    "STATUS_NAMES",
    "UI",
    "category_colors",
    "category_info",
    "family_legend_html",
    "family_of",
    "legend_html",
    "short_names",
    "title_html",
]

#: Fixed colours of the Pinggu problem categories (families share a hue range where it helps reading:
#: mining browns/oranges, trucks reds/pinks, water blues, construction violets).
CATEGORY_COLORS: dict[str, str] = {
    "MIN-01": "#8c2d04",    # illegal mining — deep brown
    "MIN-02": "#f16913",    # river sand — orange
    "TRK-01": "#e31a1c",    # overloaded trucks — red
    "TRK-02": "#e7298a",    # uncovered muck trucks — magenta
    "TRK-03": "#fb9a99",    # banned-route trucks — pink
    "ENV-01": "#6a3d9a",    # polluting workshops — purple
    "ENV-02": "#08519c",    # outfalls — navy
    "ENV-03": "#ffd92f",    # open burning — yellow
    "ENV-04": "#c19a6b",    # livestock — tan
    "ENV-05": "#737373",    # waste dumping — grey
    "CON-01": "#1a1a1a",    # town illegal building — black
    "CON-02": "#b3a2d6",    # rural illegal building — lavender
    "CON-03": "#9a9a1e",    # site dust — olive
    "LAND-01": "#4daf4a",   # land occupation — green
    "WATER-01": "#17becf",  # river encroachment — cyan
    "SAFE-01": "#01665e",   # work safety — dark teal
    "MKT-01": "#6baed6",    # unlicensed trading — sky blue
    "FOR-01": "#00441b",    # logging — forest green
    "OTH-00": "#bdbdbd",    # category not known yet (类别待定) — light grey: waits for its township
}
#: The problem families — a category code's prefix (MIN-01 → MIN) — and their names; the status map shapes its
#: marks by them, the incidents map colours its points by them.
FAMILY_NAMES = {
    "zh": {"MIN": "盗采", "TRK": "货车", "ENV": "环境", "CON": "违建", "WATER": "河道", "LAND": "土地",
           "MKT": "市场", "SAFE": "安全", "FOR": "林木", "OTH": "待分类"},
    "en": {"MIN": "mining", "TRK": "trucks", "ENV": "environment", "CON": "building", "WATER": "rivers",
           "LAND": "land", "MKT": "trading", "SAFE": "safety", "FOR": "forest", "OTH": "unclassified"},
}
#: One colour per family, far apart from each other (ColorBrewer Set1, its pale yellow replaced by dark grey, and a
#: dark green for forests set apart from the land's light one): what the incidents map colours by default.
FAMILY_COLORS: dict[str, str] = {
    "MIN": "#a65628",    # brown
    "TRK": "#e41a1c",    # red
    "ENV": "#984ea3",    # purple
    "CON": "#ff7f00",    # orange
    "WATER": "#377eb8",  # blue
    "LAND": "#7fc97f",   # light green
    "MKT": "#f781bf",    # pink
    "SAFE": "#4d4d4d",   # dark grey
    "FOR": "#00441b",    # dark green
    "OTH": "#bdbdbd",    # light grey: the lists' placeholder (类别待定), not a problem family
}
#: a family outside the list (a code without a known prefix)
OTHER_FAMILY_COLOR = "#999999"


def family_of(code: str) -> str:
    """The problem family of a category code: its prefix ('TRK-02' → 'TRK')."""
    return str(code).split("-")[0]


_EXTRA_COLORS = (
    "#1b9e77", "#d95f02", "#7570b3", "#66a61e", "#e6ab02", "#a6761d", "#e41a1c", "#377eb8", "#4daf4a",
    "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999",
)

STATUS_NAMES = {
    "zh": {"reported": "已上报", "triaged": "已分拣", "whistled": "已吹哨", "in_action": "执法中",
           "resolved": "已处置", "verified": "已核验", "closed": "已结案", "rejected": "不予受理",
           "duplicate": "重复上报", "reopened": "已重新打开"},
    "en": {"reported": "reported", "triaged": "triaged", "whistled": "whistled", "in_action": "in action",
           "resolved": "resolved", "verified": "verified", "closed": "closed", "rejected": "rejected",
           "duplicate": "duplicate", "reopened": "reopened"},
}
FLAG_NAMES = {
    "zh": {"near_border": "临近乡镇边界", "outside_district": "区界外", "no_village": "未匹配村庄",
           "low_accuracy": "定位精度低"},
    "en": {"near_border": "near a township border", "outside_district": "outside the district",
           "no_village": "no village", "low_accuracy": "low GPS accuracy"},
}
UI = {
    "zh": {
        "family": "大类", "time": "时间", "status": "状态", "place": "位置", "grid": "网格", "lead": "主责部门",
        "flags": "提示",
        "dup": "疑似重复", "dup_text": "与已报事件相近：", "acc": "定位精度", "id": "编号", "total": "共",
        "unit": "起", "categories": "类", "legend": "问题类别（点击显示/隐藏）", "townships": "乡镇边界",
        "families": "问题大类（点击显示/隐藏）", "by_category": "按类别（{n} 类）",
        "synthetic": "示意边界", "synthetic_note": "乡镇边界为示意边界（合成数据，非官方），仅供演示",
        "near_border": "临界", "outside": "区界外", "duplicates": "疑似重复", "none": "暂无事件",
        "metres": "米",
    },
    "en": {
        "family": "Family", "time": "Time", "status": "Status", "place": "Place", "grid": "Grid",
        "lead": "Lead department",
        "flags": "Flags", "dup": "Likely duplicate", "dup_text": "close to", "acc": "GPS accuracy",
        "id": "ID", "total": "", "unit": "incidents", "categories": "categories",
        "legend": "Categories (click to toggle)", "families": "Problem families (click to toggle)",
        "by_category": "By category ({n})",
        "townships": "Townships", "synthetic": "illustrative",
        "synthetic_note": "Township boundaries are illustrative (synthetic, not official) — demo only",
        "near_border": "near border", "outside": "outside district", "duplicates": "likely duplicates",
        "none": "no incidents", "metres": "m",
    },
}


def category_colors(codes: list[str] | tuple[str, ...]) -> dict[str, str]:
    """A colour per category code: the fixed Pinggu palette, then a categorical cycle for other codes."""
    out: dict[str, str] = {}
    extra = iter(_EXTRA_COLORS * (len(codes) // len(_EXTRA_COLORS) + 1))
    for code in codes:
        out[code] = CATEGORY_COLORS.get(code) or next(extra)
    return out


def category_info(codes: list[str], catalog: Any, lang: str) -> dict[str, dict[str, Any]]:
    """Per category code: display name, colour and severity (code and name), as the popups read them."""
    colors = category_colors(codes)
    sev_names: dict[str, str] = {}
    if catalog is not None and lang == "zh":
        sev_names = {k: v.zh for k, v in getattr(catalog, "severity_levels", {}).items()}
    info: dict[str, dict[str, Any]] = {}
    for code in codes:
        cat = catalog.categories.get(code) if catalog is not None else None
        name = (cat.zh if lang == "zh" else cat.en) if cat is not None else code
        sev = cat.severity if cat is not None else None
        family = family_of(code)
        info[code] = {
            "name": name, "color": colors[code], "sevCode": sev or "",
            "sev": (sev_names.get(sev, sev) if sev else ""), "family": family,
            "familyName": FAMILY_NAMES.get(lang, FAMILY_NAMES["zh"]).get(family, family),
            "familyColor": FAMILY_COLORS.get(family, OTHER_FAMILY_COLOR),
        }
    return info


def _flag_count(incidents: pd.DataFrame, flag: str) -> int:
    if "flags" not in incidents.columns:
        return 0
    return int(incidents["flags"].fillna("").astype(str).str.split(";").map(lambda xs: flag in xs).sum())


def title_html(title: str, incidents: gpd.GeoDataFrame, n_cats: int, synthetic: bool, lang: str,
               tz: str | None = None) -> str:
    """The title box: title, period (days of the district's zone ``tz``) and counts, flag statistics and the
    示意边界 note (all text escaped)."""
    ui = UI[lang]
    n = len(incidents)
    sub = f"{ui['total']} {n:,} {ui['unit']} · {n_cats} {ui['categories']}" if n else ui["none"]
    if n and "observed_at" in incidents.columns:
        t = local_times(incidents["observed_at"], tz).dropna()
        if len(t):
            sub = f"{min(t)[:10]} — {max(t)[:10]} · " + sub
    stats = []
    near, out = _flag_count(incidents, "near_border"), _flag_count(incidents, "outside_district")
    dups = int(incidents["likely_duplicate_of"].notna().sum()) if "likely_duplicate_of" in incidents else 0
    for label, value in ((ui["duplicates"], dups), (ui["near_border"], near), (ui["outside"], out)):
        if value:
            stats.append(f"<span>{html.escape(label)} <b>{value:,}</b></span>")
    note = f'<div class="note">⚠ {html.escape(ui["synthetic_note"])}</div>' if synthetic else ""
    return (
        f'<div class="gise-box gise-title"><h1>{html.escape(title)}</h1>'
        f'<div class="sub">{html.escape(sub)}</div>'
        + (f'<div class="stats">{"".join(stats)}</div>' if stats else "") + note + "</div>"
    )


def short_names(names: Mapping[str, str]) -> dict[str, str]:
    """Category names without their parenthetical detail, where that keeps them distinct.

    '安全生产隐患（非法生产经营、危化品、无证作业）' -> '安全生产隐患';
    the two '违法建设（…规划区）' stay whole.
    """
    short = {k: re.split(r"[（(]", v)[0].strip() or v for k, v in names.items()}
    clash = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {k: (names[k] if short[k] in clash else short[k]) for k in names}


def legend_html(rows: list[tuple[str, str, str, int]], lang: str) -> str:
    """The legend box: one clickable row per (key, name, colour, count), bars scaled to the largest."""
    top = max((r[3] for r in rows), default=1) or 1
    short = short_names({r[0]: r[1] for r in rows})
    body = "".join(
        f'<div class="row" data-key="{html.escape(key)}" title="{html.escape(name)}">'
        f'<span class="dot" style="background:{color}"></span>'
        f'<span class="name">{html.escape(short[key])}</span>'
        f'<span class="bar"><i style="width:{100 * count / top:.0f}%;background:{color}"></i></span>'
        f'<span class="n">{count:,}</span></div>'
        for key, name, color, count in rows
    )
    head = f'<div class="hd">{html.escape(UI[lang]["legend"])}</div>'
    return f'<div class="gise-box gise-legend">{head}{body}</div>'



def family_legend_html(families: list[tuple[str, str, str, int]], categories: list[tuple[str, str, str, int]],
                       lang: str) -> str:
    """The legend box of a map coloured by problem family: one clickable row per family (key, name, colour,
    count), then, folded until asked for, one clickable row per category (key, name, its family's colour,
    count); bars scaled to the largest of each list."""

    def rows(items: list[tuple[str, str, str, int]], names: Mapping[str, str]) -> str:
        top = max((r[3] for r in items), default=1) or 1
        return "".join(
            f'<div class="row" data-key="{html.escape(key)}" title="{html.escape(name)}">'
            f'<span class="dot" style="background:{color}"></span>'
            f'<span class="name">{html.escape(names[key])}</span>'
            f'<span class="bar"><i style="width:{100 * count / top:.0f}%;background:{color}"></i></span>'
            f'<span class="n">{count:,}</span></div>'
            for key, name, color, count in items)

    ui = UI[lang]
    body = rows(families, {r[0]: r[1] for r in families})
    more = rows(categories, short_names({r[0]: r[1] for r in categories}))
    return (f'<div class="gise-box gise-legend"><div class="hd">{html.escape(ui["families"])}</div>{body}'
            f'<details class="gise-cats"><summary>{html.escape(ui["by_category"].format(n=len(categories)))}'
            f"</summary>{more}</details></div>")
