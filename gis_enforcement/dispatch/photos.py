"""Photos of a case: checked, read for their EXIF time and position, stored once under their content hash, and
recorded in the case's record.

Refused, naming ``file``: anything that is not a JPEG, PNG or WebP by its own bytes (415, ``detail``
``{"kind": "format", "accepted": ["image/jpeg", "image/png", "image/webp"]}``) — whatever name or type the client
gave; more than ``max_bytes`` (413); images of more than ``max_pixels`` (decompression bombs, refused
from the header before any decoding), truncated or corrupt images, and EXIF that cannot be read or is
implausibly large (EXIF bombs) (422). The client's file name is never used.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from PIL import Image, UnidentifiedImageError

from gis_enforcement.dispatch.record import CaseRecorder
from gis_enforcement.domain.photo import exif_degrees, exif_time
from gis_enforcement.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMedia
from gis_enforcement.storage import Session, dispatch_repo, photo_repo, photo_store

__all__ = ["ACCEPTED_TYPES", "PhotoAdded", "add_photo", "sniff"]

#: magic bytes → media type (checked against what Pillow finds)
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg", "JPEG"), (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"))
#: the media types a photo may be, as a format refusal names them (``detail.accepted``)
ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp")
_MAX_EXIF_TAGS = 2_000
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825


@dataclass(frozen=True, slots=True)
class PhotoAdded:
    sha256: str
    media_type: str
    bytes: int
    width: int
    height: int
    taken_at: datetime | None
    lon: float | None
    lat: float | None
    camera: str | None
    new: bool  # False when this photo was already on the case


def sniff(data: bytes) -> tuple[str, str] | None:
    """(media type, Pillow format) from the file's own first bytes, or None."""
    for magic, media_type, fmt in _MAGIC:
        if data.startswith(magic):
            return media_type, fmt
    if len(data) > 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "WEBP"
    return None


def _read(data: bytes, fmt: str, max_pixels: int, tz: str) -> tuple[int, int, datetime | None, float | None,
                                                                    float | None, str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise InvalidInput(f"{width}×{height} pixels is more than a photo needs "
                                       f"(at most {max_pixels:,})", field="file")
                img.verify()  # structure and checksums, without decoding the pixels
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                exif = img.getexif()
                tags = dict(exif)
                sub = dict(exif.get_ifd(_EXIF_IFD)) if _EXIF_IFD in tags else {}
                gps = dict(exif.get_ifd(_GPS_IFD)) if _GPS_IFD in tags else {}
        except InvalidInput:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise InvalidInput(f"more pixels than a photo needs (at most {max_pixels:,})", field="file") from None
        except UnidentifiedImageError:
            raise InvalidInput(f"not a readable {fmt} image: damaged or cut short", field="file") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise InvalidInput(f"not a readable {fmt} image: {exc}", field="file") from None
        except Exception as exc:  # Pillow's EXIF parser on hostile input
            raise InvalidInput(f"its EXIF cannot be read ({type(exc).__name__})", field="file") from None
    if len(tags) + len(sub) + len(gps) > _MAX_EXIF_TAGS:
        raise InvalidInput("its EXIF is implausibly large", field="file")
    taken = exif_time(sub.get(36867) or tags.get(306), sub.get(36881), tz)
    lat = exif_degrees(gps.get(2), gps.get(1), limit=90)
    lon = exif_degrees(gps.get(4), gps.get(3), limit=180)
    if lat is None or lon is None:
        lat = lon = None
    make, model = (str(tags.get(k) or "").strip("\x00 ")[:60] for k in (271, 272))
    camera = " ".join(p for p in (make, model) if p) or None
    return width, height, taken, lon, lat, camera


def add_photo(session: Session, *, photos_dir: Path, incident_id: UUID, data: bytes, added_by: str | None,
              at: datetime, tz: str, max_bytes: int, max_pixels: int) -> PhotoAdded:
    """Check, store and attach one photo to a case (no commit); the same photo twice is attached once."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"a photo is at most {max_bytes:,} bytes", field="file")
    if not data:
        raise InvalidInput("the file is empty", field="file")
    kind = sniff(data)
    if kind is None:
        raise UnsupportedMedia("not a JPEG, PNG or WebP image", field="file", kind="format",
                               accepted=list(ACCEPTED_TYPES))
    media_type, fmt = kind
    width, height, taken, lon, lat, camera = _read(data, fmt, max_pixels, tz)
    cases = dispatch_repo.lock_cases(session, incident_ids=[incident_id])
    if incident_id not in cases:
        raise NotFound(f"no incident {incident_id}", field="incident_id")
    sha = hashlib.sha256(data).hexdigest()
    photo_repo.insert_photo(session, sha256=sha, media_type=media_type, size=len(data), width=width, height=height,
                            taken_at=taken, lon=lon, lat=lat, camera=camera)
    new = photo_repo.link_photo(session, incident_id=incident_id, sha256=sha, added_by=added_by, at=at)
    if new:
        photo_store.write_photo(photos_dir, sha, media_type, data)
        payload: dict[str, Any] = {"sha256": sha, "media_type": media_type, "taken_at": taken, "lon": lon,
                                   "lat": lat}
        CaseRecorder(session, cases).add(incident_id, at=at, actor=added_by, kind="photo", payload=payload)
    return PhotoAdded(sha, media_type, len(data), width, height, taken, lon, lat, camera, new)
