"""GET /maps and /maps/{name}: written maps served from the maps folder, nothing outside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.auth import get_caller
from gis_enforcement.api.deps import get_platform
from gis_enforcement.domain.access import Caller, Role
from tests.api.callers import as_admin


@pytest.fixture
def client(platform: Platform, tmp_path: Path) -> Iterator[TestClient]:
    settings = platform.settings.model_copy(update={"maps_dir": tmp_path / "maps"})
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "hotspots.html").write_text("<html>热点</html>", encoding="utf-8")
    (tmp_path / "maps" / "status.html").write_text("<html>渣土车 京A·12345 遗撒</html>", encoding="utf-8")
    (tmp_path / "secret.html").write_text("no", encoding="utf-8")
    app = create_app(settings, platform=platform)
    app.dependency_overrides[get_platform] = lambda: SimpleNamespace(settings=settings)
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_maps_are_served_and_nothing_else(client: TestClient) -> None:
    r = client.get("/maps/hotspots")
    assert r.status_code == 200 and "热点" in r.text and r.headers["content-type"].startswith("text/html")
    assert client.get("/maps/hotspots.html").status_code == 200
    assert "/maps/hotspots" in client.get("/maps").text
    assert client.get("/maps/incidents").status_code == 404
    bad = client.get("/maps/..%2Fsecret")
    assert bad.status_code in (404, 422) and "no" != bad.text
    assert client.get("/maps/.hidden").status_code == 422


@pytest.mark.parametrize("caller", [
    Caller("demo_trans", Role.DEPARTMENT_OFFICER, "department", "TRANS"),
    Caller("trans.chief", Role.DEPARTMENT_CHIEF, "department", "TRANS"),
    Caller("pinggu.cc", Role.TOWNSHIP_DISPATCHER, "township", "110117003"),
    Caller("zhang.wei", Role.PATROL, "township", "110117003"),
], ids=lambda c: c.role.value)
def test_the_district_wide_maps_are_the_districts_only(client: TestClient, caller: Caller) -> None:
    client.app.dependency_overrides[get_caller] = lambda: caller  # type: ignore[attr-defined]
    for url in ("/maps/status", "/maps/hotspots", "/maps", "/maps/tiles/none/1/1/1.png"):
        r = client.get(url)
        assert r.status_code == 403, url
        error = r.json()["error"]
        assert error["field"] == "role" and "whole district" in error["message"], url
        assert "热点" not in r.text and "京A" not in r.text


def test_a_supervisor_reads_the_status_map(client: TestClient) -> None:
    client.app.dependency_overrides[get_caller] = lambda: Caller(  # type: ignore[attr-defined]
        "sup", Role.SUPERVISOR, "district", "district")
    r = client.get("/maps/status")
    assert r.status_code == 200 and "京A" in r.text
    assert "/maps/status" in client.get("/maps").text


def test_the_index_names_the_maps_in_chinese_and_says_when_each_was_written(client: TestClient, tmp_path: Path,
                                                                             ) -> None:
    from datetime import UTC, datetime

    import folium

    from gis_enforcement.mapping.page import start_page, write_page

    at = datetime(2026, 11, 27, 14, 9, tzinfo=UTC)
    for stem, title, lang in (("status", "平谷区 案件处置状态", "zh"), ("status-en", "Pinggu cases by status", "en")):
        m = folium.Map(tiles=None)
        start_page(m, title=title)
        write_page(m, tmp_path / "maps" / f"{stem}.html", kind="status", lang=lang, generated_at=at)
    text = client.get("/maps").text
    assert ('<a href="/maps/status">平谷区 案件处置状态</a>'
            '<span class="when">生成于 2026-11-27 22:09（北京时间）</span>') in text
    assert '<a href="/maps/status-en">案件处置状态（英文版） · Pinggu cases by status</a>' in text
    assert text.count("生成于 2026-11-27 22:09") == 2
    # a page written before pages said when: its stem and the file's time
    assert '<a href="/maps/hotspots">hotspots</a><span class="when">文件时间 ' in text
    assert "<h1>地图</h1>" in text and "快照" in text and "<h1>maps</h1>" not in text
