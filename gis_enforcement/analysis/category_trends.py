"""Which problem categories are rising: the Mann-Kendall trend of each category's weekly (or n-day) counts.

The emerging hot-spot analysis says *where* problems grow; this says *what* grows. Each category's incidents are
counted in bins of ``width_days`` days laid back from the end of the period, so the last bin — the one an analyst
reads first — is always whole (an incomplete first bin is left out instead); or, given the period's start, in bins
laid from it that cover the period whole, a short last bin tested on its rate. The original Mann-Kendall test
(:mod:`mann_kendall`) on each series gives the direction and significance of the trend, Sen's slope its size in
incidents per bin, and the change compares the incidents of the last quarter of the bins with the first quarter,
which is what the map prints beside the arrow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gis_enforcement.analysis.mann_kendall import mann_kendall
from gis_enforcement.analysis.space_time import DEFAULT_WINDOW_MONTHS
from gis_enforcement.errors import InvalidInput

__all__ = ["TREND_COLUMNS", "category_trends", "sen_slopes"]

TREND_COLUMNS = ("category", "n", "trend", "z", "p", "tau", "slope", "first", "last", "change", "window_bins",
                 "bin_days", "n_bins", "series")


def sen_slopes(values: np.ndarray) -> np.ndarray:
    """Sen's slope of every row of ``values`` (shape ``(n_series, n_bins)``): the median over all pairs of bins
    i < j of ``(x_j − x_i) / (j − i)``, in units per bin. One array of all pairs; fine for the tens of bins of a
    trend panel."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise InvalidInput("series must have shape (n_series, n_bins) with at least 2 bins", field="values")
    i, j = np.triu_indices(x.shape[1], k=1)
    return np.asarray(np.median((x[:, j] - x[:, i]) / (j - i), axis=1), dtype=float)


def _aligned_edges(start: pd.Timestamp, stop: pd.Timestamp, step: pd.Timedelta) -> list[pd.Timestamp]:
    """Bin edges from ``start`` to ``stop`` in steps of ``step``; the days left at the end form a short last bin
    when they make half a bin or more, else they lengthen the last whole one."""
    n_whole = int((stop - start) // step)
    edges = [start + k * step for k in range(n_whole + 1)]
    rest = stop - edges[-1]
    if rest > pd.Timedelta(0):
        if rest * 2 >= step or n_whole == 0:
            edges.append(stop)
        else:
            edges[-1] = stop
    return edges


def category_trends(categories: Any, times: Any, *, end: Any = None, width_days: int = 7, alpha: float = 0.10,
                    min_incidents: int = 10, start: Any = None,
                    months: int | None = DEFAULT_WINDOW_MONTHS) -> pd.DataFrame:
    """Trend of each problem category: ``categories`` and ``times`` give each incident's category code and time
    (tz-aware, e.g. Asia/Shanghai, so bins start at local midnight); bins are ``width_days`` long and end at
    ``end`` (exclusive; default the local midnight after the last incident), as many whole bins as fit back to
    the first incident of the ``months`` before ``end`` (None: of all; older incidents are left out and counted
    in ``attrs["older"]``, so one stray report observed years before does not stretch the bins) — or,
    with ``start``, bins laid from ``start`` that cover ``[start, end)`` whole: the days left at the end make a
    short last bin (half a bin or more) or lengthen the last one, and the trend is then tested on each bin's
    count per ``width_days`` days (its rate), so a short bin does not read as a fall. One row
    per category with at least ``min_incidents`` incidents in the bins, the most clearly rising first (by the
    Mann-Kendall z): ``category``, ``n``, ``trend`` (+1 rising, −1 falling, 0 none at ``alpha``), ``z``, ``p``,
    ``tau``, ``slope`` (Sen, incidents per bin), ``first`` and ``last`` (incidents in the first and last
    ``window_bins`` bins, a quarter of them), ``change`` (``last / first − 1`` per day, NaN when ``first`` is
    0), ``bin_days``, ``n_bins`` and ``series`` (the counts per bin, oldest first). ``attrs`` say what was
    binned: ``bin_start``, ``bin_end``, ``last_bin_days`` (the last bin's length in days), ``incidents`` (in the
    bins), ``left_out_categories`` and ``left_out_incidents`` (categories under ``min_incidents`` and their
    incidents). Raises :class:`InvalidInput` for fewer than 4 whole bins or bad parameters."""
    if not isinstance(width_days, int | np.integer) or isinstance(width_days, bool) or width_days < 1:
        raise InvalidInput("the bin width must be a whole number of days ≥ 1", field="width_days")
    if months is not None and (not isinstance(months, int | np.integer) or isinstance(months, bool) or months < 1):
        raise InvalidInput("the window is a whole number of months ≥ 1", field="months")
    labels = np.asarray(categories, dtype=object)
    ts = pd.DatetimeIndex(pd.to_datetime(times))
    if len(labels) != len(ts):
        raise InvalidInput(f"{len(labels)} categories for {len(ts)} times", field="categories")
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in TREND_COLUMNS})
    if len(ts) == 0:
        return empty
    stop = pd.Timestamp(end) if end is not None else ts.max().normalize() + pd.Timedelta(days=1)
    if end is not None and (stop.tzinfo is None) != (ts.tz is None):
        raise InvalidInput("end and the incident times must both carry a time zone or both not", field="end")
    if start is not None and (pd.Timestamp(start).tzinfo is None) != (ts.tz is None):
        raise InvalidInput("start and the incident times must both carry a time zone or both not", field="start")
    step = pd.Timedelta(days=int(width_days))
    older = 0
    if start is None:
        since = ts[ts >= stop - pd.DateOffset(months=months)] if months is not None else ts
        older = len(ts) - len(since)
        first_day = since.min().normalize() if len(since) else stop
        n_bins = int((stop - first_day) // step)
        edges = [stop - (n_bins - k) * step for k in range(n_bins + 1)]
    else:
        edges = _aligned_edges(pd.Timestamp(start), stop, step)
        n_bins = int((stop - pd.Timestamp(start)) // step)  # whole bins, for the minimum
    if n_bins < 4:
        raise InvalidInput(f"a trend needs at least 4 whole bins of {width_days} days; the period holds "
                           f"{max(n_bins, 0)}", field="width_days")
    bounds = pd.DatetimeIndex(edges).as_unit("ns")
    ts = ts.as_unit("ns")
    inside = np.asarray((ts >= bounds[0]) & (ts < bounds[-1]))
    which = np.searchsorted(bounds.asi8, ts[inside].asi8, side="right") - 1
    codes_all, code_of = np.unique(labels[inside].astype(str), return_inverse=True)
    all_counts = np.zeros((len(codes_all), len(bounds) - 1), dtype=np.int64)
    np.add.at(all_counts, (code_of, which), 1)
    keep = all_counts.sum(axis=1) >= min_incidents
    counts, codes = all_counts[keep], codes_all[keep]
    lengths = np.diff(bounds.asi8) / pd.Timedelta(days=1).value  # days per bin
    attrs = {"bin_start": bounds[0], "bin_end": bounds[-1], "n_bins": len(lengths),
             "last_bin_days": float(lengths[-1]), "incidents": int(inside.sum()),
             "left_out_categories": int((~keep).sum()), "left_out_incidents": int(all_counts[~keep].sum()),
             "older": older}
    if not len(codes):
        empty.attrs.update(attrs)
        return empty
    rates = counts * (width_days / lengths)  # per bin of width_days: the same as the counts where bins are whole
    mk = mann_kendall(rates, alpha=alpha)
    k = max(1, len(lengths) // 4)
    first, last = counts[:, :k].sum(axis=1), counts[:, -k:].sum(axis=1)
    per_day_first, per_day_last = first / lengths[:k].sum(), last / lengths[-k:].sum()
    change = np.divide(per_day_last - per_day_first, per_day_first, out=np.full(len(codes), np.nan),
                       where=first > 0)
    table = pd.DataFrame({
        "category": codes.astype(str), "n": counts.sum(axis=1), "trend": mk.trend.astype(int), "z": mk.z,
        "p": mk.p, "tau": mk.tau, "slope": sen_slopes(rates), "first": first, "last": last, "change": change,
        "window_bins": k, "bin_days": int(width_days), "n_bins": len(lengths), "series": counts.tolist(),
    })
    table = table.sort_values(["z", "category"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.attrs.update(attrs)
    return table
