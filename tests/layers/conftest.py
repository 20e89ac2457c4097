"""Fixtures for the layer tests: the shipped Pinggu layers, a locator over them, and a way to write variants
of a layer to a temporary file. No database."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from gis_enforcement.layers.jurisdiction import (
    DEFAULT_DIRECTORY,
    DEFAULT_FILES,
    Jurisdiction,
    load_jurisdiction,
)
from gis_enforcement.layers.locator import Locator


@pytest.fixture(scope="session")
def boundaries_dir() -> Path:
    return DEFAULT_DIRECTORY


@pytest.fixture(scope="session")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction()


@pytest.fixture(scope="session")
def locator(jurisdiction: Jurisdiction) -> Locator:
    return Locator.from_jurisdiction(jurisdiction)


@pytest.fixture(scope="session")
def townships_raw(boundaries_dir: Path) -> gpd.GeoDataFrame:
    """The synthetic township layer exactly as shipped (all source columns)."""
    return gpd.read_file(boundaries_dir / DEFAULT_FILES["townships"])


@pytest.fixture
def write_layer(tmp_path: Path):
    """Write a GeoDataFrame to ``tmp_path/name`` (driver from the suffix) and return the path."""

    def write(frame: gpd.GeoDataFrame, name: str) -> Path:
        path = tmp_path / name
        frame.to_file(path, engine="pyogrio")
        return path

    return write
