"""Local tilesets beside the maps: an MBTiles basemap published into ``<maps folder>/tiles/`` and read back.

A map page drawn on a local MBTiles basemap asks for ``tiles/<name>/{z}/{x}/{y}.<ext>`` — relative to the page,
so the same page works opened from disk (``file://``, where a browser can only read plain files) and served by
the app at ``/maps/<page>`` (where that URL is ``/maps/tiles/<name>/…``). :func:`publish_tileset` puts both forms
next to the maps: a copy of the ``.mbtiles`` and its tiles unpacked to XYZ files. :func:`find_tile` is what the
app serves: the unpacked file when there is one, else the tile read from ``tiles/<name>.mbtiles`` — the same
bytes either way. Any ``{z}/{x}/{y}.<ext>`` folder placed in ``tiles/`` is served too.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.storage.mbtiles import MEDIA_TYPES, iter_tiles, read_metadata, read_tile, tile_format

__all__ = ["TILESET_NAME", "find_tile", "publish_tileset", "tile_url", "tileset_name"]

#: a tileset's name: letters, digits, ``-`` and ``_`` (it is a path segment, so nothing that could leave the folder)
TILESET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,80}$")
_DONE = ".published"  # written last into an unpacked folder: its content is whole, and from which source


def tileset_name(mbtiles: str | Path) -> str:
    """The name a tileset is published under: the file's stem with anything but letters, digits, ``-`` and ``_``
    replaced by ``-`` (``basemap`` when nothing is left)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(mbtiles).stem).strip("-_")[:80]
    return name or "basemap"


def tile_url(name: str, fmt: str) -> str:
    """The relative tile URL template of a published tileset, as a map page next to ``tiles/`` asks for it."""
    return f"tiles/{name}/{{z}}/{{x}}/{{y}}.{fmt}"


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size} {st.st_mtime_ns}"


def publish_tileset(mbtiles: str | Path, maps_dir: str | Path) -> str:
    """Copy the MBTiles file into ``maps_dir/tiles/<name>.mbtiles`` and unpack its tiles to
    ``maps_dir/tiles/<name>/{z}/{x}/{y}.<ext>`` (XYZ rows, as Leaflet asks for them); returns ``<name>``. Both are
    replaced whole (built aside, then renamed into place) and left alone when the source has not changed since.
    Refuses a file that is not a raster MBTiles (:class:`InvalidInput`, field ``basemap``)."""
    source = Path(mbtiles)
    info = read_metadata(source)
    name = tileset_name(source)
    tiles_dir = Path(maps_dir) / "tiles"
    tiles_dir.mkdir(parents=True, exist_ok=True)
    copy, folder = tiles_dir / f"{name}.mbtiles", tiles_dir / name
    stamp = f"{source.resolve()} {_stamp(source)}"
    if folder.is_dir() and (folder / _DONE).is_file() and (folder / _DONE).read_text("utf-8") == stamp \
            and copy.is_file() and _stamp(copy) == _stamp(source):
        return name

    if not (copy.exists() and copy.resolve() == source.resolve()):
        fd, part = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=tiles_dir)
        os.close(fd)
        try:
            shutil.copy2(source, part)
            os.replace(part, copy)
        finally:
            Path(part).unlink(missing_ok=True)

    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=tiles_dir))
    staging.chmod(0o755)  # mkdtemp makes it private; the folder is to be read by whoever serves the maps
    try:
        made: set[Path] = set()
        for z, x, y, data in iter_tiles(source):
            column = staging / str(z) / str(x)
            if column not in made:
                column.mkdir(parents=True, exist_ok=True)
                made.add(column)
            (column / f"{y}.{info.format}").write_bytes(data)
        (staging / _DONE).write_text(stamp, "utf-8")
        old = None
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old.", dir=tiles_dir))
            os.replace(folder, old / name)
        os.replace(staging, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return name


def find_tile(maps_dir: str | Path, name: str, z: int, x: int, y: int, ext: str) -> tuple[Path | bytes, str]:
    """The tile ``z``/``x``/``y`` (XYZ) of the tileset ``name`` under ``maps_dir/tiles``, with its media type:
    a file of an unpacked (or hand-made ``{z}/{x}/{y}``) folder, else the bytes read from ``<name>.mbtiles``.
    :class:`InvalidInput` for a name or extension that cannot be a tileset's; :class:`NotFound` otherwise."""
    if not TILESET_NAME.match(name):
        raise InvalidInput("a tileset name is letters, digits, - and _", field="name")
    fmt = tile_format(ext)
    if fmt is None:
        raise InvalidInput(f"tiles are {', '.join(MEDIA_TYPES)}, not {ext!r}", field="ext")
    tiles_dir = Path(maps_dir) / "tiles"
    folder, mbtiles = tiles_dir / name, tiles_dir / f"{name}.mbtiles"
    if folder.is_dir():
        for suffix in dict.fromkeys((ext, fmt)):
            path = folder / str(z) / str(x) / f"{y}.{suffix}"
            if min(z, x, y) >= 0 and path.is_file():
                return path, MEDIA_TYPES[fmt]
    if mbtiles.is_file():
        try:
            info = read_metadata(mbtiles)
        except InvalidInput as exc:  # the server's file, not the client's request, is at fault
            raise NotFound(f"tileset {name!r} cannot be read: {exc.message}", field="name") from exc
        data = read_tile(mbtiles, z, x, y) if info.format == fmt else None
        if data is not None:
            return data, MEDIA_TYPES[fmt]
    elif not folder.is_dir():
        raise NotFound(f"no tileset {name!r} in the maps folder's tiles/", field="name")
    raise NotFound(f"tileset {name!r} has no tile {z}/{x}/{y}.{ext}", field="tile")
