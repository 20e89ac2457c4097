"""Engine and sessions: the DSN comes from settings (``DATABASE_URL``) or from the project's own cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from gis_enforcement.errors import DatabaseBusy, DatabaseUnavailable
from gis_enforcement.settings import Settings
from gis_enforcement.storage.cluster import LocalCluster


class _BusyAwarePool(QueuePool):
    """SQLAlchemy's queue pool, but a checkout that times out is the platform's ``DatabaseBusy`` (a 503 the
    client may retry) rather than SQLAlchemy's TimeoutError, which nothing above storage may know about."""

    def _do_get(self) -> ConnectionPoolEntry:
        try:
            return super()._do_get()
        except PoolTimeout as exc:
            raise DatabaseBusy("every database connection is in use; try again in a moment",
                               retry_after=1) from exc


def local_cluster(settings: Settings) -> LocalCluster:
    """The project's own cluster as configured (used when no DATABASE_URL is set)."""
    return LocalCluster(
        settings.cluster_dir, bin_dir=settings.pg_bin_dir, port=settings.pg_port, os_user=settings.pg_os_user
    )


def resolve_database_url(settings: Settings) -> str:
    """``DATABASE_URL`` when set; otherwise start (creating if needed) the local cluster and return its URL."""
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg2://" + url.split("://", 1)[1]
        return url
    return local_cluster(settings).ensure_running()


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10, pool_timeout_s: float = 30.0,
                **kwargs: object) -> Engine:
    """An engine for ``url`` that fails fast with a clear error when the server cannot be reached.

    ``pool_size`` connections are kept, ``max_overflow`` more opened at a peak; a checkout that finds none
    free within ``pool_timeout_s`` raises ``DatabaseBusy`` (503 with Retry-After at the API). Sessions run
    with JIT compilation off: the platform's statements are short and many, and PostgreSQL's JIT (on by
    default above a plan cost) spends 100+ ms compiling a lock or a year's evaluation read that then runs in
    a few milliseconds."""
    connect_args = dict(kwargs.pop("connect_args", None) or {})  # type: ignore[call-overload]
    connect_args["options"] = (str(connect_args.get("options", "")) + " -c jit=off").strip()
    engine = create_engine(url, pool_pre_ping=True, future=True, connect_args=connect_args,
                           poolclass=_BusyAwarePool, pool_size=pool_size, max_overflow=max_overflow,
                           pool_timeout=pool_timeout_s, **kwargs)  # type: ignore[arg-type]
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc.orig}") from exc
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed when the block ends normally and rolled back on error.

    This is the one place outside tests that commits: services take the session and never commit.
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
