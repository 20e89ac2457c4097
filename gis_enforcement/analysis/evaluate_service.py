"""The evaluation service: read a period's facts (one query per fact table), then compute the pure metrics.

Read-only; the caller owns the session and its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from gis_enforcement.analysis.compare import check_periods, compare_periods, days, has_data
from gis_enforcement.analysis.evaluation import (
    NO_SHOW_RULE,
    RECURRENCE_RULE,
    EvaluationFacts,
    Period,
    evaluate_departments,
    evaluate_townships,
    monthly_ranking,
    unit_keys,
)
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.escalation import UNSATISFIED_AT
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, evaluation_repo

BY = ("department", "township")


def load_facts(session: Session, *, period: Period, as_of: datetime | None = None,
               by: str | None = None, township: str | None = None) -> EvaluationFacts:
    """The assignments, enforcement records, warnings, cases and follow-up tasks of ``period`` and the
    townships, read at ``as_of`` (default: now). With ``by``, only what that view reads (the department view
    needs no cases, townships or follow-ups, the township view no records). With ``township`` (the department
    view only), only the assignments, records and warnings on the cases of that township."""
    if township is not None and by != "department":
        raise InvalidInput("only the department view is read for one township's cases", field="by")
    start, end = period.start, period.end
    departments, townships = by in (None, "department"), by in (None, "township")
    return EvaluationFacts(
        as_of=as_of or datetime.now(UTC),
        assignments=evaluation_repo.assignments_frame(session, start=start, end=end, township=township),
        records=evaluation_repo.records_frame(session, start=start, end=end, township=township)
        if departments else None,
        warnings=evaluation_repo.warnings_frame(session, start=start, end=end,
                                               later_rules=(RECURRENCE_RULE, NO_SHOW_RULE), township=township),
        cases=evaluation_repo.cases_frame(session, start=start, end=end) if townships else None,
        townships=evaluation_repo.townships_frame(session),  # the township view's rows; the teams' names
        follow_ups=evaluation_repo.follow_ups_frame(session, start=start, end=end) if townships else None,
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


def evaluate_on_township(session: Session, *, catalog: Catalog, start: datetime, end: datetime, township: str,
                         as_of: datetime | None = None, label: str = "") -> pd.DataFrame:
    """The departments' record on the cases of ``township`` in ``[start, end)``: the department view of
    :func:`evaluate` computed over the assignments, enforcement records and warnings of its cases only (so its
    numbers are the district's evaluation restricted to those cases), one row per department summoned to them,
    acting on them or warned on them, with ``declined`` (its assignments standing declined) and
    ``unsatisfied`` (ratings of adequacy ≤ :data:`~gis_enforcement.domain.escalation.UNSATISFIED_AT`, 不满意).
    Not ranked: ranking the departments is the district's (no ``rank`` column)."""
    period = Period(start, end, label)
    facts = load_facts(session, period=period, as_of=as_of, by="department", township=township)
    table = evaluate_departments(facts, catalog, period=period)
    a = facts.frame("assignments")
    adequacy = pd.to_numeric(a["rating_adequacy"], errors="coerce")
    timeliness = pd.to_numeric(a["rating_timeliness"], errors="coerce")
    counts = pd.DataFrame({"declined": a["status"] == "declined",
                           "unsatisfied": timeliness.notna() & (adequacy <= UNSATISFIED_AT)})
    units = unit_keys(a["department"], a["team_township"], catalog)
    counts = counts.groupby(units).sum().reindex(table["department"], fill_value=0).astype("int64")
    table = table.assign(declined=counts["declined"].to_numpy(), unsatisfied=counts["unsatisfied"].to_numpy())
    table = table.drop(columns=["rank"])
    seen = (table["whistles"] > 0) | (table["actions"] > 0) | (table["warnings"] > 0)
    return table[seen].reset_index(drop=True)


def ranking_by_month(session: Session, *, catalog: Catalog, start: datetime, end: datetime,
                     as_of: datetime | None = None, tz: str = DEFAULT_TIMEZONE) -> pd.DataFrame:
    """The departments' score and rank in each calendar month of ``[start, end)``, months of the district's
    zone ``tz`` (``settings.timezone``)."""
    period = Period(start, end, tz=tz)
    return monthly_ranking(load_facts(session, period=period, as_of=as_of, by="department"), catalog, period=period)


def data_range(session: Session) -> tuple[datetime, datetime] | None:
    """The first and last time of the stored incidents, whistles and enforcement records (None: nothing
    stored) — what a period without data is told to look at instead."""
    return evaluation_repo.data_range(session)


def is_empty(table: pd.DataFrame) -> bool:
    """Whether an evaluation table (department, township or monthly) has nothing in it: no whistle and no
    enforcement record (departments), no case and no whistle (townships), no scored month."""
    if "month" in table.columns:
        return table.empty
    if "department" in table.columns:
        return not has_data(table)
    return not bool(table["cases"].sum() > 0 or table["whistles_sent"].sum() > 0)


@dataclass(frozen=True)
class Comparison:
    """Two periods compared: the rows of :func:`~.compare.compare_periods`, each period's length in days,
    the sides without data (``before``, ``after``) and, when there is one, the stored data's range."""

    table: pd.DataFrame
    days_before: float
    days_after: float
    empty: tuple[str, ...]
    data_range: tuple[datetime, datetime] | None

    @property
    def per_30_days(self) -> bool:
        return bool(self.table["per_30_days"].any())


def compare(session: Session, *, catalog: Catalog, before: Period, after: Period,
            as_of: datetime | None = None) -> Comparison:
    """The seed's two metrics (and context) district-wide in ``before`` and ``after``, with percentage changes
    and, for rates, percentage points; counts per 30 days when the lengths differ
    (:mod:`gis_enforcement.analysis.compare`). ``InvalidInput`` on ``after`` when the periods overlap."""
    check_periods(before, after)
    tables = [evaluate(session, catalog=catalog, start=p.start, end=p.end, by="department", as_of=as_of,
                       label=p.label) for p in (before, after)]
    empty = tuple(side for side, t in zip(("before", "after"), tables, strict=True) if not has_data(t))
    return Comparison(compare_periods(*tables, days_before=days(before), days_after=days(after)),
                      days(before), days(after), empty, data_range(session) if empty else None)
