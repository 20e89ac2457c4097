"""Files written whole or not at all.

Every file the platform hands to someone else — an export, a report, a background job's state, a photo — is
written under a temporary name beside its final one and renamed into place in one step. A reader sees the old
file or the new one, never half of one, and a writer that fails half-way leaves the old file as it was and no
temporary file behind.
"""

from __future__ import annotations

import errno
import os
import stat
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
    knows (a file in the way keeps its own name).

    A symbolic link is written through: the file it points to is replaced and the link stays. A device or a
    pipe (``/dev/stdout``, a FIFO) is written in place, since renaming over it would destroy it; its errors
    (``/dev/full``: no space left) go on as they come. A directory is refused."""
    try:
        mode: int | None = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None  # nothing there yet (a place that cannot hold it is refused below)
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if mode is not None and not stat.S_ISREG(mode):
        yield path
        return
    target = Path(os.path.realpath(path))
    partial = partial_path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        yield partial
        os.replace(partial, target)
    except BaseException as exc:
        with suppress(OSError):  # nothing written, or no directory to hold it
            partial.unlink()
        if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) in (str(partial),
                                                                                              str(target)):
            raise type(exc)(exc.errno, exc.strerror, str(path)) from exc
        raise
