"""Accessibility basics of every desk, checked by axe-core (WCAG 2.1 A and AA rules: labels, names, contrast,
landmarks …) in Chromium; keyboard-only sign-in; the English switch; and the pages as files: served without
signing in, nothing outside their folder reachable, no console error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import CATEGORY, ConsoleErrors, Site, sign_in
from tests.web.test_patrol_page import patrol_signed_in, phone

AXE = Path(".cache/axe-core/axe.min.js")
# the township desk is ready when its own township is outlined on the map (the first path of the map may be a
# township the map has since zoomed away from: Leaflet leaves those as an empty "M0 0", never visible)
DESKS = [("patrol", "/app/patrol", "#cat-list button"),
         ("township_dispatcher", "/app/console", "#map path[stroke='#0b4f8a']"),
         ("department_officer", "/app/console", "#department-view:not(.hidden)"),
         ("supervisor", "/app/console", "#supervisor-view:not(.hidden) #evaluation table, #evaluation p")]


def axe_violations(page: Any) -> list[str]:
    assert AXE.is_file(), "axe-core is fetched at set-up (scripts/fetch-assets.sh)"
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
            for v in result["violations"]]


@pytest.mark.parametrize(("role", "path", "ready"), DESKS, ids=[d[0] for d in DESKS])
def test_every_desk_passes_axe(browser: Any, site: Site, artifacts: Path, role: str, path: str, ready: str) -> None:
    errors = ConsoleErrors()
    context = phone(browser, site) if role == "patrol" else browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=site.base_url)
    page = errors.watch(context.new_page())
    page.goto(path)
    page.wait_for_selector("#signin button[type=submit]")
    assert axe_violations(page) == [], "sign-in form"
    sign_in(page, site.users[role])
    page.wait_for_selector(ready)
    page.wait_for_timeout(300)
    assert axe_violations(page) == []
    # the check can fail: an input without a label is found
    page.evaluate("document.querySelector('main').append(Object.assign(document.createElement('input'), {id: 'x'}))")
    assert any(v.startswith("label ") for v in axe_violations(page))
    context.close()
    assert errors == []


def test_sign_in_and_report_with_the_keyboard_only(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    context = phone(browser, site)
    page = errors.watch(context.new_page())
    page.goto("/app/patrol")
    page.wait_for_selector("#signin button[type=submit]")
    page.locator("#username").focus()
    page.keyboard.type(site.users["patrol"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("pages-test-secret-1")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#cat-list button[data-code='{CATEGORY}']")
    # from the search box, Tab reaches the category buttons and Enter picks one
    page.locator("#cat-search").focus()
    page.keyboard.type(CATEGORY)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.code") == CATEGORY
    page.keyboard.press("Enter")
    assert page.get_attribute(f"#cat-list button[data-code='{CATEGORY}']", "aria-pressed") == "true"
    # a visible focus ring on the focused control
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    context.close()
    assert errors == []


def test_the_english_switch(browser: Any, site: Site) -> None:
    context = phone(browser, site)
    page = patrol_signed_in(context, site)
    assert page.inner_text("header h1") == "巡查上报"
    page.click("#lang")
    assert page.inner_text("header h1") == "Patrol report"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "workshop" in page.inner_text(f"#cat-list button[data-code='{CATEGORY}']").lower()
    page.reload()   # the choice is kept
    page.wait_for_selector(f"#cat-list button[data-code='{CATEGORY}']")
    assert page.inner_text("header h1") == "Patrol report"
    page.click("#lang")
    context.close()


def test_the_pages_are_served_without_signing_in_and_nothing_else_is(site: Site) -> None:
    with httpx.Client(base_url=site.base_url, timeout=10) as c:
        for path in ("/app/patrol", "/app/console", "/app/static/app.css", "/app/static/leaflet/leaflet.js"):
            assert c.get(path).status_code == 200, path
        sw = c.get("/app/sw.js")
        assert sw.headers["service-worker-allowed"] == "/app/" and "javascript" in sw.headers["content-type"]
        assert c.get("/app/").status_code == 307
        for bad in ("/app/static/../__init__.py", "/app/static/%2e%2e/__init__.py", "/app/static/.hidden",
                    "/app/static/leaflet/../../assets.py", "/app/nowhere", "/app/static/missing.js"):
            r = c.get(bad)
            assert r.status_code == 404, (bad, r.status_code)
        # the pages hold no data: the cases come from the API, which wants a sign-in
        assert c.get("/api/v1/incidents").status_code == 401
