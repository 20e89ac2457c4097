"""Photos of a case over HTTP: EXIF time and position kept, stored once under the content hash, served only to
those who may read the case; non-images, oversized files, pixel bombs, broken images and hostile EXIF refused,
naming ``file``, with nothing stored."""

from __future__ import annotations

import hashlib
import io
import struct
import uuid
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.credentials import issue_tokens, signing_secret
from gis_enforcement.admin.platform import Platform
from gis_enforcement.admin.users import add_user
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_platform, get_session
from gis_enforcement.api.routers.dispatch import get_clock
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.dispatch.helpers import T0, new_case


def jpeg(color: tuple[int, int, int] = (200, 50, 50), *, size: tuple[int, int] = (64, 48), gps: bool = True) -> bytes:
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[271], exif[272] = "HUAWEI", "P60 Pro"
    sub = exif.get_ifd(0x8769)
    sub[36867], sub[36881] = "2026:05:12 23:05:10", "+08:00"
    if gps:
        g = exif.get_ifd(0x8825)
        g[1], g[2], g[3], g[4] = "N", (40.0, 8.0, 30.0), "E", (117.0, 7.0, 12.5)
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb's signature)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


@pytest.fixture
def photos_dir(tmp_path: Path) -> Path:
    return tmp_path / "photos"


@pytest.fixture
def client(platform: Platform, db: Session, photos_dir: Path) -> Iterator[TestClient]:
    settings = platform.settings.model_copy(update={"data_dir": photos_dir.parent, "photo_max_bytes": 200_000,
                                                    "photo_max_pixels": 4_000_000,
                                                    "jwt_secret": signing_secret(platform.settings)})
    app = create_app(settings, platform=platform)
    shadow = type("P", (), {})()
    shadow.__dict__.update({k: getattr(platform, k) for k in ("catalog", "locators", "calendar", "url")})
    shadow.settings = settings
    app.dependency_overrides[get_platform] = lambda: shadow
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_clock] = lambda: (lambda: T0 + timedelta(minutes=30))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def case(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> tuple[str, str]:
    v = jurisdiction.villages.iloc[20]
    inc = new_case(db, locator, catalog, v.geometry.x, v.geometry.y, category="MIN-02")
    return str(inc.id), str(v["township_code"])


def bearer(db: Session, platform: Platform, catalog: Catalog, name: str, role: str, unit: str) -> dict[str, str]:
    user = add_user(db, catalog=catalog, username=name, password="photo-test-password", role=role, unit=unit)
    return {"Authorization": f"Bearer {issue_tokens(db, platform.settings, user).access_token}"}


def test_upload_keeps_exif_stores_once_serves_in_scope(client: TestClient, db: Session, platform: Platform,
                                                       catalog: Catalog, case: tuple[str, str],
                                                       photos_dir: Path) -> None:
    case_id, town = case
    mine = bearer(db, platform, catalog, "town-a", "township_dispatcher", town)
    data = jpeg()
    r = client.post(f"/api/v1/incidents/{case_id}/photos", headers=mine,
                    files={"file": ("../../etc/passwd", data, "text/plain")})
    assert r.status_code == 201, r.text
    body = r.json()
    sha = hashlib.sha256(data).hexdigest()
    assert body["sha256"] == sha and body["media_type"] == "image/jpeg" and (body["width"], body["height"]) == (64, 48)
    assert body["taken_at"] == "2026-05-12T23:05:10+08:00" and body["camera"] == "HUAWEI P60 Pro"
    assert body["lon"] == pytest.approx(117.120139, abs=1e-6) and body["lat"] == pytest.approx(40.141667, abs=1e-6)
    # stored once, under its hash only; the client's name went nowhere
    files = [p for p in photos_dir.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [f"{sha}.jpg"] and files[0].read_bytes() == data
    # the same photo again: 200, nothing new, one event in the case's record
    again = client.post(f"/api/v1/incidents/{case_id}/photos", headers=mine, files={"file": ("x.jpg", data)})
    assert again.status_code == 200 and again.json()["new"] is False
    events = db.execute(text("SELECT actor, payload->>'sha256' FROM case_event WHERE incident_id = :i AND "
                             "kind = 'photo'"), {"i": case_id}).all()
    assert events == [("town-a", sha)]
    listed = client.get(f"/api/v1/incidents/{case_id}/photos", headers=mine).json()
    assert listed["count"] == 1 and listed["data"][0]["added_by"] == "town-a"
    got = client.get(f"/api/v1/photos/{sha}", headers=mine)
    assert got.status_code == 200 and got.content == data and got.headers["content-type"] == "image/jpeg"
    # another township neither sees it nor adds to the case
    other_town = next(c for c in db.execute(text("SELECT code FROM township")).scalars() if c != town)
    other = bearer(db, platform, catalog, "town-b", "township_dispatcher", other_town)
    assert client.get(f"/api/v1/photos/{sha}", headers=other).status_code == 404
    assert client.get(f"/api/v1/incidents/{case_id}/photos", headers=other).status_code == 403
    r = client.post(f"/api/v1/incidents/{case_id}/photos", headers=other, files={"file": ("y.jpg", jpeg((1, 2, 3)))})
    assert r.status_code == 403
    assert client.get(f"/api/v1/photos/{'0' * 64}", headers=mine).status_code == 404
    assert client.get("/api/v1/photos/not-a-hash", headers=mine).status_code == 422


@pytest.mark.parametrize("payload, status, words", [
    (b"just some text, not an image at all", 415, "not a JPEG"),
    (b"%PDF-1.7\n" + b"0" * 100, 415, "not a JPEG"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 200, 422, "not a readable JPEG image"),  # a JPEG that is not one
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, 422, "not a readable PNG image: damaged or cut short"),  # cut short
    (b"", 422, "empty"),
])
def test_non_images_are_refused(client: TestClient, db: Session, platform: Platform, catalog: Catalog,
                                case: tuple[str, str], photos_dir: Path, payload: bytes, status: int,
                                words: str) -> None:
    case_id, town = case
    head = bearer(db, platform, catalog, "town-a", "township_dispatcher", town)
    r = client.post(f"/api/v1/incidents/{case_id}/photos", headers=head,
                    files={"file": ("photo.jpg", payload, "image/jpeg")})
    assert r.status_code == status, r.text
    assert r.json()["error"]["field"] == "file" and words in r.json()["error"]["message"]
    assert "object at 0x" not in r.json()["error"]["message"]  # nothing of the server's insides
    if status == 415:  # the format refusal carries what a page words it from
        assert r.json()["error"]["detail"] == {"kind": "format",
                                               "accepted": ["image/jpeg", "image/png", "image/webp"]}
    assert not photos_dir.exists() or not any(p.is_file() for p in photos_dir.rglob("*"))
    assert db.execute(text("SELECT count(*) FROM photo")).scalar_one() == 0


def test_bombs_and_oversized_files_are_refused(client: TestClient, db: Session, platform: Platform,
                                               catalog: Catalog, case: tuple[str, str]) -> None:
    case_id, town = case
    head = bearer(db, platform, catalog, "town-a", "township_dispatcher", town)
    url = f"/api/v1/incidents/{case_id}/photos"
    bomb = png_header_only(50_000, 50_000)  # 2.5 G pixels claimed in a few bytes
    r = client.post(url, headers=head, files={"file": ("bomb.png", bomb)})
    assert r.status_code == 422 and "pixels" in r.json()["error"]["message"]
    big = jpeg(size=(1200, 900)) + b"\x00" * 300_000
    r = client.post(url, headers=head, files={"file": ("big.jpg", big)})
    assert r.status_code == 413 and r.json()["error"]["field"] == "file"
    # hostile EXIF: an APP1 segment whose IFD points far outside itself and loops
    good = jpeg(gps=False)
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2) + \
        struct.pack("<HHII", 0x8769, 4, 1, 8) + struct.pack("<HHII", 0x8825, 4, 1, 0x7FFFFFF0) + struct.pack("<I", 8)
    app1 = b"Exif\x00\x00" + tiff
    evil = good[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + good[2:]
    r = client.post(url, headers=head, files={"file": ("evil.jpg", evil)})
    assert r.status_code in (201, 422), r.text  # kept without the broken EXIF, or refused — never a 500
    if r.status_code == 201:
        assert r.json()["lon"] is None and r.json()["taken_at"] in (None, "2026-05-12T23:05:10+08:00")
    assert db.execute(text("SELECT count(*) FROM incident_photo WHERE incident_id = :i"),
                      {"i": case_id}).scalar_one() == (1 if r.status_code == 201 else 0)


def test_patrols_add_to_their_own_reports_only(client: TestClient, db: Session, platform: Platform,
                                               catalog: Catalog, case: tuple[str, str]) -> None:
    case_id, town = case
    patrol = bearer(db, platform, catalog, "patrol-a", "patrol", town)
    r = client.post(f"/api/v1/incidents/{case_id}/photos", headers=patrol, files={"file": ("p.jpg", jpeg())})
    assert r.status_code == 403
    db.execute(text("UPDATE incident SET created_by = 'patrol-a' WHERE id = :i"), {"i": case_id})
    r = client.post(f"/api/v1/incidents/{case_id}/photos", headers=patrol, files={"file": ("p.jpg", jpeg())})
    assert r.status_code == 201
    assert client.post(f"/api/v1/incidents/{uuid.uuid4()}/photos", headers=patrol,
                       files={"file": ("p.jpg", jpeg())}).status_code == 404
