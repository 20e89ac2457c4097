"""Browser assets for offline maps: Leaflet's JS and CSS, inlined into every map the platform writes.

Government intranets have no internet access, so a map must not load anything from a CDN. The files are
fetched once at set-up by ``scripts/fetch-assets.sh`` (``npm pack leaflet@1.9.4``) into
``gis_enforcement/mapping/static/leaflet/`` (git-ignored); :func:`ensure_assets` finds them, and
:func:`inline_leaflet` returns them ready to embed, with the CSS images turned into data URIs.
Set ``GISE_LEAFLET_DIR`` to use another folder holding ``leaflet.js``, ``leaflet.css`` and ``images/``.
"""

from __future__ import annotations

import base64
import os
import re
from functools import lru_cache
from pathlib import Path

from gis_enforcement.errors import NotConfigured

__all__ = ["LEAFLET_DIR", "ensure_assets", "inline_leaflet"]

#: Where set-up puts Leaflet (``scripts/fetch-assets.sh``).
LEAFLET_DIR = Path(__file__).resolve().parent / "static" / "leaflet"
_REQUIRED = ("leaflet.js", "leaflet.css", "images/layers.png")
_CSS_URL = re.compile(r"url\((['\"]?)(images/[^)'\"]+)\1\)")


def _directory() -> Path:
    override = os.environ.get("GISE_LEAFLET_DIR")
    return Path(override) if override else LEAFLET_DIR


def ensure_assets() -> Path:
    """The folder holding Leaflet's ``leaflet.js``, ``leaflet.css`` and ``images/``.

    Raises :class:`~gis_enforcement.errors.NotConfigured` naming the fix when they are missing.
    """
    directory = _directory()
    missing = [name for name in _REQUIRED if not (directory / name).is_file()]
    if missing:
        raise NotConfigured(
            f"Leaflet assets missing in {directory} ({', '.join(missing)}); "
            "run scripts/fetch-assets.sh (part of `make setup`) once, with access to the npm registry"
        )
    return directory


@lru_cache(maxsize=4)
def _inline(directory: Path, stamp: tuple[float, ...]) -> tuple[str, str]:
    js = (directory / "leaflet.js").read_text(encoding="utf-8")
    css = (directory / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        path = directory / match.group(2)
        if not path.is_file():
            return "url(data:,)"
        mime = "image/svg+xml" if path.suffix == ".svg" else "image/png"
        return f"url(data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')})"

    css = _CSS_URL.sub(data_uri, css)
    # a literal "</script>" / "</style>" inside the code would end the inline element early
    js = js.replace("</script", "<\\/script")
    css = css.replace("</style", "<\\/style")
    return js, css


def inline_leaflet() -> tuple[str, str]:
    """(leaflet.js source, leaflet.css with its images as data URIs), ready to inline in HTML."""
    directory = ensure_assets()
    stamp = tuple((directory / name).stat().st_mtime for name in _REQUIRED)
    return _inline(directory, stamp)
