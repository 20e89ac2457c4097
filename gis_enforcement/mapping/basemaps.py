"""Basemaps for the maps, and the datum each one is drawn in.

The maps work with no basemap at all (government intranets are offline). Where tiles are reachable a basemap
can be chosen: OpenStreetMap, Tianditu (天地图, the state's map service; needs a token), AMap (高德), or any
XYZ tile source — a URL template, or a local directory of ``{z}/{x}/{y}.png`` tiles — or a local MBTiles file
(``mbtiles:<file>``, one SQLite file of tiles as QGIS, gdal or TileMill export them: the page asks for
``tiles/<name>/{z}/{x}/{y}.<ext>`` beside itself, put there by
:func:`~gis_enforcement.mapping.tilesets.publish_tileset` and served by the app at ``/maps/tiles/…``, so an
intranet needs no tile server, and the page works from disk too). Tianditu and OSM are drawn in WGS84/CGCS2000;
AMap's (and Tencent's) tiles are in GCJ-02, offset by some hundreds of metres around Beijing, so everything drawn
on them is shifted to GCJ-02 first (:func:`to_basemap_datum`) — otherwise a case would sit on the wrong street.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import numpy as np

from gis_enforcement.domain.datum import from_wgs84
from gis_enforcement.errors import InvalidInput
from gis_enforcement.mapping.tilesets import tile_url, tileset_name
from gis_enforcement.storage.mbtiles import read_metadata

__all__ = ["Basemap", "add_basemap", "basemap_from", "labels_in_datum", "lonlat_in_datum", "to_basemap_datum"]


@dataclass(frozen=True, slots=True)
class Basemap:
    """A tile source: its URL template, attribution, sub-domains, maximum zoom and the datum of its tiles. A local
    MBTiles basemap also names its ``tileset`` file (to publish beside the map), the zoom levels it holds
    (``native_zooms``; Leaflet scales those beyond) and its ``bounds`` (west, south, east, north; no tile is
    asked for outside)."""

    name: str
    url: str
    attribution: str
    datum: str = "wgs84"
    subdomains: str = "abc"
    max_zoom: int = 18
    overlay: str | None = None  # a second layer drawn over the first (Tianditu's labels)
    tileset: Path | None = None
    native_zooms: tuple[int, int] | None = None
    bounds: tuple[float, float, float, float] | None = None


def basemap_from(spec: str | None, *, tianditu_token: str | None = None) -> Basemap | None:
    """The basemap named by ``spec``: ``none`` (or None), ``osm``, ``tianditu`` (with ``tianditu_token``),
    ``amap``, ``xyz:<url template with {z} {x} {y}>``, ``xyz:<directory of z/x/y.png tiles>`` or
    ``mbtiles:<file.mbtiles>`` (checked here; publish it beside the map with
    :func:`~gis_enforcement.mapping.tilesets.publish_tileset`). ``xyz:`` and ``mbtiles:`` take a ``#gcj02``
    suffix for tiles drawn in GCJ-02."""
    if spec is None or spec == "none":
        return None
    if spec == "osm":
        return Basemap("osm", "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
                       "© OpenStreetMap contributors", max_zoom=19)
    if spec == "tianditu":
        if not tianditu_token:
            raise InvalidInput("Tianditu needs a token (GISE_TIANDITU_TOKEN)", field="basemap")
        base = "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0" \
               "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}" \
               f"&tk={tianditu_token}"
        return Basemap("tianditu", base.replace("{layer}", "vec"), "© 天地图 Tianditu", subdomains="01234567",
                       overlay=base.replace("{layer}", "cva"))
    if spec == "amap":
        return Basemap("amap", "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                       "&x={x}&y={y}&z={z}", "© 高德地图 AMap", datum="gcj02", subdomains="1234")
    if spec.startswith("mbtiles:"):
        file, datum = _with_datum(spec[len("mbtiles:"):])
        info = read_metadata(file)
        name = tileset_name(file)
        credit = html.escape(re.sub(r"<[^>]*>", "", info.attribution).strip() or info.name)  # text, not markup
        return Basemap("mbtiles", tile_url(name, info.format), credit, datum=datum,
                       subdomains="", max_zoom=max(18, info.maxzoom), tileset=Path(file).resolve(),
                       native_zooms=(info.minzoom, info.maxzoom), bounds=info.bounds)
    if spec.startswith("xyz:"):
        source, datum = _with_datum(spec[4:])
        if "{z}" not in source:
            folder = Path(source)
            if not folder.is_dir():
                raise InvalidInput(f"{source} is neither a tile URL template nor a tile directory", field="basemap")
            source = folder.resolve().as_uri() + "/{z}/{x}/{y}.png"
        return Basemap("xyz", source, "local tiles", datum=datum, subdomains="")
    raise InvalidInput(f"unknown basemap {spec!r}: none, osm, tianditu, amap, xyz:<template|dir> or "
                       "mbtiles:<file>", field="basemap")


def _with_datum(source: str) -> tuple[str, str]:
    if source.endswith("#gcj02"):
        return source[: -len("#gcj02")], "gcj02"
    return source, "wgs84"


def add_basemap(m: folium.Map, basemap: Basemap | None) -> None:
    """Put the basemap's tiles (and its label overlay) under everything else on ``m``."""
    if basemap is None:
        return
    kw: dict[str, Any] = {"attr": basemap.attribution, "max_zoom": basemap.max_zoom, "name": basemap.name,
                          "control": False}
    if basemap.subdomains:
        kw["subdomains"] = basemap.subdomains
    if basemap.native_zooms is not None:
        kw["min_native_zoom"], kw["max_native_zoom"] = basemap.native_zooms
    if basemap.bounds is not None:
        w, s, e, n = basemap.bounds
        kw["bounds"] = [[s, w], [n, e]]
    folium.TileLayer(tiles=basemap.url, **kw).add_to(m)
    if basemap.overlay:
        folium.TileLayer(tiles=basemap.overlay, overlay=True, **kw).add_to(m)


def _shift(coords: Any, fn: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]) -> Any:
    arr = np.asarray(coords, dtype=float)
    if arr.ndim == 1:  # a position
        x, y = fn(arr[:1], arr[1:2])
        return [round(float(x[0]), 7), round(float(y[0]), 7)]
    if arr.ndim == 2:  # a ring or a line
        x, y = fn(arr[:, 0], arr[:, 1])
        return np.round(np.column_stack([x, y]), 7).tolist()
    return [_shift(part, fn) for part in coords]


def to_basemap_datum(collection: dict[str, Any], basemap: Basemap | None) -> dict[str, Any]:
    """``collection`` (GeoJSON in WGS84) with every coordinate moved into the basemap's datum (a copy; the same
    object when no shift is needed)."""
    if basemap is None or basemap.datum == "wgs84":
        return collection

    def fn(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gx, gy = from_wgs84(x, y, basemap.datum)
        return np.asarray(gx, dtype=float), np.asarray(gy, dtype=float)

    features = []
    for f in collection.get("features", []):
        g = f.get("geometry")
        moved = dict(g, coordinates=_shift(g["coordinates"], fn)) if g else g
        features.append({**f, "geometry": moved})
    return {**collection, "features": features}


def lonlat_in_datum(lon: np.ndarray, lat: np.ndarray, basemap: Basemap | None) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 positions moved into the basemap's datum (the same arrays when no shift is needed)."""
    if basemap is None or basemap.datum == "wgs84":
        return lon, lat
    x, y = from_wgs84(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), basemap.datum)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def labels_in_datum(labels: list[list[Any]], basemap: Basemap | None) -> list[list[Any]]:
    """Township labels ``[lat, lon, html, min zoom]`` moved into the basemap's datum."""
    if basemap is None or basemap.datum == "wgs84" or not labels:
        return labels
    x, y = lonlat_in_datum(np.array([lab[1] for lab in labels]), np.array([lab[0] for lab in labels]), basemap)
    return [[round(float(b), 7), round(float(a), 7), *lab[2:]] for a, b, lab in zip(x, y, labels, strict=True)]
