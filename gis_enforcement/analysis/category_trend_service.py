"""Which problem categories are rising, against the database: the trend of each category's counts per week (or
per ``days`` days) over the stored incidents of a period and townships — the panel the hot-spot map
prints, as a table for the CLI (``gis-enforcement hotspots trends``) and the API (``GET /api/v1/trends``).

Incidents are those the analyses read (likely duplicates, duplicates and rejected reports left out); bins start
at the district's midnight (``tz``) and are laid from the period's start (without one: the start of the 12
months up to the latest report, or the day of the first incident when they span less), so they cover the
period whole: the days left at its end make a short last bin (half a bin or more, its trend tested on its rate
per bin) or lengthen the last one. Every incident read is binned, and the table says how many categories with
fewer than ``min_incidents`` were left out. Read-only; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from gis_enforcement.analysis.category_trends import category_trends
from gis_enforcement.analysis.hotspot_service import analysis_window
from gis_enforcement.analysis.townships import resolve_townships
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage import Session, analysis_repo

__all__ = ["category_trend_table"]


def category_trend_table(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                         townships: Sequence[str] | None = None, days: int = 7, min_incidents: int = 10,
                         tz: str = DEFAULT_TIMEZONE) -> pd.DataFrame:
    """:func:`~.category_trends.category_trends` of the stored incidents observed in ``[start, end)`` (either
    open) in ``townships`` (codes or names; all when None), most clearly rising first. ``attrs`` carry the bins
    analysed: ``bin_start`` and ``bin_end`` (district time), ``bin_days``, ``n_bins``, ``last_bin_days`` (the
    last bin's length), ``incidents`` (binned: every one read) and ``left_out_categories`` /
    ``left_out_incidents`` (categories under ``min_incidents``), ``window`` (what was read:
    :meth:`~.hotspot_service.AnalysisWindow.summary`) and, when the default window left older reports out,
    ``note`` saying so. Without a period (``start`` and ``end`` None) the incidents read are those of the 12
    months up to the latest report (:func:`~.hotspot_service.analysis_window`). Bins are ``days`` long; fewer
    than four whole bins, or a bad width: :class:`InvalidInput` on ``days``."""
    towns = resolve_townships(session, townships)
    window = analysis_window(session, start=start, end=end, townships=towns, inside_district=False, tz=tz)
    start, end = window.start, window.end
    incidents = analysis_repo.incidents_frame(session, start=start, end=end, townships=towns)
    times = incidents["observed_at"].dt.tz_convert(tz)
    stop = None if end is None else pd.Timestamp(end).tz_convert(tz)
    first = (pd.Timestamp(start).tz_convert(tz) if start is not None else
             times.min().normalize() if len(times) else None)
    try:
        table = category_trends(incidents["category"].to_numpy(), times, end=stop, start=first, width_days=days,
                                min_incidents=min_incidents)
    except InvalidInput as exc:  # the analysis names its own parameter; every caller calls it days
        raise InvalidInput(exc.message, field="days" if exc.field == "width_days" else exc.field) from exc
    a = table.attrs
    table.attrs = {"bin_days": days, "n_bins": int(a.get("n_bins", 0)), "incidents": int(a.get("incidents", 0)),
                   "bin_start": a["bin_start"].isoformat() if "bin_start" in a else None,
                   "bin_end": a["bin_end"].isoformat() if "bin_end" in a else None,
                   "last_bin_days": a.get("last_bin_days"),
                   "left_out_categories": int(a.get("left_out_categories", 0)),
                   "left_out_incidents": int(a.get("left_out_incidents", 0)), "window": window.summary()}
    if window.note(tz):
        table.attrs["note"] = window.note(tz)
    return table
