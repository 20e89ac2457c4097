"""The console opened with no signal: a department officer summoned to a mountain site reloads the page there.
The service worker opens it; the desk shows the assignments last loaded on the device, marked 离线 · 上次更新,
and offers 报到 only, which waits on the device and is sent — timed at its fix — once the signal is back, the
sign-in renewed on the way if its access token ran out (and asked for again if the sign-in itself did). The
kept list is one officer's: another user on the same phone never sees it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.web.conftest import ConsoleErrors, Site, sign_in
from tests.web.test_console import _whistled_case, on_console
from tests.web.test_console_offline import _assignment, _real, _report_in_events
from tests.web.test_patrol_page import PHONE

KEPT = "gise.assignments_kept"
#: the service worker of /app is active (it is what opens the page below with no network)
SW_ACTIVE = "async () => !!(await navigator.serviceWorker.getRegistration('/app/'))?.active"


def _phone(browser: Any, site: Site) -> Any:
    """A phone on the case's site (its GPS fix at the case's village), service workers allowed."""
    lon, lat = site.point
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                               geolocation={"longitude": lon, "latitude": lat, "accuracy": 8},
                               permissions=["geolocation"], base_url=site.base_url, service_workers="allow")


def _desk_loaded(page: Any, incident_id: str, username: str) -> None:
    """The department's desk has drawn the case's assignment and kept its list on the device for ``username``;
    the service worker is active."""
    page.wait_for_selector(f"#assignments li[data-incident='{incident_id}']")
    page.wait_for_function(
        "([key, id, who]) => { const k = JSON.parse(localStorage.getItem(key) || 'null');"
        " return !!k && k.owner === who && k.items.some((a) => a.incident_id === id); }",
        arg=[KEPT, incident_id, username])
    page.wait_for_function(SW_ACTIVE, timeout=15_000)


def _reopened_offline(ctx: Any, page: Any) -> None:
    """No signal, and the page opened again: from the service worker, the desk from the kept list."""
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("#asg-offline:not(.hidden)")
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")   # served by the service worker


def test_the_console_opens_offline_with_its_kept_assignments_and_a_report_in_waits_then_goes(
        browser: Any, site: Site, artifacts: Path) -> None:
    errors = ConsoleErrors()
    incident_id = _whistled_case(site)
    officer = site.users["department_officer"]
    ctx = _phone(browser, site)
    page = on_console(ctx, site, "department_officer", errors)
    _desk_loaded(page, incident_id, officer)
    loaded_at = page.evaluate(f"() => JSON.parse(localStorage.getItem('{KEPT}')).loaded_at")

    _reopened_offline(ctx, page)
    # the kept list, marked offline with when it was loaded (HH:MM on the district's clock), and what can be done
    said = page.inner_text("#asg-offline")
    hhmm = page.evaluate("iso => new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hourCycle: 'h23',"
                         " hour: '2-digit', minute: '2-digit' }).format(new Date(iso))", loaded_at)
    assert re.fullmatch(r"\d\d:\d\d", hhmm) and said.startswith(f"离线 · 上次更新 {hhmm}"), said
    assert "只能报到" in said, said
    item = page.locator(f"#assignments li[data-incident='{incident_id}']")
    assert item.locator(".countdown").count() == 1   # the time left to report in, running

    # opened offline: the case's place and deadline from the kept list, 报到 and nothing else
    item.locator("button.case").click()
    page.wait_for_selector("#asg-offline-only")
    assert page.inner_text("#asg-offline-only") == "离线：只能报到；其他操作须恢复网络后进行"
    kept = page.evaluate(f"id => JSON.parse(localStorage.getItem('{KEPT}')).items.find((a) => a.incident_id === id)",
                         incident_id)
    assert f"{kept['township_name']} {kept['village_name']}" in page.inner_text("#asg-detail")
    assert [b.get_attribute("id") for b in page.query_selector_all("#asg-detail button")] == ["report-in"]
    assert page.query_selector("#asg-photo") is None and page.query_selector("#fu-task") is None

    page.click("#report-in")
    pending = page.wait_for_selector("#report-in-queued").inner_text()
    assert pending.startswith("已记录报到，待发送（无信号）· "), pending
    assert "1 条报到待发送" in page.inner_text("#ri-queue")
    assert item.locator(".ri-pending").inner_text() == pending
    assert _assignment(site, incident_id)["reported_in_at"] is None
    page.screenshot(path=str(artifacts / "console-13-offline.png"), full_page=True)
    no_hscroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_hscroll

    # the signal is back: the report-in goes by itself, the desk is the server's again, with its actions
    page.wait_for_timeout(2_000)
    ctx.set_offline(False)
    sent = page.wait_for_selector("#asg-msg .notice:has-text('报到已送达')", timeout=20_000).inner_text()
    assert sent == "报到已送达 · 准时", sent
    page.wait_for_selector("#asg-offline.hidden", state="attached")
    page.wait_for_selector("#start")   # reported in: the server's detail offers to start enforcing
    assert page.query_selector("#asg-offline-only") is None
    a = _assignment(site, incident_id)
    assert a["status"] == "reported_in" and a["on_time"] is True
    (event,) = _report_in_events(site, incident_id)
    assert event["payload"]["queued_s"] >= 2   # timed at the fix, the wait kept in the record
    assert page.evaluate("() => localStorage.getItem('gise.report_in_queue')") is None
    ctx.close()
    assert _real(errors) == []


def test_a_server_out_of_reach_behind_its_proxy_shows_the_kept_list_until_it_answers_again(
        browser: Any, site: Site) -> None:
    """Signal, but the platform out of reach (its proxy answers 502): the open desk turns to its kept list, marked
    offline, when a call fails so, and back to the server's by itself once the server answers (its 15 s poll); a
    renewal tried meanwhile does not lose the sign-in."""
    errors = ConsoleErrors()
    incident_id = _whistled_case(site)
    ctx = _phone(browser, site)
    page = on_console(ctx, site, "department_officer", errors)
    _desk_loaded(page, incident_id, site.users["department_officer"])

    ctx.route("**/api/v1/**", lambda route: route.fulfill(status=502, body="Bad Gateway"))
    # the access token due for renewal meanwhile: the page tries to renew it through the proxy too
    page.evaluate("() => { const s = JSON.parse(localStorage.getItem('gise.auth'));"
                  " localStorage.setItem('gise.auth', JSON.stringify({ ...s, expiresAt: Date.now() })); }")
    page.click(f"#assignments li[data-incident='{incident_id}'] button.case")   # the detail cannot be read
    page.wait_for_selector("#asg-offline-only")
    assert page.inner_text("#asg-offline").startswith("离线 · 上次更新 ")
    assert [b.get_attribute("id") for b in page.query_selector_all("#asg-detail button")] == ["report-in"]
    assert page.locator("#flash .notice.bad").count() == 0   # not said as a refusal: the desk says it is offline

    ctx.unroute("**/api/v1/**")
    page.wait_for_selector("#asg-offline.hidden", state="attached", timeout=20_000)
    page.wait_for_selector("#asg-detail #report-in")
    page.wait_for_function("() => !document.getElementById('asg-offline-only')")
    # the renewals tried meanwhile met the proxy's 502, not a refusal of the refresh token: the sign-in is still
    # held (renewed once the server answered), so report-ins can still be sent
    auth = page.evaluate("() => JSON.parse(localStorage.getItem('gise.auth'))")
    assert auth is not None and auth["me"]["username"] == site.users["department_officer"]
    assert auth["expiresAt"] > page.evaluate("() => Date.now()")
    ctx.close()
    assert [e for e in _real(errors) if "502" not in e] == []


def _report_in_queued_offline(browser: Any, site: Site) -> tuple[ConsoleErrors, str, Any, Any]:
    """An officer's phone that loaded its desk, lost the signal, reopened the page and queued a 报到 for a case
    whistled to it: the page's console errors, the case, the browser context and the page."""
    errors = ConsoleErrors()
    incident_id = _whistled_case(site)
    ctx = _phone(browser, site)
    page = on_console(ctx, site, "department_officer", errors)
    _desk_loaded(page, incident_id, site.users["department_officer"])
    _reopened_offline(ctx, page)
    page.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    page.click("#report-in")
    page.wait_for_selector("#report-in-queued")
    return errors, incident_id, ctx, page


def test_an_expired_access_token_is_renewed_when_the_signal_comes_back(browser: Any, site: Site) -> None:
    """Hours without signal: the access token (15 min) has run out by the time the report-in can go; the page
    renews it with the refresh token and sends it."""
    errors, incident_id, ctx, page = _report_in_queued_offline(browser, site)

    # the access token as the device holds it an hour later: expired (the server would refuse it)
    before = page.evaluate("() => JSON.parse(localStorage.getItem('gise.auth'))")
    page.evaluate("() => { const s = JSON.parse(localStorage.getItem('gise.auth'));"
                  " localStorage.setItem('gise.auth', JSON.stringify({ ...s, access: 'ran-out',"
                  " expiresAt: Date.now() - 3600000 })); }")
    ctx.set_offline(False)
    page.wait_for_selector("#asg-msg .notice:has-text('报到已送达')", timeout=20_000)
    assert _assignment(site, incident_id)["status"] == "reported_in"
    after = page.evaluate("() => JSON.parse(localStorage.getItem('gise.auth'))")
    # renewed before the call (no call went out with the expired token): a new pair, the same officer
    assert after["access"] != "ran-out" and after["refresh"] != before["refresh"]
    assert after["expiresAt"] > page.evaluate("() => Date.now()")
    assert after["me"]["username"] == site.users["department_officer"]
    ctx.close()
    assert _real(errors) == []


def test_a_sign_in_that_ran_out_offline_is_asked_again_and_the_report_in_then_goes(
        browser: Any, site: Site) -> None:
    """Longer than the refresh token lives: back online the server refuses the renewal; the page asks for the
    sign-in again, says the report-in waits, keeps it, and sends it once the officer is signed in."""
    errors, incident_id, ctx, page = _report_in_queued_offline(browser, site)

    # the device thirteen hours later: both tokens and the sign-in cookie (which lives as the access token) ran out
    page.evaluate("() => { const s = JSON.parse(localStorage.getItem('gise.auth'));"
                  " localStorage.setItem('gise.auth', JSON.stringify({ ...s, access: 'ran-out', refresh: 'ran-out',"
                  " expiresAt: Date.now() - 13 * 3600000 })); }")
    ctx.clear_cookies()
    ctx.set_offline(False)
    page.wait_for_selector("#signin-card:not(.hidden)", timeout=20_000)
    assert page.inner_text("#flash") == "登录已过期，请重新登录：1 条报到待发送，登录后自动发送"
    assert not page.is_visible("#department-view")
    assert len(page.evaluate("() => JSON.parse(localStorage.getItem('gise.report_in_queue'))")) == 1
    assert _assignment(site, incident_id)["reported_in_at"] is None

    sign_in(page, site.users["department_officer"])
    page.wait_for_selector("#flash .notice:has-text('报到已送达')", timeout=20_000)
    assert _assignment(site, incident_id)["status"] == "reported_in"
    assert page.evaluate("() => localStorage.getItem('gise.report_in_queue')") is None
    ctx.close()
    # the refused renewal and the calls it left without a sign-in are the server's 401s, logged by the browser
    assert [e for e in _real(errors) if "401" not in e] == []


def test_another_users_kept_list_is_never_shown_and_signing_out_drops_it(browser: Any, site: Site) -> None:
    """A shared phone: the officer's kept list is not shown to the chief signed in after, even offline; signing
    out leaves no list on the device."""
    errors = ConsoleErrors()
    incident_id = _whistled_case(site)
    ctx = _phone(browser, site)
    page = on_console(ctx, site, "department_officer", errors)
    _desk_loaded(page, incident_id, site.users["department_officer"])

    # the chief's sign-in, taken on another device, now on this one (the officer's list still kept on it)
    other = browser.new_context(base_url=site.base_url, service_workers="block")
    chief_page = other.new_page()
    chief_page.goto("/app/console")
    sign_in(chief_page, site.users["department_chief"])
    chief_page.wait_for_selector(f"#assignments li[data-incident='{incident_id}']")
    chief_auth = chief_page.evaluate("() => localStorage.getItem('gise.auth')")
    other.close()
    page.evaluate("auth => localStorage.setItem('gise.auth', auth)", chief_auth)

    _reopened_offline(ctx, page)
    assert page.inner_text("#asg-offline") == "离线：本机没有保存的任务列表（请联网后打开一次本页）"
    assert page.locator("#assignments li").count() == 0
    assert page.evaluate(f"() => localStorage.getItem('{KEPT}')") is None   # the officer's list is gone

    # online again, the chief's own list is loaded and kept; signing out leaves none
    ctx.set_offline(False)
    page.wait_for_selector(f"#assignments li[data-incident='{incident_id}']", timeout=20_000)
    kept = json.loads(page.evaluate(f"() => localStorage.getItem('{KEPT}')"))
    assert kept["owner"] == site.users["department_chief"]
    page.click("#signout")
    page.wait_for_selector("#signin-card:not(.hidden)")
    assert page.evaluate(f"() => localStorage.getItem('{KEPT}')") is None
    ctx.close()
    assert _real(errors) == []
