"""When a map page was written, on the page and for the /maps index.

A written map is a snapshot: it shows the store as it was when ``gis-enforcement map …`` or the demo wrote it. Every
page therefore says so on the last line of its title box (``生成于 2026-11-27 22:09（北京时间）· 快照，非实时``, in
English on an English page), in the district's zone, and carries the same facts in ``<meta>`` elements right
after its ``<title>`` — what kind of map it is, its language and the UTC time it was written — which
:func:`read_page_info` reads back for the index of the maps without loading the whole page.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import folium

from gis_enforcement.domain.zone import district_zone
from gis_enforcement.mapping.elements import Raw, Script, figure_of, script_json

__all__ = ["MAP_KINDS", "PageInfo", "generated_text", "generated_when", "read_page_info", "stamp_page", "zone_name"]

#: the kinds of map pages, by what the index calls them (Chinese, English)
MAP_KINDS: dict[str, tuple[str, str]] = {
    "status": ("案件处置状态", "Cases by status"),
    "incidents": ("巡查事件", "Patrol incidents"),
    "hotspots": ("问题热点", "Hot spots"),
    "townships": ("各乡镇指标", "Township figures"),
    "plan": ("联合执法方案", "Joint operation plan"),
    "dispatch": ("吹哨报到", "Whistle and report-in"),
    "tracks": ("巡查轨迹", "Patrol tracks"),
}
_WHEN = {"zh": "生成于 {t}（{zone}）", "en": "Generated {t} ({zone})"}
_SNAPSHOT = {"zh": "· 快照，非实时", "en": " · a snapshot, not live"}
_ZONE_NAMES = {"Asia/Shanghai": {"zh": "北京时间", "en": "Beijing time"}}
_HEAD_BYTES = 64 * 1024
_META = re.compile(r'<meta name="gise:(\w+)" content="([^"]*)"\s*/?>')
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def zone_name(tz: str | None, lang: str) -> str:
    """The district's zone as a reader knows it: 北京时间 / Beijing time for Asia/Shanghai, else its name."""
    key = district_zone(tz).key
    return _ZONE_NAMES.get(key, {}).get(lang, key)


def generated_when(at: datetime, *, lang: str = "zh", tz: str | None = None) -> str:
    """``生成于 2026-11-27 22:09（北京时间）`` for the moment ``at`` (aware; naive is UTC) in the zone ``tz``."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    local = at.astimezone(district_zone(tz)).strftime("%Y-%m-%d %H:%M")
    return _WHEN["en" if lang == "en" else "zh"].format(t=local, zone=zone_name(tz, lang))


def generated_text(at: datetime, *, lang: str = "zh", tz: str | None = None) -> str:
    """The page's stamp: ``生成于 2026-11-27 22:09（北京时间）· 快照，非实时``."""
    return generated_when(at, lang=lang, tz=tz) + _SNAPSHOT["en" if lang == "en" else "zh"]


def stamp_page(m: folium.Map, *, kind: str, lang: str = "zh", tz: str | None = None,
               generated_at: datetime | None = None) -> folium.Map:
    """Give the built map ``m`` its "generated at" box and the ``<meta>`` facts the index reads (kind, language,
    UTC time; now when ``generated_at`` is None)."""
    if kind not in MAP_KINDS:
        raise ValueError(f"kind must be one of {sorted(MAP_KINDS)}")
    at = generated_at or datetime.now(UTC)
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    meta = "".join(f'<meta name="gise:{k}" content="{html.escape(v)}" />' for k, v in (
        ("map", kind), ("lang", "en" if lang == "en" else "zh"),
        ("generated", at.astimezone(UTC).isoformat(timespec="seconds"))))
    figure_of(m).header.add_child(Raw(meta), name="gise_meta", index=0)  # first: the index reads the head only
    text = script_json(generated_text(at, lang=lang, tz=tz))
    m.add_child(Script(f"""
(function () {{
  // the last line of the title box; a page without one has it in the bottom-right corner
  var div = document.createElement('div'), box = document.querySelector('.gise-title');
  div.className = 'gise-stamp';
  div.textContent = {text};
  div.style.cssText = 'margin-top:6px;font-size:12px;color:#555;';
  if (box) {{ box.appendChild(div); window.dispatchEvent(new Event('resize')); return; }}
  div.style.cssText += 'background:rgba(255,255,255,0.88);padding:2px 7px;border-radius:4px;margin:0;';
  var corner = L.control({{position: 'bottomright'}});
  corner.onAdd = function () {{ return div; }};
  corner.addTo({m.get_name()});
}})();
"""))
    return m


@dataclass(frozen=True, slots=True)
class PageInfo:
    """What the index says of a written page: its title, kind, language and when it was written (None when the
    page does not say: written before pages carried it)."""

    title: str
    kind: str | None
    lang: str
    generated_at: datetime | None


def read_page_info(path: Path) -> PageInfo:
    """The facts :func:`stamp_page` put in the head of the page at ``path`` (reads its first 64 KB only)."""
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    meta = dict(_META.findall(head))
    title = _TITLE.search(head)
    try:
        at: datetime | None = datetime.fromisoformat(html.unescape(meta["generated"]))
    except (KeyError, ValueError):
        at = None
    kind = meta.get("map")
    return PageInfo(title=html.unescape(title.group(1)).strip() if title else "",
                    kind=kind if kind in MAP_KINDS else None, lang=meta.get("lang", "zh"), generated_at=at)
