"""Fixtures of the dispatch tests."""

from __future__ import annotations

import pytest

from gis_enforcement.layers.jurisdiction import Jurisdiction


@pytest.fixture
def site(jurisdiction: Jurisdiction) -> tuple[float, float, str]:
    """A village point (lon, lat) and the township it lies in."""
    v = jurisdiction.villages.iloc[12]
    return v.geometry.x, v.geometry.y, v["township_code"]
