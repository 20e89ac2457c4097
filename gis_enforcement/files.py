"""Files written whole or not at all.

Every file the platform hands to someone else — an export, a report, a background job's state, a photo — is
written under a temporary name beside its final one and renamed into place in one step. A reader sees the old
file or the new one, never half of one, and a writer that fails half-way leaves the old file as it was and no
temporary file behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

__all__ = ["partial_path", "replacing"]


def partial_path(path: Path) -> Path:
    """A name beside ``path`` no other writer uses (two threads of one process neither), hidden, and with the
    same suffix, so writers that choose a format by the suffix (GeoPackage, xlsx) still do. Not created."""
    return path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial{path.suffix}")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """The path to write ``path`` through: the body writes the path it is given, which then replaces ``path``
    in one rename. Missing directories are made first. On any failure the partial file is removed and the
    error goes on; an ``OSError`` about the partial file is told about ``path`` instead, the name its writer
    knows (a file in the way keeps its own name)."""
    partial = partial_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield partial
        os.replace(partial, path)
    except BaseException as exc:
        with suppress(OSError):  # nothing written, or no directory to hold it
            partial.unlink()
        if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) == str(partial):
            raise type(exc)(exc.errno, exc.strerror, str(path)) from exc
        raise
