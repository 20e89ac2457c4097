"""Judge a raw batch column by column (vectorised) and turn it into typed values.

Every refused value becomes a ``RowError`` naming the row, the field and the reason; a row with any error
is left out of the clean table, the others go on. Same id sent twice in one batch: identical content is
kept once, differing content refuses the later rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gis_enforcement.domain.enums import Datum
from gis_enforcement.patrol.parse import RawBatch
from gis_enforcement.patrol.report import RowError

UUID_RE = r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"
OFFSET_RE = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
MAX_ACCURACY_M = 10_000.0
MAX_DESCRIPTION = 4000
MAX_REPORTER = 200
EARLIEST = pd.Timestamp("2000-01-01", tz="UTC")
CLOCK_SKEW = timedelta(minutes=10)

#: Columns of the clean table.
CLEAN_COLUMNS = (
    "row", "id", "category", "raw_lon", "raw_lat", "raw_crs", "accuracy_m", "observed_at", "reporter",
    "description", "photos", "track_id",
)


@dataclass
class CleanBatch:
    frame: pd.DataFrame  # CLEAN_COLUMNS; observed_at is datetime64[ns, UTC]
    errors: list[RowError]
    rejected_rows: set[int]


def _text(col: pd.Series) -> pd.Series:
    """Stripped text (Arrow-backed strings); missing and empty values become NA."""
    s = col if isinstance(col.dtype, pd.StringDtype) else col.astype("string[pyarrow]")
    s = s.astype("string[pyarrow]").str.strip()
    return s.mask(s == "")


def _number(col: pd.Series) -> np.ndarray:
    """Floats, NaN where the value is missing or not a number. Clean columns take Arrow's fast cast."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=float, na_value=np.nan)
    text = _text(col)
    try:
        arr = pa.array(text, type=pa.string())
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.to_numeric(text.astype(object), errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _objects(s: pd.Series) -> np.ndarray:
    """Values as a Python-object array with None for missing (what the database writer expects)."""
    return s.astype(object).where(s.notna(), None).to_numpy(dtype=object)


def parse_times(values: pd.Series, tz: str) -> pd.Series:
    """ISO 8601 strings to UTC timestamps; strings without an offset are read in ``tz``. NaT when invalid."""
    s = values.astype("string")
    aware = s.str.contains(OFFSET_RE, regex=True, na=False)
    # microsecond resolution: the database's, and wide enough that a year like 2999 is an error we can
    # report rather than an overflow
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
    if aware.any():
        out[aware] = pd.to_datetime(s[aware], format="ISO8601", utc=True, errors="coerce").dt.as_unit("us")
    naive = ~aware & s.notna()
    if naive.any():
        local = pd.to_datetime(s[naive], format="ISO8601", errors="coerce").dt.as_unit("us")
        out[naive] = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return out


def validate(
    raw: RawBatch,
    *,
    categories: Collection[str],
    default_crs: str = Datum.WGS84.value,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> CleanBatch:
    """Validate every field of every row at once and return the clean rows plus the errors.

    ``categories`` are the problem-list codes a submission may use; ``default_crs`` applies where a row
    names none; ``now`` bounds observation times (a little clock skew is allowed).
    """
    f = raw.frame
    errors: list[RowError] = list(raw.errors)
    n = len(f)
    rows = f["row"].to_numpy()
    ids = _text(f["id"]).str.lower()
    bad: dict[str, tuple[np.ndarray, str | pd.Series]] = {}

    # id
    id_missing = ids.isna().to_numpy()
    id_bad = ~id_missing & ~ids.str.fullmatch(UUID_RE).fillna(False).to_numpy(dtype=bool)
    bad["id:missing"] = (id_missing, "required (a client-generated UUID)")
    bad["id:format"] = (id_bad, "not a UUID")
    bare = (ids.str.len() == 32).fillna(False).to_numpy(dtype=bool)
    if bare.any():  # UUIDs without hyphens are accepted and stored in the canonical form
        b = ids[bare]
        ids[bare] = (b.str[:8] + "-" + b.str[8:12] + "-" + b.str[12:16] + "-" + b.str[16:20] + "-"
                     + b.str[20:])

    # category
    category = _text(f["category"])
    known = np.asarray(sorted(categories), dtype=object)
    cat_missing = category.isna().to_numpy()
    bad["category:missing"] = (cat_missing, "required (a problem-list code)")
    cat_unknown = ~cat_missing & ~category.isin(known).to_numpy(dtype=bool)
    bad["category:unknown"] = (cat_unknown, "unknown category '" + category.fillna("") + "'")

    # coordinates
    lon = _number(f["lon"])
    lat = _number(f["lat"])
    bad["lon:number"] = (~np.isfinite(lon), "must be a number (longitude in degrees)")
    bad["lat:number"] = (~np.isfinite(lat), "must be a number (latitude in degrees)")
    with np.errstate(invalid="ignore"):
        bad["lon:range"] = (np.isfinite(lon) & (np.abs(lon) > 180), "outside [-180, 180]")
        bad["lat:range"] = (np.isfinite(lat) & (np.abs(lat) > 90), "outside [-90, 90]")

    # crs
    crs = _text(f["crs"]).str.lower().str.replace("-", "").str.replace("_", "").fillna(default_crs)
    datums = [d.value for d in Datum]
    bad["crs:unknown"] = (~crs.isin(datums).to_numpy(dtype=bool), "unknown datum; use one of " + ", ".join(datums))

    # accuracy
    acc_given = _text(f["accuracy_m"]).notna().to_numpy(dtype=bool)
    accuracy = _number(f["accuracy_m"])
    bad["accuracy_m:number"] = (acc_given & ~np.isfinite(accuracy), "must be a number of metres")
    with np.errstate(invalid="ignore"):
        bad["accuracy_m:range"] = (
            acc_given & np.isfinite(accuracy) & ((accuracy < 0) | (accuracy > MAX_ACCURACY_M)),
            f"must be between 0 and {MAX_ACCURACY_M:g} m",
        )
    accuracy = np.where(acc_given, accuracy, np.nan)

    # observed_at
    obs_raw = _text(f["observed_at"])
    observed = parse_times(obs_raw, tz)
    now_ts = pd.Timestamp(now or datetime.now().astimezone()).tz_convert("UTC")
    obs_missing = obs_raw.isna().to_numpy()
    bad["observed_at:missing"] = (obs_missing, "required (ISO 8601 time)")
    bad["observed_at:format"] = (~obs_missing & observed.isna().to_numpy(), "not an ISO 8601 time")
    valid_t = observed.notna().to_numpy()
    obs_values = observed.fillna(EARLIEST)
    bad["observed_at:future"] = (valid_t & (obs_values > now_ts + CLOCK_SKEW).to_numpy(), "is in the future")
    bad["observed_at:past"] = (valid_t & (obs_values < EARLIEST).to_numpy(), "is before 2000")

    # free text
    reporter = _text(f["reporter"])
    description = _text(f["description"])
    bad["reporter:length"] = (reporter.str.len().fillna(0).to_numpy() > MAX_REPORTER,
                              f"longer than {MAX_REPORTER} characters")
    bad["description:length"] = (description.str.len().fillna(0).to_numpy() > MAX_DESCRIPTION,
                                 f"longer than {MAX_DESCRIPTION} characters")

    row_bad = np.zeros(n, dtype=bool)
    id_list = _objects(ids)
    for key, (mask, reason) in bad.items():
        if not mask.any():
            continue
        row_bad |= mask
        field = key.split(":", 1)[0]
        idx = np.flatnonzero(mask)
        reasons = reason.to_numpy()[idx] if isinstance(reason, pd.Series) else [reason] * len(idx)
        errors.extend(RowError(int(rows[i]), field, str(r), id_list[i]) for i, r in zip(idx, reasons, strict=True))

    keep = ~row_bad

    def kept(s: pd.Series) -> pd.Series:
        return s[keep].reset_index(drop=True)

    clean = pd.DataFrame({
        "row": rows[keep], "id": kept(ids), "category": kept(category),
        "raw_lon": lon[keep], "raw_lat": lat[keep], "raw_crs": kept(crs),
        "accuracy_m": accuracy[keep], "observed_at": kept(observed),
        "reporter": kept(reporter), "description": kept(description),
        "photos": f["photos"].to_numpy(dtype=object)[keep], "track_id": kept(_text(f["track_id"])),
    })
    rejected = {int(r) for r in rows[row_bad]} | {e.row for e in raw.errors}
    errors.sort(key=lambda e: (e.row, e.field))
    return CleanBatch(clean, errors, rejected)
