"""Third-party clients of OGC API – Features against a live server on loopback: GDAL's OAPIF driver (through
pyogrio/geopandas) and OWSLib.

The rolled-back test transactions are invisible to another process, so this module makes a database of its own
in the test cluster (migrated, the shipped layers loaded, a simulated season ingested and a Gi* run stored — all
committed), starts ``python -m gis_enforcement serve`` on it, and drops both at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import httpx
import pyogrio
import pytest
from owslib.ogcapi.features import Features
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from gis_enforcement.admin.layers import install_layers
from gis_enforcement.admin.users import add_user, create_api_key
from gis_enforcement.analysis.hotspot_service import run_and_store
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from gis_enforcement.storage.engine import make_engine
from gis_enforcement.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
COLLECTION_TABLES = {
    "incidents": "incident", "townships": "township", "villages": "village", "zones": "zone", "grid": "grid_cell",
    "hotspot_cells": "hotspot_cell WHERE run_id = (SELECT max(id) FROM hotspot_run WHERE kind = 'gi_star')",
}
ID_COLUMNS = {"incidents": "id::text", "hotspot_cells": "cell_id"}


@pytest.fixture(scope="module")
def live_database(database_url: str, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A committed database of its own in the test cluster: migrations, layers, 400 incidents, a Gi* run."""
    url = make_url(database_url)
    name = f"gise_ogc_{uuid.uuid4().hex[:12]}"
    maintenance = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with maintenance.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    live_url = url.set(database=name).render_as_string(hide_password=False)
    engine = None
    try:
        engine = make_engine(live_url)
        upgrade(engine)  # the first migration enables PostGIS
        season = tmp_path_factory.mktemp("ogc-live") / "season.csv"
        simulate_incident_table(jurisdiction, catalog, count=400, seed=606).to_csv(season, index=False)
        with Session(engine) as session:
            install_layers(session, jurisdiction, source={"directory": "data/boundaries (ogc client tests)"})
            ingest(session, read_intake_file(season), locator=locator, catalog=catalog)
            run_and_store(session, cell="grid", size_m=1000)
            session.commit()
        yield live_url
    finally:
        if engine is not None:
            engine.dispose()
        with maintenance.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        maintenance.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Live:
    url: str  # the landing page, http://127.0.0.1:PORT/ogc
    log: Path  # the server's output, with uvicorn's access log

    def requests(self) -> list[str]:
        """The request lines the server has logged so far."""
        return [line.split('"')[1] for line in self.log.read_text().splitlines() if '"GET ' in line]


@pytest.fixture(scope="module")
def live(live_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """``gis-enforcement serve`` on a free loopback port, on the live database."""
    port = _free_port()
    work = tmp_path_factory.mktemp("ogc-server")
    env = {**os.environ, "DATABASE_URL": live_database, "GISE_DATA_DIR": str(work / "data"),
           "GISE_MAPS_DIR": str(work / "maps"), "GISE_TICK_INTERVAL_S": "0", "GISE_DELIVERY_INTERVAL_S": "0"}
    log = (work / "server.log").open("wb", buffering=0)
    proc = subprocess.Popen([sys.executable, "-m", "gis_enforcement", "serve", "--host", "127.0.0.1", "--port",
                             str(port)], env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited ({proc.returncode}):\n{(work / 'server.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer in 60 s:\n{(work / 'server.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield Live(url=f"{base}/ogc", log=work / "server.log")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def api_key(live_database: str, catalog: Catalog) -> str:
    """A supervisor's API key on the live database (every route needs a signed-in caller)."""
    engine = make_engine(live_database)
    try:
        with Session(engine) as session:
            add_user(session, catalog=catalog, username="gis-desk", password="gis-desk-password-1", role="supervisor",
                     unit="district")
            key = create_api_key(session, username="gis-desk", name="QGIS / GDAL")
            session.commit()
        return key
    finally:
        engine.dispose()


@pytest.fixture(scope="module", autouse=True)
def gdal_sends_the_key(api_key: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """GDAL's HTTP requests carry the key (GDAL_HTTP_HEADER_FILE: the OAPIF driver sets its own headers, so
    GDAL_HTTP_HEADERS is not sent), as a desktop GIS configured for the service would send it."""
    headers = tmp_path_factory.mktemp("gdal") / "headers.txt"
    headers.write_text(f"X-API-Key: {api_key}\n")
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": str(headers)})
    yield
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": None})


@pytest.fixture(scope="module")
def stored_ids(live_database: str) -> dict[str, list[str]]:
    """The ids of every collection as the live database holds them."""
    engine = create_engine(live_database)
    try:
        with engine.connect() as conn:
            out: dict[str, list[str]] = {}
            for collection, table in COLLECTION_TABLES.items():
                column = ID_COLUMNS.get(collection, "code")
                out[collection] = sorted(r[0] for r in conn.execute(text(f"SELECT {column} FROM {table}")))
        return out
    finally:
        engine.dispose()


def test_without_the_key_nothing_is_served(live: Live, api_key: str) -> None:
    assert httpx.get(f"{live.url}/collections/incidents/items", timeout=10).status_code == 401
    assert httpx.get(live.url, timeout=10).status_code == 401
    # clients that only know bearer tokens (GDAL_HTTP_AUTH=BEARER, QGIS) may send the key as one
    bearer = httpx.get(live.url, headers={"Authorization": f"Bearer {api_key}"}, timeout=10)
    assert bearer.status_code == 200


def test_gdal_has_the_oapif_driver() -> None:
    assert "OAPIF" in pyogrio.list_drivers(), f"GDAL {pyogrio.__gdal_version_string__} has no OAPIF driver"


def test_gdal_lists_the_collections(live: Live) -> None:
    layers = pyogrio.list_layers(f"OAPIF:{live.url}")
    assert sorted(layers[:, 0]) == sorted(COLLECTION_TABLES)
    info = pyogrio.read_info(f"OAPIF:{live.url}", layer="incidents")
    assert info["crs"] in ("OGC:CRS84", "EPSG:4326")


def test_gdal_reads_every_collection(live: Live, stored_ids: dict[str, list[str]]) -> None:
    for collection, expected in stored_ids.items():
        # a small page size makes GDAL follow the next links several times
        frame = gpd.read_file(f"OAPIF:{live.url}", layer=collection, PAGE_SIZE=150)
        assert len(frame) == len(expected) > 0, collection
        assert sorted(frame["id"].astype(str)) == expected, collection
        assert frame.geometry.notna().all() and frame.crs is not None and frame.crs.to_epsg() == 4326, collection
        assert frame.geometry.bounds.minx.between(116, 118).all(), collection  # longitude first, as CRS84
    pages = [r for r in live.requests() if r.startswith("GET /ogc/collections/incidents/items?")]
    assert any("offset=300" in r for r in pages), pages  # GDAL walked the next links
    incidents = gpd.read_file(f"OAPIF:{live.url}", layer="incidents")
    assert {"category", "status", "observed_at", "township_code", "township_name", "lead_department"} <= set(
        incidents.columns)
    assert incidents.geom_type.eq("Point").all()
    assert str(incidents["observed_at"].dtype).startswith("datetime64")  # RFC 3339 read as a time by GDAL


def test_gdal_spatial_filter_goes_to_the_server(live: Live) -> None:
    frame = gpd.read_file(f"OAPIF:{live.url}", layer="incidents")
    x0, y0, x1, y1 = frame.total_bounds
    box = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    inside = frame.cx[box[0]:box[2], box[1]:box[3]]
    got = gpd.read_file(f"OAPIF:{live.url}", layer="incidents", bbox=box)
    assert 0 < len(got) < len(frame)
    assert sorted(got["id"]) == sorted(inside["id"])
    assert any("bbox=" in r for r in live.requests() if "/incidents/items?" in r)


def test_gdal_attribute_filters(live: Live, live_database: str) -> None:
    """GDAL sends a comparison on the time property as ``datetime`` (a date as ``2026-05-01T``, read as that day
    in district time) and evaluates other conditions itself; either way the rows are those the database has."""
    engine = create_engine(live_database)
    try:
        with engine.connect() as conn:
            may = sorted(r[0] for r in conn.execute(text(
                "SELECT id::text FROM incident WHERE observed_at >= '2026-05-01T00:00:00+08:00' "
                "AND observed_at < '2026-06-01T00:00:00+08:00'")))
            mining = sorted(r[0] for r in conn.execute(text(
                "SELECT id::text FROM incident WHERE category = 'MIN-02' "
                "AND observed_at >= '2026-07-01T00:00:00+08:00'")))
    finally:
        engine.dispose()
    got = gpd.read_file(f"OAPIF:{live.url}", layer="incidents",
                        where="observed_at >= '2026-05-01' AND observed_at <= '2026-05-31'")
    assert 0 < len(got) and sorted(got["id"]) == may
    assert any("datetime=2026-05-01T" in r for r in live.requests())
    got = gpd.read_file(f"OAPIF:{live.url}", layer="incidents",
                        where="category = 'MIN-02' AND observed_at >= '2026-07-01'")
    assert 0 < len(got) and sorted(got["id"]) == mining


def test_owslib_reads_collections_and_items(live: Live, stored_ids: dict[str, list[str]], api_key: str) -> None:
    api = Features(live.url, headers={"X-API-Key": api_key})
    assert sorted(api.feature_collections()) == sorted(COLLECTION_TABLES)
    assert any(c.endswith("/conf/core") for c in api.conformance()["conformsTo"])
    assert api.api()["paths"]["/ogc/collections/{collection_id}/items"]  # found through the service-desc link
    assert api.collection("incidents")["extent"]["temporal"]["interval"][0][0]
    page = api.collection_items("incidents", limit=1000)
    assert page["numberMatched"] == page["numberReturned"] == len(stored_ids["incidents"])
    assert sorted(f["id"] for f in page["features"]) == stored_ids["incidents"]
    coords = [f["geometry"]["coordinates"] for f in page["features"]]
    lons, lats = sorted(c[0] for c in coords), sorted(c[1] for c in coords)
    bbox = [lons[0], lats[0], lons[len(lons) // 2], lats[len(lats) // 2]]
    expected = sorted(f["id"] for f, (x, y) in zip(page["features"], coords, strict=True)
                      if bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3])
    inside = api.collection_items("incidents", limit=1000, bbox=bbox)
    assert inside["numberMatched"] == len(expected) > 0
    assert sorted(f["id"] for f in inside["features"]) == expected
    small = api.collection_items("incidents", limit=25, offset=50)
    assert [f["id"] for f in small["features"]] == stored_ids["incidents"][50:75]
    one = api.collection_item("incidents", stored_ids["incidents"][0])
    assert one["id"] == stored_ids["incidents"][0] and one["properties"]["category"]
    assert api.collection_items("townships", limit=100)["numberMatched"] == len(stored_ids["townships"])
