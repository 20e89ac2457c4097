"""The documents of OGC API – Features other than the features themselves: landing page, conformance,
collection metadata, and the links between them — absolute URLs built from the request, so a client that
reached the service through any name gets links it can follow."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from gis_enforcement.storage.ogc_repo import Extent

JSON = "application/json"
GEOJSON = "application/geo+json"
# FastAPI writes OpenAPI 3.1; clients (GDAL, OWSLib) look for the 3.0 media type of OGC API – Features
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    id: str
    title: str
    description: str
    timed: bool = False  # has a time the ``datetime`` parameter filters on


COLLECTIONS: dict[str, CollectionInfo] = {c.id: c for c in (
    CollectionInfo("incidents", "巡查发现问题 · incidents",
                   "Patrol incidents located in township, village, grid cell and zones, with their case status "
                   "and lead department; observed_at is the time the datetime parameter filters.", timed=True),
    CollectionInfo("townships", "乡镇街道 · townships",
                   "Township and subdistrict areas of Pinggu District (synthetic where marked)."),
    CollectionInfo("villages", "村 · villages", "Village points with their township."),
    CollectionInfo("zones", "管控区 · zones",
                   "Zones with their own rules: ecological red lines, mining areas, river corridors …"),
    CollectionInfo("grid", "网格 · management grid", "Cells of the management grid (网格化管理), by township."),
    CollectionInfo("hotspot_cells", "热点格网 · hot-spot cells",
                   "Cells of the newest stored Getis-Ord Gi* hot-spot run (gis-enforcement hotspots run)."),
)}


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]


class SpatialExtent(BaseModel):
    bbox: list[list[float]]
    crs: str = CRS84


class TemporalExtent(BaseModel):
    interval: list[list[str | None]]
    trs: str = GREGORIAN


class ExtentModel(BaseModel):
    spatial: SpatialExtent | None = None
    temporal: TemporalExtent | None = None


class Collection(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    title: str
    description: str
    links: list[Link]
    extent: ExtentModel | None = None
    itemType: str = "feature"
    crs: list[str] = Field(default_factory=lambda: [CRS84])


class Collections(BaseModel):
    links: list[Link]
    collections: list[Collection]


def url(request: Request, name: str, **path: Any) -> str:
    return str(request.url_for(name, **path))


def landing_page(request: Request) -> LandingPage:
    base = str(request.base_url).rstrip("/")
    return LandingPage(
        title="平谷区吹哨报到执法 GIS · OGC API – Features",
        description="Patrol incidents, jurisdiction layers and hot spots of the Pinggu District whistle-and-report "
                    "enforcement platform, as GeoJSON in CRS84.",
        links=[
            Link(href=url(request, "ogc_landing_page"), rel="self", type=JSON, title="this document"),
            Link(href=base + request.app.openapi_url, rel="service-desc", type=OPENAPI,
                 title="the API definition"),
            Link(href=base + (request.app.docs_url or "/docs"), rel="service-doc", type="text/html",
                 title="the API documentation"),
            Link(href=url(request, "ogc_conformance"), rel="conformance", type=JSON,
                 title="conformance classes implemented"),
            Link(href=url(request, "ogc_collections"), rel="data", type=JSON, title="the feature collections"),
        ],
    )


def _rfc3339(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).isoformat()


def collection(request: Request, info: CollectionInfo, extent: Extent | None, *, tz: str,
               note: str | None = None) -> Collection:
    """A collection's metadata: its links, and its extent when it holds anything (times shown in ``tz``);
    ``note`` is added to the description."""
    model_extent = None
    if extent is not None and extent.bbox is not None:
        model_extent = ExtentModel(spatial=SpatialExtent(bbox=[list(extent.bbox)]))
        if info.timed and extent.interval is not None:
            model_extent.temporal = TemporalExtent(interval=[[_rfc3339(extent.interval[0], tz),
                                                              _rfc3339(extent.interval[1], tz)]])
    description = f"{info.description} {note}" if note else info.description
    return Collection(
        id=info.id, title=info.title, description=description, extent=model_extent,
        links=[
            Link(href=url(request, "ogc_collection", collection_id=info.id), rel="self", type=JSON,
                 title="this collection"),
            Link(href=url(request, "ogc_items", collection_id=info.id), rel="items", type=GEOJSON,
                 title=f"{info.id} as GeoJSON"),
        ],
    )


def items_links(request: Request, *, collection_id: str, offset: int, limit: int, returned: int,
                matched: int) -> list[dict[str, str]]:
    """self, collection, and next/prev pages (the request's own query with another offset); no prev when
    nothing matches, and the prev of a page past the end is the last page."""
    links = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON, "title": "this page"},
        {"href": url(request, "ogc_collection", collection_id=collection_id), "rel": "collection", "type": JSON,
         "title": "the collection"},
    ]
    if offset + returned < matched and returned > 0:
        links.append({"href": str(request.url.include_query_params(offset=offset + returned, limit=limit)),
                      "rel": "next", "type": GEOJSON, "title": "next page"})
    if offset > 0 and matched > 0:  # a page past the end goes back to the last page that has features
        back = max(0, min(offset - limit, (matched - 1) // limit * limit))
        links.append({"href": str(request.url.include_query_params(offset=back, limit=limit)),
                      "rel": "prev", "type": GEOJSON, "title": "previous page"})
    return links


def feature_collection(features: str, *, links: list[dict[str, str]], returned: int, matched: int) -> bytes:
    """A GeoJSON FeatureCollection around the features' JSON text, which is sent on as it came from storage."""
    head = json.dumps({
        "type": "FeatureCollection", "numberMatched": matched, "numberReturned": returned,
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"), "links": links,
    }, ensure_ascii=False)
    return (head[:-1] + ',"features":' + features + "}").encode()


def feature(feature_json: str, *, links: list[dict[str, str]]) -> bytes:
    """A single GeoJSON Feature with its links added."""
    return (feature_json.rstrip()[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}").encode()


def feature_links(request: Request, *, collection_id: str) -> list[dict[str, str]]:
    return [
        {"href": str(request.url), "rel": "self", "type": GEOJSON, "title": "this feature"},
        {"href": url(request, "ogc_collection", collection_id=collection_id), "rel": "collection", "type": JSON,
         "title": "the collection"},
    ]
