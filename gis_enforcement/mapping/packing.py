"""Cases as the status map carries them: one base64 string of little-endian integers per column.

A season of 100 k cases is 30 bytes a case this way (≈ 4 MB of page) where GeoJSON would be ten times that,
and the page turns each column back into a typed array in a few milliseconds (``giseColumn`` in
``js/status_layer.js``). Positions are offsets from the south-west corner in steps of ~1 m, times minutes
from the first case, texts indexes into a dictionary of their distinct values; every column has a "missing"
value (its type's maximum).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gis_enforcement.domain.zone import district_zone

__all__ = ["NONE", "PackedCases", "codes_of", "pack_cases", "packed_column", "utc_offsets"]

_DTYPES: dict[str, np.dtype[Any]] = {"u8": np.dtype("<u1"), "u16": np.dtype("<u2"), "u32": np.dtype("<u4")}
#: the missing value of each column type
NONE = {"u8": 255, "u16": 65535, "u32": 4294967295}

PackedCases = dict[str, Any]
#: the step of the offset table (:func:`utc_offsets`): every zone's changes fall on a quarter hour
_OFFSET_STEP = "15min"


def utc_offsets(first: float, last: float, tz: str | None = None) -> list[list[int]]:
    """The district zone's UTC offsets over minutes ``first``..``last`` since the epoch (UTC), as
    ``[[from_minute, offset_minutes], …]``: one entry for a zone without daylight saving (Beijing: ``[[…, 480]]``),
    one more at each change. The first entry holds before its minute too. The page shows every time and puts
    every case in its day and month with it."""
    zone = district_zone(tz).key
    start = pd.Timestamp(int(np.floor(first)) * 60, unit="s", tz="UTC").floor(_OFFSET_STEP)
    end = pd.Timestamp(int(np.ceil(last)) * 60, unit="s", tz="UTC").ceil(_OFFSET_STEP)
    grid = pd.date_range(start, end, freq=_OFFSET_STEP)
    offsets = ((grid.tz_convert(zone).tz_localize(None) - grid.tz_localize(None)).total_seconds() // 60).to_numpy()
    minutes = ((grid - pd.Timestamp(0, tz="UTC")).total_seconds() // 60).to_numpy()
    change = np.r_[True, offsets[1:] != offsets[:-1]]
    return [[int(m), int(o)] for m, o in zip(minutes[change], offsets[change], strict=True)]


def _local_minutes(observed: pd.Series, tz: str | None) -> np.ndarray:
    """Minutes since the epoch on the district's wall clock (UTC minutes plus the offset of that moment)."""
    utc = pd.to_datetime(observed, utc=True, errors="coerce", format="ISO8601")
    wall = utc.dt.tz_convert(district_zone(tz).key).dt.tz_localize(None)
    return ((wall - pd.Timestamp(0)).dt.total_seconds() / 60).to_numpy()


def packed_column(values: np.ndarray, kind: str) -> str:
    """``values`` (integers, already within the type's range) as base64 of little-endian ``kind`` integers."""
    return base64.b64encode(np.asarray(values).astype(_DTYPES[kind]).tobytes()).decode("ascii")


def _bounded(values: pd.Series, kind: str) -> np.ndarray:
    """Non-negative integers clipped below the type's missing value; NaN → missing."""
    top = NONE[kind]
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out = np.where(np.isnan(arr), top, np.clip(np.rint(arr), 0, top - 1))
    return out.astype(np.int64)


def _minutes(values: pd.Series) -> pd.Series:
    t = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    return (t - pd.Timestamp(0, tz="UTC")).dt.total_seconds() / 60


_HEX = np.full(256, 0, dtype=np.int64)
_HEX[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
_HEX[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16)
_HEX[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16)


def _hex_prefix(ids: pd.Series) -> np.ndarray:
    """The first eight hex digits of each id (a UUID's first group) as an integer, without a Python loop."""
    raw = np.array(ids.str.slice(0, 8).fillna("").tolist(), dtype="S8")
    digits = _HEX[np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, 8)] if len(raw) else np.zeros((0, 8),
                                                                                                       np.int64)
    return (digits * (16 ** np.arange(7, -1, -1, dtype=np.int64))).sum(axis=1)


def codes_of(values: pd.Series, index: dict[str, int], missing: int = -1) -> np.ndarray:
    """The position of each value in ``index`` (``missing`` for values not in it), looked up once per distinct
    value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.array([index.get(str(u), missing) for u in uniques] + [missing], dtype=np.int64)
    return lookup[codes]


def _texts(values: pd.Series, shorten: Callable[[str], str] | None) -> tuple[np.ndarray, list[str], str]:
    """Dictionary codes of a text column (missing and blank → the missing value) and its dictionary; names are
    shortened once per distinct value, not per row."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = [shorten(str(u)) if shorten else str(u) for u in uniques]
    dictionary: list[str] = []
    seen: dict[str, int] = {}
    remap = np.full(len(names) + 1, -1, dtype=np.int64)  # the last slot maps the sentinel -1
    for k, name in enumerate(names):
        if name.strip():
            remap[k] = seen.setdefault(name, len(seen))
    dictionary = list(seen)
    kind = "u8" if len(dictionary) < NONE["u8"] else "u16"
    out = remap[codes]
    return np.where(out < 0, NONE[kind], out), dictionary, kind


def pack_cases(cases: pd.DataFrame, *, categories: Sequence[str], statuses: Sequence[str],
               shorten: dict[str, Callable[[str], str]] | None = None, full_text_up_to: int = 20_000,
               tz: str | None = None) -> PackedCases:
    """The columns of ``cases`` (the store's case-status frame: ``lon``, ``lat``, ``observed_at``,
    ``category``, ``status`` … see :func:`gis_enforcement.storage.map_repo.case_status_frame`) packed for the
    page. ``categories`` and ``statuses`` give the index of each code (codes not listed are refused by the
    caller). Full ids and descriptions ride along only up to ``full_text_up_to`` cases; beyond, an id's first
    eight hex digits. Times are UTC minutes; ``offsets`` (:func:`utc_offsets`) turns them into the district's
    clock (``tz``, default Asia/Shanghai), and ``months`` and ``days`` are the district's."""
    n = len(cases)
    lon = cases["lon"].to_numpy(dtype=float)
    lat = cases["lat"].to_numpy(dtype=float)
    x0 = float(np.floor(lon.min() * 1e3) / 1e3) if n else 0.0
    y0 = float(np.floor(lat.min() * 1e3) / 1e3) if n else 0.0
    span = max(float(lon.max() - x0), float(lat.max() - y0)) if n else 0.0
    step = max(1e-5, span / 65_000)
    cols: dict[str, tuple[np.ndarray, str]] = {
        "x": (np.rint((lon - x0) / step).astype(np.int64), "u16"),
        "y": (np.rint((lat - y0) / step).astype(np.int64), "u16"),
    }
    observed = _minutes(cases["observed_at"])
    t0 = int(np.floor(observed.min())) if n else 0
    cols["t"] = (np.floor(observed.to_numpy()).astype(np.int64) - t0, "u32")  # the minute on the clock
    cat_index = {c: k for k, c in enumerate(categories)}
    status_index = {s: k for k, s in enumerate(statuses)}
    cols["cat"] = (codes_of(cases["category"], cat_index), "u8")
    cols["st"] = (codes_of(cases["status"], status_index), "u8")
    dictionaries: dict[str, list[str]] = {}
    none: dict[str, int] = {}
    for key, column in (("tw", "township_name"), ("v", "village_name"), ("d", "lead_department"), ("f", "flags")):
        values = cases[column] if column in cases.columns else pd.Series([None] * n, dtype=object)
        codes, dictionaries[key], kind = _texts(values, (shorten or {}).get(key))
        cols[key] = (codes, kind)
    dup = cases["likely_duplicate_of"].notna() if "likely_duplicate_of" in cases.columns else pd.Series(False,
                                                                                                     index=cases.index)
    cols["dup"] = (dup.to_numpy(dtype=np.int64), "u8")
    accuracy = cases["accuracy_m"] if "accuracy_m" in cases.columns else pd.Series(np.nan, index=cases.index)
    cols["acc"] = (_bounded(accuracy, "u8"), "u8")
    # how far the named village is from the case, in metres up to 65 km (the nearest village may be kilometres away)
    village_m = cases["village_distance_m"] if "village_distance_m" in cases.columns else pd.Series(
        np.nan, index=cases.index)
    cols["vd"] = (_bounded(village_m, "u16"), "u16")

    def since(column: str, start: pd.Series, per: float) -> np.ndarray:
        if column not in cases.columns:
            return np.full(n, NONE["u16"], dtype=np.int64)
        return _bounded((_minutes(cases[column]) - start) / per, "u16")

    whistled = _minutes(cases["whistled_at"]) if "whistled_at" in cases.columns else pd.Series(np.nan,
                                                                                                index=cases.index)
    cols["wd"] = (since("whistled_at", observed, 1.0), "u16")          # minutes observed → whistled
    cols["rd"] = (since("first_report_in_at", whistled, 1.0), "u16")   # minutes whistled → first report-in
    cols["dd"] = (since("lead_done_at", observed, 60.0), "u16")        # hours observed → the lead's result
    cols["cd"] = (since("closed_at", observed, 60.0), "u16")           # hours observed → closed
    for key, column in (("ns", "n_summoned"), ("nr", "n_reported_in"), ("nl", "n_late")):
        values = cases[column] if column in cases.columns else pd.Series(0, index=cases.index)
        cols[key] = (_bounded(values.fillna(0), "u8"), "u8")
    ids = cases["id"].astype(str) if "id" in cases.columns else pd.Series([""] * n, dtype=str)
    cols["id"] = (_hex_prefix(ids), "u32")
    for key, kind in (("acc", "u8"), ("vd", "u16"), ("v", cols["v"][1]), ("tw", cols["tw"][1]), ("d", cols["d"][1]),
                      ("f", cols["f"][1])):
        none[key] = NONE[kind]

    months: list[str] = []
    days = 0
    offsets = utc_offsets(0, 0, tz)
    if n:
        wall = _local_minutes(cases["observed_at"], tz)
        local = np.floor(wall).astype("datetime64[m]")
        months = [str(m) for m in np.unique(local.astype("datetime64[M]"))]
        first_day = np.floor(_local_minutes(pd.Series([pd.Timestamp(t0 * 60, unit="s", tz="UTC")]), tz)[0] / 1440)
        days = int(np.floor(wall / 1440).max() - first_day) + 1  # the page counts days from t0's, as here
        offsets = utc_offsets(float(np.nanmin(observed)), float(np.nanmax(observed)), tz)
    out: PackedCases = {
        "n": n, "x0": x0, "y0": y0, "step": step, "t0": t0, "days": days, "months": months, "offsets": offsets,
        "cols": {k: packed_column(v, kind) for k, (v, kind) in cols.items()},
        "types": {k: kind for k, (_, kind) in cols.items()},
        "dict": dictionaries, "none": none,
    }
    if n <= full_text_up_to:
        out["ids"] = ids.tolist()
        desc = cases["description"] if "description" in cases.columns else pd.Series([None] * n, dtype=object)
        out["desc"] = [None if pd.isna(d) else str(d)[:200] for d in desc]
    return out
