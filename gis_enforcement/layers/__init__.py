"""Jurisdiction and zone layers: load and validate them, build the management grid, place points.

Public API: ``read_layer`` (io), ``load_jurisdiction`` / ``Jurisdiction`` (jurisdiction), ``LayerReport``
(validate), ``build_grid`` (grid) and ``Locator`` (locator). No SQL here: storage persists what this returns.
"""

from gis_enforcement.layers.grid import build_grid
from gis_enforcement.layers.io import read_layer
from gis_enforcement.layers.jurisdiction import ZONE_KINDS, Jurisdiction, load_jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.layers.validate import LayerReport

__all__ = [
    "ZONE_KINDS",
    "Jurisdiction",
    "LayerReport",
    "Locator",
    "build_grid",
    "load_jurisdiction",
    "read_layer",
]
