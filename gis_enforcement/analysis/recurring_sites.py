"""Recurring sites: the register of places where a problem came back after its case was closed (回头看).

A *site* is a DBSCAN cluster of incidents (:mod:`clusters`) — a mine pit, a sand yard, a workshop. An incident
is a *recurrence* when, before it was reported, an earlier incident of the same site had already been closed
(``closed_at`` of the earlier one < ``observed_at`` of this one); a report while the earlier case is still open
is a repeat, not a recurrence. A site with at least one recurrence is *recurring*.

The follow-up inspection (回头看) is suggested from the site's latest closure: ``follow_up_days`` after it, or
at once — the day the problem was reported again — when a report came in after that latest closure. A site
with no closure yet gets none. Everything is computed from the table alone (no clock), so the same incidents
give the same register. Site ids are derived from the position of the site's *earliest* report on a fixed
lattice of EPSG:4548 (``RS-<easting/size>-<northing/size>``), not from the cluster numbering nor from the
centroid: a site keeps its id as later reports join it and its centroid moves (an id changes only when a
report older than its first one joins, e.g. when two sites grow into one), so reruns agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from gis_enforcement.analysis.clusters import project_to_metres, to_lonlat
from gis_enforcement.errors import InvalidInput

REGISTER_COLUMNS = (
    "site_id",
    "cluster",
    "kind",
    "lon",
    "lat",
    "n_incidents",
    "n_recurrences",
    "recurring",
    "n_open",
    "first_report",
    "last_report",
    "last_closure",
    "recurred_after_last_closure",
    "history",
    "follow_up_on",
    "follow_up_reason",
)
REASON_AFTER_CLOSURE = "after closure"
REASON_RECURRED = "reported again after the last closure"
REASON_OPEN = "no closure yet"

_INT64_MAX = np.iinfo(np.int64).max


def follow_up_reason_zh(reason: str, follow_up_days: int) -> str:
    """Why a site's 回头看 falls on its day, in the register's words: ``复发即查`` (the problem was reported again
    after the last closure: look at once), ``办结后30天`` (``follow_up_days`` after the last closure), ``未办结``
    (no closure yet, no 回头看 date)."""
    return {REASON_RECURRED: "复发即查", REASON_AFTER_CLOSURE: f"办结后{int(follow_up_days)}天",
            REASON_OPEN: "未办结"}.get(reason, reason)


def days_overdue(follow_up_on: pd.Series, today: date) -> pd.Series:
    """Days each 回头看 date lies before ``today`` (a day of the district: the dates are the district's midnights);
    0 on the day itself, negative while still ahead, missing where there is no date."""
    due = pd.to_datetime(follow_up_on)
    if due.dt.tz is not None:
        due = due.dt.tz_localize(None)  # the district's wall-clock day, not the UTC one
    return (pd.Timestamp(today) - due.dt.normalize()).dt.days.astype("Int64")


@dataclass(frozen=True)
class IncidentColumns:
    """Names of the incident table's columns the register reads; the defaults are those of the incident store."""

    id: str = "id"
    observed_at: str = "observed_at"
    closed_at: str = "closed_at"
    category: str = "category"
    cluster: str = "cluster"
    lon: str = "lon"
    lat: str = "lat"


DEFAULT_COLUMNS = IncidentColumns()


def _times(frame: pd.DataFrame, column: str, *, allow_missing: bool) -> pd.Series:
    try:
        ts = pd.to_datetime(frame[column])
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{column} must hold dates or timestamps ({exc})", field=column) from exc
    if not allow_missing and ts.isna().any():
        raise InvalidInput(f"{int(ts.isna().sum())} incident(s) have no {column}", field=column)
    return ts


def _nanoseconds(ts: pd.Series, missing: int) -> np.ndarray:
    values = pd.DatetimeIndex(ts).as_unit("ns").asi8.copy()
    values[ts.isna().to_numpy()] = missing
    return values


def _prepare(incidents: pd.DataFrame, cols: IncidentColumns) -> pd.DataFrame:
    id_col, time_col, closed_col, category_col = cols.id, cols.observed_at, cols.closed_at, cols.category
    cluster_col, lon_col, lat_col = cols.cluster, cols.lon, cols.lat
    columns = (id_col, time_col, closed_col, category_col, cluster_col, lon_col, lat_col)
    missing = [c for c in columns if c not in incidents]
    if missing:
        raise InvalidInput(f"the incidents lack the column(s) {', '.join(missing)}", field=missing[0])
    reported = _times(incidents, time_col, allow_missing=False)
    closed = _times(incidents, closed_col, allow_missing=True)
    if closed.isna().all() and reported.dt.tz is not None and closed.dt.tz is None:
        closed = closed.dt.tz_localize(reported.dt.tz)  # an all-open column carries no zone of its own
    if (reported.dt.tz is None) != (closed.dt.tz is None):
        raise InvalidInput(f"{time_col} and {closed_col} must both carry a time zone or both not", field=closed_col)
    if (closed < reported).any():
        early = int((closed < reported).sum())
        raise InvalidInput(f"{early} incident(s) were closed before they were reported", field=closed_col)
    if incidents[id_col].isna().any() or incidents[id_col].duplicated().any():
        raise InvalidInput("incident ids must be present and unique", field=id_col)
    try:
        cluster = pd.to_numeric(incidents[cluster_col], downcast=None).astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("cluster labels must be whole numbers (−1 for noise)", field=cluster_col) from exc
    frame = pd.DataFrame(
        {
            "id": incidents[id_col].to_numpy(),
            "reported": reported.reset_index(drop=True),
            "closed": closed.reset_index(drop=True),
            "category": incidents[category_col].to_numpy(),
            "cluster": cluster.to_numpy(),
            "lon": incidents[lon_col].to_numpy(dtype=float),
            "lat": incidents[lat_col].to_numpy(dtype=float),
        }
    )
    return frame


def _with_recurrence(frame: pd.DataFrame) -> pd.DataFrame:
    """Sites only, sorted by (cluster, reported, id), with ``is_recurrence``: some earlier incident of the site was
    closed before this one was reported — a running minimum of closure times over the earlier rows of the site."""
    sites = frame[frame["cluster"] >= 0].copy()
    sites["_id_key"] = sites["id"].astype(str)
    sites = sites.sort_values(["cluster", "reported", "_id_key"], kind="stable").reset_index(drop=True)
    reported_ns = _nanoseconds(sites["reported"], missing=_INT64_MAX)
    closed_ns = pd.Series(_nanoseconds(sites["closed"], missing=_INT64_MAX))
    earliest_closure = closed_ns.groupby(sites["cluster"].to_numpy()).cummin().to_numpy(dtype=np.int64)
    cluster = sites["cluster"].to_numpy()
    before = np.empty_like(earliest_closure)
    before[1:] = earliest_closure[:-1]
    before[np.r_[True, cluster[1:] != cluster[:-1]]] = _INT64_MAX  # nothing precedes a site's first report
    # An incident closed before this report was necessarily reported before it, so "earlier rows" is exact.
    sites["is_recurrence"] = before < reported_ns
    return sites.drop(columns="_id_key")


def mark_recurrences(incidents: pd.DataFrame, *, columns: IncidentColumns = DEFAULT_COLUMNS) -> pd.Series:
    """Boolean Series indexed by incident id: True when the incident was reported after an earlier incident of the
    same cluster had been closed. Noise incidents (cluster −1) are never recurrences."""
    frame = _prepare(incidents, columns)
    sites = _with_recurrence(frame)
    out = pd.Series(False, index=pd.Index(frame["id"], name=columns.id), name="is_recurrence")
    out.loc[sites["id"].to_numpy()] = sites["is_recurrence"].to_numpy()
    return out


def _site_ids(x: np.ndarray, y: np.ndarray, size_m: float) -> np.ndarray:
    ix = np.floor(x / size_m).astype(np.int64)
    iy = np.floor(y / size_m).astype(np.int64)
    base = "RS-" + pd.Series(ix).astype(str) + "-" + pd.Series(iy).astype(str)
    # two sites whose first reports share a lattice square are told apart by position, west to east then south to
    # north
    order = np.lexsort((y, x, base.to_numpy()))
    rank = np.empty(len(base), dtype=np.int64)
    rank[order] = base.iloc[order].groupby(base.iloc[order].to_numpy()).cumcount().to_numpy()
    return np.where(rank == 0, base.to_numpy(), base.to_numpy() + "-" + (rank + 1).astype(str))


def recurring_sites(
    incidents: pd.DataFrame,
    *,
    follow_up_days: int = 30,
    site_cell_m: float = 100.0,
    only_recurring: bool = False,
    columns: IncidentColumns = DEFAULT_COLUMNS,
) -> pd.DataFrame:
    """Site register from incidents with an id, report time, ``closed_at`` (NaT/None while open), category,
    cluster label (−1 noise, left out) and lon/lat, under the names in ``columns``. One row per site:
    ``site_id`` (from the ``site_cell_m`` lattice square of EPSG:4548 of its earliest report), ``cluster``,
    ``kind`` (most frequent category, ties by name), centroid ``lon``/``lat``, ``n_incidents``,
    ``n_recurrences`` (reports after an earlier closure at the site), ``recurring``, ``n_open``,
    ``first_report``, ``last_report``, ``last_closure``, ``recurred_after_last_closure``, ``history``
    (incident ids by report time),
    ``follow_up_on`` (midnight of the suggested 回头看 day: ``last_closure + follow_up_days``, or the day of the
    first report after the last closure, or NaT with no closure) and ``follow_up_reason``. Recurring sites come
    first, most recurrences first, then by site id; ``only_recurring`` keeps the recurring ones. Raises
    :class:`InvalidInput` for missing columns, times or ids, duplicate ids, closures before reports, or a
    negative ``follow_up_days``."""
    if not isinstance(follow_up_days, int | np.integer) or isinstance(follow_up_days, bool) or follow_up_days < 0:
        raise InvalidInput("the follow-up delay must be a whole number of days ≥ 0", field="follow_up_days")
    if not np.isfinite(site_cell_m) or site_cell_m <= 0:
        raise InvalidInput("the site lattice must be a positive number of metres", field="site_cell_m")
    frame = _prepare(incidents, columns)
    sites = _with_recurrence(frame)
    if sites.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in REGISTER_COLUMNS})
    x, y = project_to_metres(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    sites["x"], sites["y"] = x, y
    sites["is_open"] = sites["closed"].isna()
    by_site = sites.groupby("cluster", sort=True)
    register = by_site.agg(
        x=("x", "mean"),
        y=("y", "mean"),
        first_x=("x", "first"),  # the rows are by report time within a site: its earliest report
        first_y=("y", "first"),
        n_incidents=("id", "size"),
        n_recurrences=("is_recurrence", "sum"),
        n_open=("is_open", "sum"),
        first_report=("reported", "min"),
        last_report=("reported", "max"),
        last_closure=("closed", "max"),
        history=("id", list),
    )
    counts = sites.groupby(["cluster", "category"]).size().reset_index(name="count")
    counts = counts.sort_values(["cluster", "count", "category"], ascending=[True, False, True], kind="stable")
    register["kind"] = counts.drop_duplicates("cluster").set_index("cluster")["category"]

    last_closure = sites["cluster"].map(register["last_closure"])
    after = sites[last_closure.notna() & (sites["reported"] > last_closure)]
    first_after = after.groupby("cluster")["reported"].min()
    register["recurred_after_last_closure"] = register.index.isin(first_after.index)
    scheduled = register["last_closure"] + pd.Timedelta(days=int(follow_up_days))
    immediate = first_after.reindex(register.index)
    register["follow_up_on"] = immediate.where(immediate.notna(), scheduled).dt.normalize()
    register["follow_up_reason"] = np.select(
        [register["last_closure"].isna(), register["recurred_after_last_closure"]],
        [REASON_OPEN, REASON_RECURRED],
        default=REASON_AFTER_CLOSURE,
    )
    register["n_recurrences"] = register["n_recurrences"].astype(np.int64)
    register["n_open"] = register["n_open"].astype(np.int64)
    register["recurring"] = register["n_recurrences"] > 0
    lon, lat = to_lonlat(register["x"].to_numpy(), register["y"].to_numpy())
    register["lon"], register["lat"] = lon, lat
    register["site_id"] = _site_ids(register["first_x"].to_numpy(), register["first_y"].to_numpy(),
                                    float(site_cell_m))
    register = register.reset_index()
    if only_recurring:
        register = register[register["recurring"]]
    register = register.sort_values(
        ["recurring", "n_recurrences", "site_id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
    return register[list(REGISTER_COLUMNS)]
