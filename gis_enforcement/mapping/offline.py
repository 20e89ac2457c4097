"""Self-contained maps for intranets without internet: no CDN link, Leaflet inlined."""

from __future__ import annotations

import folium

from gis_enforcement.mapping.assets import inline_leaflet
from gis_enforcement.mapping.elements import Raw, figure_of

__all__ = ["offline_map"]


def offline_map(m: folium.Map) -> folium.Map:
    """Make ``m`` self-contained: drop every CDN link folium would add and inline Leaflet instead."""
    js, css = inline_leaflet()
    m.default_js = []
    m.default_css = []
    for child in list(m._children.values()):
        if hasattr(child, "default_js"):
            child.default_js = []
            # folium elements with default_js (JSCSSMixin) have default_css too; branca's Element declares neither
            child.default_css = []  # type: ignore[attr-defined]
    header = figure_of(m).header
    # first in <head>, so the page's own CSS comes after Leaflet's and wins
    header.add_child(Raw(f"<script>{js}</script>"), name="leaflet_js_inline", index=0)
    header.add_child(Raw(f"<style>{css}</style>"), name="leaflet_css_inline", index=0)
    return m
