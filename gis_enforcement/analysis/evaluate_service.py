"""The evaluation service: read a period's facts (one query per fact table), then compute the pure metrics.

Read-only; the caller owns the session and its transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from gis_enforcement.analysis.compare import compare_periods
from gis_enforcement.analysis.evaluation import (
    NO_SHOW_RULE,
    RECURRENCE_RULE,
    EvaluationFacts,
    Period,
    evaluate_departments,
    evaluate_townships,
    monthly_ranking,
)
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, evaluation_repo

BY = ("department", "township")


def load_facts(session: Session, *, period: Period, as_of: datetime | None = None,
               by: str | None = None) -> EvaluationFacts:
    """The assignments, enforcement records, warnings and cases of ``period`` and the townships, read at
    ``as_of`` (default: now). With ``by``, only what that view reads (the department view needs no cases
    and townships, the township view no records)."""
    start, end = period.start, period.end
    departments, townships = by in (None, "department"), by in (None, "township")
    return EvaluationFacts(
        as_of=as_of or datetime.now(UTC),
        assignments=evaluation_repo.assignments_frame(session, start=start, end=end),
        records=evaluation_repo.records_frame(session, start=start, end=end) if departments else None,
        warnings=evaluation_repo.warnings_frame(session, start=start, end=end,
                                               later_rules=(RECURRENCE_RULE, NO_SHOW_RULE)),
        cases=evaluation_repo.cases_frame(session, start=start, end=end) if townships else None,
        townships=evaluation_repo.townships_frame(session) if townships else None,
    )


def evaluate(session: Session, *, catalog: Catalog, start: datetime, end: datetime, by: str = "department",
             as_of: datetime | None = None, label: str = "") -> pd.DataFrame:
    """The evaluation table of ``[start, end)`` per department (with score and rank) or per township.

    ``by`` is ``department`` or ``township`` (``InvalidInput`` on ``by`` otherwise); statuses are read at
    ``as_of`` (default: now). The metrics are defined in :mod:`gis_enforcement.analysis.evaluation`.
    """
    if by not in BY:
        raise InvalidInput(f"cannot evaluate by {by!r}; use department or township", field="by")
    period = Period(start, end, label)
    facts = load_facts(session, period=period, as_of=as_of, by=by)
    if by == "department":
        return evaluate_departments(facts, catalog, period=period)
    return evaluate_townships(facts, catalog, period=period)


def ranking_by_month(session: Session, *, catalog: Catalog, start: datetime, end: datetime,
                     as_of: datetime | None = None, tz: str = DEFAULT_TIMEZONE) -> pd.DataFrame:
    """The departments' score and rank in each calendar month of ``[start, end)``, months of the district's
    zone ``tz`` (``settings.timezone``)."""
    period = Period(start, end, tz=tz)
    return monthly_ranking(load_facts(session, period=period, as_of=as_of, by="department"), catalog, period=period)


def compare(session: Session, *, catalog: Catalog, before: Period, after: Period,
            as_of: datetime | None = None) -> pd.DataFrame:
    """The seed's two metrics (and context) district-wide in ``before`` and ``after``, with percentage changes
    (:mod:`gis_enforcement.analysis.compare`)."""
    tables = [evaluate(session, catalog=catalog, start=p.start, end=p.end, by="department", as_of=as_of,
                       label=p.label) for p in (before, after)]
    return compare_periods(*tables)
