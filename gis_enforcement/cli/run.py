"""Running the platform: the HTTP API and the demo."""

from __future__ import annotations

from typing import Annotated

import typer

from gis_enforcement.cli.common import (
    app,
    fail,
    load_settings,
    out,
)
from gis_enforcement.errors import EnforcementError


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
) -> None:
    """Run the HTTP API."""
    import uvicorn

    from gis_enforcement.api import create_app
    from gis_enforcement.api.limits import ThreadPool

    settings = load_settings()
    uvicorn.run(ThreadPool(create_app(settings), settings.api_threads), host=host or settings.api_host,
                port=port or settings.api_port)


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
