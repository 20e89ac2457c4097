"""Binary COPY: rows written by ``binary_copy`` read back exactly as the same values sent by psycopg2 as SQL
parameters, for every type it writes and the awkward values of each."""

from __future__ import annotations

import math
import struct
import uuid

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Session

from gis_enforcement.storage import binary_copy
from gis_enforcement.storage.copying import copy_binary

UUIDS = ["1f4ccf84-cd96-4554-aafa-b75ceb36a59c", "00000000-0000-0000-0000-000000000000",
         "ffffffffffffffffffffffffffffffff", "ABCDEF01-2345-6789-ABCD-EF0123456789", None,
         "0123456789abcdef0123456789abcdef", "7e57ab1e-0000-4000-8000-000000000001"]
TEXTS = ["MIN-01", "", None, '引号"和\\反斜杠', "line\nbreak\ttab, comma", "金海湖镇巡查队-董春生 🚚", "{not,an,array}"]
TIMES = ["2026-02-28T16:00:00+00:00", "1999-12-31T23:59:59.999999+00:00", "2000-01-01T00:00:00+00:00",
         "1970-01-01T00:00:00+00:00", None, "2026-11-27T08:30:00.000000500+08:00",  # half a µs: to even, down
         "2026-11-27T08:30:00.000001500+08:00"]  # and up
FLOATS = [117.336468, -0.0, float("nan"), 1e308, 5e-324, float("inf"), -40.220615123456789]
REALS = [3646.8271196004134, 0.1, float("nan"), -1.5, 3.4e38, 1e-7, 0.0]
SMALLS = [0, -32768, 32767, None, 1, -1, 7]
INTS = [1, -2147483648, 2147483647, None, 0, 42, -7]
BIGS = [1, -9223372036854775808, 9223372036854775807, None, 0, 10**12, -1]
BOOLS = [True, False, None, True, False, True, False]
ARRAYS = [("110117-MA-01",), (), None, ("a", 'q"uote', "back\\slash", "{brace}", "com,ma"), ("北京", "平谷"),
          ("with", None, "a NULL"), ("",)]


def _table(name: str) -> Table:
    return Table(
        name, MetaData(),
        Column("n", Integer, primary_key=True),
        Column("u", UUID(as_uuid=True)),
        Column("t", Text),
        Column("ts", DateTime(timezone=True)),
        Column("f8", Float(53)),
        Column("f4", Float(24)),
        Column("i2", SmallInteger),
        Column("i4", Integer),
        Column("i8", BigInteger),
        Column("b", Boolean),
        Column("a", ARRAY(Text)),
    )


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "n": np.arange(len(UUIDS)), "u": UUIDS, "t": TEXTS,
        "ts": pd.to_datetime(pd.Series(TIMES, dtype=object), utc=True, format="ISO8601"),
        "f8": FLOATS, "f4": REALS, "i2": pd.array(SMALLS, dtype="Int16"), "i4": pd.array(INTS, dtype="Int32"),
        "i8": pd.array(BIGS, dtype="Int64"), "b": pd.array(BOOLS, dtype="boolean"),
        "a": pd.Series(ARRAYS, dtype=object),
    })


def _write_binary(db: Session, table: Table, frame: pd.DataFrame) -> None:
    columns = [c.name for c in table.columns]
    kinds = binary_copy.kinds_of(table, columns)
    arrow = pa.Table.from_pandas(frame.drop(columns="a"), preserve_index=False)
    fields = [binary_copy.EncodedArrays(frame["a"]).take() if k == "text[]"
              else binary_copy.fields(k, arrow.column(c).combine_chunks()) for c, k in zip(columns, kinds, strict=True)]
    copy_binary(db, table=table.name, columns=columns, data=binary_copy.rows_bytes(fields))


def _write_parameters(db: Session, table: Table) -> None:
    """The reference: each value sent by psycopg2 as a parameter of an INSERT, times as ISO text."""
    def nan_none(v: float) -> str | None:  # as text: a SQL literal -0.0 would be minus (numeric) zero
        return None if math.isnan(v) else repr(v)

    for n in range(len(UUIDS)):
        db.execute(text(f"INSERT INTO {table.name} VALUES (:n, CAST(:u AS uuid), :t, CAST(:ts AS timestamptz), "
                        "CAST(:f8 AS float8), CAST(:f4 AS float4), :i2, :i4, :i8, :b, CAST(:a AS text[]))"), {
            "n": n, "u": UUIDS[n], "t": TEXTS[n], "ts": TIMES[n], "f8": nan_none(FLOATS[n]),
            "f4": nan_none(REALS[n]), "i2": SMALLS[n], "i4": INTS[n], "i8": BIGS[n], "b": BOOLS[n],
            "a": list(ARRAYS[n]) if ARRAYS[n] is not None else [],
        })


def _rows(db: Session, name: str) -> list[tuple]:
    return [tuple(r) for r in db.execute(text(
        f"SELECT n, u, t, ts, f8::text, f4::text, i2, i4, i8, b, a FROM {name} ORDER BY n")).all()]


def test_every_type_reads_back_as_the_same_values_sent_as_parameters(db: Session) -> None:
    ours, reference = _table("binary_copy_ours"), _table("binary_copy_reference")
    for t in (ours, reference):
        t.create(db.connection())
    _write_binary(db, ours, _frame())
    _write_parameters(db, reference)

    got, want = _rows(db, ours.name), _rows(db, reference.name)
    assert len(got) == len(want) == len(UUIDS)
    for g, w in zip(got, want, strict=True):
        assert g == w
    # spot checks of what the reference means, so that both paths cannot be wrong together
    assert got[2][4] is None and got[2][5] is None  # NaN is a missing value
    assert got[1][4] == "-0" and got[5][4] == "Infinity"
    assert got[5][3].timestamp() == pd.Timestamp("2026-11-27T00:30:00Z").timestamp()  # 500 ns: even, down
    assert got[6][3].microsecond == 2  # 1,500 ns: even, up
    assert got[2][10] == [] and got[5][10] == ["with", None, "a NULL"]
    assert got[3][1].hex == "abcdef0123456789abcdef0123456789"


def test_a_chunk_of_a_large_table_is_as_many_rows(db: Session) -> None:
    table = _table("binary_copy_many")
    table.create(db.connection())
    frame = pd.concat([_frame()] * 3000, ignore_index=True).assign(n=lambda f: np.arange(len(f)))
    _write_binary(db, table, frame)
    counts = db.execute(text(f"SELECT count(*), count(u), count(DISTINCT a), sum(i8 % 1000) "
                             f"FROM {table.name}")).one()
    assert counts[0] == len(frame) and counts[1] == 6 * 3000 and counts[2] == 6  # () and None are both {}
    assert counts[3] == sum((abs(b) % 1000) * (1 if b >= 0 else -1) for b in BIGS if b is not None) * 3000  # SQL's %


@pytest.mark.parametrize(("kind", "values", "reason"), [
    ("uuid", ["1f4ccf84-cd96-4554-aafa-b75ceb36a59z"], "not hex"),
    ("uuid", ["1f4ccf84"], "32 hex digits"),
    ("int2", [40000], "out of range"),
    ("int4", [1.5], "fraction"),
    ("timestamptz", pd.to_datetime(["2026-01-01T00:00:00"]), "tz-aware"),
])
def test_values_a_column_cannot_hold_are_refused_before_the_server_sees_them(kind: str, values: list,
                                                                              reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        binary_copy.fields(kind, pa.array(values))


def test_a_type_without_an_encoder_is_refused_by_name() -> None:
    from sqlalchemy.dialects.postgresql import JSONB
    table = Table("t", MetaData(), Column("doc", JSONB))
    with pytest.raises(ValueError, match="column doc"):
        binary_copy.kinds_of(table, ["doc"])


def test_canonical_and_bare_uuids_give_the_same_sixteen_bytes() -> None:
    ids = [uuid.uuid4() for _ in range(50)]
    want = [b"\x00\x00\x00\x10" + u.bytes for u in ids]
    canonical = binary_copy.fields("uuid", pa.array([str(u) for u in ids]))  # the fast path: 8-4-4-4-12 only
    bare = binary_copy.fields("uuid", pa.array([u.hex.upper() for u in ids]))
    assert canonical.to_pylist() == bare.to_pylist() == want
    sliced = binary_copy.fields("uuid", pa.array([str(u) for u in ids]).slice(10, 5))  # an Arrow slice
    assert sliced.to_pylist() == want[10:15]


def test_uuids_are_put_in_the_order_postgresql_keeps_them(db: Session) -> None:
    ids = [str(uuid.uuid4()) for _ in range(500)] + ["00000000-0000-0000-0000-000000000001", "f" * 32]
    order = binary_copy.uuid_order(pa.array(ids))
    server = db.execute(text("SELECT u::text FROM unnest(CAST(:ids AS uuid[])) AS u ORDER BY u"),
                        {"ids": ids}).scalars().all()
    assert [str(uuid.UUID(ids[i])) for i in order] == server


def test_chunked_arrow_columns_are_taken_whole() -> None:
    ids = [str(uuid.uuid4()) for _ in range(6)]
    chunked = pa.chunked_array([pa.array(ids[:2]), pa.array(ids[2:])])
    assert binary_copy.fields("uuid", chunked).to_pylist() == binary_copy.fields("uuid", pa.array(ids)).to_pylist()
    assert list(binary_copy.uuid_order(chunked)) == sorted(range(6), key=lambda i: ids[i])
    text_chunks = pa.chunked_array([pa.array(["a", None]), pa.array(["金"])])
    assert binary_copy.fields("text", text_chunks).to_pylist() == [
        b"\x00\x00\x00\x01a", b"\xff\xff\xff\xff", b"\x00\x00\x00\x03" + "金".encode()]


def test_float_types_are_told_apart_and_arrays_may_come_as_a_list() -> None:
    from sqlalchemy import DOUBLE_PRECISION, REAL
    table = Table("t", MetaData(), Column("a", REAL), Column("b", DOUBLE_PRECISION), Column("c", Float(24)),
                  Column("d", Float(53)), Column("e", Float()))
    assert binary_copy.kinds_of(table, ["a", "b", "c", "d", "e"]) == ["float4", "float8", "float4", "float8", "float8"]
    same_length = [("a", "b"), ("a", "b"), ("c", "d")]  # numpy would make a 3×2 array of these
    arrays = binary_copy.EncodedArrays(same_length)
    assert arrays.take().to_pylist() == [binary_copy.text_array_field(t) for t in same_length]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_times_of_every_unit_give_the_same_microseconds(unit: str) -> None:
    times = pd.to_datetime(["1999-12-31T23:59:59Z", "2026-11-27T04:30:00Z", None], utc=True)
    want = binary_copy.fields("timestamptz", pa.array(times, type=pa.timestamp("us", "UTC"))).to_pylist()
    assert want[1] == struct.pack(">iq", 8, (1795753800 - 946684800) * 1_000_000)
    assert binary_copy.fields("timestamptz", pa.array(times, type=pa.timestamp(unit, "UTC"))).to_pylist() == want
