"""Which problem categories are rising, against the database: the trend of each category's counts per week (or
per ``days`` days) over the stored incidents of a period and townships — the panel the hot-spot map
prints, as a table for the CLI (``gis-enforcement hotspots trends``) and the API (``GET /api/v1/trends``).

Incidents are those the analyses read (likely duplicates, duplicates and rejected reports left out); bins start
at the district's midnight (``tz``) and are laid back from the period's end, so the last bin is whole. Read-only;
the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from gis_enforcement.analysis.category_trends import category_trends
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, analysis_repo

__all__ = ["category_trend_table"]


def category_trend_table(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                         townships: Sequence[str] | None = None, days: int = 7, min_incidents: int = 10,
                         tz: str = DEFAULT_TIMEZONE) -> pd.DataFrame:
    """:func:`~.category_trends.category_trends` of the stored incidents observed in ``[start, end)`` (either
    open) in ``townships`` (codes; all when None), most clearly rising first. ``attrs`` carry the bins
    analysed: ``bin_start`` and ``bin_end`` (district time), ``bin_days``, ``n_bins`` and ``incidents`` (read).
    Bins are ``days`` long; fewer than four whole bins, or a bad width: :class:`InvalidInput` on ``days``."""
    incidents = analysis_repo.incidents_frame(session, start=start, end=end, townships=townships or None)
    times = incidents["observed_at"].dt.tz_convert(tz)
    stop = None if end is None else pd.Timestamp(end).tz_convert(tz)
    try:
        table = category_trends(incidents["category"].to_numpy(), times, end=stop, width_days=days,
                                min_incidents=min_incidents)
    except InvalidInput as exc:  # the analysis names its own parameter; every caller calls it days
        raise InvalidInput(exc.message, field="days" if exc.field == "width_days" else exc.field) from exc
    n_bins = int(table["n_bins"].iloc[0]) if len(table) else 0
    last = stop if stop is not None else (times.max().normalize() + pd.Timedelta(days=1) if len(times) else None)
    table.attrs.update(bin_days=days, n_bins=n_bins, incidents=len(incidents),
                       bin_end=None if last is None else last.isoformat(),
                       bin_start=None if last is None or not n_bins else
                       (last - pd.Timedelta(days=days * n_bins)).isoformat())
    return table
