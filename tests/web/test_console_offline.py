"""报到 without signal: the department's console keeps a report-in pressed offline on the device, says it waits,
and sends it when the page is online again — timed by the server at its fix. Signing out with one waiting warns."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gis_enforcement.domain.deadlines import queued_fix_time
from gis_enforcement.errors import InvalidInput
from tests.web.conftest import ConsoleErrors, Site, sign_in
from tests.web.test_console import _whistled_case, desk, on_console

#: what a page logs by itself while the network is off (its polls and its event stream failing)
OFFLINE_NOISE = ("ERR_INTERNET_DISCONNECTED", "ERR_NETWORK_CHANGED", "Failed to fetch")


def _real(errors: ConsoleErrors) -> list[str]:
    return [e for e in errors if not any(n in e for n in OFFLINE_NOISE)]


def _assignment(site: Site, incident_id: str) -> dict[str, Any]:
    with site.client("department_officer") as c:
        asg = c.get(f"/api/v1/incidents/{incident_id}/assignments").json()["data"]
    return next(a for a in asg if a["department"] == site.department)  # type: ignore[no-any-return]


def _report_in_events(site: Site, incident_id: str) -> list[dict[str, Any]]:
    with site.client("department_officer") as c:
        events = c.get(f"/api/v1/incidents/{incident_id}/timeline").json()["events"]
    return [e for e in events if e["kind"] == "report_in"]


def _offline_report_in(browser: Any, site: Site, errors: ConsoleErrors) -> tuple[Any, Any, str]:
    """A department officer on its console, at the case's place, presses 报到 with the network off."""
    incident_id = _whistled_case(site)
    lon, lat = site.point
    ctx = desk(browser, site, geolocation={"longitude": lon, "latitude": lat, "accuracy": 8},
               permissions=["geolocation"])
    page = on_console(ctx, site, "department_officer", errors)
    page.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    page.wait_for_selector("#report-in")
    ctx.set_offline(True)
    page.click("#report-in")
    return ctx, page, incident_id


def test_a_report_in_pressed_without_signal_waits_on_the_device_and_is_sent_when_online(
        browser: Any, site: Site, artifacts: Any) -> None:
    errors = ConsoleErrors()
    ctx, page, incident_id = _offline_report_in(browser, site, errors)

    # said where it was pressed, on the list and in the banner; nothing has reached the server
    pending = page.wait_for_selector("#report-in-queued").inner_text()
    assert pending.startswith("已记录报到，待发送（无信号）· "), pending
    assert page.query_selector("#report-in") is None
    item = page.locator(f"#assignments li[data-incident='{incident_id}'] .ri-pending")
    assert item.inner_text() == pending
    assert "1 条报到待发送" in page.locator("#ri-queue").inner_text()
    assert _assignment(site, incident_id)["reported_in_at"] is None
    page.screenshot(path=str(artifacts / "console-offline-1-queued.png"))

    # online again (a few seconds later): sent by itself, the result said, the assignment reported in, the queue
    # empty
    page.wait_for_timeout(3_000)
    ctx.set_offline(False)
    said = page.wait_for_selector("#asg-msg .notice:has-text('报到已送达')", timeout=20_000).inner_text()
    assert said == "报到已送达 · 准时", said
    page.wait_for_selector("#start")   # reported in: the panel now offers to start enforcing
    assert page.locator("#ri-queue .notice").count() == 0
    assert page.locator(f"#assignments li[data-incident='{incident_id}'] .ri-pending").count() == 0
    assert page.evaluate("() => localStorage.getItem('gise.report_in_queue')") is None
    a = _assignment(site, incident_id)
    assert a["status"] == "reported_in" and a["on_time"] is True
    (event,) = _report_in_events(site, incident_id)
    # it went as a queued report-in: timed at the fix, the wait and the arrival kept in the record
    assert event["payload"]["queued_s"] >= 3
    received, fixed = (datetime.fromisoformat(x) for x in (event["payload"]["received_at"], event["at"]))
    assert (received - fixed).total_seconds() == pytest.approx(event["payload"]["queued_s"], abs=0.06)
    page.screenshot(path=str(artifacts / "console-offline-2-sent.png"))

    # sent once: the next passes send nothing more
    page.wait_for_timeout(11_000)
    assert len(_report_in_events(site, incident_id)) == 1
    ctx.close()
    assert _real(errors) == []


def test_signing_out_with_a_report_in_waiting_warns_and_keeps_it(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    ctx, page, incident_id = _offline_report_in(browser, site, errors)
    page.wait_for_selector("#report-in-queued")

    asked: list[str] = []

    def answer(accept: bool) -> None:
        page.once("dialog", lambda d: (asked.append(d.message), d.accept() if accept else d.dismiss()))

    answer(False)
    page.click("#signout")
    assert asked and asked[0].startswith("还有 1 条报到未发送"), asked
    assert page.is_visible("#department-view") and page.is_visible("#signout")   # still signed in

    answer(True)
    page.click("#signout")
    page.wait_for_load_state()
    assert len(asked) == 2
    # signed out (the page, reloaded without network, is opened again once online): the report-in stays on the
    # device for this officer's next sign-in, and nothing was sent without one
    ctx.set_offline(False)
    page.goto("/app/console")
    page.wait_for_selector("#signin-card:not(.hidden)")
    kept = page.evaluate("() => JSON.parse(localStorage.getItem('gise.report_in_queue'))")
    assert [q["assignment_id"] for q in kept] == [_assignment(site, incident_id)["id"]]
    page.wait_for_timeout(1_000)
    assert _assignment(site, incident_id)["reported_in_at"] is None
    # the officer signs in again: it is sent
    sign_in(page, site.users["department_officer"])
    page.wait_for_selector("#flash .notice:has-text('报到已送达')", timeout=20_000)
    assert _assignment(site, incident_id)["status"] == "reported_in"
    ctx.close()
    assert _real(errors) == []


def test_a_queued_report_in_the_server_cannot_time_is_refused_in_chinese(browser: Any, site: Site) -> None:
    """The domain's own refusals of a queued report-in, as the API answers them, said by the page in Chinese."""
    sh = ZoneInfo("Asia/Shanghai")
    whistle, now = datetime(2026, 5, 12, 23, 40, tzinfo=sh), datetime(2026, 5, 13, 0, 20, tzinfo=sh)
    answers = []
    for device_time, fixed_at in ((None, now), (now, now + timedelta(minutes=1)), (now, now - timedelta(hours=13)),
                                  (now, now - timedelta(minutes=45))):
        with pytest.raises(InvalidInput) as exc:
            queued_fix_time(whistled_at=whistle, server_time=now, device_time=device_time, fixed_at=fixed_at)
        answers.append([422, exc.value.to_dict()])
    errors = ConsoleErrors()
    ctx = browser.new_context(base_url=site.base_url)
    page = errors.watch(ctx.new_page())
    page.goto("/app/console")
    page.wait_for_function("() => typeof GISE === 'object'")
    said = [page.evaluate("([status, error]) => new GISE.ApiError(status, { error }).describe()", a) for a in answers]
    assert said[0].startswith("待发送的报到缺少发送时间"), said
    assert said[1].startswith("定位时间晚于发送时间"), said
    assert said[2].startswith("报到在手机中等待了 13 小时，超过 12 小时"), said
    assert said[3].startswith("按等待时长推算，定位时间早于吹哨时间"), said
    assert all(s.endswith("请到现场重新报到") and not re.search(r"[a-z]", s) for s in said), said
    ctx.close()
    assert errors == []
