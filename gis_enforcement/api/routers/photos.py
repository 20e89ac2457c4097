"""/api/v1/incidents/{id}/photos and /api/v1/photos/{sha256} — photos of a case, by content hash.

Upload as multipart (``file``); the image is checked by its own bytes, its EXIF time and position are read and
kept, and it is stored once under its SHA-256 (the client's file name is never used). A photo is served to
those who may read one of the cases it belongs to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from gis_enforcement.api.auth import AddsPhotos, ReadsIncidents, check_case_access
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.routers.dispatch import ClockDep
from gis_enforcement.api.schemas import ErrorResponse
from gis_enforcement.dispatch.photos import add_photo
from gis_enforcement.domain.access import CaseFacts, may_see_case
from gis_enforcement.errors import NotFound
from gis_enforcement.storage import photo_repo, photo_store, user_repo

router = APIRouter(prefix="/api/v1", tags=["photos"])
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorResponse} for s in (401, 403, 404, 413, 415, 422)}
Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="the photo's SHA-256 (hex)")]


class PhotoPublic(BaseModel):
    sha256: str
    url: str = Field(description="where the photo is served")
    media_type: str
    bytes: int
    width: int
    height: int
    taken_at: datetime | None = Field(description="EXIF DateTimeOriginal (with its offset, else Beijing time)")
    lon: float | None = Field(description="EXIF GPS longitude (WGS84)")
    lat: float | None
    camera: str | None
    added_by: str | None = None
    added_at: datetime | None = None
    new: bool | None = Field(default=None, description="false when the same photo was already on the case")


class PhotosPublic(BaseModel):
    data: list[PhotoPublic]
    count: int


def _public(row: dict[str, Any], tz: str, **extra: Any) -> PhotoPublic:
    zone = ZoneInfo(tz)
    taken = row.get("taken_at")
    return PhotoPublic(**{**{k: row.get(k) for k in ("sha256", "media_type", "bytes", "width", "height", "lon",
                                                       "lat", "camera", "added_by", "added_at")},
                          "taken_at": taken.astimezone(zone) if taken else None,
                          "url": f"/api/v1/photos/{row['sha256']}", **extra})


@router.post("/incidents/{incident_id}/photos", operation_id="add_photo", status_code=201, response_model=PhotoPublic,
             responses={200: {"description": "this photo was already on the case"}, **ERRORS},
             summary="Add a photo to a case (JPEG, PNG or WebP; EXIF time and position kept)")
async def upload_photo(incident_id: UUID, session: SessionDep, platform: PlatformDep, clock: ClockDep,
                       caller: AddsPhotos, response: Response,
                       file: Annotated[UploadFile, File(description="the photo")]) -> PhotoPublic:
    """201 with the photo's facts; 200 when the same photo (same bytes) was already on the case. The filer, the
    case's township and its departments may add photos."""
    check_case_access(session, caller, "photo.add", incident_id)
    settings = platform.settings
    data = await file.read(settings.photo_max_bytes + 1)  # never more than the limit is held
    added = add_photo(session, photos_dir=settings.photos_dir, incident_id=incident_id, data=data,
                      added_by=caller.username, at=clock(), tz=settings.timezone, max_bytes=settings.photo_max_bytes,
                      max_pixels=settings.photo_max_pixels)
    session.commit()
    response.status_code = 201 if added.new else 200
    row = {"sha256": added.sha256, "media_type": added.media_type, "bytes": added.bytes, "width": added.width,
           "height": added.height, "taken_at": added.taken_at, "lon": added.lon, "lat": added.lat,
           "camera": added.camera, "added_by": caller.username}
    return _public(row, settings.timezone, new=added.new)


@router.get("/incidents/{incident_id}/photos", operation_id="list_photos", response_model=PhotosPublic,
            responses=ERRORS, summary="A case's photos")
def list_photos(incident_id: UUID, session: SessionDep, platform: PlatformDep, caller: ReadsIncidents) -> PhotosPublic:
    check_case_access(session, caller, "incident.read", incident_id)
    rows = photo_repo.photos_of(session, incident_id=incident_id)
    return PhotosPublic(data=[_public(r, platform.settings.timezone) for r in rows], count=len(rows))


@router.get("/photos/{sha256}", operation_id="get_photo", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}, **ERRORS},
            summary="A photo's bytes")
def get_photo(sha256: Sha256, session: SessionDep, platform: PlatformDep, caller: ReadsIncidents) -> Response:
    """Served to callers who may read one of the photo's cases (404 otherwise: its existence is not told)."""
    row = photo_repo.get_photo(session, sha256=sha256)
    visible = False
    if row is not None:
        for case_id in photo_repo.cases_with_photo(session, sha256=sha256):
            facts = user_repo.case_facts(session, incident_id=case_id) or CaseFacts(None)
            if may_see_case(caller, facts):
                visible = True
                break
    data = photo_store.read_photo(platform.settings.photos_dir, sha256, row["media_type"]) if visible and row else None
    if data is None:
        raise NotFound(f"no photo {sha256}", field="sha256")
    return Response(data, media_type=row["media_type"] if row else "application/octet-stream",
                    headers={"Cache-Control": "private, max-age=86400", "ETag": f'"{sha256}"',
                             "X-Content-Type-Options": "nosniff"})
