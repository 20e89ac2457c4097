"""``gis-enforcement db …`` and ``migrate``: the project's own PostGIS cluster and its schema."""

from __future__ import annotations

import typer

from gis_enforcement.cli.common import (
    app,
    db_app,
    fail,
    load_settings,
    note_new_cluster,
    open_platform,
    out,
)
from gis_enforcement.errors import EnforcementError


@db_app.command("start")
def db_start() -> None:
    """Create (first time) and start the local cluster; print its URL."""
    from gis_enforcement.storage.engine import local_cluster

    settings = load_settings()
    note_new_cluster(settings)
    try:
        out.print(local_cluster(settings).ensure_running())
    except EnforcementError as exc:
        fail(exc)


@db_app.command("stop")
def db_stop() -> None:
    """Stop the local cluster (its data stays)."""
    from gis_enforcement.storage.engine import local_cluster

    stopped = local_cluster(load_settings()).stop()
    out.print("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the local cluster exists and runs (or which DATABASE_URL is used instead)."""
    from gis_enforcement.storage.engine import local_cluster

    settings = load_settings()
    if settings.database_url:
        out.print(f"using DATABASE_URL (the local cluster is not used): {settings.database_url}")
        return
    st = local_cluster(settings).status()
    state = "running" if st.running else ("stopped" if st.initialised else "not created")
    out.print(f"{state}  dir={st.directory}  pid={st.pid or '-'}")
    if not st.running:
        raise typer.Exit(code=1)


@db_app.command("url")
def db_url() -> None:
    """Print the database URL (starting the local cluster if needed)."""
    from gis_enforcement.storage.engine import resolve_database_url

    settings = load_settings()
    note_new_cluster(settings)
    try:
        print(resolve_database_url(settings))
    except EnforcementError as exc:
        fail(exc)


@app.command("migrate")
def migrate() -> None:
    """Bring the database schema up to date (alembic)."""
    try:
        open_platform()
        out.print("schema up to date")
    except EnforcementError as exc:
        fail(exc)


# -- layers ---------------------------------------------------------------------------------------------------
