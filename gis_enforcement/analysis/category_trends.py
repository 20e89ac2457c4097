"""Which problem categories are rising: the Mann-Kendall trend of each category's weekly (or n-day) counts.

The emerging hot-spot analysis says *where* problems grow; this says *what* grows. Each category's incidents are
counted in bins of ``width_days`` days laid back from the end of the period, so the last bin — the one an analyst
reads first — is always whole (an incomplete first bin is left out instead). The original Mann-Kendall test
(:mod:`mann_kendall`) on each series gives the direction and significance of the trend, Sen's slope its size in
incidents per bin, and the change compares the incidents of the last quarter of the bins with the first quarter,
which is what the map prints beside the arrow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gis_enforcement.analysis.mann_kendall import mann_kendall
from gis_enforcement.analysis.space_time import build_cube
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


def category_trends(categories: Any, times: Any, *, end: Any = None, width_days: int = 7, alpha: float = 0.10,
                    min_incidents: int = 10) -> pd.DataFrame:
    """Trend of each problem category: ``categories`` and ``times`` give each incident's category code and time
    (tz-aware, e.g. Asia/Shanghai, so bins start at local midnight); bins are ``width_days`` long and end at
    ``end`` (exclusive; default the local midnight after the last incident), as many whole bins as fit. One row
    per category with at least ``min_incidents`` incidents in the bins, the most clearly rising first (by the
    Mann-Kendall z): ``category``, ``n``, ``trend`` (+1 rising, −1 falling, 0 none at ``alpha``), ``z``, ``p``,
    ``tau``, ``slope`` (Sen, incidents per bin), ``first`` and ``last`` (incidents in the first and last
    ``window_bins`` bins, a quarter of them), ``change`` (``last / first − 1``, NaN when ``first`` is 0),
    ``bin_days``, ``n_bins`` and ``series`` (the counts per bin, oldest first). Raises :class:`InvalidInput` for
    fewer than 4 whole bins or bad parameters."""
    if not isinstance(width_days, int | np.integer) or isinstance(width_days, bool) or width_days < 1:
        raise InvalidInput("the bin width must be a whole number of days ≥ 1", field="width_days")
    labels = np.asarray(categories, dtype=object)
    ts = pd.DatetimeIndex(pd.to_datetime(times))
    if len(labels) != len(ts):
        raise InvalidInput(f"{len(labels)} categories for {len(ts)} times", field="categories")
    if len(ts) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TREND_COLUMNS})
    stop = pd.Timestamp(end) if end is not None else ts.max().normalize() + pd.Timedelta(days=1)
    if end is not None and (stop.tzinfo is None) != (ts.tz is None):
        raise InvalidInput("end and the incident times must both carry a time zone or both not", field="end")
    step = pd.Timedelta(days=int(width_days))
    n_bins = int((stop - ts.min().normalize()) // step)
    if n_bins < 4:
        raise InvalidInput(f"a trend needs at least 4 whole bins of {width_days} days; the period holds "
                           f"{max(n_bins, 0)}", field="width_days")
    start = stop - n_bins * step
    inside = np.asarray((ts >= start) & (ts < stop))
    cube = build_cube(labels[inside], ts[inside], unit="day", width=int(width_days), start=start, end=stop)
    keep = cube.counts.sum(axis=1) >= min_incidents
    counts, codes = cube.counts[keep], cube.cell_ids[keep]
    if not len(codes):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TREND_COLUMNS})
    mk = mann_kendall(counts, alpha=alpha)
    k = max(1, cube.n_bins // 4)
    first, last = counts[:, :k].sum(axis=1), counts[:, -k:].sum(axis=1)
    change = np.divide(last - first, first, out=np.full(len(codes), np.nan), where=first > 0)
    table = pd.DataFrame({
        "category": codes.astype(str), "n": counts.sum(axis=1), "trend": mk.trend.astype(int), "z": mk.z,
        "p": mk.p, "tau": mk.tau, "slope": sen_slopes(counts), "first": first, "last": last, "change": change,
        "window_bins": k, "bin_days": int(width_days), "n_bins": cube.n_bins, "series": counts.tolist(),
    })
    return table.sort_values(["z", "category"], ascending=[False, True], kind="stable").reset_index(drop=True)
