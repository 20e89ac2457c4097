"""/maps/{name} — the maps written by ``gis-enforcement map …`` and the demo, served by the app (offline pages:
everything they need is inside them, but for a local basemap's tiles, served at /maps/tiles/{name}/{z}/{x}/{y})."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from gis_enforcement.api.auth import ReadsMaps
from gis_enforcement.api.deps import PlatformDep
from gis_enforcement.api.schemas import ErrorResponse
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.mapping.tilesets import find_tile

router = APIRouter(tags=["maps"])
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,80}$")
#: errors are JSON whatever the page's type (FastAPI would document a ``model`` under the route's text/html)
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    for s in (401, 403)
}


@router.get("/maps", operation_id="list_maps", response_class=HTMLResponse, responses=ERRORS)
def list_maps(platform: PlatformDep, caller: ReadsMaps) -> str:
    """An index of the maps written so far."""
    folder = platform.settings.maps_dir
    names = sorted(p.stem for p in folder.glob("*.html")) if folder.is_dir() else []
    items = "".join(f'<li><a href="/maps/{n}">{n}</a></li>' for n in names if _NAME.match(n))
    return f"<!doctype html><meta charset=utf-8><title>maps</title><h1>maps</h1><ul>{items or '<li>none yet</li>'}</ul>"


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
