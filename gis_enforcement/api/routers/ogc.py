"""/ogc — OGC API – Features, Part 1 Core with GeoJSON: incidents, jurisdiction layers and hot-spot cells for
QGIS, GDAL (``OAPIF:``) and any other client of the standard.

Pages come from storage as ready GeoJSON text and are sent on as they are; paging is by ``offset`` in a stable
order, with absolute ``next``/``prev`` links built from the request.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response

from gis_enforcement.api.auth import ReadsIncidents
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.filter_codes import check_category, check_status, check_township
from gis_enforcement.api.ogc_links import (
    COLLECTIONS,
    CONFORMANCE,
    GEOJSON,
    Collection,
    CollectionInfo,
    Collections,
    Conformance,
    LandingPage,
    Link,
    collection,
    feature,
    feature_collection,
    feature_links,
    items_links,
    landing_page,
    url,
)
from gis_enforcement.api.ogc_params import (
    ITEMS_PARAMETERS,
    IncidentProperties,
    ItemsParams,
    check_format,
    parse_bbox,
    parse_datetime,
    refuse_unknown,
)
from gis_enforcement.api.schemas import ErrorResponse
from gis_enforcement.domain.access import Caller, IncidentScope, incident_scope
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.storage import Session, ogc_repo
from gis_enforcement.storage.ogc_repo import Extent

router = APIRouter(prefix="/ogc", tags=["ogc"])

ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorResponse} for s in (400, 401, 403, 404, 503)}
GEOJSON_OK: dict[str, Any] = {"description": "GeoJSON", "content": {GEOJSON: {}}}


def _incident_scope(caller: Caller) -> IncidentScope:
    """The incidents the caller may see (every collection needs a signed-in caller; only incidents are scoped)."""
    return incident_scope(caller)


def _info(collection_id: str) -> CollectionInfo:
    info = COLLECTIONS.get(collection_id)
    if info is None:
        raise NotFound(f"no collection {collection_id!r}; the collections are {', '.join(COLLECTIONS)}",
                       field="collection_id")
    return info


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _hotspot_note(session: Session, tz: str) -> str:
    run = ogc_repo.latest_hotspot_run(session)
    if run is None:
        return "No run is stored yet."
    return f"Run {run['id']} of {run['created_at'].astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}, {run['n_cells']} cells."


def _collection(request: Request, session: Session, info: CollectionInfo, tz: str, caller: Caller,
                layer_extents: dict[str, Extent] | None = None) -> Collection:
    extent: Extent | None
    if info.id == "incidents":
        extent = ogc_repo.incident_extent(session, scope=_incident_scope(caller))
    else:
        extent = (layer_extents or ogc_repo.layer_extents(session)).get(info.id)
    note = _hotspot_note(session, tz) if info.id == "hotspot_cells" else None
    return collection(request, info, extent, tz=tz, note=note)


@router.get("", operation_id="ogc_landing_page", name="ogc_landing_page", response_model=LandingPage,
            response_model_exclude_none=True, summary="OGC API – Features landing page")
def get_landing_page(request: Request, caller: ReadsIncidents) -> LandingPage:
    """Links to the API definition, the conformance classes and the collections."""
    refuse_unknown(request.query_params, ("f",))
    return landing_page(request)


@router.get("/", include_in_schema=False, response_model=LandingPage, response_model_exclude_none=True)
def get_landing_page_slash(request: Request, caller: ReadsIncidents) -> LandingPage:
    # clients that join paths to a base ending in '/' (OWSLib) ask for /ogc/ first
    refuse_unknown(request.query_params, ("f",))
    return landing_page(request)


@router.get("/conformance", operation_id="ogc_conformance", name="ogc_conformance", response_model=Conformance,
            summary="Conformance classes implemented")
def get_conformance(request: Request, caller: ReadsIncidents) -> Conformance:
    """Core, GeoJSON and OpenAPI of OGC API – Features Part 1."""
    refuse_unknown(request.query_params, ("f",))
    return Conformance(conformsTo=list(CONFORMANCE))


@router.get("/collections", operation_id="ogc_collections", name="ogc_collections", response_model=Collections,
            response_model_exclude_none=True, responses=ERRORS, summary="The feature collections")
def get_collections(request: Request, session: SessionDep, platform: PlatformDep,
                    caller: ReadsIncidents) -> Collections:
    """Every collection with its extent (CRS84 box; for incidents also the observation interval)."""
    refuse_unknown(request.query_params, ("f",))
    extents = ogc_repo.layer_extents(session)
    tz = platform.settings.timezone
    return Collections(
        links=[Link(href=url(request, "ogc_collections"), rel="self", type="application/json",
                    title="this document")],
        collections=[_collection(request, session, info, tz, caller, extents) for info in COLLECTIONS.values()],
    )


@router.get("/collections/{collection_id}", operation_id="ogc_collection", name="ogc_collection",
            response_model=Collection, response_model_exclude_none=True, responses=ERRORS,
            summary="One feature collection")
def get_collection(collection_id: str, request: Request, session: SessionDep, platform: PlatformDep,
                   caller: ReadsIncidents) -> Collection:
    """A collection's description, extent and links; 404 for an unknown id."""
    refuse_unknown(request.query_params, ("f",))
    return _collection(request, session, _info(collection_id), platform.settings.timezone, caller)


@router.get("/collections/{collection_id}/items", operation_id="ogc_items", name="ogc_items",
            response_class=Response, responses={200: GEOJSON_OK, **ERRORS},
            summary="Features of a collection (GeoJSON, paged)")
def get_items(
    collection_id: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    params: Annotated[ItemsParams, Depends()],
    properties: Annotated[IncidentProperties, Depends()],
    caller: ReadsIncidents,
) -> Response:
    """Features in id (or code) order, filtered by ``bbox`` and — for incidents — ``datetime`` and properties;
    ``numberMatched`` counts all that match, ``next``/``prev`` links walk the pages. A parameter not among
    these is refused (400), as OGC API – Features requires."""
    info = _info(collection_id)
    refuse_unknown(request.query_params, ITEMS_PARAMETERS)
    check_format(params.f)
    bbox = parse_bbox(params.bbox)
    tz = platform.settings.timezone
    start, end = parse_datetime(params.datetime, tz=tz)  # checked for every collection, used where there is time
    limit = params.page_size
    if info.id == "incidents":
        _check_properties(session, platform, properties.given())
        page = ogc_repo.incident_page(session, bbox=bbox, start=start, end=end, **properties.given(),
                                      scope=_incident_scope(caller), limit=limit, offset=params.offset, tz=tz)
    else:
        given = properties.given()
        if given:
            name = next(iter(given))
            raise InvalidInput(f"{name} filters only the incidents collection", field=name)
        page = ogc_repo.layer_page(session, collection=info.id, bbox=bbox, limit=limit, offset=params.offset)
    links = items_links(request, collection_id=info.id, offset=params.offset, limit=limit,
                        returned=page.number_returned, matched=page.number_matched)
    body = feature_collection(page.features, links=links, returned=page.number_returned,
                              matched=page.number_matched)
    return Response(body, media_type=GEOJSON)


def _check_properties(session: Session, platform: Any, given: dict[str, str]) -> None:
    """The incident filters checked as ``/api/v1/incidents`` checks them (400 here, naming the parameter)."""
    check_category(platform.catalog, given.get("category"))
    check_status(given.get("status"))
    check_township(session, given.get("township_code"), field="township_code")


@router.get("/collections/{collection_id}/items/{feature_id}", operation_id="ogc_item", name="ogc_item",
            response_class=Response, responses={200: GEOJSON_OK, **ERRORS}, summary="One feature (GeoJSON)")
def get_item(collection_id: str, feature_id: str, request: Request, session: SessionDep,
             platform: PlatformDep, caller: ReadsIncidents) -> Response:
    """One feature by its id (incidents: the uuid; layers: the code; hot-spot cells: the cell id)."""
    info = _info(collection_id)
    refuse_unknown(request.query_params, ("f",))
    found: str | None = None
    if info.id == "incidents":
        incident_id = _uuid(feature_id)
        if incident_id is not None:
            found = ogc_repo.incident_feature(session, incident_id=incident_id, scope=_incident_scope(caller),
                                              tz=platform.settings.timezone)
    elif "\x00" not in feature_id:  # no stored code has a NUL (PostgreSQL text cannot hold one)
        found = ogc_repo.layer_feature(session, collection=info.id, feature_id=feature_id)
    if found is None:
        raise NotFound(f"no feature {feature_id!r} in {info.id}", field="feature_id")
    return Response(feature(found, links=feature_links(request, collection_id=info.id)), media_type=GEOJSON)
