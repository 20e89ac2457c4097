"""Small catalogs for tests: a minimal valid document as a dict, mutated per test and written to YAML."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "data" / "catalog" / "pinggu.yaml"

_MINIMAL: dict[str, Any] = {
    "version": "test-1",
    "mechanism": {"report_in_minutes_default": 30},
    "zone_kinds": [
        {"code": "river_corridor", "zh": "河道", "en": "River corridor"},
        {"code": "mining_area", "zh": "矿区", "en": "Mining area"},
        {"code": "truck_route", "zh": "货车路线", "en": "Truck route"},
        {"code": "ecological_redline", "zh": "生态红线", "en": "Ecological red line"},
    ],
    "severity_levels": [
        {"code": "high", "zh": "较大", "meaning": "spreading harm", "provenance": "draft"},
        {"code": "low", "zh": "轻微", "meaning": "minor", "provenance": "draft"},
    ],
    "departments": [
        {"code": "TOWN", "zh": "乡镇", "en": "Township", "role": "whistler", "officers": 10,
         "officers_per_township": 5, "provenance": "draft"},
        {"code": "WATER", "zh": "水务", "en": "Water", "officers": 5, "provenance": "draft"},
        {"code": "PSB", "zh": "公安", "en": "Police", "officers": 5, "provenance": "draft"},
        {"code": "PNR", "zh": "规自", "en": "Planning", "officers": 5, "provenance": "draft"},
    ],
    "intake_defaults": {
        "dedupe_radius_m": 200, "dedupe_window_hours": 48, "geofence_m": 500, "max_accuracy_m": 100,
        "recurrence_radius_m": 500, "recurrence_days": 90, "provenance": "draft",
    },
    "problem_categories": [
        {"code": "SAND", "zh": "采砂", "en": "Sand", "severity": "high", "provenance": "draft",
         "intake": {"dedupe_radius_m": 300}},
        {"code": "BUILD", "zh": "违建", "en": "Building", "severity": "low", "provenance": "draft"},
    ],
    "responsibility_rules": [
        {"code": "R-SAND", "category": "SAND", "zone_kind": None, "lead": "WATER", "assists": ["PSB", "TOWN"],
         "report_in_minutes": 30, "resolution_hours": 48, "provenance": "draft",
         "legal_basis": [{"law": "水法", "article": "第三十九条"}], "measures": ["责令停止"]},
        {"code": "R-SAND-RIVER", "category": "SAND", "zone_kind": "river_corridor", "lead": "WATER",
         "assists": ["PSB", "PNR", "TOWN"], "report_in_minutes": 20, "resolution_hours": 24,
         "provenance": "draft"},
        {"code": "R-SAND-MINE", "category": "SAND", "zone_kind": "mining_area", "lead": "PNR",
         "assists": ["WATER"], "resolution_hours": 24, "provenance": "draft"},
        {"code": "R-BUILD", "category": "BUILD", "zone_kind": None, "lead": "TOWN", "assists": ["PNR"],
         "report_in_minutes": 30, "resolution_hours": None, "provenance": "draft"},
    ],
    "warning_rules": [
        {"code": "W01", "subject": "department", "trigger": "late", "consequence": "-1", "level": "yellow",
         "notify": ["subject", "township", "PSB"], "provenance": "draft"},
    ],
    "performance_indicators": [
        {"code": "P01", "zh": "报到及时率", "en": "On-time rate", "formula": "a / b", "provenance": "draft"},
    ],
    "action_kinds": [
        {"code": "INSPECT", "zh": "现场检查", "en": "Inspection", "provenance": "draft"},
        {"code": "PENALTY", "zh": "行政处罚", "en": "Penalty", "provenance": "draft", "note": "罚款"},
    ],
}


def minimal_doc() -> dict[str, Any]:
    """A fresh copy of the minimal valid catalog document."""
    return copy.deepcopy(_MINIMAL)


def write_catalog(tmp_path: Path, doc: dict[str, Any] | str, name: str = "catalog.yaml") -> Path:
    """Write ``doc`` (a dict, dumped as YAML, or raw YAML text) and return its path."""
    path = tmp_path / name
    text = doc if isinstance(doc, str) else yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def entry(doc: dict[str, Any], section: str, code: str) -> dict[str, Any]:
    """The entry of ``section`` with ``code`` (for in-place mutation)."""
    return next(e for e in doc[section] if e.get("code") == code)
