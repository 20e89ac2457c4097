"""Intake: a patrol's submissions become located, rule-matched cases in one transaction.

validate → convert datum → idempotency (same id: same content is "already stored", different content is
refused) → locate → match the responsibility rules → likely duplicates → persist with the proposed whistle
plan. Every step works on whole columns; the database sees one COPY for the incidents and a handful of
set-based statements per batch. The caller owns the transaction: a batch is written whole or not at all.
A single Feature (a POST from a phone) takes ``patrol.submit.submit_one`` instead: the same steps and the same
stored result, without frames.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gis_enforcement.catalog.rules import match_rules, rule_snapshot
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.datum import to_wgs84
from gis_enforcement.domain.enums import Datum, LocationFlag
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.dedupe import candidate_bbox, likely_duplicates, recurrences, utc_time
from gis_enforcement.patrol.parse import RawBatch
from gis_enforcement.patrol.report import IngestReport, RowError
from gis_enforcement.patrol.validate import validate
from gis_enforcement.storage import Session, incident_repo
from gis_enforcement.storage.incident_repo import CONTENT_COLUMNS

#: What ``ingest`` reports as it goes, for a progress display: ``(stage, done, total)`` — rows of the stage done
#: out of its total. The stages, in order: ``validating`` (the rows read), ``checking ids`` (the valid rows),
#: ``locating``, ``duplicates`` (likely duplicates and recurrences), ``writing`` (the new rows, reported
#: again after each chunk COPYd) and, when the batch rebuilds the indexes, ``indexing`` (indexes built of
#: those to build, reported before each and at the end). A stage is reported when it starts with ``done`` 0;
#: ``writing`` also after each chunk, the last time with ``done == total``. A batch with nothing new to write
#: stops after ``checking ids``.
IngestProgress = Callable[[str, int, int], None]

#: A batch of at least this many new rows, and no fewer than the incidents already stored, is written by
#: rebuilding the table's secondary indexes (``rebuild_indexes=None``): an initial load or the import of an
#: archive. Smaller batches fill the indexes row by row and leave the table readable while they are written.
REBUILD_MIN_ROWS = 100_000

#: A batch of at least this many rows is located and rule-matched on a second thread while its likely
#: duplicates are searched for (the two do not depend on each other). Below it, a thread would cost more than
#: it saves.
PLACE_BESIDE_MIN_ROWS = 50_000


def rebuilds_indexes(new_rows: int, stored_rows: int) -> bool:
    """Whether a batch of ``new_rows`` into a table of about ``stored_rows`` is cheaper to write by building
    the secondary indexes again than by filling them: building costs about half as much per row as filling
    (``docs/benchmarks.md``), over every row, stored and new."""
    return new_rows >= REBUILD_MIN_ROWS and new_rows >= stored_rows


def same_content(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """Row by row, whether two aligned tables hold the same submitted content (``CONTENT_COLUMNS``).

    Coordinates compare to 1e-9 degrees and accuracy to a millimetre; times to the microsecond; a missing
    value equals only a missing value.
    """
    same = np.ones(len(a), dtype=bool)
    for col in CONTENT_COLUMNS:
        x, y = a[col].reset_index(drop=True), b[col].reset_index(drop=True)
        if col in ("raw_lon", "raw_lat", "accuracy_m"):
            xv, yv = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
            tol = 1e-9 if col != "accuracy_m" else 1e-3
            with np.errstate(invalid="ignore"):
                eq = (np.abs(xv - yv) <= tol) | (np.isnan(xv) & np.isnan(yv))
        elif col == "observed_at":
            xt = pd.to_datetime(x, utc=True).dt.floor("us")
            yt = pd.to_datetime(y, utc=True).dt.floor("us")
            eq = (xt == yt).to_numpy(dtype=bool)
        else:
            eq = _same_text(x, y)
        same &= eq
    return same


def _same_text(x: pd.Series, y: pd.Series) -> np.ndarray:
    """Row by row, whether two aligned text columns hold equal strings, a missing value equal only to a
    missing value: compared in Arrow when both are strings, as Python objects otherwise."""
    try:
        xa = pa.array(x, type=pa.string(), from_pandas=True)
        ya = pa.array(y, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        xs, ys = x.astype(object), y.astype(object)
        return ((xs == ys) | (xs.isna() & ys.isna())).to_numpy(dtype=bool)
    both_null = pc.and_(xa.is_null(), ya.is_null())
    eq = pc.or_(pc.fill_null(pc.equal(xa, ya), False), both_null)
    return eq.to_numpy(zero_copy_only=False)


def _codes(values: np.ndarray, item: Callable[[Any], str]) -> np.ndarray:
    """Object array of tuples of objects (or None) → the same of ``item(element)`` strings (a zone's code),
    built once per distinct tuple — a batch has few distinct zone sets, however many rows it has."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    mapped = np.empty(len(uniques), dtype=object)
    for k, u in enumerate(uniques):  # filled one by one: numpy would take equal-length tuples as a 2-D array
        mapped[k] = tuple(item(v) for v in u) if isinstance(u, tuple | list) else ()
    return mapped[codes]


def _objects(values: Any) -> pd.Series:
    """A column kept as Python objects (strings, tuples, None), as the COPY takes it, without the string-type
    inference pandas would spend on it."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object)


def _done(value: Any) -> Future:
    """A future that already holds ``value``: the small batch's placement, made on the calling thread."""
    future: Future = Future()
    future.set_result(value)
    return future


class _CategoryColumns:
    """Per-row values of a column of category codes taken from the categories' parameters, looked up once per
    distinct category — stored candidates may number a million rows of a handful of categories."""

    def __init__(self, catalog: Catalog, categories: np.ndarray) -> None:
        self._codes, uniques = pd.factorize(pd.Series(categories, dtype=object))
        self.categories: list[str] = list(uniques)
        self._params = [catalog.categories[c] for c in self.categories]

    def of(self, value: Callable[[Any], float]) -> np.ndarray:
        return np.array([value(p) for p in self._params], dtype=float)[self._codes]


def _silent(stage: str, done: int, total: int) -> None:
    """The progress report of a caller that shows none."""


def _epoch_s(times: pd.Series) -> np.ndarray:
    """Seconds since 1970 (float) of tz-aware timestamps, whatever their resolution."""
    return times.dt.as_unit("us").astype("int64").to_numpy() / 1e6


def ingest(
    session: Session,
    raw: RawBatch,
    *,
    locator: Locator,
    catalog: Catalog,
    default_crs: str = Datum.WGS84.value,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
    all_or_nothing: bool = False,
    created_by: str | None = None,
    progress: IngestProgress | None = None,
    rebuild_indexes: bool | None = False,
) -> IngestReport:
    """Take a raw batch through the whole intake and write the accepted incidents (no commit).

    Rows with errors are reported and left out; with ``all_or_nothing`` any error leaves the whole batch
    out. Rows already stored with the same content are counted, not written again. ``created_by`` is the
    signed-in user who sent the batch (patrols see what they filed). ``progress`` is told of each stage as it
    starts and of the rows written (``IngestProgress``).

    ``rebuild_indexes`` chooses how the rows are written: False fills the indexes row by row, and readers of
    the table go on as usual; True drops the secondary indexes and builds them again after the COPY, which
    locks the table until the transaction ends; None decides by the sizes (``rebuilds_indexes``). Either way
    the stored rows and indexes are the same.
    """
    tell = progress or _silent
    tell("validating", 0, len(raw.frame))
    clean = validate(raw, categories=catalog.categories.keys(), names=catalog.category_codes_by_name,
                     default_crs=default_crs, tz=tz, now=now)
    report = IngestReport(source=raw.source)
    report.submitted = len(raw.frame) + len({e.row for e in raw.errors})
    errors = list(clean.errors)
    rejected = set(clean.rejected_rows)
    f = clean.frame

    # idempotency inside the batch and against what is stored
    tell("checking ids", 0, len(f))
    if len(f):
        codes, _ = pd.factorize(f["id"])
        _, first_idx = np.unique(codes, return_index=True)
        first = np.zeros(len(f), dtype=bool)
        first[first_idx] = True
        if not first.all():
            later = np.flatnonzero(~first)
            originals = first_idx[codes[later]]
            clash = ~same_content(f.iloc[later], f.iloc[originals])
            for i in later[clash]:
                errors.append(RowError(int(f["row"].iat[i]), "id",
                                       "sent twice in this batch with different content", str(f["id"].iat[i]),
                                       code="id:batch_conflict"))
                rejected.add(int(f["row"].iat[i]))
            report.repeated = int(len(later) - clash.sum())
            f = f.loc[first].reset_index(drop=True)
        stored = incident_repo.stored_content(session, ids=f["id"])
        if len(stored):
            pos = stored["pos"].to_numpy(dtype=np.int64)
            stored_same = same_content(f.iloc[pos], stored)
            for i in pos[~stored_same]:
                errors.append(RowError(int(f["row"].iat[i]), "id", "already stored with different content",
                                       str(f["id"].iat[i]), code="id:conflict"))
                rejected.add(int(f["row"].iat[i]))
            report.stored_ids = f["id"].iloc[np.sort(pos[stored_same])].tolist()  # in the file's order
            report.already_stored = len(report.stored_ids)
            known = np.zeros(len(f), dtype=bool)
            known[pos] = True
            f = f.loc[~known].reset_index(drop=True)

    errors.sort(key=lambda e: (e.row, e.field))
    report.errors = errors
    report.rejected = len(rejected)
    if all_or_nothing and errors:
        report.accepted = 0
        return report
    if len(f) == 0:
        return report

    # datum → WGS84, one vectorised conversion per datum present
    lon = f["raw_lon"].to_numpy(dtype=float).copy()
    lat = f["raw_lat"].to_numpy(dtype=float).copy()
    for datum in pd.unique(f["raw_crs"]):
        sel = (f["raw_crs"] == datum).to_numpy()
        if datum not in (Datum.WGS84.value, Datum.CGCS2000.value):
            lon[sel], lat[sel] = to_wgs84(lon[sel], lat[sel], datum)

    tell("locating", 0, len(f))
    cats = f["category"].to_numpy(dtype=object)
    acc = f["accuracy_m"].to_numpy(dtype=float)

    def place() -> tuple[pd.DataFrame, np.ndarray]:
        placed = locator.locate(lon, lat, acc)
        return placed, match_rules(catalog, cats, placed["zone_kinds"].tolist())

    # a large batch is placed on a second thread while the duplicate search runs: neither needs the other
    with ThreadPoolExecutor(max_workers=1) as pool:
        placing = pool.submit(place) if len(f) >= PLACE_BESIDE_MIN_ROWS else _done(place())

        # category parameters as per-row arrays
        by_category = _CategoryColumns(catalog, cats)
        cat_uniques = by_category.categories
        radius = by_category.of(lambda p: p.dedupe_radius_m)
        window = by_category.of(lambda p: p.dedupe_window_hours * 3600.0)
        max_acc = by_category.of(lambda p: p.max_accuracy_m)

        # likely duplicates against stored incidents nearby in space and time, and within the batch
        tell("duplicates", 0, len(f))
        t_s = _epoch_s(f["observed_at"])
        wmax = float(window.max())
        stored = incident_repo.nearby_incidents(
            session, categories=list(cat_uniques), bbox=candidate_bbox(lon, lat, float(radius.max())),
            start=utc_time(t_s.min() - wmax), end=utc_time(t_s.max() + wmax),
        )
        ns = len(stored)
        s_cat = stored["category"].to_numpy(dtype=object)
        stored_by_category = _CategoryColumns(catalog, s_cat)
        dup_idx, dup_dist = likely_duplicates(
            category=np.concatenate([s_cat, cats]),
            lon=np.concatenate([stored["lon"].to_numpy(dtype=float), lon]),
            lat=np.concatenate([stored["lat"].to_numpy(dtype=float), lat]),
            t_s=np.concatenate([_epoch_s(pd.to_datetime(stored["observed_at"], utc=True)) if ns else np.empty(0),
                                t_s]),
            is_new=np.r_[np.zeros(ns, dtype=bool), np.ones(len(f), dtype=bool)],
            radius_m=np.r_[stored_by_category.of(lambda p: p.dedupe_radius_m), radius],
            window_s=np.r_[stored_by_category.of(lambda p: p.dedupe_window_hours * 3600.0), window],
        )
        all_ids = np.concatenate([stored["id"].to_numpy(dtype=object), f["id"].to_numpy(dtype=object)])
        dup_idx, dup_dist = dup_idx[ns:], dup_dist[ns:]
        dup_of = np.where(dup_idx >= 0, all_ids[np.maximum(dup_idx, 0)], None)

        # recurrences: the nearest case of the category closed within its recurrence window before the
        # observation
        rec_radius = by_category.of(lambda p: p.recurrence_radius_m)
        rec_window = by_category.of(lambda p: p.recurrence_days * 86400.0)
        closed = incident_repo.closed_cases_near(
            session, categories=list(cat_uniques), bbox=candidate_bbox(lon, lat, float(rec_radius.max())),
            closed_from=utc_time(t_s.min() - float(rec_window.max())), closed_to=utc_time(t_s.max()),
        )
        rec_idx, rec_dist = recurrences(
            category=cats, lon=lon, lat=lat, t_s=t_s, closed_category=closed["category"].to_numpy(dtype=object),
            closed_lon=closed["lon"].to_numpy(dtype=float), closed_lat=closed["lat"].to_numpy(dtype=float),
            closed_t_s=_epoch_s(pd.to_datetime(closed["closed_at"], utc=True)) if len(closed) else np.empty(0),
            radius_m=rec_radius, window_s=rec_window,
        )
        rec_of = np.where(rec_idx >= 0, closed["id"].to_numpy(dtype=object)[np.maximum(rec_idx, 0)]
                          if len(closed) else None, None)
        placed, rule_codes = placing.result()

    flags = placed["flags"].to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        low = np.isfinite(acc) & (acc > max_acc)
    if low.any():
        flags = flags.copy()
        # filled one by one: a list of equal-length tuples would be taken as a 2-D array by numpy
        for i in np.flatnonzero(low):
            flags[i] = tuple(flags[i]) + (LocationFlag.LOW_ACCURACY.value,)

    # rule snapshots, once per distinct rule
    rule_of, rule_uniques = pd.factorize(pd.Series(rule_codes, dtype=object))
    distinct_rules = [catalog.rule(code) for code in rule_uniques]
    snapshots = [rule_snapshot(catalog, r) for r in distinct_rules]
    snap_ids = incident_repo.ensure_rule_snapshots(session, snapshots=snapshots)
    snapshot_id = np.array([snap_ids[s["digest"]] for s in snapshots], dtype=np.int64)[rule_of]
    lead = np.array([r.lead for r in distinct_rules], dtype=object)[rule_of]

    out = pd.DataFrame({
        "id": f["id"],
        "category": f["category"],
        "observed_at": f["observed_at"],
        "lon": lon,
        "lat": lat,
        "accuracy_m": f["accuracy_m"].to_numpy(dtype=float),
        "raw_lon": f["raw_lon"].to_numpy(dtype=float),
        "raw_lat": f["raw_lat"].to_numpy(dtype=float),
        "raw_crs": f["raw_crs"],
        "reporter": f["reporter"],
        "description": f["description"],
        "township_code": _objects(placed["township_code"]),
        "village_code": _objects(placed["village_code"]),
        "village_distance_m": placed["village_distance_m"].to_numpy(dtype=float),
        "grid_code": _objects(placed["grid_code"]),
        "zone_codes": _objects(_codes(placed["zones"].to_numpy(dtype=object), lambda z: z.code)),
        "flags": _objects(flags),
        "border_townships": _objects(placed["border_townships"]),
        "nearest_township_code": _objects(placed["nearest_township_code"]),
        "nearest_township_distance_m": placed["nearest_township_distance_m"].to_numpy(dtype=float),
        "rule_snapshot_id": snapshot_id,
        "lead_department": _objects(lead),
        "likely_duplicate_of": _objects(dup_of),
        "duplicate_distance_m": dup_dist,
        "photos": _objects(f["photos"]),
        "track_id": f["track_id"],
        "recurrence_of": _objects(rec_of),
        "recurrence_distance_m": rec_dist,
        "created_by": created_by,
    })
    if rebuild_indexes is None:
        rebuild_indexes = rebuilds_indexes(len(out), incident_repo.estimated_count(session))
    batch_id = incident_repo.store_batch(
        session, source=raw.source, submitted=report.submitted, already_stored=report.already_stored,
        rejected=report.rejected, incidents=out,
        report={"errors": [e.to_dict() for e in errors[:1000]], "errors_total": len(errors)},
        on_rows=lambda done: tell("writing", done, len(out)),
        rebuild_indexes=rebuild_indexes, on_index=lambda done, total: tell("indexing", done, total),
    )

    report.batch_id = batch_id
    report.accepted = len(f)
    report.accepted_ids = f["id"].tolist()
    report.likely_duplicates = int((dup_idx >= 0).sum())
    report.recurrences = int((rec_idx >= 0).sum())
    report.flags = Counter()
    codes, uniques = pd.factorize(pd.Series(flags, dtype=object), use_na_sentinel=False)
    counts = np.bincount(codes, minlength=len(uniques))
    for u, c in zip(uniques, counts, strict=True):
        for flag in u:
            report.flags[flag] += int(c)
    return report
