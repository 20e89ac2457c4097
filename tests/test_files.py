"""Files written whole or not at all (``gis_enforcement.files``)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from gis_enforcement.files import replacing


def test_the_file_is_replaced_whole_or_left_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "new" / "dir" / "report.gpkg"
    with replacing(target) as partial:
        assert partial.parent == target.parent and partial.suffix == ".gpkg" and partial.name.startswith(".")
        assert not target.exists()
        partial.write_text("first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError), replacing(target) as partial:
        partial.write_text("half of the sec")
        raise RuntimeError("the writer failed half-way")
    assert target.read_text() == "first"
    assert [p.name for p in target.parent.iterdir()] == ["report.gpkg"]
    with pytest.raises(RuntimeError), replacing(target):
        raise RuntimeError("failed before writing anything")
    assert [p.name for p in target.parent.iterdir()] == ["report.gpkg"]


def test_an_error_about_the_partial_file_names_the_target(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    with pytest.raises(PermissionError) as refused, replacing(target) as partial:
        raise PermissionError(13, "Permission denied", str(partial))
    assert refused.value.filename == str(target) and refused.value.errno == 13
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(FileExistsError) as in_the_way, replacing(blocker / "x.csv") as partial:
        partial.write_text("never")
    assert in_the_way.value.filename == str(blocker)  # the file in the way keeps its own name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_writers_at_once_never_share_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    seen: list[Path] = []
    both_inside = threading.Barrier(8)

    def write(k: int) -> None:
        with replacing(target) as partial:
            partial.write_text(f"writer {k}")
            seen.append(partial)
            both_inside.wait(timeout=10)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 8
    assert target.read_text() in {f"writer {k}" for k in range(8)}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_link_is_written_through_and_a_device_in_place(tmp_path: Path) -> None:
    real = tmp_path / "real" / "report.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    with replacing(link) as partial:
        partial.write_text("new")
    assert link.is_symlink() and real.read_text() == "new"
    pipe = tmp_path / "pipe"  # stands for /dev/stdout or a device, which a rename would destroy
    os.mkfifo(pipe)
    heard: list[str] = []
    reader = threading.Thread(target=lambda: heard.append(pipe.read_text()), daemon=True)
    reader.start()
    with replacing(pipe) as partial:
        assert partial == pipe
        partial.write_text("through the pipe")
    reader.join(timeout=10)
    assert heard == ["through the pipe"] and stat.S_ISFIFO(pipe.stat().st_mode)
    with pytest.raises(IsADirectoryError) as folder, replacing(tmp_path / "real"):
        pass
    assert folder.value.filename == str(tmp_path / "real")
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["report.csv"]
