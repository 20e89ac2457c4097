"""English forms of the Pinggu township names: pinyin run together, the administrative word translated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gis_enforcement.domain.names import romanise_place, short_village

TOWNSHIPS = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "pinggu_townships_SYNTHETIC_wgs84.geojson"

#: the 18 townships of the shipped layer, checked by hand (polyphones: 峪 yù, 大 dà, 各 gè, 乐 lè in 独乐,
#: 兴 xīng, 罗 luó; the apostrophe of Xiong'er)
PINGGU = {
    "滨河街道": "Binhe Subdistrict",
    "兴谷街道": "Xinggu Subdistrict",
    "平谷镇(渔阳地区)": "Pinggu Town (Yuyang Area)",
    "峪口镇(峪口地区)": "Yukou Town (Yukou Area)",
    "马坊镇(马坊地区)": "Mafang Town (Mafang Area)",
    "金海湖镇(金海湖地区)": "Jinhaihu Town (Jinhaihu Area)",
    "东高村镇": "Donggaocun Town",
    "山东庄镇": "Shandongzhuang Town",
    "南独乐河镇": "Nandulehe Town",
    "大华山镇": "Dahuashan Town",
    "夏各庄镇": "Xiagezhuang Town",
    "马昌营镇": "Machangying Town",
    "王辛庄镇": "Wangxinzhuang Town",
    "大兴庄镇": "Daxingzhuang Town",
    "刘家店镇": "Liujiadian Town",
    "镇罗营镇": "Zhenluoying Town",
    "黄松峪乡": "Huangsongyu Township",
    "熊儿寨乡": "Xiong'erzhai Township",
}


def test_the_table_covers_the_shipped_layer() -> None:
    layer = json.loads(TOWNSHIPS.read_text(encoding="utf-8"))
    assert sorted(f["properties"]["name"] for f in layer["features"]) == sorted(PINGGU)


@pytest.mark.parametrize(("zh", "en"), sorted(PINGGU.items()))
def test_every_pinggu_township(zh: str, en: str) -> None:
    assert romanise_place(zh) == en


@pytest.mark.parametrize(("zh", "en"), [
    ("金海湖镇", "Jinhaihu Town"), ("峪口镇", "Yukou Town"), ("平谷镇", "Pinggu Town"),
    ("渔阳地区办事处", "Yuyang Area"), ("渔阳地区", "Yuyang Area"), ("滨河街道办事处", "Binhe Subdistrict"),
    ("长安街道", "Chang'an Subdistrict"), ("西安", "Xi'an"), ("平谷镇（渔阳地区）", "Pinggu Town (Yuyang Area)"),
    ("  马坊镇 ", "Mafang Town"),
])
def test_suffixes_brackets_and_apostrophes(zh: str, en: str) -> None:
    assert romanise_place(zh) == en


def test_a_lone_suffix_and_non_chinese_text() -> None:
    assert romanise_place("镇") == "Zhen"  # the word itself, not an empty name
    assert romanise_place("Pinggu Town") == "Pinggu Town"
    assert romanise_place("") == ""


def test_short_village() -> None:
    assert short_village("杜辛庄村委会") == "杜辛庄村" and short_village("平粮社区居委会") == "平粮社区"
