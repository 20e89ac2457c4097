"""The project's own PostGIS cluster: created on first use, in a data directory the project owns.

Used whenever no ``DATABASE_URL`` is given. The server listens on a unix socket inside its data directory
only (no TCP), so nothing outside this machine — and no other unprivileged user — can reach it. PostgreSQL
refuses to run as root, so when we are root every server command runs as an unprivileged OS user
(``postgres`` by default, which Debian's PostgreSQL packages create).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from gis_enforcement.errors import DatabaseUnavailable

DB_NAME = "gise"
DB_USER = "gise"


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    directory: Path
    initialised: bool
    running: bool
    pid: int | None
    url: str


class LocalCluster:
    """A PostgreSQL + PostGIS cluster in ``directory``, reachable through a unix socket in that directory."""

    def __init__(
        self,
        directory: Path,
        *,
        bin_dir: Path = Path("/usr/lib/postgresql/15/bin"),
        port: int = 54329,
        os_user: str = "postgres",
        durable: bool = True,
    ) -> None:
        self.directory = Path(directory).absolute()
        self.bin_dir = Path(bin_dir)
        self.port = port
        self.os_user = os_user
        self.durable = durable

    # -- public -------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """SQLAlchemy URL of the project database on this cluster (socket connection)."""
        return f"postgresql+psycopg2://{DB_USER}@/{DB_NAME}?host={self.directory}&port={self.port}"

    def status(self) -> ClusterStatus:
        initialised = (self.directory / "PG_VERSION").exists()
        pid = self._running_pid() if initialised else None
        return ClusterStatus(self.directory, initialised, pid is not None, pid, self.url)

    def ensure_running(self) -> str:
        """Create the cluster if needed, start it if stopped, make sure the database exists; return its URL."""
        if not (self.directory / "PG_VERSION").exists():
            self._init()
        if self._running_pid() is None:
            self._start()
        self._ensure_database()
        return self.url

    def stop(self) -> bool:
        """Stop the server (fast shutdown). Returns False when it was not running."""
        if self._running_pid() is None:
            return False
        self._run([self._bin("pg_ctl"), "-D", str(self.directory), "-m", "fast", "-w", "stop"])
        return True

    def destroy(self) -> None:
        """Stop the server and delete the data directory (tests' throwaway clusters)."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- internals ----------------------------------------------------------------------------------------
    def _bin(self, name: str) -> str:
        path = self.bin_dir / name
        if not path.exists():
            raise DatabaseUnavailable(
                f"PostgreSQL server binary {path} not found; run `make demo` (or scripts/setup-system.sh) "
                "to install PostgreSQL 15 and PostGIS, or set DATABASE_URL"
            )
        return str(path)

    def _as_server_user(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        try:
            pwd.getpwnam(self.os_user)
        except KeyError as exc:
            raise DatabaseUnavailable(
                f"running as root and OS user {self.os_user!r} does not exist; PostgreSQL refuses to run as "
                "root — install postgresql (which creates the user) or set GISE_PG_OS_USER"
            ) from exc
        return ["runuser", "-u", self.os_user, "--"]

    def _run(self, cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            self._as_server_user() + cmd, capture_output=True, text=True, cwd="/", check=False
        )
        if check and proc.returncode != 0:
            log = self.directory / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise DatabaseUnavailable(
                f"{Path(cmd[0]).name} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}"
                + (f"\n--- server.log ---\n{tail}" if tail else "")
            )
        return proc

    def _prepare_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        if os.geteuid() == 0:
            info = pwd.getpwnam(self.os_user)
            os.chown(self.directory, info.pw_uid, info.pw_gid)
            # the server user must be able to reach its directory through our (root-owned) parents
            for parent in self.directory.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)

    def _init(self) -> None:
        self._prepare_directory()
        self._run(
            [self._bin("initdb"), "-D", str(self.directory), "-U", DB_USER, "--auth=trust",
             "-E", "UTF8", "--no-locale", "--no-instructions"]
        )
        conf = [
            "# written by gis_enforcement: socket-only server inside its own data directory",
            "listen_addresses = ''",
            f"unix_socket_directories = '{self.directory}'",
            "unix_socket_permissions = 0700",
            f"port = {self.port}",
            "logging_collector = off",
            "max_wal_size = '2GB'",
            "shared_buffers = '256MB'",
            "maintenance_work_mem = '256MB'",
            "work_mem = '32MB'",
        ]
        if not self.durable:  # throwaway clusters (tests): speed over crash safety
            conf += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        conf_text = "\n".join(conf) + "\n"
        self._run(["sh", "-c", f"cat >> '{self.directory}/postgresql.conf' <<'EOF'\n{conf_text}EOF"])

    def _start(self) -> None:
        self._run(
            [self._bin("pg_ctl"), "-D", str(self.directory), "-l", str(self.directory / "server.log"),
             "-w", "-t", "60", "start"]
        )

    def _running_pid(self) -> int | None:
        proc = self._run([self._bin("pg_ctl"), "-D", str(self.directory), "status"], check=False)
        if proc.returncode != 0:
            return None
        pid_file = self.directory / "postmaster.pid"
        try:
            return int(pid_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def _ensure_database(self) -> None:
        psql = self._bin("psql")
        base = [psql, "-h", str(self.directory), "-p", str(self.port), "-U", DB_USER, "-X", "-q", "-t", "-A"]
        for _ in range(50):  # the socket may take a moment after pg_ctl returns
            proc = self._run(base + ["-d", "postgres", "-c",
                                     f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"], check=False)
            if proc.returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise DatabaseUnavailable(f"cannot connect to the cluster in {self.directory}: {proc.stderr}")
        if proc.stdout.strip() != "1":
            self._run(base + ["-d", "postgres", "-c", f"CREATE DATABASE {DB_NAME}"])
