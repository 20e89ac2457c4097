"""``gis-enforcement``: typer commands over the same services the API uses. Thin: parse, call, print.

The commands live in modules by subject (db, intake, chain, run); importing them registers them on the one
typer ``app``.
"""

from __future__ import annotations

import sys

from gis_enforcement.cli import analysis, chain, db, intake, maps, notify, plans, run, users  # noqa: F401 — registers the commands
from gis_enforcement.cli.common import app, err

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.exit(0)
    except OSError as exc:  # a file a command reads or writes (a map page, a report) that the system refused
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"[bold red]error[/]: {where}{exc.strerror or exc}")
        sys.exit(2)
