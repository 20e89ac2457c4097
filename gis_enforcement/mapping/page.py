"""What every map page shares: the page's CSS and title, the scale bar, the township layer, and writing the file.

The builders (:mod:`hotspots_map`, :mod:`townships_map`, :mod:`plan_map`, :mod:`dispatch_map`) add their own
layers, title box and legend on top of :func:`start_page` and :func:`add_townships`.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd

from gis_enforcement.mapping.elements import Raw, Script, TownshipLayer, figure_of
from gis_enforcement.mapping.features import township_collection
from gis_enforcement.mapping.incidents_map import _CSS
from gis_enforcement.mapping.stamp import stamp_page

#: township polygons under the map's own layers: light fill, dark district outline
PLAIN_TOWNS = {"color": "#7d7d7d", "weight": 1.0, "fillColor": "#ffffff", "fillOpacity": 0.5}
DISTRICT_OUTLINE = {"color": "#3a3a3a", "weight": 2.4, "fill": False}


def start_page(m: folium.Map, *, title: str, css: str = "") -> folium.Map:
    """Give ``m`` the page CSS (shared, then ``css``), its title and a metric scale bar."""
    figure_of(m).header.add_child(Raw(f"<style>{_CSS}{css}</style>"), name="gise_css")
    figure_of(m).title = html.escape(title)
    m.add_child(Script(f"L.control.scale({{position: 'bottomright', imperial: false}}).addTo({m.get_name()});"))
    return m


def synthetic_townships(townships: gpd.GeoDataFrame) -> bool:
    """Whether the township layer is illustrative (示意边界): then the maps dash its lines and say so."""
    return bool("synthetic" in townships.columns and townships["synthetic"].fillna(False).astype(bool).any())


def add_townships(m: folium.Map, townships: gpd.GeoDataFrame, *, name: str, style: dict[str, Any] | None = None,
                  collection: tuple[dict[str, Any], list[list[Any]]] | None = None, lang: str = "zh") -> None:
    """The township polygons (dashed when synthetic) with their name labels — Chinese, or English with
    ``lang="en"`` — in a layer group called ``name``; ``collection`` replaces :func:`township_collection`'s (e.g.
    moved into a basemap's datum)."""
    if not len(townships):
        return
    features, labels = collection or township_collection(townships, {}, "", lang=lang)
    group = folium.FeatureGroup(name=name, show=True)
    look = {**(style or PLAIN_TOWNS), "dashArray": "4 3" if synthetic_townships(townships) else None}
    group.add_child(TownshipLayer(features, labels, style=look, outline=DISTRICT_OUTLINE))
    m.add_child(group)


def write_page(m: folium.Map, path: str | Path, *, kind: str, lang: str = "zh", tz: str | None = None,
               generated_at: datetime | None = None) -> Path:
    """Save a built map to ``path`` (folders made as needed), stamped with when it was written
    (:func:`~gis_enforcement.mapping.stamp.stamp_page`: ``kind`` of map, its ``lang``, the district's zone ``tz``,
    ``generated_at`` or now); returns the path."""
    stamp_page(m, kind=kind, lang=lang, tz=tz, generated_at=generated_at)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    m.save(str(path))
    return path
