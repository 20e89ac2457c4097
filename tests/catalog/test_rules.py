"""Rule look-up: precedence of zone rules over general rules, plan order, and the vectorised batch match."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gis_enforcement.catalog import load_catalog, match_rules, rule_for, rules_by_code
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import Role
from gis_enforcement.domain.records import ZoneRef
from gis_enforcement.errors import InvalidInput
from tests.catalog.factory import SHIPPED, entry, minimal_doc, write_catalog


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog(SHIPPED)


@pytest.fixture
def two_zone(tmp_path: Path) -> Catalog:
    """SAND has a general rule and zone rules for river_corridor (declared 1st) and mining_area (2nd)."""
    return load_catalog(write_catalog(tmp_path, minimal_doc()))


# --- precedence ----------------------------------------------------------------------------------------


def test_general_rule_without_zones(shipped: Catalog):
    assert rule_for(shipped, "MIN-02").code == "R-MIN-02"
    assert rule_for(shipped, "MIN-02", []).code == "R-MIN-02"


def test_zone_rule_beats_general_rule(shipped: Catalog):
    assert rule_for(shipped, "MIN-02", ["river_corridor"]).code == "R-MIN-02-RIVER"
    assert rule_for(shipped, "TRK-01", ("truck_route",)).code == "R-TRK-01-ROUTE"
    assert rule_for(shipped, "ENV-03", {"ecological_redline", "river_corridor"}).code == "R-ENV-03-REDLINE"


def test_zones_without_a_rule_for_the_category_are_ignored(shipped: Catalog):
    assert rule_for(shipped, "MIN-02", ["truck_route"]).code == "R-MIN-02"
    assert rule_for(shipped, "MKT-01", ["ecological_redline", "school_zone"]).code == "R-MKT-01"


def test_zone_refs_are_accepted(shipped: Catalog):
    zones = [ZoneRef("river_corridor", "RC-01", "泃河"), ZoneRef("truck_route", "TR-3", "平蓟路")]
    assert rule_for(shipped, "MIN-02", zones).code == "R-MIN-02-RIVER"


def test_two_zone_rules_tie_goes_to_the_zone_kind_declared_first(two_zone: Catalog):
    assert list(two_zone.zone_kinds)[:2] == ["river_corridor", "mining_area"]
    for kinds in (["river_corridor", "mining_area"], ["mining_area", "river_corridor"]):
        assert rule_for(two_zone, "SAND", kinds).code == "R-SAND-RIVER"
    assert rule_for(two_zone, "SAND", ["mining_area"]).code == "R-SAND-MINE"


def test_two_zone_rules_higher_priority_wins(tmp_path: Path):
    doc = minimal_doc()
    entry(doc, "responsibility_rules", "R-SAND-MINE")["priority"] = 5
    cat = load_catalog(write_catalog(tmp_path, doc))
    assert rule_for(cat, "SAND", ["river_corridor", "mining_area"]).code == "R-SAND-MINE"
    assert rule_for(cat, "SAND", ["river_corridor"]).code == "R-SAND-RIVER"


def test_zone_order_in_the_yaml_decides_ties(tmp_path: Path):
    doc = minimal_doc()
    doc["zone_kinds"].reverse()  # mining_area now declared before river_corridor
    cat = load_catalog(write_catalog(tmp_path, doc))
    assert rule_for(cat, "SAND", ["river_corridor", "mining_area"]).code == "R-SAND-MINE"


def test_unknown_category_is_refused(shipped: Catalog):
    with pytest.raises(InvalidInput) as info:
        rule_for(shipped, "NOPE-01", ["river_corridor"])
    assert info.value.field == "category"
    assert "NOPE-01" in info.value.message


# --- plan ----------------------------------------------------------------------------------------------


def test_plan_lists_lead_first_then_assists_in_order(shipped: Catalog):
    rule = shipped.rule("R-MIN-02-RIVER")
    plan = rule.plan()
    assert [p.department for p in plan] == [rule.lead, *rule.assists]
    assert plan[0].role is Role.LEAD
    assert all(p.role is Role.ASSIST for p in plan[1:])
    assert {(p.report_in_minutes, p.resolution_hours) for p in plan} == {(30, 24.0)}


def test_plan_carries_zone_deadlines_and_null_resolution(shipped: Catalog, two_zone: Catalog):
    plan = rule_for(shipped, "TRK-01", ["truck_route"]).plan()
    assert plan[0].department == "TRANS" and plan[1].department == "TRAFFIC_POLICE"
    assert all(p.report_in_minutes == 20 for p in plan)
    build = two_zone.rule("R-BUILD").plan()
    assert build[0].to_dict() == {"department": "TOWN", "role": "lead", "report_in_minutes": 30,
                                  "resolution_hours": None}


def test_rules_by_code(shipped: Catalog):
    by_code = rules_by_code(shipped)
    assert len(by_code) == len(shipped.rules)
    assert by_code["R-MIN-01-MINING"] is shipped.rule("R-MIN-01-MINING")
    assert list(by_code) == [r.code for r in shipped.rules]


# --- match_rules ---------------------------------------------------------------------------------------


def _random_rows(catalog: Catalog, n: int, seed: int) -> tuple[list[str], list[tuple[str, ...] | None]]:
    rng = np.random.default_rng(seed)
    cats = list(catalog.categories)
    kinds = [*catalog.zone_kinds, "school_zone"]
    categories = [cats[i] for i in rng.integers(0, len(cats), n)]
    zones: list[tuple[str, ...] | None] = []
    for _ in range(n):
        k = int(rng.integers(0, 4))
        if k == 0 and rng.random() < 0.3:
            zones.append(None)
        else:
            zones.append(tuple(kinds[i] for i in rng.choice(len(kinds), size=k, replace=False)))
    return categories, zones


def test_match_rules_equals_rule_for_row_by_row(shipped: Catalog):
    categories, zones = _random_rows(shipped, 5000, seed=7)
    got = match_rules(shipped, categories, zones)
    assert got.dtype == object and got.shape == (5000,)
    expected = [rule_for(shipped, c, z or ()).code for c, z in zip(categories, zones, strict=True)]
    assert got.tolist() == expected
    assert len(set(expected)) > 20  # the mix reaches general and zone rules alike


def test_match_rules_on_two_zone_catalog_with_arrays_and_lists(two_zone: Catalog):
    categories = np.array(["SAND", "SAND", "SAND", "BUILD", "SAND"])
    zones = [["mining_area", "river_corridor"], ["mining_area"], [], ["river_corridor"], None]
    got = match_rules(two_zone, categories, zones)
    assert got.tolist() == ["R-SAND-RIVER", "R-SAND-MINE", "R-SAND", "R-BUILD", "R-SAND"]


def test_match_rules_refuses_unknown_categories_and_length_mismatch(shipped: Catalog):
    with pytest.raises(InvalidInput) as info:
        match_rules(shipped, ["MIN-01", "BOGUS", "MIN-02"], [(), (), ()])
    assert info.value.field == "category" and "'BOGUS'" in info.value.message
    with pytest.raises(InvalidInput) as info:
        match_rules(shipped, ["MIN-01"], [(), ()])
    assert info.value.field == "zone_kinds"


def test_match_rules_empty(shipped: Catalog):
    out = match_rules(shipped, [], [])
    assert out.shape == (0,) and out.dtype == object


def test_match_rules_one_million_rows(shipped: Catalog):
    categories, zones = _random_rows(shipped, 1000, seed=11)
    reps = 1000
    got = match_rules(shipped, categories * reps, zones * reps)
    assert got.shape == (1_000_000,)
    first = match_rules(shipped, categories, zones)
    np.testing.assert_array_equal(got[:1000], first)
    np.testing.assert_array_equal(got[-1000:], first)


def test_a_category_is_found_by_its_chinese_name_unless_two_share_it(tmp_path: Path, shipped: Catalog) -> None:
    names = shipped.category_codes_by_name
    assert names["河道非法采砂"] == "MIN-02" and len(names) == len(shipped.categories)
    doc = minimal_doc()
    entry(doc, "problem_categories", "BUILD")["zh"] = "采砂"   # two categories, one name: it names neither
    shared = load_catalog(write_catalog(tmp_path, doc)).category_codes_by_name
    assert "采砂" not in shared and dict(shared) == {}
