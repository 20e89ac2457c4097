"""A live site as a test fixture: ``tests/live_server.live_site``, with a server that cannot start failing the
test (with the server's log) instead of erroring in the fixture."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from tests.live_server import LiveServerError, LiveSite, live_site


@contextmanager
def site_for_tests(database_url: str, jurisdiction: Jurisdiction, catalog: Catalog,
                   tmp_path_factory: pytest.TempPathFactory, *, name: str,
                   env: Mapping[str, str]) -> Iterator[LiveSite]:
    """A live site on a scratch database called ``gise_<name>…``, its server's files in a temporary directory."""
    try:
        with live_site(database_url, jurisdiction=jurisdiction, catalog=catalog,
                       workdir=tmp_path_factory.mktemp(f"{name}-server"), prefix=f"gise_{name}", env=env) as s:
            yield s
    except LiveServerError as exc:
        pytest.fail(str(exc))
