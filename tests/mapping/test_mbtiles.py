"""Local MBTiles basemaps: read (TMS rows flipped to XYZ), refused when not a raster MBTiles, published beside the
maps, served by the app at /maps/tiles/…, and drawn by Chromium from disk with the network off.

Every tile made here is a PNG that says which tile it is (a ``tEXt`` chunk ``z/x/y``, and its colour), so a
tile drawn or served in the wrong place shows up as the wrong bytes.
"""

from __future__ import annotations

import math
import sqlite3
import struct
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_platform
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.mapping.basemaps import basemap_from
from gis_enforcement.mapping.hotspots_map import write_hotspots_map
from gis_enforcement.mapping.tilesets import find_tile, publish_tileset, tileset_name
from gis_enforcement.storage.mbtiles import iter_tiles, read_metadata, read_tile
from tests.api.callers import as_admin
from tests.mapping.test_hotspots_map import _cells
from tests.mapping.test_incidents_map import pinggu  # noqa: F401 — fixture
from tests.mapping.test_render_chromium import browser  # noqa: F401 — fixture


def png(z: int, x: int, y: int, size: int = 256) -> bytes:
    """A solid PNG tile whose colour and ``tEXt`` chunk name its XYZ address."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rgb = bytes([(40 * z) % 256, (37 * x) % 256, (91 * y) % 256])
    raw = (b"\x00" + rgb * size) * size
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", f"zxy\x00{z}/{x}/{y}".encode()) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def png_address(data: bytes) -> str:
    at = data.index(b"tEXtzxy\x00") + len(b"tEXtzxy\x00")
    (length,) = struct.unpack(">I", data[at - 12:at - 8])
    return data[at:at - 4 + length].decode()


def make_mbtiles(path: Path, rows: Iterable[tuple[int, int, int, bytes]], **metadata: str) -> Path:
    """An MBTiles file from ``(z, x, tile_row, data)`` — ``tile_row`` as the file stores it (TMS, from the south)."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
    con.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
    con.executemany("INSERT INTO metadata VALUES (?, ?)", list(metadata.items()))
    con.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", list(rows))
    con.commit()
    con.close()
    return path


def xyz_tiles(z: int, x: int, y: int) -> tuple[int, int, int, bytes]:
    """The row to store for the XYZ tile z/x/y (its TMS row is counted from the south)."""
    return z, x, 2**z - 1 - y, png(z, x, y)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ (slippy-map) tile holding a point: x from the antimeridian eastwards, y from the north pole down."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """z0, the four tiles of z1 and one tile of z2 — stored with TMS rows."""
    rows = [xyz_tiles(0, 0, 0), *(xyz_tiles(1, x, y) for x in (0, 1) for y in (0, 1)), xyz_tiles(2, 3, 1)]
    return make_mbtiles(tmp_path / "world tiles.mbtiles", rows, name="World", format="png", minzoom="0",
                        maxzoom="2", bounds="-180,-85.0511,180,85.0511",
                        attribution='<a href="https://example.org">© Example</a> & co')


def test_metadata_is_read(world: Path) -> None:
    info = read_metadata(world)
    assert (info.name, info.format, info.media_type) == ("World", "png", "image/png")
    assert (info.minzoom, info.maxzoom) == (0, 2)
    assert info.bounds == (-180.0, -85.0511, 180.0, 85.0511)
    assert "© Example" in info.attribution and info.values["format"] == "png"


def test_tms_rows_are_flipped_to_xyz(world: Path) -> None:
    # at z1 the northern tiles are XYZ y=0 but TMS row 1: the file must be read upside down
    con = sqlite3.connect(world)
    (north,) = con.execute("SELECT tile_data FROM tiles WHERE zoom_level=1 AND tile_column=0 AND tile_row=1").fetchone()
    con.close()
    assert read_tile(world, 1, 0, 0) == north and png_address(north) == "1/0/0"
    for z, x, y in [(0, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1), (2, 3, 1)]:
        assert png_address(read_tile(world, z, x, y) or b"") == f"{z}/{x}/{y}"
    assert read_tile(world, 2, 3, 2) is None  # TMS row 1 at z2 is XYZ y=2: not stored
    assert read_tile(world, 2, 0, 0) is None and read_tile(world, 1, 2, 0) is None
    assert read_tile(world, 1, 0, -1) is None and read_tile(world, 99, 0, 0) is None
    assert {(z, x, y) for z, x, y, _ in iter_tiles(world)} == {(0, 0, 0), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1),
                                                              (2, 3, 1)}
    assert all(png_address(d) == f"{z}/{x}/{y}" for z, x, y, d in iter_tiles(world))


def test_missing_metadata_comes_from_the_tiles(tmp_path: Path) -> None:
    bare = make_mbtiles(tmp_path / "bare.mbtiles", [xyz_tiles(3, 6, 2), xyz_tiles(5, 26, 12)])
    info = read_metadata(bare)
    assert (info.format, info.minzoom, info.maxzoom, info.name, info.bounds) == ("png", 3, 5, "bare", None)
    jpeg = make_mbtiles(tmp_path / "j.mbtiles", [(0, 0, 0, b"\xff\xd8\xff\xe0 not really")], format="JPEG")
    assert read_metadata(jpeg).media_type == "image/jpeg"


@pytest.mark.parametrize(("build", "reason"), [
    (lambda p: p.write_text("hello, not a database"), "not an SQLite database"),
    (lambda p: None, "no such file"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE other (a)").connection.commit(), "no metadata table"),
    (lambda p: make_mbtiles(p, [], format="png"), "holds no tiles"),
    (lambda p: make_mbtiles(p, [(0, 0, 0, b"\x1f\x8b")], format="pbf"), "vector tiles (pbf)"),
    (lambda p: make_mbtiles(p, [(0, 0, 0, b"GIF89a")]), "tile format 'unknown'"),
])
def test_a_file_that_is_not_a_raster_mbtiles_is_refused(tmp_path: Path, build: Any, reason: str) -> None:
    path = tmp_path / "bad.mbtiles"
    build(path)
    with pytest.raises(InvalidInput) as refused:
        read_metadata(path)
    assert refused.value.field == "basemap" and reason in refused.value.message
    with pytest.raises(InvalidInput) as via_spec:
        basemap_from(f"mbtiles:{path}")
    assert via_spec.value.field == "basemap" and reason in via_spec.value.message


def test_the_file_is_opened_read_only(world: Path) -> None:
    before = world.read_bytes()
    read_metadata(world), read_tile(world, 1, 0, 0), list(iter_tiles(world))
    assert world.read_bytes() == before and not world.with_name(world.name + "-journal").exists()


def test_basemap_spec(world: Path) -> None:
    bm = basemap_from(f"mbtiles:{world}")
    assert bm is not None and bm.name == "mbtiles" and bm.datum == "wgs84"
    assert tileset_name(world) == "world-tiles"
    assert bm.url == "tiles/world-tiles/{z}/{x}/{y}.png" and bm.tileset == world.resolve()
    assert bm.native_zooms == (0, 2) and bm.bounds == (-180.0, -85.0511, 180.0, 85.0511)
    assert bm.attribution == "© Example &amp; co"  # credited as text: markup from a file is not run
    shifted = basemap_from(f"mbtiles:{world}#gcj02")
    assert shifted is not None and shifted.datum == "gcj02" and shifted.url == bm.url


def test_publish_unpacks_xyz_files_beside_the_maps(world: Path, tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    name = publish_tileset(world, maps)
    assert name == "world-tiles"
    assert (maps / "tiles" / "world-tiles.mbtiles").read_bytes() == world.read_bytes()
    files = sorted(p.relative_to(maps / "tiles" / name).as_posix() for p in (maps / "tiles" / name).rglob("*.png"))
    assert files == ["0/0/0.png", "1/0/0.png", "1/0/1.png", "1/1/0.png", "1/1/1.png", "2/3/1.png"]
    for f in files:
        assert png_address((maps / "tiles" / name / f).read_bytes()) == f.removesuffix(".png")
    assert [p.name for p in (maps / "tiles").iterdir() if p.name.startswith(".")] == []  # nothing left aside
    assert (maps / "tiles" / name).stat().st_mode & 0o755 == 0o755  # readable by whoever serves it

    first = (maps / "tiles" / name / "0" / "0" / "0.png").stat().st_mtime_ns
    assert publish_tileset(world, maps) == name  # unchanged source: left alone
    assert (maps / "tiles" / name / "0" / "0" / "0.png").stat().st_mtime_ns == first
    with sqlite3.connect(world) as con:  # a changed source replaces the folder whole
        con.execute("DELETE FROM tiles WHERE zoom_level = 2")
    con.close()
    publish_tileset(world, maps)
    assert not (maps / "tiles" / name / "2").exists() and (maps / "tiles" / name / "1" / "1" / "1.png").is_file()


def test_find_tile_reads_folder_or_mbtiles_alike(world: Path, tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    publish_tileset(world, maps)
    (maps / "tiles" / "packed.mbtiles").write_bytes(world.read_bytes())  # an MBTiles dropped in, not unpacked
    for z, x, y in [(0, 0, 0), (1, 0, 0), (1, 1, 1), (2, 3, 1)]:
        from_folder, media = find_tile(maps, "world-tiles", z, x, y, "png")
        from_file, media2 = find_tile(maps, "packed", z, x, y, "png")
        assert isinstance(from_folder, Path) and isinstance(from_file, bytes)
        assert from_folder.read_bytes() == from_file == read_tile(world, z, x, y)
        assert media == media2 == "image/png"
    for name, z, x, y, ext in [("packed", 2, 0, 0, "png"), ("packed", 0, 0, 0, "jpg"), ("world-tiles", 5, 0, 0, "png"),
                               ("nothing", 0, 0, 0, "png")]:
        with pytest.raises(NotFound):
            find_tile(maps, name, z, x, y, ext)
    for name, ext in [("..", "png"), ("a/b", "png"), (".hidden", "png"), ("packed", "exe")]:
        with pytest.raises(InvalidInput):
            find_tile(maps, name, 0, 0, 0, ext)


# --- the app --------------------------------------------------------------------------------------------------


@pytest.fixture
def client(platform: Platform, world: Path, tmp_path: Path) -> Iterator[TestClient]:
    maps = tmp_path / "maps"
    settings = platform.settings.model_copy(update={"maps_dir": maps})
    publish_tileset(world, maps)
    (maps / "tiles" / "packed.mbtiles").write_bytes(world.read_bytes())
    (maps / "hotspots.html").write_text("<html>热点</html>", encoding="utf-8")
    (tmp_path / "secret.png").write_bytes(b"no")
    app = create_app(settings, platform=platform)
    app.dependency_overrides[get_platform] = lambda: SimpleNamespace(settings=settings)
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_the_app_serves_tiles(client: TestClient, world: Path) -> None:
    for name in ("world-tiles", "packed"):
        r = client.get(f"/maps/tiles/{name}/1/0/0.png")
        assert r.status_code == 200, r.text
        assert r.content == read_tile(world, 1, 0, 0) and png_address(r.content) == "1/0/0"
        assert r.headers["content-type"] == "image/png"
        assert "max-age" in r.headers["cache-control"] and r.headers.get("etag")
    assert client.get("/maps/tiles/packed/2/3/1.png").content == png(2, 3, 1)
    # the map pages are still where they were
    assert client.get("/maps/hotspots").status_code == 200 and "热点" in client.get("/maps/hotspots").text


def test_missing_tiles_and_bad_names(client: TestClient) -> None:
    for url in ["/maps/tiles/packed/2/0/0.png", "/maps/tiles/world-tiles/9/0/0.png", "/maps/tiles/nothing/0/0/0.png",
                "/maps/tiles/packed/0/0/0.jpg", "/maps/tiles/packed/-1/0/0.png"]:
        r = client.get(url)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", url
    for url in ["/maps/tiles/..secret/0/0/0.png", "/maps/tiles/.hidden/0/0/0.png", "/maps/tiles/%2E%2E/0/0/0.png",
                "/maps/tiles/a..b/0/0/0.png", "/maps/tiles/packed/0/0/0.exe", "/maps/tiles/packed/a/0/0.png"]:
        r = client.get(url)
        assert r.status_code == 422, (url, r.status_code)
    for url in ["/maps/tiles/..%2F..%2Fsecret/0/0/0.png", "/maps/tiles/../../secret.png", "/maps/../secret.png"]:
        r = client.get(url)
        assert r.status_code in (404, 422) and r.content != b"no", url


# --- Chromium, from disk, offline -----------------------------------------------------------------------------


def pinggu_tileset(path: Path, bounds: tuple[float, float, float, float], zooms: range) -> Path:
    """Every tile over ``bounds`` at ``zooms``, each one naming its own XYZ address."""
    w, s, e, n = bounds
    rows = []
    for z in zooms:
        (x0, y0), (x1, y1) = tile_of(w, n, z), tile_of(e, s, z)
        rows += [xyz_tiles(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return make_mbtiles(path, rows, name="Pinggu test tiles", format="png", minzoom=str(zooms[0]),
                        maxzoom=str(zooms[-1]), bounds=",".join(map(str, bounds)), attribution="test tiles")


TILES_LOADED = """() => {
  const tiles = [...document.querySelectorAll('img.leaflet-tile')];
  return tiles.length > 0 && tiles.every(t => t.complete) ? tiles.length : 0;
}"""
TILE_STATE = """() => ({
  tiles: [...document.querySelectorAll('img.leaflet-tile')].map(t => ({src: t.getAttribute('src'),
                                                                      w: t.naturalWidth})),
  zoom: Object.values(window).find(v => v instanceof L.Map).getZoom(),
  center: Object.values(window).find(v => v instanceof L.Map).getCenter(),
})"""


def test_hotspots_map_on_mbtiles_in_chromium(browser, pinggu, tmp_path: Path) -> None:  # noqa: F811
    w, s, e, n = pinggu.townships.to_crs(4326).total_bounds
    source = pinggu_tileset(tmp_path / "pinggu.mbtiles",
                            (round(w - 0.3, 4), round(s - 0.3, 4), round(e + 0.3, 4), round(n + 0.3, 4)),
                            range(8, 13))
    maps = tmp_path / "maps"
    basemap = basemap_from(f"mbtiles:{source}")
    assert basemap is not None and basemap.tileset is not None
    name = publish_tileset(basemap.tileset, maps)
    page_path = write_hotspots_map(maps / "hotspots.html", _cells(40), pinggu.townships, basemap=basemap)
    assert f"tiles/{name}/{{z}}/{{x}}/{{y}}.png" in page_path.read_text("utf-8")

    context = browser.new_context(viewport={"width": 1100, "height": 800}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: errors.append(f"fetched {r.url}") if r.url.startswith("http") else None)
    page.on("requestfailed", lambda r: errors.append(f"failed {r.url}"))
    page.goto(page_path.as_uri())
    page.wait_for_function(TILES_LOADED, timeout=10_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(tmp_path / "mbtiles.png"))
    state = page.evaluate(TILE_STATE)
    context.close()

    assert errors == []
    assert len(state["tiles"]) >= 4 and all(t["w"] == 256 for t in state["tiles"])
    # each tile Leaflet asked for (XYZ, y from the north) is the tile of that address: the TMS flip is right
    drawn = set()
    for t in state["tiles"]:
        rel = t["src"].split(f"tiles/{name}/", 1)[1]
        assert png_address((maps / "tiles" / name / rel).read_bytes()) == rel.removesuffix(".png")
        drawn.add(tuple(int(v) for v in rel.removesuffix(".png").split("/")))
    z = min(max(state["zoom"], 8), 12)
    centre = tile_of(state["center"]["lng"], state["center"]["lat"], z)
    assert (z, *centre) in drawn  # and the one under the centre of the map is among them


# --- the CLI --------------------------------------------------------------------------------------------------


def test_map_hotspots_publishes_the_tileset_beside_the_page(runner, jurisdiction, world: Path,  # noqa: F811
                                                            tmp_path: Path) -> None:
    from gis_enforcement.catalog.loader import load_catalog
    from gis_enforcement.cli import app
    from gis_enforcement.demo.season import simulate_incident_table

    catalog = load_catalog(Path(__file__).resolve().parents[2] / "data" / "catalog" / "pinggu.yaml")
    simulate_incident_table(jurisdiction, catalog, count=300, seed=14).to_csv(tmp_path / "s.csv", index=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "s.csv")]).exit_code == 0
    assert runner.invoke(app, ["hotspots", "run", "--cell", "grid", "--size", "1000"]).exit_code == 0
    out = tmp_path / "out" / "h.html"
    made = runner.invoke(app, ["map", "hotspots", "--basemap", f"mbtiles:{world}", "-o", str(out)])
    assert made.exit_code == 0, made.output
    assert "tiles/world-tiles/{z}/{x}/{y}.png" in out.read_text("utf-8")
    assert png_address((out.parent / "tiles" / "world-tiles" / "1" / "0" / "0.png").read_bytes()) == "1/0/0"
    assert (out.parent / "tiles" / "world-tiles.mbtiles").is_file()
    bad = runner.invoke(app, ["map", "hotspots", "--basemap", f"mbtiles:{tmp_path / 'none.mbtiles'}"])
    assert bad.exit_code == 2 and "no such file" in bad.output
