"""Photo files on disk, named by their content hash only (``photos/ab/cd/<sha256>.<ext>``): no name a client
sent ever reaches the file system. Written whole or not at all (``files.replacing``), and synced to disk before
the name appears."""

from __future__ import annotations

import os
from pathlib import Path

from gis_enforcement.files import replacing

__all__ = ["photo_path", "read_photo", "write_photo"]

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def photo_path(root: Path, sha256: str, media_type: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256 hex digest")
    return root / sha256[:2] / sha256[2:4] / f"{sha256}.{EXTENSIONS[media_type]}"


def write_photo(root: Path, sha256: str, media_type: str, data: bytes) -> Path:
    """Keep the bytes under their hash (once: the same content is already there)."""
    path = photo_path(root, sha256, media_type)
    if path.exists():
        return path
    with replacing(path) as partial, partial.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return path


def read_photo(root: Path, sha256: str, media_type: str) -> bytes | None:
    path = photo_path(root, sha256, media_type)
    return path.read_bytes() if path.is_file() else None
