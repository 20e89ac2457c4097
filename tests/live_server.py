"""A live platform for tests (and benchmarks) that talk to a real server over loopback.

The rolled-back test transactions are invisible to another process, so a live server needs a database of its
own with everything committed: :func:`scratch_database` makes one in a given cluster (and drops it at the end),
:func:`prepare_database` migrates it and loads the shipped layers, :func:`add_api_caller` commits a user and
an API key, and :class:`LiveServer` runs ``python -m gis_enforcement serve`` on it on a free loopback port —
the Popen's pid is the uvicorn process itself, so :meth:`LiveServer.kill` is a real crash. :func:`live_site`
does all of it in one ``with``.

Nothing here imports pytest: failures raise :class:`LiveServerError`, which a fixture may turn into a failure.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session

from gis_enforcement.admin.layers import install_layers
from gis_enforcement.admin.users import add_user, create_api_key
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.storage.engine import make_engine
from gis_enforcement.storage.migrate import upgrade

__all__ = ["LiveServer", "LiveServerError", "LiveSite", "add_api_caller", "free_port", "live_site",
           "prepare_database", "scratch_database"]

#: a password good enough for add_user's rules; the live users sign in with API keys
PASSWORD = "live-server-secret-1"


class LiveServerError(RuntimeError):
    """The live server did not start, or exited when it should not have."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def scratch_database(cluster_url: str, *, prefix: str = "gise_live") -> Iterator[str]:
    """A new, empty database in the cluster of ``cluster_url`` (whose role may create databases); its URL is
    yielded and the database dropped at the end, whoever is still connected."""
    url = make_url(cluster_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    maintenance = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with maintenance.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        maintenance.dispose()


def prepare_database(url: str, *, jurisdiction: Jurisdiction, source: str = "live server") -> None:
    """Run the migrations (the first enables PostGIS) and commit the shipped layers."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            install_layers(session, jurisdiction, source={"directory": f"data/boundaries ({source})"})
            session.commit()
    finally:
        engine.dispose()


def add_api_caller(url: str, *, catalog: Catalog, username: str, role: str, unit: str) -> str:
    """Commit a user (``role`` scoped to ``unit``) and an API key of theirs; returns the key (for X-API-Key)."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            add_user(session, catalog=catalog, username=username, password=PASSWORD, role=role, unit=unit,
                     display_name=f"{username} (live server)")
            key = create_api_key(session, username=username, name="live server client")
            session.commit()
        return key
    finally:
        engine.dispose()


@dataclass
class LiveServer:
    """``python -m gis_enforcement serve`` on ``database_url``, on a free loopback port kept across restarts.

    The escalation and webhook passes are off (``GISE_TICK_INTERVAL_S=0``, ``GISE_DELIVERY_INTERVAL_S=0``)
    unless ``env`` says otherwise; ``env`` is laid over the current environment and those defaults. Output
    (with uvicorn's access log) goes to ``workdir/server.log``, appended across restarts.
    """

    database_url: str
    workdir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise LiveServerError("the server is not running")
        return self.proc.pid

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def start(self, *, timeout_s: float = 60.0) -> None:
        """Start the server and wait until it answers; LiveServerError (with the log) when it cannot."""
        if self.proc is not None and self.proc.poll() is None:
            raise LiveServerError(f"the server already runs (pid {self.proc.pid})")
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GISE_TICK_INTERVAL_S": "0", "GISE_DELIVERY_INTERVAL_S": "0",
               "GISE_DATA_DIR": str(self.workdir / "data"), "GISE_MAPS_DIR": str(self.workdir / "maps"),
               **self.env, "DATABASE_URL": self.database_url}
        with self.log_path.open("ab", buffering=0) as log:
            # uvicorn.run serves in this very process (no reloader, no workers): its pid is the server's
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gis_enforcement", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        try:
            self.wait_ready(timeout_s=timeout_s)
        except BaseException:
            self.stop()  # never leave a half-started server behind
            raise

    def wait_ready(self, *, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise LiveServerError(f"the server exited ({code}):\n{self.log_tail()}")
            try:
                # any answer will do (401 included): uvicorn listens only once the app's start-up is done
                httpx.get(f"{self.base_url}/", timeout=2)
                return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise LiveServerError(f"the server did not answer in {timeout_s:.0f} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, open requests are cut mid-way (a crash, not a stop)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            raise LiveServerError("the server is not running")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self, *, timeout_s: float = 15.0) -> None:
        """SIGTERM and wait (SIGKILL if it does not stop in time); nothing when it is not running."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass(frozen=True)
class LiveSite:
    """A live server on a committed database, with one signed-up caller and their API key."""

    database_url: str
    server: LiveServer
    username: str
    role: str
    unit: str
    api_key: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    def client(self, **kwargs: Any) -> httpx.Client:
        """A keep-alive client of this site, signed in with the API key."""
        return httpx.Client(base_url=self.base_url, headers=self.headers, **kwargs)


@contextmanager
def live_site(cluster_url: str, *, jurisdiction: Jurisdiction, catalog: Catalog, workdir: Path,
              role: str = "township_dispatcher", unit: str | None = None, username: str = "live_caller",
              env: Mapping[str, str] | None = None, prefix: str = "gise_live") -> Iterator[LiveSite]:
    """A scratch database in the cluster of ``cluster_url`` (migrated, layers loaded), a user of ``role`` for
    ``unit`` (default: the township of village 20) with an API key, and a running server — all gone at the
    end (server stopped, database dropped)."""
    unit = unit or str(jurisdiction.villages.iloc[20]["township_code"])
    with scratch_database(cluster_url, prefix=prefix) as url:
        prepare_database(url, jurisdiction=jurisdiction)
        key = add_api_caller(url, catalog=catalog, username=username, role=role, unit=unit)
        server = LiveServer(url, workdir, env=dict(env or {}))
        with server:
            yield LiveSite(database_url=url, server=server, username=username, role=role, unit=unit, api_key=key)
