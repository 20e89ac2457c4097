"""Jurisdiction layers between files, the database and the in-memory locator."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

from gis_enforcement.errors import NotConfigured
from gis_enforcement.layers.jurisdiction import Jurisdiction, LayerReport
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import Session, layer_repo


def _report_dict(report: Any) -> dict[str, Any]:
    if hasattr(report, "to_dict"):
        return dict(report.to_dict())
    if is_dataclass(report) and not isinstance(report, type):
        return asdict(report)
    return dict(report) if isinstance(report, dict) else {"report": str(report)}


def install_layers(session: Session, jurisdiction: Jurisdiction, *, source: dict[str, Any]) -> int:
    """Replace the stored layers with ``jurisdiction`` (validated on load) and return the load id."""
    return layer_repo.replace_layers(
        session,
        district=jurisdiction.district,
        townships=jurisdiction.townships,
        villages=jurisdiction.villages,
        zones=jurisdiction.zones,
        grid=jurisdiction.grid,
        # the grid's cell size travels with the load, so a locator rebuilt from storage finds cells fast
        source={**source, "grid_size_m": jurisdiction.grid_size_m},
        report=_report_dict(jurisdiction.report),
    )


def stored_jurisdiction(session: Session) -> Jurisdiction:
    """The layers as stored in the database; ``NotConfigured`` when none were loaded yet."""
    latest = layer_repo.latest_load(session)
    if latest is None:
        raise NotConfigured("no jurisdiction layers are loaded; run `gis-enforcement layers load`")
    frames = layer_repo.read_layers(session)
    return Jurisdiction(
        district=frames["district"],
        townships=frames["township"],
        villages=frames["village"],
        zones=frames["zone"],
        grid=frames["grid_cell"],
        report=LayerReport(),
        grid_size_m=latest[1].get("grid_size_m"),
    )


class LocatorCache:
    """One locator per process, rebuilt only when a newer layer load appears in the database."""

    def __init__(self, *, near_border_min_m: float = 50.0) -> None:
        self._load_id: int | None = None
        self._locator: Locator | None = None
        self.near_border_min_m = near_border_min_m

    def get(self, session: Session) -> Locator:
        """The locator of the newest layer load (asks the database which one that is)."""
        latest = layer_repo.latest_load(session)
        return self.for_load(session, None if latest is None else latest[0])

    def for_load(self, session: Session, load_id: int | None) -> Locator:
        """The locator of layer load ``load_id``, which the caller has just read as the newest (single
        submissions read it with the rest of what they need): no round trip unless the locator is rebuilt."""
        if load_id is None:
            raise NotConfigured("no jurisdiction layers are loaded; run `gis-enforcement layers load`")
        if self._locator is None or load_id != self._load_id:
            self._locator = Locator.from_jurisdiction(
                stored_jurisdiction(session), near_border_min_m=self.near_border_min_m
            )
            self._load_id = load_id
        return self._locator
