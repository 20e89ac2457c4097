"""/docs and /redoc with no internet (an intranet): Swagger UI and ReDoc come from the app itself, the operations
render, Authorize signs in, and the pages ask no other host for anything."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.web.conftest import PASSWORD, ConsoleErrors, Site

REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _offline(browser: Any, site: Site) -> tuple[Any, list[str]]:
    """A browser context that can reach the live server only: every request to another host is aborted (and
    recorded)."""
    elsewhere: list[str] = []
    ctx = browser.new_context()

    def route(r: Any) -> None:
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            elsewhere.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    return ctx, elsewhere


def test_swagger_ui_renders_the_operations_and_signs_in_offline(browser: Any, site: Site) -> None:
    ctx, elsewhere = _offline(browser, site)
    errors = ConsoleErrors()
    try:
        page = errors.watch(ctx.new_page())
        page.goto(f"{site.base_url}/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        assert page.locator(".opblock").count() > 50
        assert page.locator(".opblock-summary-path[data-path='/api/v1/follow-ups']").count() >= 1
        # Authorize: the OAuth2 password flow against the app's own token route
        page.click("button.authorize")
        page.fill("#oauth_username", site.users["township_dispatcher"])
        page.fill("#oauth_password", PASSWORD)
        page.locator(".auth-container").first.locator("button.authorize").click()
        page.wait_for_selector("button[aria-label='Remove authorization']", timeout=15_000)  # its Logout
        assert page.locator(".auth-container h6", has_text="Authorized").count() == 1
        assert elsewhere == [] and errors == []
    finally:
        ctx.close()


def test_redoc_renders_the_operations_offline(browser: Any, site: Site) -> None:
    ctx, elsewhere = _offline(browser, site)
    errors = ConsoleErrors()
    try:
        page = errors.watch(ctx.new_page())
        page.goto(f"{site.base_url}/redoc")
        page.wait_for_selector("[data-section-id^='operation/']", state="attached", timeout=30_000)
        assert page.locator("[data-section-id^='operation/']").count() > 50
        # the one thing ReDoc's bundle fetches by itself: the small "API docs by Redocly" footer logo, an image
        # that removes itself when it does not load (nothing else of the page depends on it)
        assert set(elsewhere) <= {REDOCLY_LOGO}
        assert [e for e in errors if "Failed to load resource" not in e] == []
    finally:
        ctx.close()


@pytest.mark.parametrize(("path", "status"), [
    ("/docs/assets/swagger-ui/swagger-ui-bundle.js", 200),
    ("/docs/assets/redoc/bundles/redoc.standalone.js", 200),
    ("/docs/assets/swagger-ui/VERSION", 404),   # not a file the pages load
    ("/docs/assets/swagger-ui/../redoc/VERSION", 404),
    ("/docs/assets/jquery/jquery.js", 404),
])
def test_the_docs_files_are_served_and_nothing_else(site: Site, path: str, status: int) -> None:
    r = httpx.get(f"{site.base_url}{path}", timeout=10)
    assert r.status_code == status, r.text[:200]
