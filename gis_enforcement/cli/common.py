"""What every command module of the CLI shares: the typer apps, the consoles and the error exit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

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
    return get_settings()


def fail(exc: EnforcementError) -> None:
    err.print(f"[bold red]error[/]: {exc}")
    raise typer.Exit(code=2)


def open_platform():  # type: ignore[no-untyped-def]
    from gis_enforcement.admin.platform import Platform

    return Platform.open(load_settings())


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


