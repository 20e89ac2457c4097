"""COPY in and out of PostgreSQL through psycopg2, with CSV made and read by pyarrow: the one place the
repositories move many rows at once."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy.orm import Session


def raw_cursor(session: Session) -> Any:
    """A cursor on the session's psycopg2 connection (it has ``copy_expert`` and is a context manager, neither of
    which SQLAlchemy's DBAPI protocol types know)."""
    dbapi: Any = session.connection().connection.dbapi_connection
    return dbapi.cursor()


def arrow_csv(table: pa.Table) -> bytes:
    """CSV with a header, as COPY … WITH (FORMAT csv, HEADER true) reads it."""
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink)
    return sink.getvalue().to_pybytes()  # type: ignore[no-any-return]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return arrow_csv(pa.Table.from_pandas(frame, preserve_index=False))


def copy_csv(session: Session, *, table: str, columns: list[str] | tuple[str, ...], data: bytes) -> None:
    """COPY ready-made CSV (with a header) into ``table``'s ``columns``."""
    with raw_cursor(session) as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, HEADER true)",
                        io.BytesIO(data), size=1 << 20)


def copy_binary(session: Session, *, table: str, columns: list[str] | tuple[str, ...], data: bytes) -> None:
    """COPY ready-made binary COPY data (``binary_copy``, header and trailer included) into ``table``'s
    ``columns``."""
    with raw_cursor(session) as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)",
                        io.BytesIO(data), size=len(data))


def copy_in(session: Session, *, table: str, frame: pd.DataFrame) -> int:
    """COPY the rows of ``frame`` (its columns, by name) into ``table``; returns the row count."""
    if frame.empty:
        return 0
    copy_csv(session, table=table, columns=list(frame.columns), data=csv_bytes(frame))
    return len(frame)


def copy_out(session: Session, *, select: str, params: dict[str, Any] | None = None,
             types: dict[str, pa.DataType] | None = None) -> pd.DataFrame:
    """Run ``select`` (pyformat parameters) and return its rows as a DataFrame by COPY … TO STDOUT."""
    buf = io.BytesIO()
    with raw_cursor(session) as cur:
        query = cur.mogrify(select, params or {}).decode()
        cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf, size=1 << 20)
    buf.seek(0)
    header = buf.readline().decode().strip().split(",")
    buf.seek(0)
    column_types = {c: pa.string() for c in header}
    column_types.update(types or {})
    table = pacsv.read_csv(buf, convert_options=pacsv.ConvertOptions(
        column_types=column_types, strings_can_be_null=True, quoted_strings_can_be_null=False))
    return table.to_pandas()  # type: ignore[no-any-return]
