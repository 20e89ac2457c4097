"""What every command module of the CLI shares: the typer apps, the consoles and the error exit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from gis_enforcement.errors import EnforcementError, InvalidInput
from gis_enforcement.files import replacing
from gis_enforcement.settings import Settings, get_settings

app = typer.Typer(help="吹哨报到 enforcement platform: layers, intake, locate, export, serve.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The project's own PostGIS cluster (used when DATABASE_URL is unset).",
                     no_args_is_help=True)
layers_app = typer.Typer(help="Jurisdiction and zone layers.", no_args_is_help=True)
export_app = typer.Typer(help="Write stored data to files.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(layers_app, name="layers")
app.add_typer(export_app, name="export")

# piped output (make, CI logs) gets a wide page rather than rich's 80-column default, so tables stay whole
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)


class CRS(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"
    cgcs2000 = "cgcs2000"


class ExportFormat(StrEnum):
    geojson = "geojson"
    csv = "csv"
    gpkg = "gpkg"


def load_settings() -> Settings:
    """The settings from the environment; a bad value ends the command naming its variable and the reason."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        for problem in exc.errors():
            where = "GISE_" + "_".join(str(p) for p in problem["loc"]).upper() if problem["loc"] else "settings"
            err.print(f"[bold red]error[/]: {where}: {escape(problem['msg'].removeprefix('Value error, '))}",
                      highlight=False)
        raise typer.Exit(code=2) from None


def district_tz() -> str:
    """The district's time zone as configured (``GISE_TIMEZONE``), read without opening the database."""
    return load_settings().timezone


def print_whole(table: Table) -> None:
    """Print a table with every cell whole: one wider than the page is printed at its own width (a terminal
    wraps the lines) rather than cut to "95…" and "得…"."""
    needed = Measurement.get(out, out.options.update_width(10_000), table).maximum
    (out if needed <= out.width else Console(width=needed)).print(table)


def fail(exc: EnforcementError) -> None:
    err.print(f"[bold red]error[/]: {exc}")
    raise typer.Exit(code=2)


def open_platform():  # type: ignore[no-untyped-def]
    from gis_enforcement.admin.platform import Platform

    settings = load_settings()
    note_new_cluster(settings)
    return Platform.open(settings)


def note_new_cluster(settings: Settings) -> None:
    """Say so when a command is about to create the project's own database (no ``DATABASE_URL``, nothing in the
    data directory yet): run from another folder, the CLI would otherwise start an empty database silently."""
    if settings.database_url or (settings.cluster_dir / "PG_VERSION").exists():
        return
    err.print(f"[yellow]note[/]: no database in {settings.cluster_dir} yet — creating a new, empty one. "
              "To use an existing one, run from its project folder, or set GISE_DATA_DIR (or DATABASE_URL).",
              highlight=False)


@contextmanager
def written(path: Path) -> Iterator[Path]:
    """A file to write ``path`` through (``files.replacing``): the body writes the path it is given, a
    temporary file beside ``path`` with the same suffix, which then replaces ``path`` in one rename. A
    directory that cannot be made or written ends the command with an error naming the output (exit 2)."""
    from pyogrio.errors import DataSourceError

    try:
        with replacing(path) as partial:
            yield partial
    except OSError as exc:
        # the file the system names, when it is not the output (a file in the way)
        where = f"{exc.filename}: " if exc.filename and str(exc.filename) != str(path) else ""
        fail(InvalidInput(f"cannot write {path}: {where}{exc.strerror or exc}", field="output"))
    except DataSourceError:  # GDAL could not create the file there (a GeoPackage in /proc, say)
        fail(InvalidInput(f"cannot write {path}: no file can be created there", field="output"))


