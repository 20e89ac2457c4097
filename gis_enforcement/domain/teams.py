"""Township teams: the lists name the township's integrated enforcement team (综合行政执法队, ``TOWN``) once,
but every township has its own. Pure.

A township team is a department of the lists with ``officers_per_township``. The team summoned to a case is
the team of the township the summons is for (``assignment.township_code``); an evaluation or a page that tells
the teams apart calls one ``TOWN@110117104`` (:func:`team_unit`) and names it 金海湖镇综合行政执法队
(:func:`team_name`).
"""

from __future__ import annotations

import re

__all__ = ["TEAM_SEPARATOR", "team_name", "team_unit", "unit_parts"]

TEAM_SEPARATOR = "@"
_BRACKETED = re.compile(r"（([^）]+)）")


def team_unit(department: str, township: str) -> str:
    """The unit code of one township's team: ``TOWN@110117104``."""
    return f"{department}{TEAM_SEPARATOR}{township}"


def unit_parts(unit: str) -> tuple[str, str | None]:
    """A unit code's department and, for a township team's, its township: ``TOWN@110117104`` →
    (``TOWN``, ``110117104``); ``WATER`` → (``WATER``, None)."""
    department, _, township = unit.partition(TEAM_SEPARATOR)
    return department, township or None


def team_name(township_name: str | None, department_name: str) -> str:
    """What one township's team is called: the township's name and the team's part of the department's
    name, the words in brackets (综合行政执法队 of 乡镇人民政府/街道办事处（综合行政执法队）); e.g.
    金海湖镇综合行政执法队."""
    inner = _BRACKETED.search(department_name)
    return f"{township_name or ''}{inner.group(1) if inner else department_name}"
