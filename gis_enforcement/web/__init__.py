"""The browser pages: the patrol page (a phone on a river bank at night, offline first) and the dispatch
console (township command centre, departments, district supervisors).

Static files only — plain HTML, CSS and JavaScript, no build step — served by the API under ``/app``; every
datum they show comes from the API with the signed-in user's token, so a page holds nothing its user may not
see. Leaflet comes from the assets fetched at set-up (:mod:`gis_enforcement.mapping.assets`).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PAGES", "STATIC_DIR", "static_file"]

STATIC_DIR = Path(__file__).parent / "static"
#: the pages by their address under /app
PAGES = {"patrol": "patrol.html", "console": "console.html"}
_MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
          ".json": "application/json", ".webmanifest": "application/manifest+json"}


def static_file(root: Path, name: str) -> tuple[Path, str] | None:
    """The file ``name`` under ``root`` and its media type, or None when there is none or the name would leave
    ``root`` (``..``, absolute paths, hidden files)."""
    parts = name.split("/")
    if not name or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    media = _MEDIA.get(path.suffix.lower())
    return (path, media) if media else None
