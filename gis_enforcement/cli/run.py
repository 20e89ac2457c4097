"""Running the platform: the HTTP API and the demo."""

from __future__ import annotations

from typing import Annotated

import typer

from gis_enforcement.cli.common import (
    app,
    fail,
    load_settings,
    open_platform,
    out,
)
from gis_enforcement.errors import EnforcementError


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="port (default GISE_API_PORT, 8000)")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="server processes sharing the port (default GISE_API_WORKERS, 1); one per core uses them all")
    ] = None,
) -> None:
    """Run the HTTP API.

    With more than one worker, the database is made ready here first (the local cluster started, the schema
    migrated) and each worker process opens the platform on it. Rate limits, the cap on submissions in
    progress and the API-key cache are each worker's own; the background passes run in every worker (they
    are safe to run side by side)."""
    import os

    import uvicorn

    from gis_enforcement.api import create_app

    settings = load_settings()
    n = workers or settings.api_workers
    bind = {"host": host or settings.api_host, "port": settings.api_port if port is None else port}
    if n == 1:
        uvicorn.run(create_app(settings), **bind)  # type: ignore[arg-type]
        return
    try:
        platform = open_platform()  # starts the local cluster and migrates, once, before the workers start
    except EnforcementError as exc:
        fail(exc)
    os.environ["DATABASE_URL"] = platform.url
    platform.close()
    uvicorn.run("gis_enforcement.api:create_app", factory=True, workers=n, **bind)  # type: ignore[arg-type]


@app.command("demo")
def demo(
    seed: Annotated[int, typer.Option(help="random seed")] = 2017,
    count: Annotated[int, typer.Option(help="incidents in the simulated season")] = 3000,
) -> None:
    """Load the shipped layers, simulate a patrol season, ingest it, print a summary and write a map."""
    from gis_enforcement.demo.run import run_demo

    try:
        run_demo(load_settings(), seed=seed, count=count, console=out)
    except EnforcementError as exc:
        fail(exc)
