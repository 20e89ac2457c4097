"""The pages are served with the district's time zone (``settings.timezone``) in their
``<meta name="gise-timezone">``, which the pages' formatters use; no database is needed to serve them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from gis_enforcement.api.app import create_app
from gis_enforcement.settings import Settings


@pytest.mark.parametrize("page", ["console", "patrol"])
def test_a_page_carries_the_districts_time_zone(page: str) -> None:
    settings = Settings(timezone="Asia/Urumqi")
    app = create_app(settings, platform=SimpleNamespace(settings=settings))  # type: ignore[arg-type]
    r = TestClient(app).get(f"/app/{page}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    assert '<meta name="gise-timezone" content="Asia/Urumqi">' in r.text
    assert r.text.count("gise-timezone") == 1
