"""Statements prepared once per connection: prepared on first use, reused after, again on a new connection."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gis_enforcement.storage.engine import make_engine
from gis_enforcement.storage.prepared import Prepared

ECHO = Prepared("gise_test_echo", "SELECT CAST(:a AS int) + CAST(:b AS int) AS total, CAST(:a AS int) * 10, "
                                   "'100%' AS pct, '1'::int AS cast_kept")


def _prepared_here(session: Session) -> set[str]:
    return set(session.execute(text("SELECT name FROM pg_prepared_statements")).scalars())


def test_prepared_once_per_connection_and_again_on_a_new_one(loaded_engine: Engine) -> None:
    engine = make_engine(loaded_engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    try:
        _one_connection(engine)
    finally:
        engine.dispose()


def _one_connection(engine: Engine) -> None:
    """On a pool of one connection, so that every checkout is the same connection until it is replaced."""
    with Session(engine) as s:
        assert "gise_test_echo" not in _prepared_here(s)
        with ECHO.execute(s, {"a": 2, "b": 3}) as cur:
            assert cur.fetchone() == (5, 20, "100%", 1)  # a parameter used twice, % and :: untouched
        assert "gise_test_echo" in _prepared_here(s)
        s.rollback()  # a rolled-back transaction keeps the connection's prepared statements
        with ECHO.execute(s, {"a": 4, "b": 5}) as cur:
            assert cur.fetchone()[0] == 9
        fairy = s.connection().connection
        assert "gise_test_echo" in fairy.info["gise_prepared"]
        s.connection().invalidate()  # the pool replaces the connection: the next one prepares afresh
        s.rollback()
        assert "gise_test_echo" not in _prepared_here(s)
        with ECHO.execute(s, {"a": 1, "b": 1}) as cur:
            assert cur.fetchone()[0] == 2
        s.rollback()
