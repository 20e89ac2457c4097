"""MBTiles tilesets (one SQLite file of map tiles), read-only, in the XYZ tile numbering Leaflet uses.

An MBTiles file (spec 1.3) holds ``metadata(name, value)`` and ``tiles(zoom_level, tile_column, tile_row,
tile_data)``; its rows are numbered TMS-style, from the south, while Leaflet (and OSM, and the ``{z}/{x}/{y}``
folders) count ``y`` from the north: ``y = 2**z - 1 - tile_row``. Every function here takes and gives XYZ ``y``;
the flip happens in this module and nowhere else. Files are opened read-only (``mode=ro``): a basemap is never
written to. A file that is not a raster MBTiles is refused with the reason, as bad ``basemap`` input.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gis_enforcement.errors import InvalidInput

__all__ = ["MEDIA_TYPES", "MBTilesInfo", "iter_tiles", "read_metadata", "read_tile", "tile_format"]

#: tile format (as named in ``metadata.format`` and in tile file names) → HTTP media type
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
_ALIASES = {"jpeg": "jpg"}
_SQLITE_HEADER = b"SQLite format 3\x00"
_MAX_ZOOM = 30  # 2**30 tiles a side; beyond that nothing is a tile (and 1 << z would be unbounded)


@dataclass(frozen=True, slots=True)
class MBTilesInfo:
    """What a tileset says about itself: tile ``format`` (png, jpg or webp), the zoom levels it holds, its
    ``bounds`` (west, south, east, north in degrees, when given) and the text to credit its source with."""

    name: str
    format: str
    minzoom: int
    maxzoom: int
    attribution: str = ""
    bounds: tuple[float, float, float, float] | None = None
    values: dict[str, str] = field(default_factory=dict)  # every metadata row as stored

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


def tile_format(name: str) -> str | None:
    """The tile format a format name or file extension stands for (``JPEG`` → ``jpg``), or None if not raster."""
    fmt = name.strip().lower()
    fmt = _ALIASES.get(fmt, fmt)
    return fmt if fmt in MEDIA_TYPES else None


def _refuse(path: Path, reason: str) -> InvalidInput:
    return InvalidInput(f"{path} is not a usable MBTiles basemap: {reason}", field="basemap")


@contextmanager
def _open(path: str | Path) -> Iterator[sqlite3.Connection]:
    p = Path(path)
    if not p.is_file():
        raise _refuse(p, "no such file")
    with p.open("rb") as f:
        if f.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            raise _refuse(p, "not an SQLite database")
    try:
        con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _refuse(p, str(exc)) from exc
    try:
        yield con
    except sqlite3.DatabaseError as exc:
        raise _refuse(p, str(exc)) from exc
    finally:
        con.close()


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _int(text: str | None) -> int | None:
    try:
        return int(float(text)) if text is not None else None
    except ValueError:
        return None


def _bounds(text: str | None) -> tuple[float, float, float, float] | None:
    try:
        w, s, e, n = (float(v) for v in (text or "").split(","))
    except ValueError:
        return None
    return (w, s, e, n) if -180 <= w < e <= 180 and -90 <= s < n <= 90 else None


def read_metadata(path: str | Path) -> MBTilesInfo:
    """The metadata of the MBTiles file at ``path``, checked: it must be SQLite with ``tiles`` and ``metadata``,
    hold at least one tile, and be raster (png, jpg or webp — vector ``pbf`` tiles cannot be drawn as a Leaflet
    basemap). A missing ``format`` is read from the first tile, missing zoom levels from the tiles themselves.
    Raises :class:`InvalidInput` (field ``basemap``) naming what is wrong."""
    p = Path(path)
    with _open(p) as con:
        present = {name for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name IN ('tiles', 'metadata')")}
        for table in ("metadata", "tiles"):
            if table not in present:
                raise _refuse(p, f"no {table} table")
        values = {str(k): str(v) for k, v in con.execute("SELECT name, value FROM metadata") if k and v is not None}
        lo, hi = con.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
        if lo is None:
            raise _refuse(p, "it holds no tiles")
        named = values.get("format", "").strip().lower()
        if not named:
            first = con.execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
            named = _sniff(bytes(first[0] or b"")) or ""
    fmt = tile_format(named)
    if named == "pbf":
        raise _refuse(p, "its tiles are vector tiles (pbf); a basemap needs png, jpg or webp")
    if fmt is None:
        raise _refuse(p, f"tile format {named or 'unknown'!r}; a basemap needs png, jpg or webp")
    minzoom, maxzoom = _int(values.get("minzoom")), _int(values.get("maxzoom"))
    return MBTilesInfo(
        name=values.get("name") or p.stem, format=fmt,
        minzoom=int(lo) if minzoom is None else max(minzoom, int(lo)),
        maxzoom=int(hi) if maxzoom is None else min(maxzoom, int(hi)),
        attribution=values.get("attribution", ""), bounds=_bounds(values.get("bounds")), values=values)


def read_tile(path: str | Path, z: int, x: int, y: int) -> bytes | None:
    """The tile at XYZ ``z``/``x``/``y`` (``y`` counted from the north, as in Leaflet's URLs), or None when the
    tileset does not hold it. The TMS row is ``2**z - 1 - y``."""
    if not (0 <= z <= _MAX_ZOOM and 0 <= x < 1 << z and 0 <= y < 1 << z):
        return None
    with _open(path) as con:
        row = con.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                          (z, x, (1 << z) - 1 - y)).fetchone()
    return bytes(row[0]) if row is not None and row[0] is not None else None


def iter_tiles(path: str | Path) -> Iterator[tuple[int, int, int, bytes]]:
    """Every tile of the tileset as ``(z, x, y, data)`` with XYZ ``y``, by zoom level then column."""
    with _open(path) as con:
        rows = con.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles "
                           "ORDER BY zoom_level, tile_column, tile_row")
        for z, x, row, data in rows:
            if data is not None and 0 <= z <= _MAX_ZOOM:
                yield int(z), int(x), (1 << int(z)) - 1 - int(row), bytes(data)
