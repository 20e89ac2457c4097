"""The project's own cluster: created on first use, survives a restart, socket-only, not run as root."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from sqlalchemy import text

from gis_enforcement.storage.cluster import LocalCluster
from gis_enforcement.storage.engine import make_engine


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory) -> LocalCluster:
    base = Path("/tmp") / f"gise-c{random.randint(0, 10**9)}"
    c = LocalCluster(base, port=random.randint(49001, 49999), durable=False)
    yield c
    c.destroy()


def test_lifecycle_keeps_data_across_restart(cluster: LocalCluster) -> None:
    assert cluster.status().initialised is False
    url = cluster.ensure_running()
    st = cluster.status()
    assert st.initialised and st.running and st.pid
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE kept (v int)"))
        conn.execute(text("INSERT INTO kept VALUES (42)"))
        assert conn.execute(text("SHOW listen_addresses")).scalar() == ""
        owner = conn.execute(text("SELECT current_setting('data_directory')")).scalar()
        assert owner == str(cluster.directory)
    engine.dispose()
    assert cluster.stop() is True
    assert cluster.status().running is False
    assert cluster.stop() is False
    engine = make_engine(cluster.ensure_running())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM kept")).scalar() == 42
    engine.dispose()
    if os.geteuid() == 0:  # the server must not run as root
        pid = cluster.status().pid
        uid = int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])
        assert uid != 0
