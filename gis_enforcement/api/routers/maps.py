"""/maps/{name} — the maps written by ``gis-enforcement map …`` and the demo, served by the app (offline pages:
everything they need is inside them, but for a local basemap's tiles, served at /maps/tiles/{name}/{z}/{x}/{y})."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from gis_enforcement.api.auth import ReadsMaps
from gis_enforcement.api.deps import PlatformDep
from gis_enforcement.api.schemas import ErrorResponse
from gis_enforcement.domain.zone import district_zone
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.mapping.stamp import MAP_KINDS, PageInfo, generated_when, read_page_info, zone_name
from gis_enforcement.mapping.tilesets import find_tile

router = APIRouter(tags=["maps"])
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,80}$")
#: errors are JSON whatever the page's type (FastAPI would document a ``model`` under the route's text/html)
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    for s in (401, 403)
}


_CJK = re.compile(r"[\u3400-\u9fff]")
_INDEX_CSS = ("body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:24px;color:#222}"
              "li{margin:6px 0}.when{color:#555;font-size:14px;margin-left:8px}.note{color:#555}")


def _map_title(stem: str, info: PageInfo) -> str:
    """The page's own title when it is Chinese; an English page by its kind in Chinese and its title."""
    if _CJK.search(info.title):
        return info.title
    if info.kind is not None:
        name = MAP_KINDS[info.kind][0] + ("（英文版）" if info.lang == "en" else "")
        return f"{name} · {info.title}" if info.title else name
    return info.title or stem


@router.get("/maps", operation_id="list_maps", response_class=HTMLResponse, responses=ERRORS)
def list_maps(platform: PlatformDep, caller: ReadsMaps) -> str:
    """An index of the maps written so far: each by its Chinese title, with when it was written (district time).
    The maps are snapshots; the index says so and how to write them again."""
    folder, tz = platform.settings.maps_dir, platform.settings.timezone
    paths = sorted(p for p in folder.glob("*.html") if _NAME.match(p.stem)) if folder.is_dir() else []
    items = []
    for path in paths:
        info = read_page_info(path)
        if info.generated_at is not None:
            when = generated_when(info.generated_at, lang="zh", tz=tz)
        else:  # written before pages said when: the file's time
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).astimezone(district_zone(tz))
            when = f"文件时间 {modified:%Y-%m-%d %H:%M}（{zone_name(tz, 'zh')}）"
        items.append(f'<li><a href="/maps/{path.stem}">{html.escape(_map_title(path.stem, info))}</a>'
                     f'<span class="when">{html.escape(when)}</span></li>')
    note = "地图是生成时的快照，不随新的上报、吹哨自动更新；用 gis-enforcement map … 重新生成。"
    return ('<!doctype html><html lang="zh-CN"><meta charset=utf-8><title>地图</title>'
            f"<style>{_INDEX_CSS}</style><h1>地图</h1><p class=\"note\">{html.escape(note)}</p>"
            f"<ul>{''.join(items) or '<li>尚无地图</li>'}</ul></html>")


# declared before /maps/{name}: the more specific path first (it has more segments, so they cannot collide anyway)
@router.get("/maps/tiles/{name}/{z}/{x}/{y}.{ext}", operation_id="get_map_tile", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
                       404: {"model": ErrorResponse, "description": "no such tileset or tile"},
                       422: {"model": ErrorResponse, "description": "not a tileset name"}, **ERRORS})
def get_map_tile(name: str, z: int, x: int, y: int, ext: str, platform: PlatformDep, caller: ReadsMaps) -> Response:
    """A tile of a local basemap (``y`` counted from the north, as Leaflet asks): from the folder
    ``MAPS_DIR/tiles/{name}/`` or the MBTiles file ``MAPS_DIR/tiles/{name}.mbtiles``. Tiles change only when a
    tileset is published again, so browsers may keep them for a day."""
    tile, media_type = find_tile(platform.settings.maps_dir, name, z, x, y, ext)
    headers = {"Cache-Control": "public, max-age=86400"}
    if isinstance(tile, bytes):
        headers["ETag"] = f'"{hashlib.blake2b(tile, digest_size=16).hexdigest()}"'
        return Response(tile, media_type=media_type, headers=headers)
    return FileResponse(tile, media_type=media_type, headers=headers)


@router.get("/maps/{name}", operation_id="get_map", response_class=FileResponse,
            responses={404: {"model": ErrorResponse, "description": "no such map"},
                       422: {"model": ErrorResponse, "description": "not a map name"}, **ERRORS})
def get_map(name: str, platform: PlatformDep, caller: ReadsMaps) -> FileResponse:
    """A map page by name (``incidents``, ``hotspots`` … with or without ``.html``). Names are letters, digits,
    ``-`` and ``_`` only: nothing outside the maps folder can be asked for."""
    stem = name[:-5] if name.endswith(".html") else name
    if not _NAME.match(stem):
        raise InvalidInput("a map name is letters, digits, - and _", field="name")
    path = platform.settings.maps_dir / f"{stem}.html"
    if not path.is_file():
        raise NotFound(f"no map {stem!r}; write it with `gis-enforcement map …`", field="name")
    return FileResponse(path, media_type="text/html; charset=utf-8")
