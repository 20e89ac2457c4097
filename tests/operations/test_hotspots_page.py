"""The hot-spot map page from a stored run: its caption in the page's language."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.orm import Session

from gis_enforcement.analysis.hotspot_service import run_and_store
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.mapping.hotspots_map import run_caption
from gis_enforcement.operations.map_pages import hotspots_page
from tests.dispatch.helpers import new_case


def _sub(page: Path) -> str:
    """The caption under the title: the line that names the run."""
    found = [s for s in re.findall(r'<div class="sub">([^<]*)</div>', page.read_text(encoding="utf-8"))
             if "run " in s or "次热点分析" in s]
    assert len(found) == 1, "the page has one caption naming the run"
    return found[0]


def test_the_caption_is_in_the_pages_language(db: Session, locator: Locator, catalog: Catalog,
                                             jurisdiction: Jurisdiction, tmp_path: Path) -> None:
    villages = jurisdiction.villages
    for i in range(0, min(len(villages), 120), 3):
        v = villages.iloc[i]
        for _ in range(1 + (i % 4 == 0) * 4):
            new_case(db, locator, catalog, v.geometry.x, v.geometry.y)
    run_id, result = run_and_store(db, cell="grid", size_m=1000)
    zh = _sub(hotspots_page(db, tmp_path / "zh.html", catalog=catalog, timezone="Asia/Shanghai", lang="zh").path)
    assert zh.startswith(f"第 {run_id} 次热点分析 · 分析距离 ") and "米" in zh
    assert not re.search(r"[A-Za-z]{3,}", zh.replace("Moran", "")), zh
    en = _sub(hotspots_page(db, tmp_path / "en.html", catalog=catalog, timezone="Asia/Shanghai", lang="en").path)
    assert en == f"run {run_id} · {result.scale.detail}".replace("'", "&#x27;")


def test_run_caption_names_how_the_band_was_chosen() -> None:
    detail = "first significant peak of Moran's I (z = 39.95) at 1421 m among 10 bands 711–7095 m"
    scale = {"distance_m": 1421.0, "method": "moran_peak"}
    assert run_caption(1, scale, detail, lang="zh") == \
        "第 1 次热点分析 · 分析距离 1,421 米：全局 Moran's I 首个显著峰值（z = 39.95，10 个距离段 711–7,095 米）"
    assert run_caption(1, scale, detail, lang="en") == f"run 1 · {detail}"
    assert run_caption(2, {"distance_m": 800, "method": "given"}, "given", lang="zh") == \
        "第 2 次热点分析 · 分析距离 800 米：指定距离"
    widened = "no significant Moran's I peak among 10 bands; average distance to 3 nearest neighbours; widened from"
    assert run_caption(3, {"distance_m": 900.0, "method": "k_nearest"}, widened, lang="zh").endswith(
        "取近邻平均距离，并扩大到每个单元都有邻居")
    assert run_caption(4, None, "", lang="zh") == "第 4 次热点分析"
