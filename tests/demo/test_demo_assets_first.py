"""The demo checks its map assets before anything else: a machine without Leaflet is told in the first second,
not after the season has been loaded and played."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from gis_enforcement.demo.run import run_demo
from gis_enforcement.errors import NotConfigured
from gis_enforcement.settings import Settings


def test_missing_leaflet_is_said_before_the_database_is_touched(settings: Settings, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GISE_LEAFLET_DIR", str(tmp_path / "no-leaflet"))
    # a database that cannot be reached: were it opened first, this would fail on the connection instead
    unreachable = settings.model_copy(update={"database_url": "postgresql+psycopg2://nobody@127.0.0.1:9/none",
                                              "data_dir": tmp_path / "data"})
    console = Console(record=True)
    with pytest.raises(NotConfigured) as missing:
        run_demo(unreachable, seed=1, count=10, console=console)
    assert "scripts/fetch-assets.sh" in missing.value.message
    assert "database" not in console.export_text()
    assert not (tmp_path / "data").exists()
