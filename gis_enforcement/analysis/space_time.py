"""Space-time cube: incidents counted per location (cell) and time bin.

The cube is the input of emerging hot spot analysis: one row per cell (an H3 index, a management-grid code or
any other hashable label), one column per time bin. Bins are half-open intervals ``[edge_k, edge_k+1)`` of a
fixed width — ``width`` calendar months, weeks or days — laid end to end from a start instant. Months are
counted on the wall clock of the timestamps (a month bin of Asia/Shanghai times starts at local midnight on the
1st, a week bin at local midnight on a Monday, the dispatch rhythm's week), so a tz-aware series keeps its
zone. Bins without incidents are kept as zeros, and so are cells given in ``cells`` that had none: a hot spot
test needs the empty places and periods as much as the busy ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from gis_enforcement.errors import InvalidInput

BinUnit = Literal["month", "week", "day"]

#: the bin units :func:`build_cube` takes
BIN_UNITS: tuple[str, ...] = ("month", "week", "day")


@dataclass(frozen=True)
class SpaceTimeCube:
    """Counts of shape ``(n_cells, n_bins)`` (int64), the cell label of each row, the ``n_bins + 1`` bin edges
    (bin k is ``[bin_edges[k], bin_edges[k+1])``) and how many incidents fell outside the time window."""

    counts: np.ndarray
    cell_ids: np.ndarray
    bin_edges: pd.DatetimeIndex
    n_outside: int = 0

    @property
    def n_cells(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_bins(self) -> int:
        return int(self.counts.shape[1])

    @property
    def bin_starts(self) -> pd.DatetimeIndex:
        return self.bin_edges[:-1]

    def to_frame(self) -> pd.DataFrame:
        """The counts as a DataFrame: one row per cell (index ``cell_id``), one column per bin start."""
        return pd.DataFrame(self.counts, index=pd.Index(self.cell_ids, name="cell_id"), columns=self.bin_starts)


def _timestamps(times: Any) -> pd.DatetimeIndex:
    try:
        ts = pd.DatetimeIndex(pd.to_datetime(times))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"times must be dates or timestamps ({exc})", field="times") from exc
    if ts.hasnans:
        raise InvalidInput(f"{int(ts.isna().sum())} incident(s) have no time", field="times")
    return ts


def _align(ts: pd.Timestamp, unit: BinUnit) -> pd.Timestamp:
    day = ts.normalize()
    if unit == "month":
        return day.replace(day=1)
    if unit == "week":
        return day - pd.Timedelta(days=day.day_of_week)
    return day


def bin_step(unit: BinUnit, width: int) -> pd.Timedelta:
    """The length of a week or day bin (a month bin has none: months are counted on the calendar)."""
    return pd.Timedelta(days=width * (7 if unit == "week" else 1))


def _next(ts: pd.Timestamp, unit: BinUnit) -> pd.Timestamp:
    """The first bin boundary of ``unit`` at or after ``ts``."""
    aligned = _align(ts, unit)
    if aligned == ts:
        return aligned
    if unit == "month":
        return aligned + pd.DateOffset(months=1)
    return aligned + bin_step(unit, 1)


def whole_bins(start: Any, end: Any, unit: BinUnit) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The part of a window ``[start, end)`` made of whole units: ``start`` moved forward to the next 1st
    of a month, Monday or midnight (unless it is one), ``end`` back to the last. A period from a Sunday to a
    Wednesday in week bins keeps only the whole weeks between, so no bin is counted over part of its days (a
    short first or last bin would read as a trend). ``None`` stays ``None``; raises :class:`InvalidInput` on
    ``period`` when no whole bin is left."""
    if unit not in BIN_UNITS:
        raise InvalidInput("the bin unit must be 'month', 'week' or 'day'", field="unit")
    first = None if start is None else _next(pd.Timestamp(start), unit)
    last = None if end is None else _align(pd.Timestamp(end), unit)
    if first is not None and last is not None and last <= first:
        raise InvalidInput(f"the period holds no whole {unit} from {pd.Timestamp(start):%Y-%m-%d} to "
                           f"{pd.Timestamp(end):%Y-%m-%d}", field="period")
    return first, last


#: without a period, an analysis reads this many months up to the latest report (see :func:`recent_window`)
DEFAULT_WINDOW_MONTHS = 12


def recent_window(latest: Any, *, tz: str, months: int = DEFAULT_WINDOW_MONTHS,
                  unit: BinUnit | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ``[start, end)`` an analysis reads when no period is asked for: ``end`` is the district's
    midnight after the day of the ``latest`` report (``tz``: the district's zone), ``start`` the same wall-clock
    midnight ``months`` calendar months earlier — moved forward to the next whole bin of ``unit`` (the 1st of a
    month, a Monday) when the analysis bins by one, so its first bin is whole. One stray report observed years
    ago then stretches no bin series over the empty years between."""
    if not isinstance(months, int) or isinstance(months, bool) or months < 1:
        raise InvalidInput("the default window is a whole number of months ≥ 1", field="months")
    end = pd.Timestamp(latest).tz_convert(tz).normalize() + pd.DateOffset(days=1)
    start = end - pd.DateOffset(months=months)
    if unit is not None:
        start = _next(start, unit)
    return start, end


def bin_floor(ts: Any, unit: BinUnit) -> pd.Timestamp:
    """The start of the ``unit`` bin holding ``ts`` on its own wall clock: the 1st of its month, its week's
    Monday or its day, at midnight."""
    if unit not in BIN_UNITS:
        raise InvalidInput("the bin unit must be 'month', 'week' or 'day'", field="unit")
    return _align(pd.Timestamp(ts), unit)


def _month_number(ts: pd.DatetimeIndex | pd.Timestamp) -> Any:
    return ts.year * 12 + (ts.month - 1)


def _same_zone(value: Any, reference: pd.DatetimeIndex, name: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if (ts.tzinfo is None) != (reference.tz is None):
        raise InvalidInput(f"{name} and the incident times must both carry a time zone or both not", field=name)
    return ts.tz_convert(reference.tz) if reference.tz is not None else ts


def _edges(start: pd.Timestamp, n_bins: int, unit: BinUnit, width: int) -> pd.DatetimeIndex:
    freq = f"{width}MS" if unit == "month" else f"{bin_step(unit, width).days}D"
    return pd.date_range(start, periods=n_bins + 1, freq=freq)


#: the most pairs of bins (bins² × cells) a cube may hold: the trend test compares every pair of a cell's bins,
#: so the work grows with the square of the bins (1 100 daily bins of the district's ~1 300 H3 cells, 1.6·10⁹
#: pairs, take seconds; 12 000 monthly bins, 1970-2999, took minutes; 376 000 daily ones never finished)
MAX_BIN_PAIRS = 2_000_000_000


def _fits(n_bins: int, n_cells: int) -> None:
    if n_bins * n_bins * max(n_cells, 1) > MAX_BIN_PAIRS:
        raise InvalidInput(f"{n_bins:,} time bins over {n_cells:,} cells is more than the trend test takes: choose "
                           "wider bins, a shorter period or larger cells", field="width")


def build_cube(
    cell_ids: Sequence[Any] | np.ndarray | pd.Series,
    times: Any,
    *,
    unit: BinUnit = "month",
    width: int = 1,
    start: Any = None,
    end: Any = None,
    cells: Sequence[Any] | np.ndarray | pd.Series | None = None,
) -> SpaceTimeCube:
    """Count incidents per cell and time bin. ``cell_ids`` and ``times`` give each incident's cell label and
    timestamp; bins are ``width`` months (``unit="month"``), weeks (``"week"``) or days (``"day"``) long, starting
    at ``start`` (default: the first incident's time floored to the 1st of its month, its week's Monday, or
    midnight) and continuing
    until ``end`` (exclusive, rounded up to the next bin edge; default: just past the last incident), so the cube
    always holds whole bins and the last one may extend beyond the data.
    Incidents outside ``[start, end)`` are left out and counted in ``n_outside``; every bin in between is kept,
    empty or not. Rows are the sorted distinct cells of the incidents, or exactly ``cells`` in the order given
    (cells without incidents get zero rows) — then an incident whose cell is not listed is refused. Raises
    :class:`InvalidInput` for missing cells or times, mismatched lengths, a non-positive width, a month bin whose
    ``start`` is not the 1st at midnight, a week bin whose ``start`` is not a Monday at midnight, or an empty
    window."""
    if unit not in BIN_UNITS:
        raise InvalidInput("the bin unit must be 'month', 'week' or 'day'", field="unit")
    if not isinstance(width, int | np.integer) or isinstance(width, bool) or width < 1:
        raise InvalidInput("the bin width must be a positive whole number", field="width")
    labels = pd.Series(np.asarray(cell_ids, dtype=object))
    ts = _timestamps(times)
    if len(labels) != len(ts):
        raise InvalidInput(f"{len(labels)} cell ids for {len(ts)} times", field="cell_ids")
    if labels.isna().any():
        raise InvalidInput(f"{int(labels.isna().sum())} incident(s) have no cell", field="cell_ids")

    if start is None:
        if len(ts) == 0:
            raise InvalidInput("no incidents and no start: the time window is empty", field="start")
        first = _align(ts.min(), unit)
    else:
        first = _same_zone(start, ts, "start")
        if unit == "month" and first != _align(first, "month"):
            raise InvalidInput("a month bin must start on the 1st of a month at midnight", field="start")
        if unit == "week" and first != _align(first, "week"):
            raise InvalidInput("a week bin must start on a Monday at midnight", field="start")
    if end is None:
        if len(ts) == 0:
            raise InvalidInput("no incidents and no end: the time window is empty", field="end")
        stop = ts.max()
        inclusive_stop = True
    else:
        stop = _same_zone(end, ts, "end")
        inclusive_stop = False
    if stop < first or (stop == first and not inclusive_stop):
        raise InvalidInput("the end of the time window must come after its start", field="end")

    if unit == "month":
        offset = _month_number(stop) - _month_number(first)
        n_bins = offset // width + 1
        bin_index = (np.asarray(_month_number(ts)) - _month_number(first)) // width
    else:
        step = bin_step(unit, width)
        n_bins = int((stop - first) // step) + 1
        bin_index = np.asarray((ts - first) // step, dtype=np.int64)
    _fits(int(n_bins), len(cells) if cells is not None else int(labels.nunique()))
    edges = _edges(first, int(n_bins), unit, width)
    if not inclusive_stop and edges[-2] >= stop:
        # an explicit end that falls exactly on a bin edge closes the window there
        n_bins -= 1
        edges = edges[:-1]
    window_end = edges[-1]
    inside = np.asarray((ts >= first) & (ts < window_end))
    bin_index = np.asarray(bin_index, dtype=np.int64)

    if cells is None:
        row_labels = np.asarray(pd.unique(labels[inside]), dtype=object)
        row_labels = np.asarray(sorted(row_labels), dtype=object)
    else:
        row_labels = np.asarray(cells, dtype=object)
        if len(pd.unique(pd.Series(row_labels))) != len(row_labels):
            raise InvalidInput("the list of cells holds duplicates", field="cells")
    row_index = pd.Index(row_labels)
    rows = row_index.get_indexer(labels[inside])
    if (rows < 0).any():
        unknown = pd.unique(labels[inside][rows < 0])
        raise InvalidInput(
            f"{int((rows < 0).sum())} incident(s) lie in cells missing from the list, e.g. {unknown[0]!r}",
            field="cells",
        )
    flat = rows.astype(np.int64) * n_bins + bin_index[inside]
    counts = np.bincount(flat, minlength=len(row_labels) * n_bins).reshape(len(row_labels), n_bins)
    return SpaceTimeCube(
        counts=counts.astype(np.int64),
        cell_ids=row_labels,
        bin_edges=edges,
        n_outside=int((~inside).sum()),
    )
