"""Emerging hot spot analysis (Esri's "Emerging Hot Spot Analysis"): how hot and cold spots change over time.

Steps, all vectorised over cells:

1. **Space-time Gi*.** For each time bin t the value of cell i is its count summed over the trailing
   neighbourhood time step, ``v_it = Σ_{s=t−k}^{t} x_is`` (k = ``time_step``; k = 0 is one bin; the first k bins
   use the bins that exist). Each bin's column is then put through :func:`gi_star.gi_star_z` with binary
   distance-band weights (neighbours within ``distance_m`` metres, self included), so cell i's z at t compares
   ``Σ_{j∈N(i)} Σ_{s=t−k}^{t} x_js`` — its space-time neighbourhood — with the same sums of every cell at t.
   This is Esri's space-time Gi* with the global window "individual time step" (each slice against itself);
   Esri's default "entire cube" window would instead compare against the mean and variance of the whole cube.
2. **Per-bin significance.** Two-sided p from z; a bin is a significant hot (cold) spot when p ≤ ``alpha``
   (default 0.10, i.e. 90 % confidence) and z > 0 (z < 0). With ``fdr=True`` the Benjamini-Hochberg correction
   is applied per time slice, as ArcGIS Pro does.
3. **Trend.** The original Mann-Kendall test on each cell's z-series (:mod:`mann_kendall`); a trend counts when
   its p ≤ ``trend_alpha`` (default: ``alpha``).
4. **Categories**, Esri's published definitions ("How Emerging Hot Spot Analysis works"; "90 percent" read as
   at least 90 % of the bins; the cold versions swap hot and cold, and for cold spots an intensifying trend is a
   falling z):

   - *new hot spot*: a significant hot spot in the final bin that has never been a significant hot spot before;
   - *consecutive hot spot*: a single uninterrupted run of at least two significant hot bins ending with the final
     bin, never a significant hot spot before that run, and less than 90 % of all bins hot;
   - *intensifying hot spot*: hot in at least 90 % of the bins including the final one, and the intensity of
     clustering (the z-series) increases with a significant trend;
   - *persistent hot spot*: hot in at least 90 % of the bins with no significant trend;
   - *diminishing hot spot*: hot in at least 90 % of the bins including the final one, with a significant
     decreasing trend;
   - *sporadic hot spot*: hot in the final bin, an on-again off-again history of hot bins, less than 90 % of the
     bins hot, and never a significant cold spot;
   - *oscillating hot spot*: hot in the final bin with a history of being a significant cold spot in a prior bin,
     less than 90 % of the bins hot;
   - *historical hot spot*: the most recent bin is not hot, but at least 90 % of the bins have been hot;
   - *no pattern*: none of the above, hot or cold.

   Where Esri's sentences overlap this module decides as follows, so every cell gets exactly one category: the
   final bin picks the family (final hot → a hot pattern, final cold → a cold pattern, final not significant →
   historical hot/cold or no pattern); a cell hot in ≥ 90 % of the bins is intensifying, diminishing or
   persistent by its trend; otherwise any significant cold bin makes it oscillating, earlier hot bins before the
   final run make it sporadic, and else it is new (run of one) or consecutive (run of two or more).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import special

from gis_enforcement.analysis.fdr import fdr_significant
from gis_enforcement.analysis.gi_star import distance_band_weights, gi_star_z
from gis_enforcement.analysis.mann_kendall import mann_kendall
from gis_enforcement.analysis.space_time import SpaceTimeCube
from gis_enforcement.errors import InvalidInput

NO_PATTERN = "no pattern"
PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating", "historical")
#: every category, in the order of the output's categorical column
CATEGORIES: tuple[str, ...] = (
    NO_PATTERN,
    *(f"{pattern} hot spot" for pattern in PATTERNS),
    *(f"{pattern} cold spot" for pattern in PATTERNS),
)

#: the Chinese name of each category, as the hot-spot map's legend writes it (新增热点, 加剧冷点 …)
_PATTERN_ZH = {"new": "新增", "consecutive": "连续", "intensifying": "加剧", "persistent": "持续",
               "diminishing": "减弱", "sporadic": "零星", "oscillating": "振荡", "historical": "历史"}
CATEGORY_ZH: Mapping[str, str] = MappingProxyType({
    NO_PATTERN: "无模式",
    **{f"{p} hot spot": f"{_PATTERN_ZH[p]}热点" for p in PATTERNS},
    **{f"{p} cold spot": f"{_PATTERN_ZH[p]}冷点" for p in PATTERNS},
})


#: the hot patterns in the order a reader should look at them: where a problem has just appeared or is growing
#: first, then where it has held on, last where it is fading or gone (Esri's categories, most urgent first)
URGENCY: tuple[str, ...] = ("new", "intensifying", "consecutive", "persistent", "sporadic", "oscillating",
                            "diminishing", "historical")


def rank_emerging(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells of an emerging run, most urgent first: the hot spots holding incidents of their own
    (``count`` > 0) in :data:`URGENCY` order of their ``pattern`` (new and intensifying before persistent …),
    each pattern's cells by their final-bin ``z`` (the hottest first); then, in the same order, the hot spots
    holding none (hot for their neighbours: Gi* weighs a cell's neighbourhood); then the cold spots (the
    coldest first), then the cells without a pattern (by ``cell_id``). ``urgency`` numbers the hot spots 1, 2,
    … in that order (None for the others). A new or intensifying hot spot with no incident of its own in the
    last bin (``last_bin_count`` 0, when the cells carry it) is what its neighbours made it, not a flare-up of its
    own: it ranks after the persistent ones."""
    patterns = cells["pattern"].astype(str)
    kind = patterns.str.rsplit(" ", n=2).str[0].where(patterns != NO_PATTERN)
    hot = patterns.str.endswith(" hot spot").to_numpy()
    own = cells["count"].to_numpy(dtype=float) > 0
    family = np.select([hot & own, hot, patterns.str.endswith(" cold spot").to_numpy()], [0, 1, 2], 3)
    order = kind.map({p: i for i, p in enumerate(URGENCY)}).fillna(len(URGENCY)).to_numpy()
    if "last_bin_count" in cells.columns:
        quiet = kind.isin(("new", "intensifying")).to_numpy() & ~(
            pd.to_numeric(cells["last_bin_count"], errors="coerce").fillna(0).to_numpy() > 0)
        order = np.where(quiet, URGENCY.index("persistent") + 0.5, order)
    z = cells["z"].to_numpy(dtype=float)
    heat = np.where(family <= 1, -z, np.where(family == 2, z, 0.0))  # hottest (coldest) first in its family
    keys = pd.DataFrame({"family": family, "order": order, "heat": np.nan_to_num(heat, nan=np.inf),
                         "cell": cells["cell_id"].astype(str).to_numpy()}, index=cells.index)
    ranked = cells.loc[keys.sort_values(["family", "order", "heat", "cell"], kind="stable").index].copy()
    n_hot = int(hot.sum())
    ranked["urgency"] = pd.array(list(range(1, n_hot + 1)) + [None] * (len(ranked) - n_hot), dtype="Int64")
    return ranked


def bins_label(bin_starts: Sequence[Any], *, unit: str, width: int = 1) -> str:
    """The period a run analysed and its time bins, from the bins' starts: ``2026-03..2026-08 · 6 个月`` (six
    bins of a month), ``2026-03..2026-08 · 3 个时段 × 2 个月``, ``2026-03-02..2026-05-31 · 13 周`` (weeks from a
    Monday to a Sunday), ``2026-05-01..2026-05-14 · 14 天``; empty when there
    is no bin."""
    if not len(bin_starts):
        return ""
    first, last = pd.Timestamp(bin_starts[0]), pd.Timestamp(bin_starts[-1])
    n = len(bin_starts)
    if unit == "month":
        end = last + pd.DateOffset(months=width - 1)
        span, one = f"{first:%Y-%m}..{end:%Y-%m}", "个月"
    elif unit == "week":
        end = last + pd.Timedelta(days=7 * width - 1)
        span, one = f"{first:%Y-%m-%d}..{end:%Y-%m-%d}", "周"
    else:
        end = last + pd.Timedelta(days=width - 1)
        span, one = f"{first:%Y-%m-%d}..{end:%Y-%m-%d}", "天"
    return f"{span} · {n} {one}" if width == 1 else f"{span} · {n} 个时段 × {width} {one}"


@dataclass(frozen=True)
class EmergingHotSpots:
    """Result of :func:`emerging_hot_spots`: ``table`` has one row per cell (see the function), ``z`` and ``p``
    are the per-bin Gi* z-scores and p-values (shape ``(n_cells, n_bins)``), ``status`` the per-bin +1 hot /
    −1 cold / 0 not significant, and ``bin_starts`` the start of each bin when a cube was given."""

    table: pd.DataFrame
    z: np.ndarray
    p: np.ndarray
    status: np.ndarray
    bin_starts: pd.DatetimeIndex | None = None


def _counts_matrix(counts: np.ndarray) -> np.ndarray:
    v = np.asarray(counts, dtype=float)
    if v.ndim != 2:
        raise InvalidInput("counts must have shape (n_cells, n_bins)", field="counts")
    if v.shape[1] < 2:
        raise InvalidInput("emerging hot spots need at least 2 time bins (Esri asks for 10)", field="counts")
    if not np.isfinite(v).all():
        raise InvalidInput("counts must be finite numbers", field="counts")
    return v


def _check_alpha(alpha: float, field: str) -> float:
    if not 0.0 < alpha < 1.0:
        raise InvalidInput("a significance level must lie strictly between 0 and 1", field=field)
    return float(alpha)


def time_window_sums(counts: np.ndarray, time_step: int = 0) -> np.ndarray:
    """Trailing sums over the neighbourhood time step: ``out[i, t] = Σ_{s=max(0, t−k)}^{t} counts[i, s]`` with
    ``k = time_step`` (0 returns the counts as floats). One cumulative sum, no loop over cells."""
    v = _counts_matrix(counts)
    if not isinstance(time_step, int | np.integer) or isinstance(time_step, bool) or time_step < 0:
        raise InvalidInput("the neighbourhood time step must be a whole number ≥ 0", field="time_step")
    if time_step == 0:
        return v
    cumulative = np.cumsum(v, axis=1)
    out = cumulative.copy()
    out[:, time_step + 1 :] -= cumulative[:, : -(time_step + 1)]
    return out


def space_time_gi_star(counts: np.ndarray, weights: sp.spmatrix | sp.sparray, time_step: int = 0) -> np.ndarray:
    """Gi* z-score of every cell in every bin, shape ``(n_cells, n_bins)``: the trailing window sums of
    :func:`time_window_sums` put through :func:`gi_star.gi_star_z` one column (time slice) at a time, with binary
    spatial ``weights`` (self included) — one sparse product for all bins."""
    return gi_star_z(time_window_sums(counts, time_step), weights)


def bin_status(z: np.ndarray, alpha: float = 0.10, *, fdr: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin two-sided p-values and status (+1 significant hot, −1 significant cold, 0 not significant) of a
    z matrix ``(n_cells, n_bins)`` at level ``alpha``; with ``fdr`` the Benjamini-Hochberg correction is applied
    to each time slice (column) separately, as Esri's space-time hot spot analysis does."""
    alpha = _check_alpha(alpha, "alpha")
    zz = np.asarray(z, dtype=float)
    if zz.ndim != 2:
        raise InvalidInput("z must have shape (n_cells, n_bins)", field="z")
    p = 2.0 * special.ndtr(-np.abs(zz))  # two-sided normal p, as gi_star.p_values_from_z, without its overhead
    if fdr:
        significant = np.column_stack([fdr_significant(p[:, t], alpha) for t in range(p.shape[1])])
    else:
        significant = p <= alpha
    status = np.where(significant, np.sign(zz), 0.0).astype(np.int8)
    return p, status


def _family(status: np.ndarray, trend: np.ndarray, sign: int) -> np.ndarray:
    """Pattern index (into :data:`PATTERNS`, −1 for none) of the hot (sign=+1) or cold (sign=−1) family."""
    n = status.shape[1]
    own = status == sign
    other = status == -sign
    n_own = own.sum(axis=1)
    mostly = n_own * 10 >= 9 * n
    final = own[:, -1]
    # length of the run of own-sign bins that ends with the final bin
    not_own_reversed = ~own[:, ::-1]
    run = np.where(not_own_reversed.any(axis=1), not_own_reversed.argmax(axis=1), n)
    rising = trend * sign
    index = PATTERNS.index
    return np.select(
        [
            mostly & ~final & (status[:, -1] == 0),
            mostly & final & (rising > 0),
            mostly & final & (rising < 0),
            mostly & final,
            final & other.any(axis=1),
            final & (n_own > run),
            final & (run == 1),
            final,
        ],
        [
            index("historical"),
            index("intensifying"),
            index("diminishing"),
            index("persistent"),
            index("oscillating"),
            index("sporadic"),
            index("new"),
            index("consecutive"),
        ],
        default=-1,
    )


def classify_emerging(status: np.ndarray, trend: np.ndarray) -> np.ndarray:
    """Esri emerging hot spot category of every cell (string array, values from :data:`CATEGORIES`) from the
    per-bin ``status`` matrix (+1 hot, −1 cold, 0 not significant; shape ``(n_cells, n_bins)``) and the sign of
    each cell's significant Mann-Kendall trend of z (+1 rising, −1 falling, 0 none), following the definitions
    and the tie-breaks in the module docstring. Pure array operations, no loop over cells."""
    return np.asarray(np.asarray(CATEGORIES, dtype=object)[_category_codes(status, trend)])


def _category_codes(status: np.ndarray, trend: np.ndarray) -> np.ndarray:
    """Index into :data:`CATEGORIES` of every cell's category."""
    s = np.asarray(status)
    t = np.asarray(trend)
    if s.ndim != 2 or t.shape != (s.shape[0],):
        raise InvalidInput("status must be (n_cells, n_bins) and trend (n_cells,)", field="status")
    if s.shape[1] < 2:
        raise InvalidInput("at least 2 time bins are needed", field="status")
    hot = _family(s, t, +1)
    cold = _family(s, t, -1)
    return np.where(hot >= 0, 1 + hot, np.where(cold >= 0, 1 + len(PATTERNS) + cold, 0))


def emerging_from_z(
    z: np.ndarray,
    *,
    alpha: float = 0.10,
    trend_alpha: float | None = None,
    fdr: bool = False,
    cell_ids: Any = None,
    bin_starts: pd.DatetimeIndex | None = None,
) -> EmergingHotSpots:
    """Steps 2–4 of the analysis on a ready matrix of Gi* z-scores ``(n_cells, n_bins)``: per-bin significance at
    ``alpha`` (optionally FDR-corrected per slice), the Mann-Kendall trend of each cell's z-series at
    ``trend_alpha`` (default ``alpha``) and the Esri category; see :func:`emerging_hot_spots` for the table."""
    zz = np.asarray(z, dtype=float)
    if zz.ndim != 2 or zz.shape[1] < 2:
        raise InvalidInput("z must have shape (n_cells, n_bins) with at least 2 bins", field="z")
    if not np.isfinite(zz).all():
        raise InvalidInput("z-scores must be finite numbers", field="z")
    n_cells = zz.shape[0]
    if cell_ids is None:
        cell_ids = np.arange(n_cells)
    elif len(cell_ids) != n_cells:
        raise InvalidInput(f"{len(cell_ids)} cell ids for {n_cells} cells", field="cell_ids")
    alpha = _check_alpha(alpha, "alpha")
    trend_level = alpha if trend_alpha is None else _check_alpha(trend_alpha, "trend_alpha")
    p, status = bin_status(zz, alpha, fdr=fdr)
    trend = mann_kendall(zz, alpha=trend_level)
    codes = _category_codes(status, trend.trend)
    table = pd.DataFrame(
        {
            "cell_id": np.asarray(cell_ids, dtype=object),
            "category": pd.Categorical.from_codes(codes, categories=list(CATEGORIES), ordered=True),
            "trend_z": trend.z,
            "trend_p": trend.p,
            "trend_tau": trend.tau,
            "n_hot_bins": (status == 1).sum(axis=1),
            "n_cold_bins": (status == -1).sum(axis=1),
            "final_z": zz[:, -1],
            "final_status": status[:, -1],
        }
    )
    return EmergingHotSpots(table=table, z=zz, p=p, status=status, bin_starts=bin_starts)


def emerging_hot_spots(
    counts: SpaceTimeCube | np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    distance_m: float,
    time_step: int = 0,
    alpha: float = 0.10,
    trend_alpha: float | None = None,
    fdr: bool = False,
    cell_ids: Any = None,
) -> EmergingHotSpots:
    """Emerging hot spot analysis of a space-time cube: ``counts`` is a :class:`SpaceTimeCube` (its cell ids are
    used) or an array ``(n_cells, n_bins)``; ``x``, ``y`` are each cell's centre in metres (EPSG:4548);
    neighbours are the cells within ``distance_m``; ``time_step`` is the neighbourhood time step k (bins t−k..t
    are summed); bins are significant at ``alpha`` (default 90 % confidence; ``fdr`` for the per-slice
    Benjamini-Hochberg correction) and trends at ``trend_alpha`` (default ``alpha``). Returns the per-bin z, p
    and status and a table with one row per cell: ``cell_id``, ``category`` (ordered categorical over
    :data:`CATEGORIES`), ``trend_z``, ``trend_p``, ``trend_tau``, ``n_hot_bins``, ``n_cold_bins``, ``final_z``
    and ``final_status`` (+1 hot, −1 cold, 0). Raises :class:`InvalidInput` for a cube and coordinates of
    different sizes, fewer than 3 cells or 2 bins, or bad levels."""
    bin_starts = None
    if isinstance(counts, SpaceTimeCube):
        bin_starts = counts.bin_starts
        if cell_ids is None:
            cell_ids = counts.cell_ids
        matrix = _counts_matrix(counts.counts)
    else:
        matrix = _counts_matrix(counts)
    n_cells = matrix.shape[0]
    if np.shape(x) != (n_cells,) or np.shape(y) != (n_cells,):
        raise InvalidInput(f"x and y must give one centre for each of the {n_cells} cells", field="x")
    weights = distance_band_weights(x, y, distance_m)
    z = space_time_gi_star(matrix, weights, time_step)
    return emerging_from_z(z, alpha=alpha, trend_alpha=trend_alpha, fdr=fdr, cell_ids=cell_ids, bin_starts=bin_starts)
