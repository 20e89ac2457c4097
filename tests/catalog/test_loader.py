"""The catalog loader: the shipped four lists load; every kind of bad catalog is refused, naming the entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gis_enforcement.catalog import load_catalog, parse_catalog
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import CatalogInvalid, NotConfigured
from tests.catalog.factory import SHIPPED, entry, minimal_doc, write_catalog

ZONE_KINDS = ["river_corridor", "mining_area", "truck_route", "ecological_redline"]


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog(SHIPPED)


# --- the shipped catalog -------------------------------------------------------------------------------


def test_shipped_catalog_loads_with_18_categories_and_the_placeholder(shipped: Catalog):
    problems = [c for c in shipped.categories.values() if not c.classify_first]
    assert len(problems) == 18
    assert [c.code for c in shipped.categories.values() if c.classify_first] == ["OTH-00"]
    assert shipped.version and shipped.source == str(SHIPPED)
    assert list(shipped.zone_kinds) == ZONE_KINDS


def test_shipped_rules_name_known_departments_and_cover_every_category(shipped: Catalog):
    for rule in shipped.rules:
        assert rule.lead in shipped.departments
        assert all(d in shipped.departments for d in rule.assists)
        assert rule.lead not in rule.assists
        assert rule.category in shipped.categories
        assert rule.report_in_minutes > 0
        assert rule.resolution_hours is None or rule.resolution_hours > 0
        assert rule.provenance in {"sourced", "mixed", "draft"}
    for code in shipped.categories:
        general = shipped.general_rule(code)
        assert general is not None and general.code == f"R-{code}"


def test_shipped_zone_rules_are_draft_with_a_reason(shipped: Catalog):
    zone_rules = [r for r in shipped.rules if r.zone_kind is not None]
    assert {r.zone_kind for r in zone_rules} == set(ZONE_KINDS)
    for rule in zone_rules:
        assert rule.provenance == "draft" and rule.note
    assert shipped.rule("R-TRK-01-ROUTE").report_in_minutes == 20
    assert shipped.rule("R-MIN-02-RIVER").lead == "WATER"
    assert shipped.rule("R-ENV-03-REDLINE").lead == "FOREST"
    assert "FIRE" in shipped.rule("R-ENV-03-REDLINE").assists
    assert shipped.rule("R-MIN-01-MINING").lead == "PNR"
    assert shipped.rule("R-CON-01-REDLINE").lead == shipped.rule("R-LAND-01-REDLINE").lead == "PNR"


def test_shipped_keeps_draft_codes_marks_and_verify_flags(shipped: Catalog):
    assert shipped.categories["MIN-01"].provenance == "mixed"
    assert shipped.categories["LAND-01"].provenance == "draft"
    mining_law = shipped.rule("R-MIN-01").legal_basis[0]
    assert mining_law.verify and "矿产资源法" in mining_law.law
    assert not shipped.rule("R-MIN-02").legal_basis[0].verify
    assert list(shipped.warning_rules) == [f"W{i:02d}" for i in range(1, 14)]
    assert {w.level for w in shipped.warning_rules.values()} <= {"notice", "yellow", "red"}
    assert all(w.notify for w in shipped.warning_rules.values())
    assert list(shipped.indicators) == [f"P0{i}" for i in range(1, 10)]
    assert shipped.mechanism["report_in_minutes_default"] == 30


def test_shipped_departments_and_intake_parameters(shipped: Catalog):
    town = shipped.departments["TOWN"]
    assert town.role == "whistler" and town.officers_per_township
    assert town.officers == town.officers_per_township * 18
    assert all(d.officers > 0 for d in shipped.departments.values())
    for cat in shipped.categories.values():
        assert cat.severity in shipped.severity_levels
        assert cat.dedupe_radius_m > 0 and cat.dedupe_window_hours > 0 and cat.geofence_m > 0
        assert cat.max_accuracy_m > 0 and cat.recurrence_radius_m > 0
        assert isinstance(cat.recurrence_days, int) and cat.recurrence_days > 0
        assert isinstance(cat.geofence_m, float)


def test_catalog_records_are_read_only(shipped: Catalog):
    with pytest.raises(TypeError):
        shipped.departments["X"] = shipped.departments["TOWN"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        shipped.rules[0].lead = "X"  # type: ignore[misc]


# --- a minimal valid catalog ---------------------------------------------------------------------------


def test_minimal_catalog_loads_and_fills_defaults(tmp_path: Path):
    cat = load_catalog(write_catalog(tmp_path, minimal_doc()))
    sand = cat.categories["SAND"]
    assert sand.dedupe_radius_m == 300.0  # from the category
    assert sand.geofence_m == 500.0 and sand.recurrence_days == 90  # from intake_defaults
    assert cat.rule("R-SAND-MINE").report_in_minutes == 30  # from mechanism.report_in_minutes_default
    assert cat.rule("R-BUILD").resolution_hours is None
    assert cat.rule("R-SAND").legal_basis[0].law == "水法"
    assert cat.warning_rules["W01"].notify == ("subject", "township", "PSB")


def test_action_kinds_by_code_or_chinese_name(tmp_path: Path, shipped: Catalog):
    cat = load_catalog(write_catalog(tmp_path, minimal_doc()))
    assert list(cat.action_kinds) == ["INSPECT", "PENALTY"] and cat.action_kinds["PENALTY"].note == "罚款"
    assert cat.action_kind_code("PENALTY") == cat.action_kind_code("行政处罚") == "PENALTY"
    assert cat.action_kind_code("罚款") is None and cat.action_kind_code("penalty") is None
    assert dict(cat.action_kind_codes_by_name) == {"现场检查": "INSPECT", "行政处罚": "PENALTY"}
    # the shipped lists: the kinds records are counted by, each marked; only the assist's kind is the platform's own
    assert {"现场检查", "责令改正", "行政处罚", "查封扣押", "拆除", "移送", "协助执法"} == {
        k.zh for k in shipped.action_kinds.values()}
    assert {k.code for k in shipped.action_kinds.values() if k.provenance != "sourced"} == {"ASSIST"}
    assert all(k.en and k.note for k in shipped.action_kinds.values())
    assert shipped.action_kinds_counted_by("P05") == {"PENALTY"} and shipped.action_kinds_counted_by("P06") == {
        "INSPECT"}


def test_missing_file_is_not_configured(tmp_path: Path):
    with pytest.raises(NotConfigured):
        load_catalog(tmp_path / "nope.yaml")


# --- refusals ------------------------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(section: str, code: str, **fields: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        entry(doc, section, code).update(fields)

    return mutate


def _drop(section: str, code: str, field: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        del entry(doc, section, code)[field]

    return mutate


def _append(section: str, item: dict[str, Any]) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc[section].append(item)

    return mutate


def _duplicate(section: str, code: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc[section].append(dict(entry(doc, section, code)))

    return mutate


def _remove(section: str, code: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc[section].remove(entry(doc, section, code))

    return mutate


REFUSALS: list[tuple[str, Mutation, str]] = [
    ("unknown lead", _set("responsibility_rules", "R-SAND", lead="FOO"),
     "responsibility_rules[R-SAND].lead: unknown department 'FOO'"),
    ("unknown assist", _set("responsibility_rules", "R-BUILD", assists=["PNR", "WATR"]),
     "responsibility_rules[R-BUILD].assists: unknown department 'WATR' (did you mean 'WATER'?)"),
    ("unknown category", _set("responsibility_rules", "R-SAND-MINE", category="SANDS"),
     "responsibility_rules[R-SAND-MINE].category: unknown category 'SANDS'"),
    ("unknown zone kind", _set("responsibility_rules", "R-SAND-MINE", zone_kind="quarry"),
     "responsibility_rules[R-SAND-MINE].zone_kind: unknown zone kind 'quarry'"),
    ("unknown notify", _set("warning_rules", "W01", notify=["subject", "MAYOR"]),
     "warning_rules[W01].notify: unknown department or role 'MAYOR'"),
    ("classify_first not a flag", _set("problem_categories", "BUILD", classify_first="yes"),
     "problem_categories[BUILD].classify_first: must be true or false, not 'yes'"),
    ("unknown severity", _set("problem_categories", "BUILD", severity="huge"),
     "problem_categories[BUILD].severity: unknown severity level 'huge'"),
    ("bad warning level", _set("warning_rules", "W01", level="orange"),
     "warning_rules[W01].level: 'orange' is not one of notice, yellow, red"),
    ("bad provenance", _set("departments", "PSB", provenance="guess"),
     "departments[PSB].provenance: 'guess' is not one of sourced, mixed, draft"),
    ("duplicate department", _duplicate("departments", "PSB"), "departments[PSB]: duplicate code"),
    ("duplicate category", _duplicate("problem_categories", "BUILD"),
     "problem_categories[BUILD]: duplicate code"),
    ("duplicate rule code", _append("responsibility_rules", {
        "code": "R-SAND", "category": "BUILD", "zone_kind": "truck_route", "lead": "TOWN",
        "provenance": "draft"}),
     "responsibility_rules[R-SAND]: duplicate code"),
    ("duplicate warning", _duplicate("warning_rules", "W01"), "warning_rules[W01]: duplicate code"),
    ("duplicate zone kind", _duplicate("zone_kinds", "mining_area"),
     "zone_kinds[mining_area]: duplicate code"),
    ("duplicate indicator", _duplicate("performance_indicators", "P01"),
     "performance_indicators[P01]: duplicate code"),
    ("rule without lead", _drop("responsibility_rules", "R-SAND-RIVER", "lead"),
     "responsibility_rules[R-SAND-RIVER].lead: missing required field"),
    ("rule with null lead", _set("responsibility_rules", "R-SAND-RIVER", lead=None),
     "responsibility_rules[R-SAND-RIVER].lead: missing required field"),
    ("lead also assist", _set("responsibility_rules", "R-SAND", assists=["PSB", "WATER"]),
     "responsibility_rules[R-SAND].assists: the lead 'WATER' is also listed as an assist"),
    ("assist twice", _set("responsibility_rules", "R-SAND", assists=["PSB", "PSB"]),
     "responsibility_rules[R-SAND].assists: department 'PSB' listed more than once"),
    ("two zone rules same pair", _append("responsibility_rules", {
        "code": "R-SAND-RIVER-2", "category": "SAND", "zone_kind": "river_corridor", "lead": "PSB",
        "provenance": "draft"}),
     "responsibility_rules[R-SAND-RIVER-2]: second rule for category 'SAND', zone_kind 'river_corridor'"),
    ("two general rules", _append("responsibility_rules", {
        "code": "R-BUILD-2", "category": "BUILD", "lead": "PNR", "provenance": "draft"}),
     "responsibility_rules[R-BUILD-2]: second rule for category 'BUILD', general"),
    ("no general rule", _remove("responsibility_rules", "R-BUILD"),
     "problem_categories[BUILD]: no general responsibility rule"),
    ("zero report-in", _set("responsibility_rules", "R-SAND", report_in_minutes=0),
     "responsibility_rules[R-SAND].report_in_minutes: must be > 0, got 0"),
    ("negative resolution", _set("responsibility_rules", "R-SAND", resolution_hours=-4),
     "responsibility_rules[R-SAND].resolution_hours: must be > 0, got -4"),
    ("fractional report-in", _set("responsibility_rules", "R-SAND", report_in_minutes=12.5),
     "responsibility_rules[R-SAND].report_in_minutes: must be an integer, got 12.5"),
    ("zero intake", _set("problem_categories", "SAND", intake={"geofence_m": 0}),
     "problem_categories[SAND].intake.geofence_m: must be > 0, got 0"),
    ("negative officers", _set("departments", "PSB", officers=-1),
     "departments[PSB].officers: must be >= 0, got -1"),
    ("missing category name", _drop("problem_categories", "SAND", "zh"),
     "problem_categories[SAND].zh: missing required field"),
    ("missing officers", _drop("departments", "WATER", "officers"),
     "departments[WATER].officers: missing required field"),
    ("missing code", _append("departments", {"zh": "无", "en": "none", "officers": 1, "provenance": "draft"}),
     "departments[#5].code: missing required field"),
    ("typo field", _set("responsibility_rules", "R-BUILD", assits=["PNR"]),
     "responsibility_rules[R-BUILD].assits: unknown field (did you mean 'assists'?)"),
    ("unknown section", lambda d: d.update(warnings=[]), "warnings: unknown section"),
    ("missing section", lambda d: d.pop("departments"), "departments: missing required section"),
    ("verify not bool", _set("responsibility_rules", "R-SAND", legal_basis=[{"law": "x", "article": "1",
                                                                              "verify": "yes"}]),
     "responsibility_rules[R-SAND].legal_basis[0].verify: must be true or false"),
    ("intake default missing", lambda d: d["intake_defaults"].pop("geofence_m"),
     "problem_categories[SAND].intake.geofence_m: missing, and intake_defaults gives no value"),
    ("deduction as text", _set("warning_rules", "W01", deduction="扣1分"),
     "warning_rules[W01].deduction: must be a number of points (or a mapping of level to points), got '扣1分'"),
    ("negative deduction", _set("warning_rules", "W01", deduction=-1),
     "warning_rules[W01].deduction: must be from 0 to 100 points, got -1"),
    ("deduction true", _set("warning_rules", "W01", deduction=True),
     "warning_rules[W01].deduction: must be a number of points"),
    ("deduction of an unknown level", _set("warning_rules", "W01", deduction={"orange": 1}),
     "warning_rules[W01].deduction.orange: unknown level"),
    ("deduction by level too high", _set("warning_rules", "W01", deduction={"red": 101}),
     "warning_rules[W01].deduction.red: must be from 0 to 100 points, got 101"),
    ("no action kinds", lambda d: d.pop("action_kinds"), "action_kinds: missing required section"),
    ("empty action kinds", lambda d: d.update(action_kinds=[]), "action_kinds: the list is empty"),
    ("duplicate action kind", _duplicate("action_kinds", "PENALTY"), "action_kinds[PENALTY]: duplicate code"),
    ("action kind name twice", _append("action_kinds", {"code": "FINE", "zh": "行政处罚", "en": "Fine",
                                                         "provenance": "draft"}),
     "action_kinds[FINE].zh: '行政处罚' is also the name of PENALTY"),
    ("action kind named as another's code", _append("action_kinds", {"code": "CHECK", "zh": "INSPECT", "en": "x",
                                                                      "provenance": "draft"}),
     "action_kinds[CHECK].zh: 'INSPECT' is the code of another kind"),
    ("action kind without a name", _drop("action_kinds", "INSPECT", "zh"),
     "action_kinds[INSPECT].zh: missing required field"),
    ("action kind provenance", _set("action_kinds", "INSPECT", provenance="guess"),
     "action_kinds[INSPECT].provenance: 'guess' is not one of sourced, mixed, draft"),
    ("action kind typo field", _set("action_kinds", "INSPECT", nam="x"),
     "action_kinds[INSPECT].nam: unknown field"),
    ("action kind counted by no indicator of the lists", _set("action_kinds", "PENALTY", indicator="P05"),
     "action_kinds[PENALTY].indicator: unknown performance indicator 'P05'; known: P01"),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [(m, e) for _, m, e in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refused_naming_the_entry(tmp_path: Path, mutate: Mutation, expected: str):
    doc = minimal_doc()
    mutate(doc)
    with pytest.raises(CatalogInvalid) as info:
        load_catalog(write_catalog(tmp_path, doc))
    err = info.value
    assert expected in err.message
    assert any(expected in p for p in err.detail["problems"])
    assert err.status == 422


def test_all_problems_are_reported_together(tmp_path: Path):
    doc = minimal_doc()
    for _, mutate, _ in REFUSALS[:5]:
        mutate(doc)
    with pytest.raises(CatalogInvalid) as info:
        load_catalog(write_catalog(tmp_path, doc))
    problems = info.value.detail["problems"]
    assert len(problems) >= 5
    for _, _, expected in REFUSALS[:5]:
        assert any(expected in p for p in problems)
    lines = info.value.message.splitlines()
    assert "5 problems" in lines[0]
    assert all(line.startswith("  - ") for line in lines[1:])
    assert len(lines) == len(problems) + 1
    assert str(info.value) == info.value.message  # no field prefix: every line names its own


def test_yaml_syntax_error_names_the_line(tmp_path: Path):
    text = "version: x\ndepartments:\n  - {code: A, zh: a\n  - {code: B}\n"
    with pytest.raises(CatalogInvalid) as info:
        load_catalog(write_catalog(tmp_path, text))
    assert "YAML syntax error at line" in info.value.message
    assert info.value.detail["line"] in (3, 4)


def test_repeated_yaml_key_is_refused_with_its_line(tmp_path: Path):
    text = "version: x\nversion: y\n"
    with pytest.raises(CatalogInvalid) as info:
        load_catalog(write_catalog(tmp_path, text))
    assert "duplicate key 'version'" in info.value.message
    assert info.value.detail["line"] == 2


def test_not_a_mapping_is_refused():
    with pytest.raises(CatalogInvalid, match="must be a YAML mapping"):
        parse_catalog("- just\n- a list\n")


def test_warning_deductions_by_level_and_in_the_shipped_lists(tmp_path: Path, shipped: Catalog):
    doc = minimal_doc()
    entry(doc, "warning_rules", "W01")["deduction"] = {"red": 1.5}
    rule = load_catalog(write_catalog(tmp_path, doc)).warning_rules["W01"]
    assert (rule.points("notice"), rule.points("yellow"), rule.points("red")) == (0.0, 0.0, 1.5)
    entry(doc, "warning_rules", "W01")["deduction"] = 2
    rule = load_catalog(write_catalog(tmp_path, doc)).warning_rules["W01"]
    assert {rule.points(level) for level in ("notice", "yellow", "red")} == {2.0}
    del entry(doc, "warning_rules", "W01")["deduction"]
    assert load_catalog(write_catalog(tmp_path, doc)).warning_rules["W01"].points("red") == 0.0
    # the shipped points are the consequences' 扣N分: W01 扣1分/次, W02 扣3分/次, W05 red 扣1分, W12 不扣分
    points = {code: (r.points("yellow"), r.points("red")) for code, r in shipped.warning_rules.items()}
    assert (points["W01"], points["W02"], points["W04"], points["W05"], points["W12"]) == (
        (1, 1), (3, 3), (2, 2), (0, 1), (0, 0))
    assert all(r.provenance == "draft" for r in shipped.warning_rules.values())
    dims = {d["code"]: d for d in shipped.mechanism["evaluation_dimensions"]}
    assert dims["TOWNSHIP_RATING"]["provenance"] == "draft" and dims["TOWNSHIP_RATING"]["weight"] > 0
