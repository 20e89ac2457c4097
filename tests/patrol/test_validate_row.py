"""``validate_row`` (one submission, plain Python) judges every row exactly as ``validate`` (a batch) does:
the same clean values, the same errors with the same fields, reasons, ids, codes and values."""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from gis_enforcement.patrol.parse import RAW_COLUMNS, RawBatch, feature_row
from gis_enforcement.patrol.report import ROW_ERROR_CODES, RowError
from gis_enforcement.patrol.validate import parse_times, validate, validate_row

CATEGORIES = {"ENV-01", "MIN-02"}
#: the categories' names a hand-written submission may give instead of the codes
NAMES = {"散乱污企业": "ENV-01", "河道非法采砂": "MIN-02"}
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
ID = "3f2b8c1e-9a4d-4c6e-8b1a-0d2e4f6a8b9c"

# tricky values per field; every row below changes one or two fields of a good row
IDS = [ID, ID.upper(), ID.replace("-", ""), f"  {ID}\t", "", "   ", None, "123", "zz" * 16, "İ" + ID[1:],
       ID.replace("-", "").upper(), "ＡＢＣ", f"{ID}\n", "0" * 33]
CATEGORY_VALUES = ["ENV-01", " MIN-02 ", "env-01", "NOPE", "", None, "ENV-01\u3000", "\u00a0MIN-02", "河道非法采砂",
                   " 散乱污企业\u3000", "非法采砂", "河道非法采砂 MIN-02", "MIN-02 河道非法采砂"]
NUMBERS = [117.1, 117, -0.0, 181, -181.5, 40.2, 95, "117.25", " 40.1 ", "", "abc", None, True, False, [1, 2],
           {"a": 1}, float("nan"), float("inf"), 10**20, 10**30, -(10**400), "1e2", "+3", "0x10", "１２"]
ACCURACIES = [8, 8.5, 0, -3, 10_000, 10_001, "12", " ", "", None, "x", True, float("nan"), float("inf"), [3]]
CRS_VALUES = [None, "", "wgs84", "WGS-84", "gcj_02", " BD09 ", "cgcs2000", "utm", "GCJ-02\u3000", "İ"]
TIMES = ["2026-05-01T10:00:00+08:00", "2026-05-01T10:00:00", "2026-05-01 10:00", "2026-05-01", "2026-05",
         "2026", "20260501T100000", "2026-05-01T10:00:00Z", "2026-05-01T10:00:00.1234567+08:00",
         "2026-05-01T10:00:00+8:00", "2026-05-01T10:00:00+8", "2026-05-01T10:00:00-1:30", "2026-05-01T10:00:00 Z",
         "2026-05-01T10:00:00+0800", "2026-05-01T10:00:00+08:00:00", "2026-05-01T10:00:00z", "yesterday", "",
         None, "2999-01-01T00:00:00", "1999-12-31T23:59:59Z", "1988-09-11T01:30:00", "2026-05-20T12:09:59Z",
         "2026-05-20T12:10:01Z", "2026-13-01T00:00:00Z", "2026-05-01T24:00:00", "10:00", "2026-05-01T10:00+０８",
         "9999-12-31T23:59:59.999999Z", "2026-05-01T10:00:00+08:00[Asia/Shanghai]", "2026-05-01 10:00:00.5Z",
         "2026-05-01T10:00:00.1234-05:45", "2026-02-29T10:00:00+08:00", "2024-02-29T10:00:00+08:00",
         "2026-05-01T23:59:60+08:00", "2026-05-01T10:00:00+23:59", "2026-05-01T10:00:00+24:00",
         "0000-05-01T10:00:00+08:00", "2026-05-01T10:00:00.1234567+08:00", "2026-05-01T10:00:00+08:00 "]
TRACK_IDS = [ID, ID.upper(), ID.replace("-", ""), f" {ID} ", "not-uuid", "T-7", "İ" + ID[1:], 7, "0" * 33]
SHA = "0123456789abcdef" * 4
PHOTOS = [[SHA], [SHA.upper()], [f"/api/v1/photos/{SHA}"], ["https://example.org/p/1.jpg"], ["http://x.cn/a b"],
          ["x"], ["a.jpg"], [SHA[:-1]], [f" {SHA}"], ["https://"], ["file:///etc/passwd"], ["https://a/\x00"],
          [SHA] * 20, [SHA] * 21, ["https://example.org/" + "p" * 2000], [SHA, 3], "not a list", {"a": SHA}]
TEXTS = [None, "", "  ", "巡查队", " 巡查队 ", "x" * 200, "x" * 201, "y" * 4000 + " ", "y" * 4001, "\u2028甲\u2029"]


def good_feature(**changes: Any) -> dict[str, Any]:
    props = {"category": "ENV-01", "observed_at": "2026-05-01T10:00:00+08:00", "accuracy_m": 8,
             "reporter": "测试", "description": "散乱污", "crs": None, "track_id": None, "photos": None}
    lon, lat = changes.pop("lon", 117.1), changes.pop("lat", 40.2)
    fid = changes.pop("id", ID)
    props.update(changes)
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props}


def cases() -> list[dict[str, Any]]:
    out = [good_feature(id=v) for v in IDS]
    out += [good_feature(category=v) for v in CATEGORY_VALUES]
    out += [good_feature(lon=v) for v in NUMBERS] + [good_feature(lat=v) for v in NUMBERS]
    out += [good_feature(accuracy_m=v) for v in ACCURACIES]
    out += [good_feature(crs=v) for v in CRS_VALUES]
    out += [good_feature(observed_at=v) for v in TIMES]
    out += [good_feature(reporter=v) for v in TEXTS] + [good_feature(description=v) for v in TEXTS]
    out += [good_feature(track_id=v, photos=p) for v, p in zip(TEXTS[:4], [None, ["a.jpg"], [], ["b", 3]],
                                                                 strict=True)]
    out += [good_feature(track_id=v) for v in TRACK_IDS] + [good_feature(photos=p) for p in PHOTOS]
    # features that cannot be read as a row at all
    point = {"type": "Point", "coordinates": [117.1, 40.2]}
    out += [{"type": "Feature", "id": ID, "geometry": point, "properties": p} for p in ([1], "text")]
    out += [{"type": "Feature", "id": ID, "geometry": g, "properties": {"category": "ENV-01"}}
            for g in (None, {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}, {"type": "Point"},
                      {"type": "Point", "coordinates": [117.1]})]
    out += [{"type": "feature", "geometry": point, "properties": {}}, ["not", "a", "feature"]]
    # several faults at once
    out += [good_feature(id=i, category=c, observed_at=t, lon=x)
            for i, c, t, x in itertools.product(["", "123"], ["NOPE", None], ["yesterday", None], ["abc", 500])]
    return out


def batch_of_one(feature: dict[str, Any]) -> tuple[dict[str, Any] | None, list[RowError]]:
    errors: list[RowError] = []
    row = feature_row(1, feature, errors)
    raw = RawBatch(pd.DataFrame([row] if row else [], columns=list(RAW_COLUMNS)), errors)
    clean = validate(raw, categories=CATEGORIES, names=NAMES, now=NOW)
    if len(clean.frame) == 0:
        return None, clean.errors
    values = clean.frame.iloc[0].to_dict()
    return values, clean.errors


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if a is None or b is None or a is pd.NA or b is pd.NA:
        return (a is None or a is pd.NA) and (b is None or b is pd.NA)
    return bool(a == b) and type(a) is type(b) if not isinstance(a, float) else a == b


@pytest.mark.parametrize("feature", cases(), ids=lambda f: repr(f)[:60])
def test_one_row_is_judged_as_in_a_batch(feature: dict[str, Any]) -> None:
    expected, expected_errors = batch_of_one(feature)
    errors: list[RowError] = []
    row = feature_row(1, feature, errors)
    if row is None:  # refused as it was read (photos that are not a list): the same for one row as in a batch
        assert expected is None and expected_errors == errors and errors
        return
    got, got_errors = validate_row(row, categories=CATEGORIES, names=NAMES, now=NOW)
    assert [(e.code, e.values) for e in got_errors] == [(e.code, e.values) for e in expected_errors]
    assert got_errors == expected_errors
    assert (got is None) == (expected is None)
    if got is not None and expected is not None:
        assert set(got) == set(expected)
        for key, value in expected.items():
            if key == "observed_at":
                assert got[key] == value and got[key].unit == "us" and str(got[key].tz) == "UTC"
            else:
                assert same_value(got[key], value), (key, got[key], value)


def test_cases_cover_accepted_and_refused_rows() -> None:
    judged = [batch_of_one(f) for f in cases()]
    assert sum(v is not None for v, _ in judged) >= 30
    fields = {e.field for _, errors in judged for e in errors}
    assert fields == {"id", "category", "lon", "lat", "crs", "accuracy_m", "observed_at", "reporter", "description",
                      "photos", "track_id", "type", "properties", "geometry", "geometry.coordinates"}


#: the codes intake gives after validation, comparing ids with the batch and the store (tests/patrol/test_intake.py,
#: test_submit.py)
ID_CODES = {"id:batch_conflict", "id:conflict", "id:concurrent"}


def test_every_code_of_reading_and_validation_is_given_and_listed() -> None:
    """The corpus above draws every refusal reading and validating can give, each code one of ROW_ERROR_CODES
    and naming the error's field; those intake adds later are the rest of the list."""
    judged = [batch_of_one(f) for f in cases()]
    codes = {e.code for _, errors in judged for e in errors}
    assert codes | ID_CODES == set(ROW_ERROR_CODES) and not codes & ID_CODES
    assert len(ROW_ERROR_CODES) == len(set(ROW_ERROR_CODES))
    assert all(e.code.rpartition(":")[0] == e.field for _, errors in judged for e in errors)


@pytest.mark.parametrize(
    ("changes", "code", "values"),
    [
        ({"category": " NOPE "}, "category:unknown", {"value": "NOPE"}),
        ({"category": "非法采砂"}, "category:unknown", {"value": "非法采砂"}),  # a name is given whole
        ({"lon": 181}, "lon:range", {"min": -180, "max": 180}),
        ({"accuracy_m": -3}, "accuracy_m:range", {"min": 0, "max": 10_000}),
        ({"observed_at": "2026-05-21T12:00:00Z"}, "observed_at:future", {"skew_s": 600}),
        ({"observed_at": "1999-12-31T23:59:59Z"}, "observed_at:past", {"earliest": "2000-01-01"}),
        ({"crs": "utm"}, "crs:unknown", {"allowed": ["wgs84", "gcj02", "bd09", "cgcs2000"]}),
        ({"description": "y" * 4001}, "description:length", {"max": 4000}),
        ({"photos": [SHA] * 21}, "photos:count", {"max": 20}),
        ({"photos": ["x"]}, "photos:reference", {}),
    ],
)
def test_a_refusal_carries_its_code_and_the_values_it_names(changes: dict[str, Any], code: str,
                                                             values: dict[str, Any]) -> None:
    """What a client needs to say a refusal in its own words: the code and the value or limit at fault, also as
    the API and ``ingest --json`` write them."""
    _, errors = batch_of_one(good_feature(**changes))
    assert [(e.code, e.values) for e in errors] == [(code, values)]
    assert errors[0].to_dict()["code"] == code and errors[0].to_dict()["values"] == values
    row = feature_row(1, good_feature(**changes), [])
    assert row is not None and validate_row(row, categories=CATEGORIES, names=NAMES, now=NOW)[1] == errors


def test_a_row_error_refuses_a_code_it_does_not_list() -> None:
    with pytest.raises(ValueError, match="ROW_ERROR_CODES"):
        RowError(1, "observed_at", "is in the future", code="observed_at:too_late")
    with pytest.raises(ValueError, match="field"):
        RowError(1, "category", "is in the future", code="observed_at:future")


def test_times_with_offsets_the_pattern_misses_are_read_at_their_offset() -> None:
    """pandas reads "+8:00" as an offset the pattern does not know: taken at that offset, alone or mixed with
    local times, where it used to fail the whole batch."""
    values = pd.Series(["2026-05-01T10:00:00+8:00", "2026-05-01T10:00:00", "2026-05-01T10:00:00-1:30"],
                       dtype="string[pyarrow]")
    for got in (parse_times(values, "Asia/Shanghai"), parse_times(values[:1], "Asia/Shanghai")):
        assert got.iloc[0] == pd.Timestamp("2026-05-01T02:00:00Z")
    mixed = parse_times(values, "Asia/Shanghai")
    assert mixed.iloc[1] == pd.Timestamp("2026-05-01T02:00:00Z")
    assert mixed.iloc[2] == pd.Timestamp("2026-05-01T11:30:00Z")


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"track_id": "not-uuid"}, "track_id", "not a UUID (the id of a patrol track)"),
        ({"photos": ["x"]}, "photos", "'x' is not a photo reference"),
        ({"photos": ["https://example.org/1.jpg"] * 21}, "photos", "at most 20 photos"),
        ({"accuracy_m": float("inf")}, "accuracy_m", "must be a finite number of metres"),
    ],
)
def test_photos_track_ids_and_accuracy_are_checked(changes: dict[str, Any], field: str, reason: str) -> None:
    errors: list[RowError] = []
    row = feature_row(1, good_feature(**changes), errors)
    assert row is not None
    clean, errors = validate_row(row, categories=CATEGORIES, now=NOW)
    assert clean is None and [e.field for e in errors] == [field] and errors[0].reason.startswith(reason)


def test_valid_photo_references_and_track_ids_are_kept() -> None:
    errors: list[RowError] = []
    photos = [SHA, f"/api/v1/photos/{SHA}", "https://example.org/p/1.jpg"]
    row = feature_row(1, good_feature(photos=photos, track_id=ID.replace("-", "").upper()), errors)
    assert row is not None
    clean, errors = validate_row(row, categories=CATEGORIES, now=NOW)
    assert errors == [] and clean is not None
    assert list(clean["photos"]) == photos and clean["track_id"] == ID


def test_fresh_ids_pass() -> None:
    errors: list[RowError] = []
    row = feature_row(1, good_feature(id=str(uuid.uuid4())), errors)
    assert row is not None and validate_row(row, categories=CATEGORIES, now=NOW)[1] == []


def test_a_large_batch_judged_in_two_halves_is_judged_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The two threads of a large batch give the rows, errors and refused rows of one pass over it."""
    import gis_enforcement.patrol.validate as validate_module

    errors: list[RowError] = []
    features = cases() + [{"type": "Feature", "id": ID, "geometry": None, "properties": {}}]  # a parse error
    rows = [feature_row(i + 1, f, errors) for i, f in enumerate(features)]
    raw = RawBatch(pd.DataFrame([r for r in rows if r], columns=list(RAW_COLUMNS)), list(errors))
    assert raw.errors, "the batch carries a parse error too"
    monkeypatch.setattr(validate_module, "PARALLEL_MIN_ROWS", 10**9)
    whole = validate(raw, categories=CATEGORIES, now=NOW)
    monkeypatch.setattr(validate_module, "PARALLEL_MIN_ROWS", 2)
    judged: list[int] = []
    judge = validate_module._judge
    monkeypatch.setattr(validate_module, "_judge", lambda f, *a: judged.append(len(f)) or judge(f, *a))
    halves = validate(raw, categories=CATEGORIES, now=NOW)
    assert sorted(judged) == [len(raw.frame) // 2, len(raw.frame) - len(raw.frame) // 2]
    assert len(whole.frame) >= 30 and len(whole.errors) >= 100
    pd.testing.assert_frame_equal(halves.frame, whole.frame)
    assert halves.errors == whole.errors and halves.rejected_rows == whole.rejected_rows
    late = {e.row for e in whole.errors if e.row > len(features) // 2}
    assert late and late <= halves.rejected_rows  # the second half's refusals are there


def test_a_category_given_by_its_name_is_kept_as_its_code() -> None:
    """In a batch and alone, the name a hand-written report gives stands for its code, which is what the clean
    row holds: the same report with the code or with the name is the same content."""
    rows = [good_feature(category=c, id=str(uuid.uuid4())) for c in ("河道非法采砂", " MIN-02", "散乱污企业")]
    raw = RawBatch(pd.DataFrame([feature_row(i, f, []) for i, f in enumerate(rows, 1)], columns=list(RAW_COLUMNS)),
                   [])
    clean = validate(raw, categories=CATEGORIES, names=NAMES, now=NOW)
    assert clean.errors == [] and list(clean.frame["category"]) == ["MIN-02", "MIN-02", "ENV-01"]
    one = feature_row(1, good_feature(category="河道非法采砂"), [])
    assert one is not None and validate_row(one, categories=CATEGORIES, names=NAMES, now=NOW)[0]["category"] == "MIN-02"
    # without the names, a name is an unknown category, as before
    assert [e.code for e in validate(raw, categories=CATEGORIES, now=NOW).errors] == ["category:unknown"] * 2
