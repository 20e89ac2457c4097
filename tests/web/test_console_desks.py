"""The consoles as a department officer and a township dispatcher use them after a walk-through: a reopened case
reaches the lead with the township's reason, who and when, and its deadline, first in the list as owed; a likely
duplicate, a recurrence and a rough fix are said in words on the township's desk; the lead whistles its assisting
departments from its desk (一门主责、其他配合); what the officer recorded is listed under the case, and a double tap
records once; the supervisor's evaluation table labels the township columns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.web.conftest import CATEGORY, ConsoleErrors, Site, sign_in
from tests.web.test_console import desk, on_console


def _file(site: Site, *, accuracy_m: float = 5, offset: float = 0.0, category: str = CATEGORY,
          observed_at: str | None = None, description: str = "夜间偷排") -> str:
    """A patrol's report through the API, ``offset`` degrees east of the site's point; its id."""
    lon, lat = site.point
    feature = {"type": "Feature", "id": str(uuid.uuid4()),
               "geometry": {"type": "Point", "coordinates": [lon + offset, lat]},
               "properties": {"category": category, "observed_at": observed_at or datetime.now(UTC).isoformat(),
                              "accuracy_m": accuracy_m, "reporter": site.users["patrol"],
                              "description": description}}
    with site.client("patrol") as c:
        r = c.post("/api/v1/incidents", json=feature)
        assert r.status_code == 201, r.text
    return str(feature["id"])


def _whistle(site: Site, incident_id: str, only: list[str] | None = None) -> None:
    body: dict[str, Any] = {"mode": "township", "whistler": site.township}
    if only is not None:
        body["only_departments"] = only
    with site.client("township_dispatcher") as c:
        r = c.post(f"/api/v1/incidents/{incident_id}/whistle", json=body)
        assert r.status_code in (200, 201), r.text


def _lead(site: Site, incident_id: str) -> dict[str, Any]:
    with site.client("supervisor") as c:
        rows = c.get(f"/api/v1/incidents/{incident_id}/assignments").json()["data"]
    return next(a for a in rows if a["role"] == "lead")


def _on_site(site: Site, incident_id: str) -> dict[str, Any]:
    """The lead reports in on the spot and starts acting, through the API."""
    lead = _lead(site, incident_id)
    with site.client("department_officer") as c:
        lon, lat = c.get(f"/api/v1/incidents/{incident_id}").json()["geometry"]["coordinates"]
    with site.client("department_officer") as c:
        r = c.post(f"/api/v1/assignments/{lead['id']}/report-in", json={"lon": lon, "lat": lat, "accuracy_m": 5})
        assert r.status_code == 200, r.text
        r = c.post(f"/api/v1/incidents/{incident_id}/assignments/{site.department}/start", json={})
        assert r.status_code == 200, r.text
    return lead


def _resolved(site: Site, incident_id: str, summary: str) -> None:
    """The lead completes its part and resolves the case."""
    with site.client("department_officer") as c:
        r = c.post(f"/api/v1/incidents/{incident_id}/assignments/{site.department}/complete", json={})
        assert r.status_code == 200, r.text
        r = c.post(f"/api/v1/incidents/{incident_id}/resolve", json={"department": site.department, "summary": summary})
        assert r.status_code == 200, r.text


def _verified(site: Site, incident_id: str) -> list[dict[str, Any]]:
    """The lead resolves, the township verifies; the case's assignments as they then stand."""
    _resolved(site, incident_id, "已处置")
    with site.client("township_dispatcher") as c:
        r = c.post(f"/api/v1/incidents/{incident_id}/verify", json={"township": site.township})
        assert r.status_code == 200, r.text
        return c.get(f"/api/v1/incidents/{incident_id}/assignments").json()["data"]


def test_a_reopened_case_reaches_the_lead_with_why_who_when_and_its_deadline_first_in_the_list(
        browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    reopened_id = _file(site)
    _whistle(site, reopened_id)
    _on_site(site, reopened_id)
    _resolved(site, reopened_id, "已停产")
    with site.client("township_dispatcher") as c:
        r = c.post(f"/api/v1/incidents/{reopened_id}/reopen",
                   json={"township": site.township, "reason": "复查发现夜间仍有排放"})
        assert r.status_code == 200, r.text
    # a later case, still summoned: its report-in due is later than the reopened case's, but nothing is owed
    # before the resumption
    waiting_id = _file(site, offset=0.0008)
    _whistle(site, waiting_id)
    lead = _lead(site, reopened_id)

    ctx = desk(browser, site)
    dept = on_console(ctx, site, "department_officer", errors)
    # the desk has no map: a task is chosen in the list
    assert dept.wait_for_selector("#choose-task").inner_text() == "从列表中选择一个任务"
    item = f"#assignments li[data-incident='{reopened_id}']"
    dept.wait_for_selector(f"{item} .countdown.owed:has-text('待恢复处置')")
    # first in the list, as owed — not at the bottom labelled done
    assert dept.locator("#assignments li").first.get_attribute("data-incident") == reopened_id
    assert dept.locator(f"{item} .countdown").inner_text() != "已完成"
    line = dept.inner_text(item)
    assert site.users["township_dispatcher"] in line and "办结期限" in line, line
    assert dept.locator(f"{item} .countdown").get_attribute("data-due") == lead["resolution_due"]
    # the detail: who reopened it, when and why, and by when it must be dealt with
    dept.click(f"{item} button.case")
    note = dept.wait_for_selector("#asg-detail .notice.reopened").inner_text()
    assert "复查发现夜间仍有排放" in note and site.users["township_dispatcher"] in note, note
    assert "办结期限" in dept.inner_text("#asg-detail p.due")
    assert dept.locator("#asg-detail details.history").count() == 1
    dept.wait_for_selector("#resume")

    # the township's 报到情况 table shows each department's resolution due too
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)
    town.click(f"#cases button.case[data-id='{reopened_id}']")
    cell = town.wait_for_selector(f"#detail tr[data-department='{site.department}'] td.resolution-due")
    assert cell.inner_text() == town.evaluate("(iso) => GISE.when(iso)", lead["resolution_due"])
    assert "办结期限" in town.locator("#detail thead").last.inner_text()
    ctx.close()
    assert errors == []


def test_a_likely_duplicate_a_recurrence_and_a_rough_fix_are_said_on_the_townships_desk(
        browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    first = _file(site, offset=0.003)
    second = _file(site, offset=0.003, accuracy_m=900)
    with site.client("township_dispatcher") as c:
        props = c.get(f"/api/v1/incidents/{second}").json()["properties"]
    assert props["likely_duplicate_of"] == first and "low_accuracy" in props["flags"], props
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)
    town.wait_for_selector(f"#cases button.case[data-id='{second}'] .tag.duplicate:has-text('疑似重复')")
    town.click(f"#cases button.case[data-id='{second}']")
    dup = town.wait_for_selector("#detail .notice.duplicate").inner_text()
    assert "疑似重复" in dup and "米" in dup, dup
    # flags in words, not codes
    flags = town.inner_text("#detail dd.flags")
    assert "定位精度低（±900 米）" in flags and "low_accuracy" not in flags, flags
    # the link opens the first case
    town.click("#detail .notice.duplicate a.case-link")
    town.wait_for_function("(id) => document.querySelector('#detail p.small.muted').textContent === id", arg=first)
    town.context.close()
    assert errors == []


def test_the_lead_whistles_its_assisting_departments_from_its_desk(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, offset=-0.004)
    _whistle(site, incident_id, only=[site.department])
    _on_site(site, incident_id)
    with site.client("department_officer") as c:
        plan = c.get(f"/api/v1/incidents/{incident_id}").json()["properties"]["plan"]
    assists = [p for p in plan if p["department"] != site.department]
    assert assists, plan
    dept = on_console(desk(browser, site), site, "department_officer", errors)
    dept.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    box = dept.wait_for_selector("#lead-whistle")
    assert "吹哨配合部门" in box.inner_text()
    offered = dept.locator("#lead-whistle input[name=assist]")
    assert [offered.nth(i).get_attribute("value") for i in range(offered.count())] == [p["department"] for p in assists]
    dept.click("#lead-whistle-send")   # nobody chosen: said on the page, nothing sent
    dept.wait_for_selector("#asg-msg .notice.bad:has-text('请选择要召集的配合部门')")
    dept.check(f"#assist-{assists[0]['department']}")
    dept.click("#lead-whistle-send")
    dept.wait_for_selector("#asg-msg .notice.ok:has-text('已吹哨配合部门')")
    with site.client("supervisor") as c:
        rows = c.get(f"/api/v1/incidents/{incident_id}/assignments").json()["data"]
    assert {(a["department"], a["role"]) for a in rows} == {(site.department, "lead"),
                                                           (assists[0]["department"], "assist")}
    # summoned now: no longer offered
    dept.wait_for_function("(d) => !document.getElementById('assist-' + d)", arg=assists[0]["department"])
    dept.context.close()
    assert errors == []


def test_what_the_officer_recorded_is_listed_and_a_double_tap_records_once(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, offset=0.005)
    _whistle(site, incident_id)
    _on_site(site, incident_id)
    dept = on_console(desk(browser, site), site, "department_officer", errors)
    dept.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    dept.wait_for_selector("#records:has-text('尚无执法记录')")
    dept.select_option("#action-type", label="行政处罚")
    dept.check("#measures input[value='罚款']")
    dept.fill("#action-penalty", "50000")
    dept.dblclick("#record")
    dept.wait_for_selector("#records li.record")
    listed = dept.inner_text("#records")
    assert "行政处罚" in listed and "罚款 ¥50,000" in listed, listed
    dept.wait_for_timeout(500)   # a second record, had it been sent, has landed by now
    with site.client("supervisor") as c:
        events = c.get(f"/api/v1/incidents/{incident_id}/timeline").json()["events"]
    assert sum(e["kind"] == "enforcement_record" for e in events) == 1
    assert dept.locator("#records li.record").count() == 1
    dept.context.close()
    assert errors == []


def test_the_evaluation_labels_the_township_columns_and_the_departments_ranking(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    sup = on_console(desk(browser, site), site, "supervisor", errors)
    sup.wait_for_selector("#evaluation table tbody tr")
    period = sup.input_value("#eval-period")
    with site.client("supervisor") as c:
        deps = c.get("/api/v1/evaluation", params={"period": period, "by": "department"}).json()["data"]
    heads = sup.locator("#evaluation thead th").all_inner_texts()
    assert "排名类别" in heads, heads
    for r in deps:
        cell = sup.inner_text(f"#evaluation tbody tr[data-unit='{r['department']}'] td[data-col=ranking]")
        assert cell == {"lead": "主责", "assist": "配合", "township_team": "街乡执法队"}[r["ranking"]], (r, cell)
    sup.select_option("#eval-by", "township")
    sup.wait_for_selector("#evaluation thead th:has-text('吹哨及时率')")
    heads = sup.locator("#evaluation thead th").all_inner_texts()
    for label in ("得分", "排名", "吹哨及时率", "核查及时率", "落实及时率", "解决不反弹率", "自身警示", "部门警示",
                  "反弹(W08)"):
        assert label in heads, (label, heads)
    assert not any(h.startswith("ev_") for h in heads), heads
    sup.context.close()
    assert errors == []


def test_a_refused_close_is_said_next_to_the_button_in_words(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, offset=0.0015)
    _whistle(site, incident_id)
    _on_site(site, incident_id)
    rows = _verified(site, incident_id)
    assist = next(a for a in rows if a["role"] == "assist" and a["status"] == "summoned")
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)
    town.click(f"#cases button.case[data-id='{incident_id}']")
    # no 结案 button while departments are out: the page says who, in words, where the button would be
    said = town.wait_for_selector("#detail #close-waits").inner_text()
    assert town.locator("#close-case").count() == 0
    # in words: the departments by name, their state as the page names it, no code, no English
    assert said.startswith("尚不能结案") and assist["department_name"] in said and "待报到" in said, said
    assert assist["department"] not in said and "summoned" not in said, said
    town.context.close()
    assert errors == [], errors


def test_the_township_marks_a_likely_duplicate_declines_a_case_and_takes_it_back(browser: Any, site: Site) -> None:
    """标记重复 prefilled with the likely duplicate (with its link), 不予受理 with a reason, 恢复受理: each case leaves
    the list of open cases to whistle, and comes back when taken back."""
    errors = ConsoleErrors()
    first = _file(site, offset=-0.0022)
    second = _file(site, offset=-0.0022)
    third = _file(site, offset=0.0042)
    with site.client("township_dispatcher") as c:
        for case in (second, third):
            assert c.get(f"/api/v1/incidents/{case}").json()["properties"]["township_code"] == site.township
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)
    town.click(f"#cases button.case[data-id='{second}']")
    town.wait_for_selector("#triage")
    assert town.input_value("#dup-of") == first
    assert town.get_attribute("#triage a.first-case", "data-case") == first
    town.click("#mark-duplicate")
    town.wait_for_selector("#detail-msg.notice.ok:has-text('标记重复')")
    town.wait_for_selector(f"#cases button.case[data-id='{second}']", state="detached")   # no longer to whistle
    said = town.wait_for_selector("#detail .notice.settled").inner_text()
    assert first[:8] in said, said
    assert town.locator("#whistle").count() == 0

    # a first case the server refuses is said in words, not in English
    town.click(f"#cases button.case[data-id='{third}']")
    town.wait_for_selector("#triage")
    town.fill("#dup-of", "")
    town.click("#mark-duplicate")   # none given: said on the page, nothing sent
    town.wait_for_selector("#detail-msg.notice.bad:has-text('请填写原案件编号')")
    town.fill("#dup-of", third)
    town.click("#mark-duplicate")
    town.wait_for_selector("#detail-msg.notice.bad:has-text('不能标记为本案件自身的重复')")
    town.fill("#dup-of", "")
    town.click("#reject")            # no reason: said, nothing sent
    town.wait_for_selector("#detail-msg.notice.bad:has-text('请先填写原因')")
    town.fill("#reject-reason", "现场为合法施工")
    town.click("#reject")
    town.wait_for_selector("#detail .notice.settled:has-text('不予受理：现场为合法施工')")
    town.wait_for_selector(f"#cases button.case[data-id='{third}']", state="detached")
    assert "不予受理" in (town.text_content("#detail details.history") or "")
    town.fill("#reinstate-reason", "复核：施工许可已过期")
    town.click("#reinstate")
    town.wait_for_selector(f"#cases button.case[data-id='{third}']")
    town.wait_for_selector("#whistle")
    with site.client("township_dispatcher") as c:
        kinds = [e["kind"] for e in c.get(f"/api/v1/incidents/{third}/timeline").json()["events"]]
        assert c.get(f"/api/v1/incidents/{second}").json()["properties"]["status"] == "duplicate"
    assert kinds == ["reject", "reinstate"]
    town.context.close()
    assert all("status of 4" in e for e in errors), errors   # the refused request itself


def test_a_refused_close_is_worded_from_the_refusals_facts_not_its_text(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, offset=0.0025)
    _whistle(site, incident_id)
    _on_site(site, incident_id)
    rows = _verified(site, incident_id)
    assists = [a for a in rows if a["role"] == "assist"]
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)

    def reworded(route: Any) -> None:   # the same refusal in other words: the page must not depend on them
        answer = route.fetch()
        body = answer.json()
        body["error"]["message"] = "refused"
        route.fulfill(response=answer, json=body)

    def all_done(route: Any) -> None:   # the page believes every department done (another desk acted meanwhile)
        answer = route.fetch()
        body = answer.json()
        for a in body["data"]:
            a["status"] = "done" if a["role"] == "lead" else "released"
        route.fulfill(response=answer, json=body)

    town.route(f"**/api/v1/incidents/{incident_id}/close", reworded)
    town.route(f"**/api/v1/incidents/{incident_id}/assignments", all_done)
    town.click(f"#cases button.case[data-id='{incident_id}']")
    town.click("#close-case")
    said = town.wait_for_selector("#detail #detail-msg.notice.bad").inner_text()
    assert said.startswith("尚不能结案"), said
    for a in assists:
        assert a["department_name"] in said, (a, said)
    assert "待报到" in said and "refused" not in said, said
    town.context.close()
    assert all("status of 4" in e for e in errors), errors


def test_an_overdue_report_in_says_how_late_and_what_now_applies(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, offset=-0.0035)
    _whistle(site, incident_id)
    lead = _lead(site, incident_id)
    ctx = desk(browser, site)
    dept = errors.watch(ctx.new_page())
    summoned = datetime.fromisoformat(lead["summoned_at"])
    due = datetime.fromisoformat(lead["report_in_due"])
    absent = datetime.fromisoformat(lead["absent_at"])
    assert absent == summoned + timedelta(minutes=60)
    dept.clock.install(time=due + timedelta(minutes=1, seconds=30))
    dept.goto("/app/console")
    sign_in(dept, site.users["department_officer"])
    item = f"#assignments li[data-incident='{incident_id}'] .countdown"
    dept.wait_for_selector(f"{item}.late")
    said = dept.inner_text(item)
    at = dept.evaluate("(iso) => GISE.when(iso)", lead["absent_at"])
    assert said == f"已超时 2 分钟 · {at} 前报到记迟到，之后记未报到", said
    assert "-" not in said.split("·")[0], said
    dept.clock.fast_forward("01:00:00")   # past the lateness window
    dept.wait_for_function("(s) => document.querySelector(s).textContent.includes('记未报到') && "
                           "!document.querySelector(s).textContent.includes('记迟到')", arg=item)
    assert dept.inner_text(item).endswith(f"{at} 前未报到，记未报到")
    ctx.close()
    assert errors == []


def test_the_legal_basis_is_shown_on_the_action_form_and_with_each_record(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, offset=0.0035)
    _whistle(site, incident_id)
    _on_site(site, incident_id)
    with site.client("department_officer") as c:
        listed = next(x for x in c.get("/api/v1/catalog/categories").json()["data"] if x["code"] == CATEGORY)
    assert listed["legal_basis"], listed
    dept = on_console(desk(browser, site), site, "department_officer", errors)
    dept.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    before = dept.wait_for_selector("#action-legal").inner_text()
    assert before.startswith("法律依据："), before
    for b in listed["legal_basis"]:
        assert b["law"].strip("《》") in before, (b, before)
        # an article the lists write as "—" (none given) is no article: the law alone, no dash
        assert (b["article"] in before) if b["article"] != "—" else f"{b['law'].strip('《》')}》—" not in before, \
            (b, before)
    dept.select_option("#action-type", label="现场检查")
    dept.click("#record")
    after = dept.wait_for_selector("#records li.record .legal").inner_text()
    assert after == before, (after, before)
    dept.context.close()
    assert errors == []
