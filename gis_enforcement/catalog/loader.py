"""Load the four lists from YAML and refuse anything that would make a whistle ambiguous.

Validation collects every problem before refusing, so a district editing its lists sees them all at once:
each problem names the list, the entry code and the field, e.g.
``responsibility_rules[R-XYZ].lead: unknown department 'FOO'``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from gis_enforcement.domain.catalog import (
    ActionKind,
    Catalog,
    Category,
    Department,
    Indicator,
    InspectionWindow,
    LegalBasis,
    ResponsibilityRule,
    SeverityLevel,
    WarningRule,
    ZoneKind,
)
from gis_enforcement.errors import CatalogInvalid, NotConfigured

__all__ = ["PROVENANCE", "WARNING_LEVELS", "NOTIFY_ROLES", "load_catalog", "parse_catalog"]

PROVENANCE = ("sourced", "mixed", "draft")
WARNING_LEVELS = ("notice", "yellow", "red")
WARNING_SUBJECTS = ("department", "township", "officer", "location")
# Role tokens a warning may notify besides department codes; dispatch resolves them for the case at hand.
NOTIFY_ROLES = ("subject", "lead", "township", "command_center")
INTAKE_KEYS = (
    "dedupe_radius_m",
    "dedupe_window_hours",
    "geofence_m",
    "max_accuracy_m",
    "recurrence_radius_m",
    "recurrence_days",
)

_TOP_KEYS = {
    "version": True,
    "generated_for": False,
    "mechanism": False,
    "zone_kinds": False,
    "severity_levels": True,
    "departments": True,
    "intake_defaults": False,
    "problem_categories": True,
    "responsibility_rules": True,
    "warning_rules": False,
    "performance_indicators": False,
    "action_kinds": True,
}
_MISSING = object()


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loader that refuses a key repeated in one mapping (YAML would silently keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _UniqueKeyLoader.construct_mapping
)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


class _Entry:
    """Typed field access on one YAML mapping, reporting problems under ``where``."""

    def __init__(self, data: Mapping[str, Any], where: str, problems: _Problems) -> None:
        self.data = data
        self.where = where
        self.problems = problems

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or (required and value is None):
            if required:
                self.problems.add(f"{self.where}.{key}", "missing required field")
            return _MISSING
        return value

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problems.add(f"{self.where}.{key}", f"must be text, got {type(value).__name__}")
            return None
        if isinstance(value, str) and not value.strip():
            if required:
                self.problems.add(f"{self.where}.{key}", "must not be empty")
            return None
        return str(value)

    def number(self, key: str, *, required: bool = True, integer: bool = False, minimum: float = 0.0,
               strict: bool = True, default: Any = None) -> Any:
        value = self._get(key, required)
        if value is _MISSING or value is None:
            return default
        wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
        if wrong_type or (integer and not isinstance(value, int)):
            kind = "an integer" if integer else "a number"
            self.problems.add(f"{self.where}.{key}", f"must be {kind}, got {value!r}")
            return default
        if value < minimum or (strict and value == minimum):
            bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
            self.problems.add(f"{self.where}.{key}", f"must be {bound}, got {value!r}")
            return default
        return value

    def text_list(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self._get(key, required)
        if value is _MISSING or value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problems.add(f"{self.where}.{key}", "must be a list of non-empty strings")
            return ()
        return tuple(value)

    def choice(self, key: str, allowed: tuple[str, ...], *, required: bool = True) -> str | None:
        value = self.text(key, required=required)
        if value is not None and value not in allowed:
            self.problems.add(f"{self.where}.{key}", f"{value!r} is not one of {', '.join(allowed)}")
            return None
        return value


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _entries(
    doc: Mapping[str, Any], section: str, allowed: set[str], problems: _Problems
) -> list[tuple[str | None, _Entry]]:
    """The entries of a list section as (code, accessor); flags non-mappings, unknown keys and duplicates."""
    raw = doc.get(section)
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(section, f"must be a list, got {type(raw).__name__}")
        return []
    out: list[tuple[str | None, _Entry]] = []
    first_seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            problems.add(f"{section}[#{i + 1}]", f"must be a mapping, got {type(item).__name__}")
            continue
        code = item.get("code")
        if isinstance(code, str) and code.strip():
            where = f"{section}[{code}]"
        else:
            where = f"{section}[#{i + 1}]"
            reason = "missing required field" if code is None else f"invalid code {code!r}"
            problems.add(f"{where}.code", reason)
            code = None
        for key in item:
            if key not in allowed:
                problems.add(f"{where}.{key}", f"unknown field{_suggest(key, allowed)}")
        if code is not None:
            if code in first_seen:
                problems.add(where, f"duplicate code (first defined as entry #{first_seen[code]})")
                continue
            first_seen[code] = i + 1
        out.append((code, _Entry(item, where, problems)))
    return out


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _build_departments(doc: Mapping[str, Any], problems: _Problems) -> dict[str, Department]:
    allowed = {"code", "zh", "en", "officers", "role", "provenance", "officers_per_township", "note"}
    out: dict[str, Department] = {}
    for code, e in _entries(doc, "departments", allowed, problems):
        officers = e.number("officers", integer=True, strict=False)
        per_town = e.number("officers_per_township", required=False, integer=True)
        fields = (e.text("zh"), e.text("en"), e.choice("provenance", PROVENANCE))
        role, note = e.text("role", required=False), e.text("note", required=False)
        if code is not None and None not in fields and officers is not None:
            zh, en, prov = fields
            out[code] = Department(code, zh, en, officers, role, prov, per_town, note)  # type: ignore[arg-type]
    if not out and not any(p.startswith("departments") for p in problems.items):
        problems.add("departments", "the list is empty")
    return out


def _build_categories(
    doc: Mapping[str, Any], severities: Mapping[str, SeverityLevel], problems: _Problems
) -> dict[str, Category]:
    defaults_raw = doc.get("intake_defaults") or {}
    defaults: dict[str, Any] = {}
    if not isinstance(defaults_raw, Mapping):
        problems.add("intake_defaults", "must be a mapping")
    else:
        d = _Entry(defaults_raw, "intake_defaults", problems)
        for key in defaults_raw:
            if key not in (*INTAKE_KEYS, "provenance"):
                problems.add(f"intake_defaults.{key}", f"unknown field{_suggest(key, INTAKE_KEYS)}")
        for key in INTAKE_KEYS:
            value = d.number(key, required=False, integer=key == "recurrence_days")
            if value is not None:
                defaults[key] = value
        d.choice("provenance", PROVENANCE, required=False)

    allowed = {"code", "zh", "en", "severity", "provenance", "gb_code", "note", "intake", "inspection_window",
               "classify_first"}
    out: dict[str, Category] = {}
    for code, e in _entries(doc, "problem_categories", allowed, problems):
        zh, en = e.text("zh"), e.text("en")
        severity = e.text("severity")
        if severity is not None and severity not in severities:
            hint = _suggest(severity, severities)
            problems.add(f"{e.where}.severity", f"unknown severity level {severity!r}{hint}")
            severity = None
        prov = e.choice("provenance", PROVENANCE)
        gb_code, note = e.text("gb_code", required=False), e.text("note", required=False)
        intake_raw = e.data.get("intake") or {}
        intake = dict(defaults)
        if not isinstance(intake_raw, Mapping):
            problems.add(f"{e.where}.intake", "must be a mapping")
            intake_raw = {}
        ie = _Entry(intake_raw, f"{e.where}.intake", problems)
        for key in intake_raw:
            if key not in (*INTAKE_KEYS, "provenance"):
                problems.add(f"{e.where}.intake.{key}", f"unknown field{_suggest(key, INTAKE_KEYS)}")
        ie.choice("provenance", PROVENANCE, required=False)
        bad = False
        for key in INTAKE_KEYS:
            if key in intake_raw:
                value = ie.number(key, integer=key == "recurrence_days")
                bad |= value is None
                intake[key] = value
            elif key not in intake:
                problems.add(f"{e.where}.intake.{key}", "missing, and intake_defaults gives no value")
                bad = True
        window = _inspection_window(e, problems)
        classify_first = e.data.get("classify_first", False)
        if not isinstance(classify_first, bool):
            problems.add(f"{e.where}.classify_first", f"must be true or false, not {classify_first!r}")
            classify_first = False
        if code is not None and None not in (zh, en, severity, prov) and not bad:
            params = {k: (int(v) if k == "recurrence_days" else float(v)) for k, v in intake.items()}
            out[code] = Category(code, zh, en, severity, prov, **params, gb_code=gb_code, note=note,  # type: ignore[arg-type]
                                 inspection_window=window, classify_first=classify_first)
    if not out and not any(p.startswith("problem_categories") for p in problems.items):
        problems.add("problem_categories", "the list is empty")
    return out


def _inspection_window(e: _Entry, problems: _Problems) -> InspectionWindow | None:
    """``inspection_window: {start: "21:00", end: "04:00", label: night, provenance: draft}`` or None."""
    raw, where = e.data.get("inspection_window"), f"{e.where}.inspection_window"
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.add(where, "must be a mapping with start and end ('HH:MM', quoted)")
        return None
    for key in raw:
        if key not in ("start", "end", "label", "provenance"):
            problems.add(f"{where}.{key}", "unknown field")
    w = _Entry(raw, where, problems)
    start, end, label = w.text("start"), w.text("end"), w.text("label", required=False)
    prov = w.choice("provenance", PROVENANCE, required=False)
    try:
        if start is not None and end is not None:
            return InspectionWindow.from_clock(start, end, label=label, provenance=prov)
    except ValueError as exc:  # unquoted 21:00 is the YAML 1.1 number 1260, hence the hint
        problems.add(where, f"{exc} (quote clock times: '21:00')")
    return None


def _legal_basis(e: _Entry, problems: _Problems) -> tuple[LegalBasis, ...]:
    raw = e.data.get("legal_basis")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(f"{e.where}.legal_basis", "must be a list")
        return ()
    out: list[LegalBasis] = []
    for i, item in enumerate(raw):
        where = f"{e.where}.legal_basis[{i}]"
        if not isinstance(item, Mapping):
            problems.add(where, "must be a mapping with law and article")
            continue
        for key in item:
            if key not in ("law", "article", "note", "verify"):
                problems.add(f"{where}.{key}", "unknown field")
        lb = _Entry(item, where, problems)
        law, article, note = lb.text("law"), lb.text("article"), lb.text("note", required=False)
        verify = item.get("verify", False)
        if not isinstance(verify, bool):
            problems.add(f"{where}.verify", "must be true or false")
            verify = True
        if law is not None and article is not None:
            out.append(LegalBasis(law, article, note, verify))
    return tuple(out)


def _build_rules(
    doc: Mapping[str, Any],
    departments: Mapping[str, Department],
    categories: Mapping[str, Category],
    zone_kinds: Mapping[str, ZoneKind],
    default_report_in: int,
    problems: _Problems,
) -> tuple[ResponsibilityRule, ...]:
    allowed = {
        "code", "category", "zone_kind", "lead", "assists", "report_in_minutes", "resolution_hours",
        "legal_basis", "measures", "provenance", "priority", "note",
    }
    declared_categories = {
        item.get("code") for item in doc.get("problem_categories") or [] if isinstance(item, Mapping)
    }
    # Any problem refuses the whole catalog, so entries are built even when a field is bad; the records
    # are only returned when there is no problem at all.
    rules: list[ResponsibilityRule] = []
    by_key: dict[tuple[str, str | None], str] = {}
    for code, e in _entries(doc, "responsibility_rules", allowed, problems):
        category = e.text("category")
        if category is not None and category not in declared_categories:
            hint = _suggest(category, declared_categories - {None})
            problems.add(f"{e.where}.category", f"unknown category {category!r}{hint}")
        zone_kind = e.text("zone_kind", required=False)
        if zone_kind is not None and zone_kind not in zone_kinds:
            hint = _suggest(zone_kind, zone_kinds)
            problems.add(f"{e.where}.zone_kind", f"unknown zone kind {zone_kind!r}{hint}")
        lead = e.text("lead")
        if lead is not None and lead not in departments:
            problems.add(f"{e.where}.lead", f"unknown department {lead!r}{_suggest(lead, departments)}")
        assists = e.text_list("assists")
        for dept in assists:
            if dept not in departments:
                hint = _suggest(dept, departments)
                problems.add(f"{e.where}.assists", f"unknown department {dept!r}{hint}")
        if lead is not None and lead in assists:
            problems.add(f"{e.where}.assists", f"the lead {lead!r} is also listed as an assist")
        for dept in sorted({d for d in assists if assists.count(d) > 1}):
            problems.add(f"{e.where}.assists", f"department {dept!r} listed more than once")
        report_in = e.number("report_in_minutes", required=False, integer=True, default=default_report_in)
        resolution = e.number("resolution_hours", required=False)
        priority = e.data.get("priority", 0)
        if isinstance(priority, bool) or not isinstance(priority, int):
            problems.add(f"{e.where}.priority", f"must be an integer, got {priority!r}")
            priority = 0
        legal, measures = _legal_basis(e, problems), e.text_list("measures")
        prov, note = e.choice("provenance", PROVENANCE), e.text("note", required=False)
        if code is None or category is None:
            continue
        key = (category, zone_kind)
        if key in by_key:
            zone = "general" if zone_kind is None else f"zone_kind {zone_kind!r}"
            problems.add(e.where, f"second rule for category {category!r}, {zone} (see {by_key[key]})")
        by_key.setdefault(key, code)
        rules.append(
            ResponsibilityRule(
                code, category, zone_kind, lead, assists, report_in,  # type: ignore[arg-type]
                float(resolution) if resolution is not None else None,
                legal, measures, prov, priority, note,  # type: ignore[arg-type]
            )
        )
    for cat in categories:
        if (cat, None) not in by_key:
            problems.add(f"problem_categories[{cat}]", "no general responsibility rule (zone_kind: null)")
    return tuple(rules)


def _build_simple(
    doc: Mapping[str, Any],
    section: str,
    fields: dict[str, bool],
    make: Callable[..., Any],
    problems: _Problems,
    choices: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """Sections whose entries are text fields only: zone kinds, severity levels, indicators, action kinds."""
    out: dict[str, Any] = {}
    choices = choices or {}
    for code, e in _entries(doc, section, {"code", *fields}, problems):
        values = {
            k: (e.choice(k, choices[k], required=req) if k in choices else e.text(k, required=req))
            for k, req in fields.items()
        }
        if code is not None and all(values[k] is not None for k, req in fields.items() if req):
            out[code] = make(code=code, **values)
    return out


def _build_action_kinds(doc: Mapping[str, Any], indicators: Mapping[str, Any],
                        problems: _Problems) -> dict[str, ActionKind]:
    """The kinds of enforcement action; a record may give a kind by its Chinese name, so no two share one, and
    the indicator that counts a kind is one of the performance indicators."""
    kinds: dict[str, ActionKind] = _build_simple(
        doc, "action_kinds", {"zh": True, "en": True, "provenance": True, "note": False, "indicator": False},
        ActionKind, problems, choices={"provenance": PROVENANCE})
    first: dict[str, str] = {}
    for code, kind in kinds.items():
        if kind.indicator is not None and kind.indicator not in indicators:
            problems.add(f"action_kinds[{code}].indicator", f"unknown performance indicator {kind.indicator!r}; "
                         f"known: {', '.join(indicators) or 'none'}")
        if kind.zh in kinds and kind.zh != code:
            problems.add(f"action_kinds[{code}].zh", f"{kind.zh!r} is the code of another kind")
        elif kind.zh in first:
            problems.add(f"action_kinds[{code}].zh", f"{kind.zh!r} is also the name of {first[kind.zh]}")
        first.setdefault(kind.zh, code)
    if not kinds and not any(p.startswith("action_kinds") for p in problems.items):
        problems.add("action_kinds", "the list is empty")
    return kinds


def _build_warnings(
    doc: Mapping[str, Any], departments: Mapping[str, Department], problems: _Problems
) -> dict[str, WarningRule]:
    allowed = {"code", "subject", "trigger", "consequence", "level", "notify", "provenance", "note", "deduction"}
    out: dict[str, WarningRule] = {}
    for code, e in _entries(doc, "warning_rules", allowed, problems):
        subject = e.choice("subject", WARNING_SUBJECTS)
        trigger, consequence = e.text("trigger"), e.text("consequence")
        level = e.choice("level", WARNING_LEVELS)
        deduction = _deduction(e, problems)
        notify = e.text_list("notify")
        for target in notify:
            if target not in departments and target not in NOTIFY_ROLES:
                options = (*NOTIFY_ROLES, *departments)
                problems.add(
                    f"{e.where}.notify",
                    f"unknown department or role {target!r}{_suggest(target, options)}",
                )
        prov, note = e.choice("provenance", PROVENANCE), e.text("note", required=False)
        if code is not None and None not in (subject, trigger, consequence, level, prov):
            out[code] = WarningRule(code, subject, trigger, consequence, level, notify, prov, note,  # type: ignore[arg-type]
                                    MappingProxyType(deduction))
    return out


def _deduction(e: _Entry, problems: _Problems) -> dict[str, float]:
    """``deduction: 2`` (points per warning, whatever its level) or ``deduction: {yellow: 0, red: 1}`` (per
    level; a level left out deducts nothing) → points by level; absent: no deduction. Points are numbers
    from 0 to 100 (a score is 0–100)."""
    raw, where = e.data.get("deduction"), f"{e.where}.deduction"
    if raw is None:
        return {}
    if isinstance(raw, Mapping):
        out: dict[str, float] = {}
        for level, points in raw.items():
            if level not in WARNING_LEVELS:
                problems.add(f"{where}.{level}", f"unknown level{_suggest(level, WARNING_LEVELS)}; "
                                                 f"one of {', '.join(WARNING_LEVELS)}")
            elif (value := _points(points, f"{where}.{level}", problems)) is not None:
                out[str(level)] = value
        return out
    value = _points(raw, where, problems)
    return {} if value is None else dict.fromkeys(WARNING_LEVELS, value)


def _points(value: Any, where: str, problems: _Problems) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        problems.add(where, f"must be a number of points (or a mapping of level to points), got {value!r}")
        return None
    if not 0 <= value <= 100:
        problems.add(where, f"must be from 0 to 100 points, got {value!r}")
        return None
    return float(value)


def parse_catalog(text: str, *, source: str = "<string>") -> Catalog:
    """Parse and validate catalog YAML text; see :func:`load_catalog` for what is refused.

    ``source`` names the text in messages and is kept on the returned :class:`Catalog`.
    """
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        where = f"line {line}, column {mark.column + 1}" if mark is not None else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc)
        msg = f"{source}: YAML syntax error at {where}: {problem}"
        raise CatalogInvalid(msg, problems=[msg], line=line) from None
    if not isinstance(doc, Mapping):
        msg = f"{source}: the catalog must be a YAML mapping with the four lists"
        raise CatalogInvalid(msg, problems=[msg])

    problems = _Problems()
    for key in doc:
        if key not in _TOP_KEYS:
            problems.add(str(key), f"unknown section{_suggest(key, _TOP_KEYS)}")
    for key, required in _TOP_KEYS.items():
        if required and doc.get(key) is None:
            problems.add(key, "missing required section")

    version = doc.get("version")
    mechanism = doc.get("mechanism") or {}
    if not isinstance(mechanism, Mapping):
        problems.add("mechanism", "must be a mapping")
        mechanism = {}
    mech = _Entry(mechanism, "mechanism", problems)
    default_report_in = mech.number("report_in_minutes_default", required=False, integer=True, default=30)
    # the evaluation's parameters: occasions a warning's points are charged per, hours to triage a report (> 0)
    for key in ("deductions_per_exposure", "triage_within_hours"):
        mech.number(key, required=False)

    zone_kinds = _build_simple(doc, "zone_kinds", {"zh": True, "en": True}, ZoneKind, problems)
    severities = _build_simple(
        doc, "severity_levels", {"zh": True, "meaning": True, "provenance": True}, SeverityLevel, problems,
        choices={"provenance": PROVENANCE},
    )
    departments = _build_departments(doc, problems)
    categories = _build_categories(doc, severities, problems)
    rules = _build_rules(doc, departments, categories, zone_kinds, default_report_in, problems)
    warnings = _build_warnings(doc, departments, problems)
    indicators = _build_simple(
        doc, "performance_indicators", {"zh": True, "en": False, "formula": True, "provenance": True},
        Indicator, problems, choices={"provenance": PROVENANCE},
    )
    action_kinds = _build_action_kinds(doc, indicators, problems)

    if problems.items:
        n = len(problems.items)
        lines = "\n".join(f"  - {p}" for p in problems.items)
        # No single ``field``: each problem line names its own list, entry and field.
        raise CatalogInvalid(
            f"{source}: {n} problem{'s' if n > 1 else ''} in the catalog:\n{lines}",
            problems=list(problems.items),
        )
    return Catalog(
        version=str(version),
        departments=MappingProxyType(departments),
        categories=MappingProxyType(categories),
        rules=rules,
        warning_rules=MappingProxyType(warnings),
        zone_kinds=MappingProxyType(zone_kinds),
        indicators=MappingProxyType(indicators),
        source=source,
        severity_levels=MappingProxyType(severities),
        mechanism=_freeze(mechanism),
        action_kinds=MappingProxyType(action_kinds),
    )


def load_catalog(path: str | Path) -> Catalog:
    """Load the four lists from a YAML file and validate them, refusing with every problem at once.

    Refused with :class:`CatalogInvalid` (its message lists one problem per line, each naming list, entry
    code and field; ``detail["problems"]`` holds the same lines): YAML syntax errors (with line and column)
    and repeated keys; unknown sections or fields; missing required fields; duplicate codes in any list;
    unknown department, category, zone-kind or severity codes; a rule without a lead or whose lead is also
    an assist; two rules for the same (category, zone_kind); a category without a general rule; zero or
    negative deadlines and intake parameters; a kind of enforcement action (``action_kinds``) whose Chinese name
    is another kind's name or code; an inspection window with a bad or unquoted clock time, or
    equal start and end; a warning rule's ``deduction`` that is not a number of points from 0 to 100 (or a
    mapping of warning level to such a number); a ``mechanism.deductions_per_exposure`` or
    ``mechanism.triage_within_hours`` that is not a number > 0. A missing file raises :class:`NotConfigured`.
    """
    path = Path(path)
    if not path.is_file():
        raise NotConfigured(f"catalog file not found: {path}", field="catalog_path")
    return parse_catalog(path.read_text(encoding="utf-8"), source=str(path))
