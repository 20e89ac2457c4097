"""The township's desk after its walk-through: a report of unknown category is classified (改类) before any
whistle, the whistle says whom it summons and may add a department the lists name, a 不满意 rating says it
raises W04 and asks twice, and a time of another year shows its year."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.web.conftest import ConsoleErrors, Site
from tests.web.test_console import desk, on_console
from tests.web.test_console_desks import _file, _on_site, _whistle


def _case(site: Site, incident_id: str) -> dict[str, Any]:
    with site.client("township_dispatcher") as c:
        return dict(c.get(f"/api/v1/incidents/{incident_id}").json()["properties"])


def test_a_report_of_unknown_category_is_classified_then_whistled_with_a_department_added(
        browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, category="OTH-00", offset=0.0031)
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)
    town.click(f"#cases button.case[data-id='{incident_id}']")
    said = town.wait_for_selector("#classify-first").inner_text()
    assert said.startswith("类别待定"), said
    assert town.locator("#whistle").count() == 0          # nobody is whistled to a problem nobody has named
    town.click("#reclassify-send")                          # none chosen: said, nothing sent
    town.wait_for_selector("#detail-msg.notice.bad:has-text('请选择要改为的类别')")
    town.select_option("#reclassify-to", "TRK-01")
    town.fill("#reclassify-reason", "现场为超载货车卸土")
    town.click("#reclassify-send")
    town.wait_for_selector("#detail-msg.notice.ok:has-text('已改类为')")
    case = _case(site, incident_id)
    assert (case["category"], case["reported_category"]) == ("TRK-01", "OTH-00")
    plan = [p["department"] for p in case["plan"]]
    assert town.locator("#classify-first").count() == 0
    assert "巡查员上报为" in town.inner_text("#reclassify")
    # the case's record says what it was filed as and what it became
    assert "改类 · 类别待定（由街乡分类） → 大货车超限超载" in (town.text_content("#detail details.history") or "")

    # the whistle: the plan ticked, the lists' other departments for the category offered unticked
    town.wait_for_selector("#whistle-box")
    assert all(town.is_checked(f"#whistle-{d}") for d in plan)
    assert not town.is_checked("#whistle-ECO")              # TRK-01: the lists name ECO in a zone rule
    town.check("#whistle-ECO")
    left_out = plan[-1]
    town.uncheck(f"#whistle-{left_out}")
    town.click("#whistle")
    confirm = town.wait_for_selector("#whistle-confirm-row .notice").inner_text()
    assert "区生态环境局" in confirm, confirm
    town.click("#whistle-confirm")
    town.wait_for_selector("#detail tr[data-department='ECO']")
    with site.client("township_dispatcher") as c:
        summoned = {a["department"] for a in c.get(f"/api/v1/incidents/{incident_id}/assignments").json()["data"]}
        kinds = [e["kind"] for e in c.get(f"/api/v1/incidents/{incident_id}/timeline").json()["events"]]
    assert summoned == (set(plan) - {left_out}) | {"ECO"}
    assert kinds == ["reclassify", "whistle"]
    town.context.close()
    assert all("status of 4" in e for e in errors), errors   # none but refused requests


def test_a_poor_rating_says_it_raises_w04_needs_a_reason_and_a_second_click(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, category="ENV-01", offset=0.0036)
    _whistle(site, incident_id)
    lead = _on_site(site, incident_id)
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)
    town.click(f"#cases button.case[data-id='{incident_id}']")
    row = f"#detail tr[data-department='{lead['department']}']"
    town.wait_for_selector(f"{row} select[data-rate=adequacy]")
    options = town.eval_on_selector_all(f"{row} select[data-rate=adequacy] option",
                                        "os => os.map((o) => o.textContent)")
    assert options[1:] == ["5 满意", "4 较满意", "3 基本满意", "2 不满意", "1 很不满意"]
    town.select_option(f"{row} select[data-rate=timeliness]", "4")
    town.select_option(f"{row} select[data-rate=adequacy]", "2")
    town.click(f"{row} button.rate-send")
    town.wait_for_selector("#flash .notice.bad:has-text('评为不满意须写明原因')")
    town.fill(f"{row} input[data-rate=comment]", "未按清单查封设备")
    town.click(f"{row} button.rate-send")
    warn = town.wait_for_selector(f"{row} .rate-warn .notice").inner_text()
    assert "W04" in warn, warn
    with site.client("supervisor") as c:   # nothing sent yet
        assert not [w for w in c.get("/api/v1/warnings?limit=500").json()["data"]
                    if w["incident_id"] == incident_id and w["rule_code"] == "W04"]
    town.click(f"{row} button.rate-confirm")
    town.wait_for_selector(f"{row} .rated")
    with site.client("supervisor") as c:
        w04 = [w for w in c.get("/api/v1/warnings?limit=500").json()["data"]
               if w["incident_id"] == incident_id and w["rule_code"] == "W04"]
        comments = [e["payload"].get("comment") for e in
                    c.get(f"/api/v1/incidents/{incident_id}/timeline").json()["events"] if e["kind"] == "rating"]
    assert len(w04) == 1 and comments == ["未按清单查封设备"]
    town.context.close()
    assert errors == [], errors


def test_a_report_of_another_year_shows_its_year(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, category="ENV-01", offset=0.0041, observed_at="2025-06-01T10:00:00+08:00")
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)
    card = town.wait_for_selector(f"#cases button.case[data-id='{incident_id}']").inner_text()
    assert "2025" in card, card
    town.context.close()
    assert errors == [], errors


def test_the_desk_says_what_waits_and_a_follow_up_task_is_done_from_it(browser: Any, site: Site) -> None:
    """待我处理: the counts a desk acts on, each a filter of the list; 部门要求、街乡落实 tasks listed with their due
    time and done from the desk."""
    errors = ConsoleErrors()
    waiting = _file(site, category="ENV-01", offset=0.0046)
    whistled = _file(site, category="ENV-01", offset=0.0051)
    _whistle(site, whistled)
    _on_site(site, whistled)
    task_text = f"请村委会每日巡看排污口 {uuid.uuid4().hex[:4]}"
    with site.client("department_officer") as c:
        r = c.post(f"/api/v1/incidents/{whistled}/follow-ups",
                   json={"department": site.department, "task": task_text, "working_days": 3})
        assert r.status_code == 201, r.text
        task_id = r.json()["task_id"]
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)
    triage = town.wait_for_selector("#desk-items button[data-key=triage]")
    assert triage.inner_text().startswith("待分拣") and int(triage.query_selector(".count").inner_text()) >= 1
    item = town.wait_for_selector(f"#follow-ups li[data-task='{task_id}']")
    assert task_text in item.inner_text()
    assert item.query_selector(".countdown[data-due]") is not None   # its time to the due date runs
    assert "落实期限" in item.inner_text() and "报到截止" not in item.inner_text()   # a task's due, not a report-in's

    # a desk item narrows the list to its cases
    triage.click()
    town.wait_for_function("() => document.getElementById('cases-count').textContent.startsWith('待分拣')")
    town.wait_for_selector(f"#cases button.case[data-id='{waiting}']")
    assert town.locator(f"#cases button.case[data-id='{whistled}']").count() == 0
    statuses = town.eval_on_selector_all("#cases button.case .badge", "bs => bs.map((b) => b.textContent)")
    assert statuses and set(statuses) == {"已上报"}, statuses

    town.fill(f"#fu-note-{task_id}", "已安排村委会每日巡看")
    town.click(f"#follow-ups li[data-task='{task_id}'] button.follow-up-done")
    town.wait_for_selector(f"#follow-ups li[data-task='{task_id}']", state="detached")
    with site.client("township_dispatcher") as c:
        done = c.get("/api/v1/follow-ups", params={"status": "done", "incident_id": whistled}).json()["data"]
    assert [(t["id"], t["done_note"]) for t in done] == [(task_id, "已安排村委会每日巡看")]
    town.context.close()
    assert errors == [], errors


def test_the_township_sees_its_own_sites_and_the_departments_record_on_its_cases(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _file(site, category="ENV-01", offset=0.0056)
    _whistle(site, incident_id)
    _on_site(site, incident_id)
    town = on_console(desk(browser, site), site, "township_dispatcher", errors)
    town.click("#own-picture summary")
    town.wait_for_selector("#own-sites h3")
    row = town.wait_for_selector(f"#own-departments tr[data-unit='{site.department}']")
    cells = row.query_selector_all("td")
    assert cells[0].inner_text() == "区生态环境局"
    with site.client("township_dispatcher") as c:
        month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")   # the page's month: the district's
        mine = next(r for r in c.get("/api/v1/evaluation", params={"period": month, "by": "department"}).json()["data"]
                    if r["department"] == site.department)
    assert int(cells[1].inner_text()) == mine["whistles"] >= 1 and int(cells[2].inner_text()) == mine["on_time"]
    town.locator("#own-picture").screenshot(path="test-artifacts/web/console-12-own-picture.png")
    town.context.close()
    assert errors == [], errors
