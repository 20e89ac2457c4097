"""The demo's site photographs: small synthetic JPEGs that carry what a phone's photo carries — the time it was
taken and where (EXIF DateTimeOriginal with its offset, GPS) — so that the season's enforcement records cite
photos uploaded to their cases through the real photo path, as an officer's do.

The picture itself is a plain scene (sky, ground, a site block, a stripe for the slot) drawn from the seed; it
is demo data, not evidence. Reproducible: the same seed, time and place give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

from PIL import Image, ImageDraw

__all__ = ["PHOTO_MAX_BYTES", "PHOTO_MAX_PIXELS", "site_photo"]

SIZE = (160, 120)
#: the limits the demo's uploads are checked against (its photos are far below them)
PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS = 1_000_000, 1_000_000
_SLOT_COLOUR = {"before": (200, 60, 50), "after": (40, 150, 70), "evidence": (230, 170, 30)}


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60, 2)
    return float(d), float(m), s


def site_photo(*seed: object, slot: str, taken_at: datetime, lon: float, lat: float) -> bytes:
    """A JPEG of about 2 kB for the photo ``slot`` (before / after / evidence) taken at ``taken_at`` (aware) at
    ``lon``/``lat`` (WGS84)."""
    h = hashlib.sha256(":".join(str(p) for p in (*seed, slot)).encode()).digest()
    w, ht = SIZE
    img = Image.new("RGB", SIZE, (150 + h[0] % 60, 180 + h[1] % 50, 220))
    draw = ImageDraw.Draw(img)
    horizon = 45 + h[2] % 30
    draw.rectangle((0, horizon, w, ht), fill=(110 + h[3] % 60, 95 + h[4] % 40, 70))
    x0, y0 = 20 + h[5] % 60, horizon - 20 - h[6] % 20
    draw.rectangle((x0, y0, x0 + 40 + h[7] % 40, horizon + 10), fill=(90 + h[8] % 80, 90, 100 + h[9] % 60))
    draw.rectangle((0, ht - 8, w, ht), fill=_SLOT_COLOUR.get(slot, (128, 128, 128)))
    exif = Image.Exif()
    exif[271], exif[272] = "gis_enforcement demo", "synthetic"
    local = taken_at.isoformat()
    sub = exif.get_ifd(0x8769)
    sub[36867] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    sub[36881] = local[-6:] if local[-6] in "+-" else "+00:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("N" if lat >= 0 else "S"), _dms(lat)
    gps[3], gps[4] = ("E" if lon >= 0 else "W"), _dms(lon)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70, exif=exif)
    return buf.getvalue()
