"""Judge a raw batch column by column (vectorised) and turn it into typed values.

Every refused value becomes a ``RowError`` naming the row, the field and the reason; a row with any error
is left out of the clean table, the others go on. Besides the report itself, a row may name its photos (each
a stored photo's SHA-256, the path it is served at, or an http(s) URL) and the patrol track it was filed on
(the track's UUID, stored in the canonical form). Same id sent twice in one batch: identical content is
kept once, differing content refuses the later rows.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gis_enforcement.domain.deadlines import CLOCK_SKEW
from gis_enforcement.domain.enums import Datum
from gis_enforcement.domain.tracks import EARLIEST as EARLIEST_TIME
from gis_enforcement.domain.tracks import FUTURE_REASON, PAST_REASON
from gis_enforcement.patrol.parse import RawBatch
from gis_enforcement.patrol.report import RowError

UUID_RE = r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"
#: a photo reference: a stored photo's SHA-256 (as uploaded to ``/api/v1/incidents/{id}/photos``), the path it
#: is served at, or an http(s) URL of a photo held elsewhere (Open311's ``media_url``)
PHOTO_REF = re.compile(r"(?:/api/v1/photos/)?[0-9a-fA-F]{64}|https?://[^\s/?#\x00-\x1f\x7f]+[^\s\x00-\x1f\x7f]*")
PHOTO_REF_HELP = "a photo's SHA-256, /api/v1/photos/<sha256> or an http(s) URL"
MAX_PHOTOS = 20
MAX_PHOTO_REF = 2000
OFFSET_RE = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
MAX_ACCURACY_M = 10_000.0
MAX_DESCRIPTION = 4000
MAX_REPORTER = 200
EARLIEST = pd.Timestamp(EARLIEST_TIME)
#: A batch of at least this many rows is judged as two halves on two threads.
PARALLEL_MIN_ROWS = 100_000
#: the values refusals name (``RowError.values``), for a client that says them in its own words
ACCURACY_RANGE: dict[str, Any] = {"min": 0, "max": int(MAX_ACCURACY_M)}
FUTURE_VALUES: dict[str, Any] = {"skew_s": int(CLOCK_SKEW.total_seconds())}
PAST_VALUES: dict[str, Any] = {"earliest": EARLIEST.date().isoformat()}

#: Columns of the clean table.
CLEAN_COLUMNS = (
    "row", "id", "category", "raw_lon", "raw_lat", "raw_crs", "accuracy_m", "observed_at", "reporter",
    "description", "photos", "track_id",
)


@dataclass
class CleanBatch:
    frame: pd.DataFrame  # CLEAN_COLUMNS; observed_at is datetime64[us, UTC]
    errors: list[RowError]
    rejected_rows: set[int]


def _range(limit: int) -> dict[str, Any]:
    return {"min": -limit, "max": limit}


def _row_values(values: dict[str, Any], i: int) -> dict[str, Any]:
    """The values of one refused row (position ``i``): a Series gives that row's value, a list is copied."""
    return {k: v.iat[i] if isinstance(v, pd.Series) else list(v) if isinstance(v, list) else v
            for k, v in values.items()}


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
        out[naive] = _local_times(s[naive], tz)
    return out


def _local_times(s: pd.Series, tz: str) -> pd.Series:
    """Strings without an offset ``OFFSET_RE`` knows, read in ``tz``. pandas also reads a few offsets the
    pattern does not match ("+8:00", "+8"): such a time is taken at its own offset — one string at a time when
    the batch mixes them with local times, which pandas refuses to parse together."""
    try:
        local = pd.to_datetime(s, format="ISO8601", errors="coerce")
    except ValueError:  # "Mixed timezones detected"
        return pd.Series([parse_time(v, tz) for v in s], index=s.index, dtype="datetime64[us, UTC]")
    if isinstance(local.dtype, pd.DatetimeTZDtype):
        return local.dt.tz_convert("UTC").dt.as_unit("us")
    return local.dt.as_unit("us").dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")


# what a phone sends (an ISO 8601 time with seconds and an offset): Python reads it as pandas does, 30× faster
_PLAIN_AWARE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)


def parse_time(value: str, tz: str) -> pd.Timestamp:
    """One string read exactly as ``parse_times`` reads it in a batch (NaT when invalid)."""
    if _PLAIN_AWARE.fullmatch(value):
        try:
            return pd.Timestamp(datetime.fromisoformat(value)).tz_convert("UTC").as_unit("us")
        except ValueError:  # a day or hour that does not exist: pandas says NaT, below
            pass
    if re.search(OFFSET_RE, value):
        t = pd.to_datetime(value, format="ISO8601", utc=True, errors="coerce")
        return t if t is pd.NaT else t.as_unit("us")
    t = pd.to_datetime(value, format="ISO8601", errors="coerce")
    if t is pd.NaT:
        return t
    if t.tzinfo is not None:
        return t.tz_convert("UTC").as_unit("us")
    return t.as_unit("us").tz_localize(tz, ambiguous="NaT", nonexistent="NaT").tz_convert("UTC")


def validate(
    raw: RawBatch,
    *,
    categories: Collection[str],
    names: Mapping[str, str] | None = None,
    default_crs: str = Datum.WGS84.value,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> CleanBatch:
    """Validate every field of every row at once and return the clean rows plus the errors.

    ``categories`` are the problem-list codes a submission may use, ``names`` the categories' exact names that
    may stand for them (``Catalog.category_codes_by_name``: a name → its code; the clean row holds the code, so
    a report sent once with the code and once with the name is the same content); ``default_crs`` applies where a row
    names none; ``now`` bounds observation times (a little clock skew is allowed). Every row is judged on its
    own, so a large batch is judged as two halves on two threads (Arrow and numpy let go of the GIL).
    """
    f = raw.frame
    now_ts = pd.Timestamp(now or datetime.now().astimezone()).tz_convert("UTC")
    known = frozenset(categories)
    if len(f) < PARALLEL_MIN_ROWS:
        parts = [_judge(f, known, names or {}, default_crs, tz, now_ts)]
    else:
        half = len(f) // 2
        with ThreadPoolExecutor(max_workers=2) as pool:
            parts = list(pool.map(lambda part: _judge(part, known, names or {}, default_crs, tz, now_ts),
                                  [f.iloc[:half], f.iloc[half:]]))
    clean = parts[0][0] if len(parts) == 1 else pd.concat([p[0] for p in parts], ignore_index=True)
    errors = list(raw.errors) + [e for p in parts for e in p[1]]
    rejected = {r for p in parts for r in p[2]} | {e.row for e in raw.errors}
    errors.sort(key=lambda e: (e.row, e.field))
    return CleanBatch(clean, errors, rejected)


def _judge(f: pd.DataFrame, categories: frozenset[str], names: Mapping[str, str], default_crs: str, tz: str,
           now_ts: pd.Timestamp) -> tuple[pd.DataFrame, list[RowError], set[int]]:
    """The clean rows, the errors and the numbers of the refused rows of a raw frame (or a slice of one)."""
    errors: list[RowError] = []
    n = len(f)
    rows = f["row"].to_numpy()
    ids = _text(f["id"]).str.lower()
    # code (``report.ROW_ERROR_CODES``) → (rows refused, reason, values the reason names: a Series is per row)
    bad: dict[str, tuple[np.ndarray, str | pd.Series, dict[str, Any]]] = {}

    # id
    id_missing = ids.isna().to_numpy()
    id_bad = ~id_missing & ~ids.str.fullmatch(UUID_RE).fillna(False).to_numpy(dtype=bool)
    bad["id:missing"] = (id_missing, "required (a client-generated UUID)", {})
    bad["id:format"] = (id_bad, "not a UUID", {})
    bare = (ids.str.len() == 32).fillna(False).to_numpy(dtype=bool)
    if bare.any():  # UUIDs without hyphens are accepted and stored in the canonical form
        b = ids[bare]
        ids[bare] = (b.str[:8] + "-" + b.str[8:12] + "-" + b.str[12:16] + "-" + b.str[16:20] + "-"
                     + b.str[20:])

    # category
    category = _text(f["category"])
    known = np.asarray(sorted(categories), dtype=object)
    cat_missing = category.isna().to_numpy()
    bad["category:missing"] = (cat_missing, "required (a problem-list code)", {})
    cat_unknown = ~cat_missing & ~category.isin(known).to_numpy(dtype=bool)
    if names and cat_unknown.any():  # a category given by its name is stored as its code
        named = np.flatnonzero(cat_unknown)
        coded = category.iloc[named].map(names)
        found = coded.notna().to_numpy(dtype=bool)
        if found.any():
            category = category.copy()
            category.iloc[named[found]] = coded.to_numpy(dtype=object)[found]
            cat_unknown[named[found]] = False
    bad["category:unknown"] = (cat_unknown, "unknown category '" + category.fillna("") + "'", {"value": category})

    # coordinates
    lon = _number(f["lon"])
    lat = _number(f["lat"])
    bad["lon:number"] = (~np.isfinite(lon), "must be a number (longitude in degrees)", {})
    bad["lat:number"] = (~np.isfinite(lat), "must be a number (latitude in degrees)", {})
    with np.errstate(invalid="ignore"):
        bad["lon:range"] = (np.isfinite(lon) & (np.abs(lon) > 180), "outside [-180, 180]", _range(180))
        bad["lat:range"] = (np.isfinite(lat) & (np.abs(lat) > 90), "outside [-90, 90]", _range(90))

    # crs
    crs = _text(f["crs"]).str.lower().str.replace("-", "").str.replace("_", "").fillna(default_crs)
    datums = [d.value for d in Datum]
    bad["crs:unknown"] = (~crs.isin(datums).to_numpy(dtype=bool), "unknown datum; use one of " + ", ".join(datums),
                          {"allowed": datums})

    # accuracy
    acc_given = _text(f["accuracy_m"]).notna().to_numpy(dtype=bool)
    accuracy = _number(f["accuracy_m"])
    bad["accuracy_m:number"] = (acc_given & ~np.isfinite(accuracy), "must be a finite number of metres", {})
    with np.errstate(invalid="ignore"):
        bad["accuracy_m:range"] = (
            acc_given & np.isfinite(accuracy) & ((accuracy < 0) | (accuracy > MAX_ACCURACY_M)),
            f"must be between 0 and {MAX_ACCURACY_M:g} m", ACCURACY_RANGE,
        )
    accuracy = np.where(acc_given, accuracy, np.nan)

    # observed_at
    obs_raw = _text(f["observed_at"])
    observed = parse_times(obs_raw, tz)
    obs_missing = obs_raw.isna().to_numpy()
    bad["observed_at:missing"] = (obs_missing, "required (ISO 8601 time)", {})
    bad["observed_at:format"] = (~obs_missing & observed.isna().to_numpy(), "not an ISO 8601 time", {})
    valid_t = observed.notna().to_numpy()
    obs_values = observed.fillna(EARLIEST)
    bad["observed_at:future"] = (valid_t & (obs_values > now_ts + CLOCK_SKEW).to_numpy(), FUTURE_REASON,
                                 FUTURE_VALUES)
    bad["observed_at:past"] = (valid_t & (obs_values < EARLIEST).to_numpy(), PAST_REASON, PAST_VALUES)

    # free text
    reporter = _text(f["reporter"])
    description = _text(f["description"])
    bad["reporter:length"] = (reporter.str.len().fillna(0).to_numpy() > MAX_REPORTER,
                              f"longer than {MAX_REPORTER} characters", {"max": MAX_REPORTER})
    bad["description:length"] = (description.str.len().fillna(0).to_numpy() > MAX_DESCRIPTION,
                                 f"longer than {MAX_DESCRIPTION} characters", {"max": MAX_DESCRIPTION})

    # photos and the patrol track
    photos = f["photos"].to_numpy(dtype=object)
    photo_reason = np.full(n, None, dtype=object)
    photo_code = np.full(n, None, dtype=object)
    for i in np.flatnonzero(f["photos"].notna().to_numpy()):  # only the rows that carry photos
        problem = photos_problem(photos[i])
        if problem is not None:
            photo_code[i], photo_reason[i] = problem
    reasons = pd.Series(photo_reason)
    bad["photos:count"] = (photo_code == "photos:count", reasons, {"max": MAX_PHOTOS})
    bad["photos:reference"] = (photo_code == "photos:reference", reasons, {})
    track = _text(f["track_id"]).str.lower()
    track_bad = (track.notna() & ~track.str.fullmatch(UUID_RE).fillna(False)).to_numpy(dtype=bool)
    bad["track_id:format"] = (track_bad, "not a UUID (the id of a patrol track)", {})
    bare_track = (track.str.len() == 32).fillna(False).to_numpy(dtype=bool) & ~track_bad
    if bare_track.any():
        t = track[bare_track]
        track[bare_track] = (t.str[:8] + "-" + t.str[8:12] + "-" + t.str[12:16] + "-" + t.str[16:20] + "-"
                             + t.str[20:])

    row_bad = np.zeros(n, dtype=bool)
    id_list = _objects(ids)
    for code, (mask, reason, values) in bad.items():
        if not mask.any():
            continue
        row_bad |= mask
        field = code.rpartition(":")[0]
        idx = np.flatnonzero(mask)
        reasons = reason.to_numpy()[idx] if isinstance(reason, pd.Series) else [reason] * len(idx)
        errors.extend(RowError(int(rows[i]), field, str(r), id_list[i], code=code, values=_row_values(values, int(i)))
                      for i, r in zip(idx, reasons, strict=True))

    keep = ~row_bad

    def kept(s: pd.Series) -> pd.Series:
        return s[keep].reset_index(drop=True)

    clean = pd.DataFrame({
        "row": rows[keep], "id": kept(ids), "category": kept(category),
        "raw_lon": lon[keep], "raw_lat": lat[keep], "raw_crs": kept(crs),
        "accuracy_m": accuracy[keep], "observed_at": kept(observed),
        "reporter": kept(reporter), "description": kept(description),
        "photos": photos[keep], "track_id": kept(track),
    })
    return clean, errors, {int(r) for r in rows[row_bad]}


def photos_problem(photos: Any) -> tuple[str, str] | None:
    """Why a row's ``photos`` (a sequence of texts, as the readers give it) cannot be stored — the code
    (``photos:count`` or ``photos:reference``) and the reason — or None."""
    if not isinstance(photos, tuple | list):
        return None
    if len(photos) > MAX_PHOTOS:
        return "photos:count", f"at most {MAX_PHOTOS} photos"
    for ref in photos:
        if not isinstance(ref, str) or len(ref) > MAX_PHOTO_REF or not PHOTO_REF.fullmatch(ref):
            shown = repr(ref)[:80]
            return "photos:reference", f"{shown} is not a photo reference ({PHOTO_REF_HELP})"
    return None


# -- one row, in plain Python ---------------------------------------------------------------------------------
# ``validate_row`` must judge a row exactly as ``validate`` does inside a batch (tests compare the two on edge
# cases): str.strip and Arrow's whitespace trim agree on every code point, Arrow's lower-casing differs from
# Python's for a few non-ASCII letters, and values that are neither text nor plain numbers go through the
# batch helpers on a one-row column.


def _text_one(value: str | None) -> str | None:
    if value is None:
        return None
    s = value.strip()
    return s or None


def _lower(s: str) -> str:
    return s.lower() if s.isascii() else str(pc.utf8_lower(pa.array([s], type=pa.string()))[0])


def _number_one(value: Any) -> tuple[float, bool]:
    """(the number or NaN, whether a value was given at all) of one raw field."""
    if value is None:
        return np.nan, False
    if type(value) is float:
        return value, not np.isnan(value)
    if type(value) is int and -(2**63) <= value < 2**63:
        return float(value), True
    col = pd.Series([value])
    return float(_number(col)[0]), bool(_text(col).notna().iloc[0])


def validate_row(
    row: Mapping[str, Any],
    *,
    categories: Collection[str],
    names: Mapping[str, str] | None = None,
    default_crs: str = Datum.WGS84.value,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> tuple[dict[str, Any] | None, list[RowError]]:
    """One raw row (``parse.feature_row``) judged as ``validate`` judges a row of a batch, without a frame: its
    clean values (the fields of ``CLEAN_COLUMNS``; ``observed_at`` a UTC Timestamp, a missing accuracy NaN),
    or None when it has errors, and the errors in the order ``validate`` reports them."""
    problems: list[tuple[str, str, dict[str, Any]]] = []  # (code, reason, values), as the batch's ``bad``

    ident = _text_one(row["id"])
    if ident is None:
        problems.append(("id:missing", "required (a client-generated UUID)", {}))
    else:
        ident = _lower(ident)
        if not re.fullmatch(UUID_RE, ident):
            problems.append(("id:format", "not a UUID", {}))
        if len(ident) == 32:
            ident = f"{ident[:8]}-{ident[8:12]}-{ident[12:16]}-{ident[16:20]}-{ident[20:]}"

    category = _text_one(row["category"])
    if category is None:
        problems.append(("category:missing", "required (a problem-list code)", {}))
    elif category not in categories:
        if names and category in names:
            category = names[category]
        else:
            problems.append(("category:unknown", f"unknown category '{category}'", {"value": category}))

    coords = {}
    for name, limit, unit in (("lon", 180, "longitude"), ("lat", 90, "latitude")):
        value, _ = _number_one(row[name])
        if not np.isfinite(value):
            problems.append((f"{name}:number", f"must be a number ({unit} in degrees)", {}))
        elif abs(value) > limit:
            problems.append((f"{name}:range", f"outside [-{limit}, {limit}]", _range(limit)))
        coords[name] = value

    crs_text = _text_one(row["crs"])
    crs = default_crs if crs_text is None else _lower(crs_text).replace("-", "").replace("_", "")
    datums = [d.value for d in Datum]
    if crs not in datums:
        problems.append(("crs:unknown", "unknown datum; use one of " + ", ".join(datums), {"allowed": datums}))

    accuracy, acc_given = _number_one(row["accuracy_m"])
    if acc_given and not np.isfinite(accuracy):
        problems.append(("accuracy_m:number", "must be a finite number of metres", {}))
    elif acc_given and (accuracy < 0 or accuracy > MAX_ACCURACY_M):
        problems.append(("accuracy_m:range", f"must be between 0 and {MAX_ACCURACY_M:g} m", dict(ACCURACY_RANGE)))
    if not acc_given:
        accuracy = np.nan

    obs_text = _text_one(row["observed_at"])
    observed = pd.NaT
    if obs_text is None:
        problems.append(("observed_at:missing", "required (ISO 8601 time)", {}))
    else:
        observed = parse_time(obs_text, tz)
        now_ts = pd.Timestamp(now or datetime.now().astimezone()).tz_convert("UTC")
        if observed is pd.NaT:
            problems.append(("observed_at:format", "not an ISO 8601 time", {}))
        elif observed > now_ts + CLOCK_SKEW:
            problems.append(("observed_at:future", FUTURE_REASON, dict(FUTURE_VALUES)))
        elif observed < EARLIEST:
            problems.append(("observed_at:past", PAST_REASON, dict(PAST_VALUES)))

    reporter, description = _text_one(row["reporter"]), _text_one(row["description"])
    if reporter is not None and len(reporter) > MAX_REPORTER:
        problems.append(("reporter:length", f"longer than {MAX_REPORTER} characters", {"max": MAX_REPORTER}))
    if description is not None and len(description) > MAX_DESCRIPTION:
        problems.append(("description:length", f"longer than {MAX_DESCRIPTION} characters",
                         {"max": MAX_DESCRIPTION}))

    photos_refused = photos_problem(row["photos"])
    if photos_refused is not None:
        code, reason = photos_refused
        problems.append((code, reason, {"max": MAX_PHOTOS} if code == "photos:count" else {}))
    track = _text_one(row["track_id"])
    if track is not None:
        track = _lower(track)
        if not re.fullmatch(UUID_RE, track):
            problems.append(("track_id:format", "not a UUID (the id of a patrol track)", {}))
        elif len(track) == 32:
            track = f"{track[:8]}-{track[8:12]}-{track[12:16]}-{track[16:20]}-{track[20:]}"

    number = int(row["row"])
    errors = sorted((RowError(number, code.rpartition(":")[0], reason, ident, code=code, values=values)
                     for code, reason, values in problems), key=lambda e: e.field)
    if errors:
        return None, errors
    return {
        "row": number, "id": ident, "category": category, "raw_lon": coords["lon"], "raw_lat": coords["lat"],
        "raw_crs": crs, "accuracy_m": accuracy, "observed_at": observed, "reporter": reporter,
        "description": description, "photos": row["photos"], "track_id": track,
    }, []
