"""The four lists (四张清单) as frozen records: departments, problem categories, responsibility rules,
warning rules and performance indicators, gathered in one :class:`Catalog`.

Pure data: loading and validating YAML lives in :mod:`gis_enforcement.catalog.loader`, rule look-up in
:mod:`gis_enforcement.catalog.rules`. ``provenance`` is ``sourced``, ``mixed`` or ``draft`` everywhere, as
in the shipped YAML.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from gis_enforcement.domain.enums import Role
from gis_enforcement.domain.records import PlanItem


@dataclass(frozen=True, slots=True)
class Department:
    """A body that can be whistled (委办局), or the township team that whistles (``role='whistler'``).

    ``officers`` is the enforcement staff the body can commit to the chain (district-wide total);
    ``officers_per_township`` is set for the township team, whose officers work in each of the townships.
    """

    code: str
    zh: str
    en: str
    officers: int
    role: str | None
    provenance: str
    officers_per_township: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LegalBasis:
    """One legal basis of a rule; ``verify`` marks an article number that must be checked against the text."""

    law: str
    article: str
    note: str | None = None
    verify: bool = False


MINUTES_PER_DAY = 1440
_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def _clock_minute(text: str) -> int:
    match = _CLOCK.match(text.strip())
    minute = int(match.group(1)) * 60 + int(match.group(2)) if match else -1
    if not 0 <= minute <= MINUTES_PER_DAY:
        raise ValueError(f"{text!r} is not a clock time HH:MM between 00:00 and 24:00")
    return minute


@dataclass(frozen=True, slots=True)
class InspectionWindow:
    """A daily clock interval in local time (Asia/Shanghai) when a category is best inspected (e.g. at night).

    ``start_minute`` and ``end_minute`` count minutes from midnight (0..1440). ``end < start`` crosses
    midnight (21:00–04:00 runs from 21:00 to 04:00 the next morning); ``0``–``1440`` is the whole day; start
    equal to end is refused. ``label`` is a word such as ``night``; ``provenance`` as elsewhere in the lists.
    """

    start_minute: int
    end_minute: int
    label: str | None = None
    provenance: str | None = None

    def __post_init__(self) -> None:
        ok = 0 <= self.start_minute < MINUTES_PER_DAY and 0 <= self.end_minute <= MINUTES_PER_DAY
        if not ok or self.start_minute == self.end_minute:
            raise ValueError(f"invalid window {self.start_minute}..{self.end_minute} (minutes from midnight)")

    @classmethod
    def parse(cls, text: str, *, label: str | None = None, provenance: str | None = None) -> InspectionWindow:
        """A window from ``"HH:MM-HH:MM"`` (also with an en dash or ``~``), e.g. ``"21:00-04:00"``.

        Raises :class:`ValueError` naming the problem: a bad clock time, or equal start and end.
        """
        parts = re.split(r"\s*[-–~]\s*", text.strip())
        if len(parts) != 2:
            raise ValueError(f"{text!r} is not a window 'HH:MM-HH:MM'")
        return cls.from_clock(parts[0], parts[1], label=label, provenance=provenance)

    @classmethod
    def from_clock(cls, start: str, end: str, *, label: str | None = None,
                   provenance: str | None = None) -> InspectionWindow:
        """A window from two clock times ``"HH:MM"``; ``"24:00"`` is allowed as an end."""
        first, last = _clock_minute(start), _clock_minute(end)
        if first == MINUTES_PER_DAY:
            first = 0
        if first == last:
            raise ValueError(f"window {start}-{end} has no length (use 00:00-24:00 for the whole day)")
        return cls(first, last, label, provenance)

    @property
    def crosses_midnight(self) -> bool:
        return self.end_minute < self.start_minute

    @property
    def minutes(self) -> int:
        """Length of the window in minutes."""
        return (self.end_minute - self.start_minute) % MINUTES_PER_DAY or MINUTES_PER_DAY

    def __str__(self) -> str:
        def clock(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"

        return f"{clock(self.start_minute)}-{clock(self.end_minute)}"


@dataclass(frozen=True, slots=True)
class Category:
    """A problem category of the 问题清单, with the intake parameters patrol reports are checked against.

    Distances in metres, windows in hours/days: ``dedupe_*`` decide when two reports are the same problem,
    ``geofence_m`` how close a department must be to report in, ``max_accuracy_m`` the worst GPS accuracy
    a fix may have before it is flagged, ``recurrence_*`` when a closed problem counts as having come back.
    ``inspection_window`` is when a joint operation should be on site (the hours the problem is active, e.g.
    night for sand extraction); None when the lists give none.

    ``classify_first`` marks the placeholder a patrol picks when it cannot tell what it sees (类别待定): such a
    report goes to its township's desk, which names the real category (改类,
    :func:`gis_enforcement.dispatch.triage.reclassify`) before anybody is whistled to it.
    """

    code: str
    zh: str
    en: str
    severity: str
    provenance: str
    dedupe_radius_m: float
    dedupe_window_hours: float
    geofence_m: float
    max_accuracy_m: float
    recurrence_radius_m: float
    recurrence_days: int
    gb_code: str | None = None
    note: str | None = None
    inspection_window: InspectionWindow | None = None
    classify_first: bool = False


@dataclass(frozen=True, slots=True)
class ResponsibilityRule:
    """A row of the 权责清单: for a category (optionally only inside a zone kind), who leads and who assists.

    ``zone_kind`` None is the category's general rule; a zone rule applies to points inside a zone of that
    kind and beats the general rule (see :func:`gis_enforcement.catalog.rules.rule_for`).
    """

    code: str
    category: str
    zone_kind: str | None
    lead: str
    assists: tuple[str, ...]
    report_in_minutes: int
    resolution_hours: float | None
    legal_basis: tuple[LegalBasis, ...]
    measures: tuple[str, ...]
    provenance: str
    priority: int = 0
    note: str | None = None

    def plan(self) -> tuple[PlanItem, ...]:
        """The whistle plan this rule prescribes: the lead first, then the assists in list order.

        Every department gets the rule's report-in and resolution deadlines, counted from the whistle.
        """
        minutes, hours = self.report_in_minutes, self.resolution_hours
        lead = PlanItem(self.lead, Role.LEAD, minutes, hours)
        return (lead, *(PlanItem(dept, Role.ASSIST, minutes, hours) for dept in self.assists))

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.lead, *self.assists)


@dataclass(frozen=True, slots=True)
class WarningRule:
    """A row of the 警示清单: what triggers a warning, its consequence, its level and who is told.

    ``notify`` holds department codes or the role tokens ``subject``, ``lead``, ``township`` and
    ``command_center`` (resolved by dispatch for the case at hand). ``deduction`` is the points each
    warning of the rule takes off its subject's evaluation score (the consequence's 扣N分), by warning level:
    a rule raised yellow then red (W05) may deduct only at red; a level not listed deducts nothing.
    """

    code: str
    subject: str
    trigger: str
    consequence: str
    level: str
    notify: tuple[str, ...]
    provenance: str
    note: str | None = None
    deduction: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def points(self, level: str) -> float:
        """The points one warning of this rule at ``level`` deducts (0 when the lists give none)."""
        return float(self.deduction.get(level, 0.0))


@dataclass(frozen=True, slots=True)
class ZoneKind:
    """A kind of special zone that responsibility rules may be specific to."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Indicator:
    """A row of the 绩效清单: a performance indicator and how it is computed."""

    code: str
    zh: str
    en: str | None
    formula: str
    provenance: str


@dataclass(frozen=True, slots=True)
class ActionKind:
    """A kind of enforcement action (执法行为种类) an enforcement record is of: 现场检查, 责令改正, 行政处罚 …

    A record names its kind by ``code`` (or by the exact Chinese name ``zh``), so records can be counted by kind;
    ``indicator`` names the performance indicator that counts records of the kind (``P05`` 人均处罚量 for penalty
    decisions, ``P06`` 人均检查量 for inspections), if any.
    """

    code: str
    zh: str
    en: str
    provenance: str
    note: str | None = None
    indicator: str | None = None


@dataclass(frozen=True, slots=True)
class SeverityLevel:
    code: str
    zh: str
    meaning: str
    provenance: str


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


#: ``mechanism.deductions_per_exposure`` when the lists give none: a warning's points are charged per this many
#: occasions (summons a department received, cases a township had) — draft
DEFAULT_DEDUCTIONS_PER_EXPOSURE = 100.0
#: ``mechanism.triage_within_hours`` when the lists give none: hours a township has to triage a report (whistle,
#: decline, mark duplicate or reclassify it) after it came in — draft
DEFAULT_TRIAGE_WITHIN_HOURS = 24.0


@dataclass(frozen=True)
class Catalog:
    """The four lists of one district, validated. Mappings keep the YAML order and are read-only.

    ``zone_kinds`` order is meaningful: it breaks ties between zone rules of equal priority (earlier wins).
    """

    version: str
    departments: Mapping[str, Department]
    categories: Mapping[str, Category]
    rules: tuple[ResponsibilityRule, ...]
    warning_rules: Mapping[str, WarningRule]
    zone_kinds: Mapping[str, ZoneKind]
    indicators: Mapping[str, Indicator]
    source: str
    severity_levels: Mapping[str, SeverityLevel] = field(default_factory=_empty)
    mechanism: Mapping[str, Any] = field(default_factory=_empty)
    action_kinds: Mapping[str, ActionKind] = field(default_factory=_empty)
    # Derived indexes, built in __post_init__.
    _by_code: Mapping[str, ResponsibilityRule] = field(init=False, repr=False, compare=False)
    _by_key: Mapping[tuple[str, str | None], ResponsibilityRule] = field(
        init=False, repr=False, compare=False
    )
    _zone_rank: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _by_name: Mapping[str, str] = field(init=False, repr=False, compare=False)
    _kind_by_name: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Derived indexes; the loader guarantees codes and (category, zone_kind) pairs are unique.
        object.__setattr__(self, "_by_code", MappingProxyType({r.code: r for r in self.rules}))
        object.__setattr__(
            self, "_by_key", MappingProxyType({(r.category, r.zone_kind): r for r in self.rules})
        )
        ranks = {kind: i for i, kind in enumerate(self.zone_kinds)}
        object.__setattr__(self, "_zone_rank", MappingProxyType(ranks))
        shared = Counter(c.zh for c in self.categories.values())
        object.__setattr__(self, "_by_name", MappingProxyType(
            {c.zh: code for code, c in self.categories.items() if shared[c.zh] == 1}))
        kinds = Counter(k.zh for k in self.action_kinds.values())
        object.__setattr__(self, "_kind_by_name", MappingProxyType(
            {k.zh: code for code, k in self.action_kinds.items() if kinds[k.zh] == 1}))

    @property
    def category_codes_by_name(self) -> Mapping[str, str]:
        """The problem-list categories' Chinese names (``zh``) → their codes, for a submission written by hand that
        names its category rather than giving the code. A name two categories share names neither, and is left
        out."""
        return self._by_name

    @property
    def action_kind_codes_by_name(self) -> Mapping[str, str]:
        """The kinds of enforcement action's Chinese names (``zh``) → their codes, for a record that names its kind
        rather than giving the code (the loader refuses two kinds of one name)."""
        return self._kind_by_name

    def action_kinds_counted_by(self, indicator: str) -> frozenset[str]:
        """The codes of the kinds of enforcement action the performance indicator ``indicator`` counts."""
        return frozenset(code for code, k in self.action_kinds.items() if k.indicator == indicator)

    def action_kind_code(self, kind: str) -> str | None:
        """The code of the kind of enforcement action ``kind`` names, by code or exact Chinese name; None when the
        lists have no such kind."""
        return kind if kind in self.action_kinds else self._kind_by_name.get(kind)

    @property
    def rules_by_code(self) -> Mapping[str, ResponsibilityRule]:
        """Responsibility rules keyed by their code."""
        return self._by_code

    def rule(self, code: str) -> ResponsibilityRule:
        """The responsibility rule with this code; KeyError when there is none."""
        return self._by_code[code]

    def rule_for_zone(self, category: str, zone_kind: str | None) -> ResponsibilityRule | None:
        """The rule written for exactly this (category, zone kind) pair, or None (no precedence applied)."""
        return self._by_key.get((category, zone_kind))

    def general_rule(self, category: str) -> ResponsibilityRule | None:
        """The category's general rule (``zone_kind`` null)."""
        return self._by_key.get((category, None))

    @property
    def township_teams(self) -> frozenset[str]:
        """The departments that are one team per township (``officers_per_township`` set: ``TOWN``)."""
        return frozenset(c for c, d in self.departments.items() if d.officers_per_township is not None)

    @property
    def deductions_per_exposure(self) -> float:
        """``mechanism.deductions_per_exposure``: the warning list's points are charged per this many occasions
        — summons a department received, cases a township had — so a body summoned ten times as often is not
        charged ten times the points for the same conduct (:data:`DEFAULT_DEDUCTIONS_PER_EXPOSURE` when the
        lists give none)."""
        value = self.mechanism.get("deductions_per_exposure")
        return DEFAULT_DEDUCTIONS_PER_EXPOSURE if value is None else float(value)

    @property
    def triage_within_hours(self) -> float:
        """``mechanism.triage_within_hours``: hours a township has to triage a report after it came in
        (:data:`DEFAULT_TRIAGE_WITHIN_HOURS` when the lists give none)."""
        value = self.mechanism.get("triage_within_hours")
        return DEFAULT_TRIAGE_WITHIN_HOURS if value is None else float(value)

    def zone_rank(self, zone_kind: str) -> int:
        """Position of a zone kind in the declared order (lower ranks win ties); unknown kinds rank last."""
        return self._zone_rank.get(zone_kind, len(self._zone_rank))
