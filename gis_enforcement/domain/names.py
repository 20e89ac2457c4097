"""Place names for labels: short forms, and English forms of township names. Pure.

:func:`romanise_place` writes a Chinese place name the way Chinese maps print it in English (GB/T 17693 usage):
the proper name in Hanyu Pinyin without tones, its syllables run together and capitalised, an apostrophe before
a syllable starting with a, o or e (熊儿寨 → Xiong'erzhai), and the administrative suffix translated (街道 →
Subdistrict, 镇 → Town, 乡 → Township, 地区/地区办事处 → Area). Readings of characters with more than one come
from pypinyin's phrase dictionary, pinned for the place-name words in :data:`PLACE_READINGS`.
"""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

__all__ = ["PLACE_READINGS", "romanise_place", "short_township", "short_village"]

#: administrative suffixes, longest first, and their English words
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("地区办事处", "Area"),
    ("街道办事处", "Subdistrict"),
    ("街道", "Subdistrict"),
    ("地区", "Area"),
    ("镇", "Town"),
    ("乡", "Township"),
)

#: readings pinned for words of Pinggu place names with a character of several readings (乐 lè in 独乐, not yuè;
#: 大 dà, not dài; 各 gè, not gě; 兴 xīng, not xìng; 峪 yù; 罗 luó; 儿 ér …), so that a change in pypinyin's
#: dictionary cannot rename a township
PLACE_READINGS: dict[str, tuple[str, ...]] = {
    "独乐": ("du", "le"),
    "峪": ("yu",),
    "大华": ("da", "hua"),
    "大兴": ("da", "xing"),
    "兴谷": ("xing", "gu"),
    "夏各": ("xia", "ge"),
    "镇罗": ("zhen", "luo"),
    "熊儿": ("xiong", "er"),
    "刘家": ("liu", "jia"),
    "马昌": ("ma", "chang"),
}
_PINNED = re.compile("|".join(sorted(map(re.escape, PLACE_READINGS), key=len, reverse=True)))
_HAN = re.compile(r"[\u3400-\u9fff]")


def short_township(name: str) -> str:
    """A township's name without its parenthesised part, as people say it: '金海湖镇(金海湖地区)' -> '金海湖镇'."""
    for sep in ("(", "（"):
        name = str(name).split(sep)[0]
    return name.strip()


def short_village(name: str) -> str:
    """'杜辛庄村委会' -> '杜辛庄村', '平粮社区居委会' -> '平粮社区'."""
    name = str(name).strip()
    if name.endswith("村委会"):
        return name[:-2]
    if name.endswith("居委会"):
        return name[:-3]
    return name


def _syllables(text: str) -> list[str]:
    """Toneless pinyin of ``text``, syllable by syllable, with the pinned readings."""
    out: list[str] = []
    at = 0
    for match in _PINNED.finditer(text):
        out += lazy_pinyin(text[at:match.start()], style=Style.NORMAL) if match.start() > at else []
        out += PLACE_READINGS[match.group()]
        at = match.end()
    if at < len(text):
        out += lazy_pinyin(text[at:], style=Style.NORMAL)
    return [s.replace("ü", "u").replace("v", "u") for s in out]


def _proper(text: str) -> str:
    """One capitalised word from the syllables, apostrophes where a syllable boundary would be ambiguous."""
    word = ""
    for s in _syllables(text):
        if word and s[:1] in ("a", "o", "e"):
            word += "'"
        word += s
    return word[:1].upper() + word[1:]


def romanise_place(name: str) -> str:
    """English form of a Chinese place name: '滨河街道' → 'Binhe Subdistrict', '金海湖镇' → 'Jinhaihu Town',
    '黄松峪乡' → 'Huangsongyu Township', '熊儿寨乡' → "Xiong'erzhai Township"; a bracketed second name is kept
    in brackets ('平谷镇(渔阳地区)' → 'Pinggu Town (Yuyang Area)'). Text that is not Chinese is returned as it is."""
    name = str(name).strip()
    main, *rest = re.split(r"[（(]", name, maxsplit=1)
    main = main.strip()
    if not _HAN.search(main):
        return name
    suffix = ""
    for zh, en in _SUFFIXES:
        if main.endswith(zh) and len(main) > len(zh):
            main, suffix = main[: -len(zh)], " " + en
            break
    english = _proper(main) + suffix
    if rest:
        inner = re.split(r"[）)]", rest[0], maxsplit=1)[0].strip()
        if inner:
            english += f" ({romanise_place(inner)})"
    return english
