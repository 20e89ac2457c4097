"""Shared fixtures of the operations tests."""

from __future__ import annotations

import pytest

from gis_enforcement.layers.jurisdiction import Jurisdiction


@pytest.fixture
def town(jurisdiction: Jurisdiction) -> tuple[str, list[tuple[float, float]]]:
    """A township with three of its villages' points, far enough apart to be separate places."""
    v = jurisdiction.villages
    code = v["township_code"].value_counts().index[0]
    pts = v[v["township_code"] == code].geometry
    return code, [(p.x, p.y) for p in pts.iloc[:3]]
