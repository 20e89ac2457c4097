"""/docs and /redoc — the API's interactive description, with Swagger UI and ReDoc served by the app itself.

FastAPI's own pages load both from a CDN, which an intranet cannot reach: the pages stay blank. Set-up
(``scripts/fetch-assets.sh``) puts the files beside Leaflet's (git-ignored), and these routes serve them; the
pages are otherwise FastAPI's, Authorize (sign-in with ``POST /api/v1/auth/token``) included. Not part of the
OpenAPI description: they are pages, not an API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

from gis_enforcement.errors import NotConfigured, NotFound
from gis_enforcement.mapping.assets import LEAFLET_DIR
from gis_enforcement.web import static_file

router = APIRouter(include_in_schema=False)

#: where set-up puts Swagger UI's and ReDoc's files (beside Leaflet's)
SWAGGER_UI_DIR = LEAFLET_DIR.parent / "swagger-ui"
REDOC_DIR = LEAFLET_DIR.parent / "redoc"
OPENAPI_URL = "/openapi.json"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
TITLE = "gis_enforcement"


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{TITLE} - Swagger UI",
                               swagger_js_url="/docs/assets/swagger-ui/swagger-ui-bundle.js",
                               swagger_css_url="/docs/assets/swagger-ui/swagger-ui.css",
                               swagger_favicon_url="/docs/assets/swagger-ui/favicon-32x32.png",
                               oauth2_redirect_url=OAUTH2_REDIRECT_URL)


@router.get(OAUTH2_REDIRECT_URL)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return get_redoc_html(openapi_url=OPENAPI_URL, title=f"{TITLE} - ReDoc",
                          redoc_js_url="/docs/assets/redoc/bundles/redoc.standalone.js",
                          redoc_favicon_url="/docs/assets/swagger-ui/favicon-32x32.png", with_google_fonts=False)


@router.get("/docs/assets/{package}/{name:path}")
def docs_asset(package: str, name: str) -> FileResponse:
    """A file of Swagger UI (``swagger-ui``) or ReDoc (``redoc``); 503 naming the fix when set-up has not
    fetched them."""
    roots = {"swagger-ui": SWAGGER_UI_DIR, "redoc": REDOC_DIR}
    if package not in roots:
        raise NotFound(f"no package {package!r}; there are {', '.join(roots)}", field="package")
    root: Path = roots[package]
    found = static_file(root, name)
    if found is None:
        if not (root / "VERSION").is_file():
            raise NotConfigured(f"the {package} files are missing in {root}; run scripts/fetch-assets.sh (part of "
                                "`make setup`) once, with access to the npm registry")
        raise NotFound(f"no file {name!r}", field="name")
    return FileResponse(found[0], media_type=found[1], headers={"Cache-Control": "public, max-age=86400"})
