"""/app — the patrol page and the dispatch console, and the files they load (their own, and Leaflet's).

The pages are the application's shell: no data is in them, so they are served to anyone (a phone must open
the patrol page to sign in, and open it again offline from its service worker); everything they show comes
from /api/v1 with the user's token. Not part of the OpenAPI description: they are pages, not an API.

The one setting a page is served with is the district's time zone (``settings.timezone``, in its
``<meta name="gise-timezone">``): the pages show every time on the district's clock, whatever the zone of the
browser that opens them.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from gis_enforcement.api.deps import PlatformDep
from gis_enforcement.errors import NotFound
from gis_enforcement.mapping.assets import ensure_assets
from gis_enforcement.web import PAGES, STATIC_DIR, static_file

router = APIRouter(prefix="/app", include_in_schema=False)
#: the app's files change with each release; a browser revalidates them (the service worker keeps its copy)
_REVALIDATE = {"Cache-Control": "no-cache"}
#: the time-zone tag as the page files carry it; the district's zone is written into it when a page is served
_ZONE_META = '<meta name="gise-timezone" content="Asia/Shanghai">'


@router.get("")
@router.get("/")
def app_index() -> RedirectResponse:
    return RedirectResponse("/app/console", status_code=307)


@router.get("/sw.js")
def service_worker() -> FileResponse:
    """The pages' service worker (the patrol page and the console register it), at the root of /app so that its
    scope covers the pages."""
    return FileResponse(STATIC_DIR / "sw.js", media_type="text/javascript; charset=utf-8",
                        headers={**_REVALIDATE, "Service-Worker-Allowed": "/app/"})


@router.get("/static/leaflet/{name:path}")
def leaflet_file(name: str) -> FileResponse:
    found = static_file(ensure_assets(), name)
    if found is None:
        raise NotFound(f"no file {name!r}", field="name")
    return FileResponse(found[0], media_type=found[1], headers={"Cache-Control": "public, max-age=86400"})


@router.get("/static/{name:path}")
def app_file(name: str) -> FileResponse:
    found = static_file(STATIC_DIR, name)
    if found is None:
        raise NotFound(f"no file {name!r}", field="name")
    return FileResponse(found[0], media_type=found[1], headers=_REVALIDATE)


@router.get("/{page}")
def app_page(page: str, platform: PlatformDep) -> HTMLResponse:
    """``/app/patrol`` or ``/app/console``, carrying the district's time zone."""
    if page not in PAGES:
        raise NotFound(f"no page {page!r}; there are {', '.join(sorted(PAGES))}", field="page")
    html = (STATIC_DIR / PAGES[page]).read_text(encoding="utf-8")
    zone = escape(platform.settings.timezone, quote=True)
    html = html.replace(_ZONE_META, f'<meta name="gise-timezone" content="{zone}">', 1)
    return HTMLResponse(html, headers=_REVALIDATE)
