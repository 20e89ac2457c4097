"""Joint-operation planning, step 2: which departments each target needs, how many officers, and who waits.

**Departments.** For every category of a target, the responsibility rule that applies at the site is looked
up with :func:`gis_enforcement.catalog.rules.match_rules` (a rule for one of the site's zone kinds beats the
category's general rule). The target needs the union of those rules' lead and assisting departments: leads
first (in category order), then assists in list order, each once. A department that leads for any of the
target's categories has the role ``lead`` there, otherwise ``assist``.

**Officers per target** (:class:`Staffing`, drafted defaults): 4 for a lead department, 2 for an assisting
one; ``per_department`` sets a fixed number for a department whatever its role (e.g. 1 for an oversight body).

**Roster and allocation.** A department can commit its ``officers`` of the lists (district-wide); the
township team (a department with ``officers_per_township``, ``TOWN`` in the shipped lists) commits that many
in *each* township, and a target draws on the team of its own township. ``roster`` overrides the lists per
department (an int; for the township team an int per township, or a mapping township → officers).
Officers sent to a target stay there until the job is done (事不完、人不撤), so allocations add up over the
operation. Targets are served in rank order: a target is staffed only if *every* department it needs still
has enough officers; otherwise it waits, and its reason names each short department with what it needed and
what was left. A lower-ranked target that does not need the short department can still be staffed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from gis_enforcement.catalog.rules import match_rules
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput

__all__ = ["Allocation", "Staffing", "Roster", "allocate_officers", "pools", "target_departments"]

#: a pool of officers: (department code, township code for the township team, else None)
Pool = tuple[str, str | None]
Roster = Mapping[str, int | Mapping[str, int]]


def _empty() -> Mapping[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Staffing:
    """Officers a department sends to one target: ``lead`` when it leads there, else ``assist``.

    ``per_department`` maps a department code to a fixed count that replaces the role's count.
    """

    lead: int = 4
    assist: int = 2
    per_department: Mapping[str, int] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        counts = (self.lead, self.assist, *self.per_department.values())
        if any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts):
            raise InvalidInput("officer counts must be integers >= 0", field="staffing")

    def officers(self, department: str, role: str) -> int:
        """Officers ``department`` sends to one target where it has ``role`` (``lead`` or ``assist``)."""
        fixed = self.per_department.get(department)
        if fixed is not None:
            return fixed
        return self.lead if role == "lead" else self.assist


@dataclass(frozen=True)
class Allocation:
    """Result of :func:`allocate_officers`.

    ``staffed`` lists the target ids staffed, in rank order; ``waiting`` maps a waiting target id to its
    short departments as ``(department, needed, left)``; ``assigned`` maps a staffed target id to its
    officers per department; ``pools`` is one row per pool (``department``, ``township_code``,
    ``available``, ``requested`` by all considered targets, ``assigned``, ``left``, ``targets_waiting``).
    """

    staffed: tuple[str, ...]
    waiting: Mapping[str, tuple[tuple[str, int, int], ...]]
    assigned: Mapping[str, Mapping[str, int]]
    pools: pd.DataFrame

    def reason(self, target_id: str) -> str:
        """Why a target waits, in words: ``short of officers: WATER needs 4, 1 left``."""
        shorts = self.waiting[target_id]
        return "short of officers: " + "; ".join(f"{d} needs {n}, {left} left" for d, n, left in shorts)

    def reason_zh(self, target_id: str) -> str:
        """The same in Chinese: ``警力不足：WATER 需 4 人，余 1 人``."""
        shorts = self.waiting[target_id]
        return "警力不足：" + "；".join(f"{d} 需 {n} 人，余 {left} 人" for d, n, left in shorts)


def target_departments(targets: pd.DataFrame, catalog: Catalog, staffing: Staffing | None = None) -> pd.DataFrame:
    """Add the rules, departments, roles and officers each target needs (see the module docstring).

    ``targets`` needs ``categories`` and ``zone_kinds`` (tuples, as from
    :func:`gis_enforcement.analysis.plan_targets.normalise_candidates`). Adds ``rules`` (rule codes, one per
    category), ``departments`` (tuple: leads, then assists), ``lead_departments`` (tuple) and ``officers``
    (dict department → officers per target, in the same order) and ``officers_total``.
    """
    staffing = staffing or Staffing()
    unknown = sorted(set(staffing.per_department) - set(catalog.departments))
    if unknown:
        raise InvalidInput(f"unknown department {unknown[0]!r}", field="staffing")
    cats = list(targets["categories"])
    zones = list(targets["zone_kinds"]) if "zone_kinds" in targets else [()] * len(targets)
    flat_cats = [c for cs in cats for c in cs]
    flat_zones = [tuple(z) for cs, z in zip(cats, zones, strict=True) for _ in cs]
    codes = match_rules(catalog, flat_cats, flat_zones) if flat_cats else np.empty(0, dtype=object)

    rules_col, depts_col, leads_col, officers_col = [], [], [], []
    pos = 0
    for cs in cats:
        rules = [catalog.rule(str(code)) for code in codes[pos:pos + len(cs)]]
        pos += len(cs)
        leads = list(dict.fromkeys(r.lead for r in rules))
        assists = [d for d in dict.fromkeys(a for r in rules for a in r.assists) if d not in leads]
        officers = {d: staffing.officers(d, "lead") for d in leads}
        officers.update({d: staffing.officers(d, "assist") for d in assists})
        rules_col.append(tuple(r.code for r in rules))
        depts_col.append((*leads, *assists))
        leads_col.append(tuple(leads))
        officers_col.append(officers)
    out = targets.copy()
    out["rules"], out["departments"], out["lead_departments"] = rules_col, depts_col, leads_col
    out["officers"] = officers_col
    out["officers_total"] = [sum(o.values()) for o in officers_col]
    return out


def pools(catalog: Catalog, townships: Collection[str], roster: Roster | None = None) -> dict[Pool, int]:
    """Officers available per pool: the lists' counts, overridden by ``roster``.

    Pools are ``(department, None)`` for district-wide departments and ``(department, township)`` for the
    township team in each of ``townships``. ``roster`` values must be integers ≥ 0; a mapping is only allowed
    for the township team. Unknown departments raise :class:`InvalidInput` with ``field="roster"``.
    """
    roster = roster or {}
    unknown = sorted(set(roster) - set(catalog.departments))
    if unknown:
        raise InvalidInput(f"unknown department {unknown[0]!r}", field="roster")

    def count(value: Any, dept: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise InvalidInput(f"{dept}: officers must be an integer >= 0, got {value!r}", field="roster")
        return int(value)

    out: dict[Pool, int] = {}
    for code, dept in catalog.departments.items():
        given = roster.get(code)
        if dept.officers_per_township is None:
            if isinstance(given, Mapping):
                raise InvalidInput(f"{code} is district-wide: give one number", field="roster")
            out[(code, None)] = count(given if given is not None else dept.officers, code)
            continue
        for town in sorted(t for t in townships if isinstance(t, str)):
            if isinstance(given, Mapping):
                value = given.get(town, dept.officers_per_township)
            else:
                value = given if given is not None else dept.officers_per_township
            out[(code, town)] = count(value, code)
    return out


def allocate_officers(
    targets: pd.DataFrame,
    catalog: Catalog,
    *,
    roster: Roster | None = None,
    exclude: Collection[str] = (),
) -> Allocation:
    """Staff targets in rank order against the roster; a target short of any department waits.

    ``targets`` is ranked (``rank``, ``target_id``) with ``officers`` and ``township_code`` from
    :func:`target_departments`. Targets in ``exclude`` (e.g. dropped by the route) take no officers and are
    neither staffed nor waiting. A target that needs the township team but has no ``township_code`` raises
    :class:`InvalidInput` (``field="township_code"``).
    """
    ordered = targets.sort_values("rank", kind="stable")
    towns = {t for t in ordered["township_code"] if t is not None}
    left = pools(catalog, towns, roster)
    available = dict(left)
    requested = dict.fromkeys(left, 0)
    short_count = dict.fromkeys(left, 0)
    per_town = {c for c, d in catalog.departments.items() if d.officers_per_township is not None}
    skip = set(exclude)

    staffed: list[str] = []
    waiting: dict[str, tuple[tuple[str, int, int], ...]] = {}
    assigned: dict[str, Mapping[str, int]] = {}
    for tid, town, officers in zip(ordered["target_id"], ordered["township_code"], ordered["officers"],
                                   strict=True):
        if tid in skip:
            continue
        need: dict[Pool, int] = {}
        for dept, n in officers.items():
            if dept in per_town and town is None:
                raise InvalidInput(f"target {tid} needs {dept}, whose officers are per township, "
                                   "but has no township", field="township_code")
            need[(dept, town if dept in per_town else None)] = n
        for pool, n in need.items():
            requested[pool] += n
        shorts = tuple((pool[0], n, left[pool]) for pool, n in need.items() if left[pool] < n)
        if shorts:
            waiting[tid] = shorts
            for pool, n in need.items():
                short_count[pool] += left[pool] < n
            continue
        for pool, n in need.items():
            left[pool] -= n
        staffed.append(tid)
        assigned[tid] = MappingProxyType(dict(officers))

    table = pd.DataFrame(
        [
            {"department": d, "township_code": t, "available": available[(d, t)], "requested": requested[(d, t)],
             "assigned": available[(d, t)] - left[(d, t)], "left": left[(d, t)],
             "targets_waiting": short_count[(d, t)]}
            for d, t in available
        ],
        columns=["department", "township_code", "available", "requested", "assigned", "left", "targets_waiting"],
    )
    return Allocation(tuple(staffed), MappingProxyType(waiting), MappingProxyType(assigned), table)
