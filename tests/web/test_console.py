"""The whole chain in real browsers: a patrol files a case offline on a phone and goes online; the township's
console shows it arrive and whistles it; the lead department reports in — refused from 2 km away with the
distance, accepted on site; the township watches the others' countdowns turn late as the page clock runs on;
the escalation pass raises warnings the supervisor's console shows as they come. A screenshot of each step."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from gis_enforcement.dispatch.on_site import listed_measures
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.locator import Locator
from gis_enforcement.settings import Settings
from tests.web.conftest import CATEGORY, ConsoleErrors, Site, sign_in
from tests.web.test_patrol_page import fill_report, patrol_signed_in, phone

DESK = {"width": 1280, "height": 900}


def desk(browser: Any, site: Site, **kwargs: Any) -> Any:
    return browser.new_context(viewport=DESK, base_url=site.base_url, **kwargs)


def tick(site: Site, at: datetime, catalog: Catalog) -> int:
    """The escalation pass on the live database, at ``at`` — an hour or two ahead of the wall clock, as the
    pages' clocks are (the server's scheduler is off in tests; the CLI refuses a time to come, so the pass is
    run in-process, committed as the scheduler commits it). Returns the warnings raised."""
    from sqlalchemy.orm import Session

    from gis_enforcement.dispatch.escalation import tick as escalation_pass
    from gis_enforcement.storage.engine import make_engine

    engine = make_engine(site.database_url)
    try:
        with Session(engine) as session:
            raised = escalation_pass(session, catalog=catalog, now=at)
            session.commit()
    finally:
        engine.dispose()
    return len(raised)


def test_patrol_to_township_to_department_to_supervisor(browser: Any, site: Site, artifacts: Path,
                                                        catalog: Catalog) -> None:
    errors = ConsoleErrors()
    started = datetime.now(UTC)

    # the township's command centre is open, its page clock under the test's control
    town_ctx = desk(browser, site)
    town = errors.watch(town_ctx.new_page())
    town.clock.install(time=started)
    town.goto("/app/console")
    sign_in(town, site.users["township_dispatcher"])
    town.wait_for_selector("#township-view:not(.hidden)")
    town.wait_for_function("() => document.querySelectorAll('#map path.leaflet-interactive').length >= 18")
    town.wait_for_selector("#live:not(.off)", timeout=15_000)    # the event stream is connected

    # a patrol files a case offline, then the network comes back
    patrol_ctx = phone(browser, site)
    patrol = patrol_signed_in(patrol_ctx, site, errors)
    patrol_ctx.set_offline(True)
    text = f"作坊排放黑水 {uuid.uuid4().hex[:6]}"
    fill_report(patrol, None, text)
    incident_id = patrol.wait_for_selector("#queue li[data-state=queued]").get_attribute("data-id")
    patrol_ctx.set_offline(False)
    patrol.wait_for_selector(f"#queue li[data-id='{incident_id}'][data-state=accepted]", timeout=20_000)
    patrol_ctx.close()

    # it appears on the township's console by itself, marked new
    town.clock.run_for(11_000)   # the desk's counts are read every 10 s; a new report changes them
    card = town.wait_for_selector(f"#cases button.case.new[data-id='{incident_id}']", timeout=20_000)
    town.screenshot(path=str(artifacts / "console-1-new-case.png"))
    card.click()
    town.wait_for_selector("#whistle")
    plan_rows = town.locator("#detail table").first.locator("tbody tr").count()
    assert plan_rows == 6   # ENV-01: ECO leads, five assist
    town.click("#whistle")
    # the second click says whom it summons
    confirm = town.wait_for_selector("#whistle-confirm-row .notice").inner_text()
    assert confirm.startswith("将召集：") and "区生态环境局" in confirm, confirm
    town.click("#whistle-confirm")
    town.wait_for_selector(f"#detail tr[data-department='{site.department}'] .countdown")
    assert town.locator("#detail tbody tr[data-department]").count() == 6
    town.screenshot(path=str(artifacts / "console-2-whistled.png"))

    # the lead department reports in: from 2 km away it is refused with the distance, on site it is accepted
    lon, lat = site.point
    dept_ctx = desk(browser, site, geolocation={"longitude": lon + 0.025, "latitude": lat, "accuracy": 10},
                    permissions=["geolocation"])
    dept = on_console(dept_ctx, site, "department_officer", errors)
    dept.click("#assignments li button.case")
    dept.click("#report-in")
    refusal = dept.wait_for_selector("#asg-msg .notice.bad").inner_text()
    # in Chinese, from the refusal's numbers: the distance, the radius allowed (the fence and the GPS accuracy)
    assert refusal.startswith("报到位置距案件 "), refusal
    assert "须在 310 米以内（报到范围 300 米，含定位误差 10 米）" in refusal, refusal
    assert "请到现场后再报到" in refusal and "check-in" not in refusal, refusal
    metres = int(refusal.split("距案件 ")[1].split(" 米")[0].replace(",", ""))
    assert 1900 < metres < 2300, refusal
    dept.screenshot(path=str(artifacts / "console-3-report-in-refused.png"))
    dept_ctx.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 10})
    dept.click("#report-in")
    assert "已报到" in dept.wait_for_selector("#asg-msg .notice.ok").inner_text()
    dept.screenshot(path=str(artifacts / "console-4-reported-in.png"))

    # the check-in reaches the township live; the others' countdowns turn late when the half hour has passed
    town.wait_for_selector(f"#detail tr[data-department='{site.department}'] .countdown[data-done=true]",
                           timeout=15_000)
    others = town.locator("#detail tbody tr[data-department]:not(.late)")
    assert others.count() == 6
    town.clock.run_for("31:00")
    town.wait_for_function("() => document.querySelectorAll('#detail tbody tr.late').length === 5")
    lead_row = town.locator(f"#detail tr[data-department='{site.department}']")
    assert "late" not in (lead_row.get_attribute("class") or "")
    town.screenshot(path=str(artifacts / "console-5-late.png"))

    # the supervisor's console; the escalation pass raises the warnings, which arrive by themselves
    sup_ctx = desk(browser, site)
    sup = on_console(sup_ctx, site, "supervisor", errors)
    sup.wait_for_selector("#supervisor-view:not(.hidden)")
    sup.wait_for_selector("#live:not(.off)", timeout=15_000)
    assert sup.locator("#warnings tr[data-rule]").count() == 0
    assert tick(site, started + timedelta(hours=2), catalog) >= 5
    sup.wait_for_selector("#warnings tr[data-rule]", timeout=20_000)
    raised = sup.locator("#warnings tbody tr").count()
    assert raised >= 5, raised   # one for each department that did not report in
    # the township's own team is named by its township, not as the lists' one TOWN; the district says 全区
    team = f"{site.township_name.split('(')[0]}综合执法队"
    assert sup.locator("#warnings tbody tr", has_text=team).count() >= 1, sup.inner_text("#warnings")
    assert "全区" in sup.inner_text("#who"), sup.inner_text("#who")
    sup.screenshot(path=str(artifacts / "console-6-supervisor-warnings.png"), full_page=True)

    for ctx in (town_ctx, dept_ctx, sup_ctx):
        ctx.close()
    # the browser logs the refused check-in (422) itself; nothing else may go wrong
    assert [e for e in errors if "status of 422" not in e] == [] and len(errors) == 1, errors


def _whistled_resolution_due(site: Site, incident_id: str) -> datetime:
    """The lead's resolution due as the whistle set it (stored), read from the live database."""
    from sqlalchemy import text

    from gis_enforcement.storage.engine import make_engine

    engine = make_engine(site.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT resolution_due FROM assignment WHERE incident_id = :i AND role = 'lead'"),
                                {"i": incident_id}).scalar_one()  # type: ignore[no-any-return]
    finally:
        engine.dispose()


def _whistled_case(site: Site) -> str:
    """A case of the township, filed by the patrol and whistled by the township, through the API."""
    lon, lat = site.point
    feature = {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"category": CATEGORY, "observed_at": datetime.now(UTC).isoformat(),
                              "accuracy_m": 6, "reporter": site.users["patrol"], "description": "夜间偷排"}}
    with site.client("patrol") as c:
        assert c.post("/api/v1/incidents", json=feature).status_code == 201
    with site.client("township_dispatcher") as c:
        r = c.post(f"/api/v1/incidents/{feature['id']}/whistle", json={"mode": "township", "whistler": site.township})
        assert r.status_code in (200, 201), r.text
    return str(feature["id"])


def test_department_acts_and_resolves_township_verifies_rates_and_reopens(
        browser: Any, site: Site, artifacts: Path, tmp_path: Path, catalog: Catalog) -> None:
    errors = ConsoleErrors()
    incident_id = _whistled_case(site)
    lon, lat = site.point

    dept_ctx = desk(browser, site, geolocation={"longitude": lon, "latitude": lat, "accuracy": 5},
                    permissions=["geolocation"])
    dept = on_console(dept_ctx, site, "department_officer", errors)
    dept.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    dept.wait_for_selector("#report-in")
    def step(button: str, done: str) -> None:
        """Press a button of the assignment panel and wait for its answer, which must be a success."""
        dept.click(button)
        note = dept.wait_for_selector(f"#asg-msg .notice.bad, #asg-msg .notice.ok:has-text('{done}')")
        assert "ok" in (note.get_attribute("class") or ""), note.inner_text()

    step("#report-in", "已报到")
    # no record form before the department starts: it would only be refused
    assert dept.query_selector("#action-form") is None
    step("button:has-text('开始处置')", "开始处置")
    measures = list(listed_measures(catalog, CATEGORY))  # what the categories answer offers the page
    boxes = dept.locator("#measures input[type=checkbox]")
    assert boxes.count() == len(measures) > 1
    dept.check(f"#measures input[value='{measures[0]}']")
    dept.check("#measures input[value='罚款']")
    # the kind of action is chosen from the lists' kinds, by their Chinese names: no free text
    kinds = dept.locator("#action-type option")
    assert dept.evaluate("() => document.getElementById('action-type').tagName") == "SELECT"
    assert kinds.all_inner_texts() == ["请选择", *(k.zh for k in catalog.action_kinds.values())]
    assert [kinds.nth(i).get_attribute("value") for i in range(kinds.count())] == ["", *catalog.action_kinds]
    dept.fill("#action-penalty", "50000")
    dept.click("#record")   # no kind chosen: refused on the page, nothing sent
    dept.wait_for_selector("#asg-msg .notice.bad:has-text('请选择执法行为种类')")
    dept.select_option("#action-type", label="行政处罚")
    dept.screenshot(path=str(artifacts / "console-7a-record-measures.png"), full_page=True)
    # a follow-up begun before the record is sent survives the redraw the record's answer brings; what the
    # record sent is emptied
    dept.fill("#fu-task", "恢复原状后纳入日常巡查")
    dept.evaluate("() => document.getElementById('asg-msg').replaceChildren()")  # the refusal read: the next answer
    step("#record", "执法记录")
    assert dept.input_value("#fu-task") == "恢复原状后纳入日常巡查"
    # the open item clicked again (or an event about the case) with nothing new to show leaves the panel alone:
    # the very input being typed in stays, so no keystroke goes into a replaced one
    dept.evaluate("() => { document.getElementById('fu-task').dataset.kept = 'yes'; }")
    with dept.expect_response(lambda r: r.url.endswith("/photos") and r.request.method == "GET"):
        dept.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    dept.wait_for_timeout(300)  # the answer drawn, or not
    assert dept.evaluate("() => document.getElementById('fu-task').dataset.kept") == "yes"
    assert dept.input_value("#action-type") == "" and dept.input_value("#action-penalty") == ""
    assert dept.locator("#measures input[type=checkbox]:checked").count() == 0
    photo = tmp_path / "after.png"
    from PIL import Image
    Image.new("RGB", (40, 30), (10, 90, 160)).save(photo)
    dept.set_input_files("#asg-photo", str(photo))
    dept.wait_for_selector("#asg-msg .notice.ok:has-text('上传照片')")
    step("button:has-text('发送')", "要求街乡落实")
    assert dept.input_value("#fu-task") == ""
    step("button:has-text('本部门处置完毕')", "本部门处置完毕")
    # the lead's done assignment stays in the list until the case is reported resolved; opened again, it offers that
    done = dept.wait_for_selector(f"#assignments li[data-incident='{incident_id}'] .countdown")
    assert done.inner_text() == "已完成"   # its part done, the department owes no report-in: no clock runs
    dept.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    dept.wait_for_selector("#resolve-summary")
    assert dept.query_selector("#action-form") is None
    dept.fill("#resolve-summary", "已责令停产，设备查封")
    step("#resolve", "报告办结")
    dept.screenshot(path=str(artifacts / "console-7-department-resolved.png"))

    with site.client("supervisor") as c:
        case = c.get(f"/api/v1/incidents/{incident_id}").json()["properties"]
        kinds = [e["kind"] for e in c.get(f"/api/v1/incidents/{incident_id}/timeline").json()["events"]]
        photos = c.get(f"/api/v1/incidents/{incident_id}/photos").json()["data"]
    assert case["status"] == "resolved"
    for kind in ("report_in", "case_in_action", "enforcement_record", "follow_up_request", "resolve"):
        assert kind in kinds, kinds
    assert len(photos) == 1
    with site.client("supervisor") as c:
        events = c.get(f"/api/v1/incidents/{incident_id}/timeline").json()["events"]
    record = next(e for e in events if e["kind"] == "enforcement_record")
    # the chosen measures are in the record: what 职权履行率 counts
    assert record["payload"]["measures"] == [measures[0], "罚款"], record
    assert record["payload"]["action_type"] == "PENALTY"   # the kind's code is what the record keeps
    assert sum(e["kind"] == "enforcement_record" for e in events) == 1

    town_ctx = desk(browser, site)
    town = errors.watch(town_ctx.new_page())
    town.clock.install(time=datetime.now(UTC))   # the page clock is moved past the report-in deadline below
    town.goto("/app/console")
    sign_in(town, site.users["township_dispatcher"])
    town.click(f"#cases button.case[data-id='{incident_id}']")
    town.click("#detail button:has-text('核查通过')")
    town.wait_for_selector("#flash .notice.ok")
    lead_row = f"#detail tr[data-department='{site.department}']"
    # the header names the desk in words: the role and the township, not their codes
    town.wait_for_function("() => document.getElementById('who').textContent.includes('街乡调度员')")
    assert site.township not in town.inner_text("#who"), town.inner_text("#who")
    assert site.township_name in town.inner_text("#who"), town.inner_text("#who")
    # no score is chosen for the dispatcher: sending without choosing both is refused on the page
    assert town.locator(f"{lead_row} label:has-text('报到及时') select").input_value() == ""
    town.click(f"{lead_row} button:has-text('提交评价')")
    town.wait_for_selector("#flash .notice.bad:has-text('请先选择两项评分')")
    town.select_option(f"{lead_row} select >> nth=0", "4")
    town.select_option(f"{lead_row} select >> nth=1", "5")
    town.click(f"{lead_row} button:has-text('提交评价')")
    town.wait_for_selector("#flash .notice.ok:has-text('评价')")
    # rated once: the rating is shown instead of the form
    town.screenshot(path=str(artifacts / "console-8-rated.png"), full_page=True)
    town.wait_for_selector(f"{lead_row} .rated:has-text('报到及时 4')")
    assert town.locator(f"{lead_row} select").count() == 0
    # the assists never came: the township releases them (a reason is needed), then closes the case
    town.click("#detail tr[data-status=summoned] button.release >> nth=0")
    town.wait_for_selector("#flash .notice.bad:has-text('原因')")
    town.fill("#asg-reason", "主责部门已处置完毕，配合部门可撤离")
    while town.locator("#detail tr[data-status=summoned] button.release").count():
        before = town.locator("#detail tr[data-status=released]").count()
        town.click("#detail tr[data-status=summoned] button.release >> nth=0")
        town.wait_for_function(f"() => document.querySelectorAll('#detail tr[data-status=released]').length > {before}")
    # a released department owes no report-in any more: its countdown has stopped and says so, and stays so past
    # the deadline, when a department still summoned would turn red
    released = town.locator("#detail tr[data-status=released] .countdown")
    assert released.count() == 5
    assert released.all_inner_texts() == ["已放行"] * 5
    town.clock.fast_forward("31:00")
    town.wait_for_function("() => Date.now() > new Date(document.querySelector('#detail .countdown').dataset.due)")
    town.evaluate("() => new Promise((r) => setTimeout(r, 1500))")   # the countdowns tick once a second
    assert released.all_inner_texts() == ["已放行"] * 5
    assert town.locator("#detail tr.late, #detail .countdown.late").count() == 0
    lead_countdown = town.locator(f"{lead_row} .countdown")
    assert lead_countdown.inner_text() == "已完成"   # its part is done: nothing runs
    town.click("#close-case")
    town.wait_for_function("() => document.querySelector('#detail h2').textContent.includes('已结案')")
    town.screenshot(path=str(artifacts / "console-8a-released-closed.png"), full_page=True)
    town.fill("#reopen-reason", "复查发现夜间又有排放")
    town.click("#detail button:has-text('重新打开')")
    town.wait_for_function("() => document.querySelector('#detail h2').textContent.includes('重新打开')")
    # why it is open again, since when and by whom, what is owed now, and the case's record
    reopened_note = town.wait_for_selector("#detail .notice.reopened")
    said = reopened_note.inner_text()
    assert "复查发现夜间又有排放" in said and site.users["township_dispatcher"] in said, said
    assert "恢复处置" in said, said
    town.click("#detail details.history summary")
    assert "重新打开" in town.inner_text("#detail details.history ul")
    town.screenshot(path=str(artifacts / "console-8-reopened.png"))
    # the lead's page tells it the case came back to it, and offers to resume
    reopened_item = f"#assignments li[data-incident='{incident_id}']"
    dept.wait_for_selector(f"{reopened_item}:has-text('案件已重新打开，待本部门恢复处置')", timeout=20_000)
    dept.click(f"{reopened_item} button.case")
    dept.wait_for_selector("#resume")
    # resumed, the lead counts down to its resolution due as the API gives it: moved on by the time the case
    # waited resolved before the reopening (W05's rule), not the whistle's
    step("#resume", "恢复处置")
    clock = dept.wait_for_selector("#asg-detail .countdown[data-kind=resolution]")
    assert clock.inner_text().startswith("距办结期限"), clock.inner_text()
    with site.client("supervisor") as c:
        lead_asg = next(a for a in c.get(f"/api/v1/incidents/{incident_id}/assignments").json()["data"]
                        if a["role"] == "lead")
    assert clock.get_attribute("data-due") == lead_asg["resolution_due"]
    assert datetime.fromisoformat(lead_asg["resolution_due"]) > _whistled_resolution_due(site, incident_id)
    assert dept.locator(f"{reopened_item} .countdown[data-kind=resolution]").get_attribute("data-due") == \
        lead_asg["resolution_due"]

    with site.client("supervisor") as c:
        events = c.get(f"/api/v1/incidents/{incident_id}/timeline").json()["events"]
    kinds = [e["kind"] for e in events]
    assert "verify" in kinds and "rating" in kinds and "release" in kinds and "close" in kinds, kinds
    assert kinds[-2:] == ["reopen", "resume"], kinds
    rating = next(e for e in events if e["kind"] == "rating")
    assert rating["actor"] == site.users["township_dispatcher"]
    for ctx in (dept_ctx, town_ctx):
        ctx.close()
    assert errors == []


def on_console(context: Any, site: Site, role: str, errors: ConsoleErrors) -> Any:
    """A new page of ``context`` on the console, signed in as the site's user of ``role``, watched by ``errors``."""
    page = errors.watch(context.new_page())
    page.goto("/app/console")
    sign_in(page, site.users[role])
    return page


def _file(site: Site, lon: float, lat: float, text: str) -> str:
    feature = {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"category": CATEGORY, "observed_at": datetime.now(UTC).isoformat(), "accuracy_m": 5,
                              "reporter": site.users["patrol"], "description": text}}
    with site.client("patrol") as c:
        r = c.post("/api/v1/incidents", json=feature)
        assert r.status_code == 201, r.text
    return str(feature["id"])


def _point_across_the_border(site: Site, locator: Locator) -> tuple[float, float]:
    """A point in a neighbouring township, flagged near the border of the site's township."""
    for lon0 in np.linspace(site.point[0] - 0.08, site.point[0] + 0.08, 81):
        for lat0 in np.linspace(site.point[1] - 0.06, site.point[1] + 0.06, 61):
            p = locator.locate_one(float(lon0), float(lat0), 10)
            if p.township_code not in (None, site.township) and site.township in p.border_townships:
                return float(lon0), float(lat0)
    raise AssertionError("no border point found near the site's village")


def test_a_neighbours_border_case_is_marked_and_read_only(browser: Any, site: Site, locator: Locator) -> None:
    errors = ConsoleErrors()
    lon, lat = _point_across_the_border(site, locator)
    incident_id = _file(site, lon, lat, "界河边倾倒渣土")
    ctx = desk(browser, site)
    town = on_console(ctx, site, "township_dispatcher", errors)
    card = town.wait_for_selector(f"#cases button.case[data-id='{incident_id}']")
    assert "邻街乡" in card.inner_text()
    card.click()
    town.wait_for_selector("#detail table")
    assert town.query_selector("#whistle") is None   # a neighbour reads the case; its own township whistles
    # and the page says so: whose it is, who whistles
    said = town.wait_for_selector("#neighbour-case").inner_text()
    with site.client("township_dispatcher") as c:
        theirs = c.get(f"/api/v1/incidents/{incident_id}").json()["properties"]["township_name"]
    assert said.startswith("此案件属") and theirs in said, said
    ctx.close()
    assert errors == []


def test_supervisor_opens_the_maps_and_executes_a_plan(browser: Any, site: Site, artifacts: Path,
                                                       locator: Locator) -> None:
    errors = ConsoleErrors()
    # one open case for the plan, away from the cases the other tests filed and whistled at the site's point (a
    # case within the duplicate radius of those would join their target, where every department is summoned)
    lon, lat = site.point[0] + 0.004, site.point[1] + 0.003
    assert locator.locate_one(lon, lat).township_code == site.township
    target = _file(site, lon, lat, "联合执法目标")
    with site.client("supervisor") as c:
        # a whole day from now: the category's daily inspection window falls in it whatever the hour of the run
        r = c.post("/api/v1/plans", json={"start": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                                          "hours": 24, "townships": [site.township], "categories": [CATEGORY],
                                          "from_township": site.township})
        assert r.status_code == 201, r.text
        plan_id = r.json()["plan"]["id"] if "plan" in r.json() else r.json()["properties"]["id"]
    env = {**os.environ, "DATABASE_URL": site.database_url, "GISE_MAPS_DIR": str(site.maps_dir)}
    subprocess.run([sys.executable, "-m", "gis_enforcement", "map", "townships"], env=env, check=True,
                   capture_output=True, timeout=180)

    ctx = desk(browser, site)
    sup = on_console(ctx, site, "supervisor", errors)
    # the maps are listed by their Chinese titles, each saying when it was written
    button = sup.wait_for_selector("#maps button[data-map='townships']")
    assert "平谷区" in button.inner_text() and "生成于" in (button.get_attribute("title") or ""), button.inner_text()
    button.click()
    frame = sup.frame_locator("#map-frame")
    frame.locator(".leaflet-container").wait_for()
    # the whole page, its legends beside the map, opens on its own
    assert sup.get_attribute("#map-open a", "href") == "/maps/townships"
    sup.click(f"#plans button[data-plan='{plan_id}']")
    sup.wait_for_selector(f"#flash .notice.ok:has-text('#{plan_id}')")
    sup.wait_for_selector("#plans td:has-text('已执行')")
    sup.screenshot(path=str(artifacts / "console-9-plan-executed.png"), full_page=True)
    with site.client("supervisor") as c:
        plan = next(p for p in c.get("/api/v1/plans").json()["data"] if p["id"] == plan_id)
        whistles = c.get("/api/v1/events", params={"kind": "whistle", "limit": 1000}).json()["data"]
    assert plan["status"] == "executed" and plan["whistle_ids"], plan
    # the new case was whistled by the plan; a target whose departments the earlier tests all summoned is skipped
    whistled = {e["incident_id"] for e in whistles if e["payload"]["whistle_id"] in plan["whistle_ids"]}
    assert target in whistled and len(whistled) <= plan["target_count"], (whistled, plan)
    ctx.close()
    assert errors == []


def _stored_plan(site: Site, start: datetime, targets: list[dict[str, Any]]) -> int:
    """A plan stored in the live database (committed), for ``start`` and 12 hours, with these targets."""
    from sqlalchemy.orm import Session

    from gis_enforcement.storage import analysis_repo
    from gis_enforcement.storage.engine import make_engine

    period = {"period_start": start.isoformat(), "period_end": (start + timedelta(hours=12)).isoformat()}
    engine = make_engine(site.database_url)
    try:
        with Session(engine) as session:
            plan_id = analysis_repo.insert_plan(
                session, catalog_version="test", parameters={**period, "townships": [site.township]},
                targets=targets, waiting=[{"target_id": "w", "reason": "staff"}], staffing=[],
                route={"type": "FeatureCollection", "features": [], "plan": period})
            session.commit()
    finally:
        engine.dispose()
    return plan_id


def test_the_plan_table_shows_the_period_names_and_what_can_run(browser: Any, site: Site, artifacts: Path,
                                                                 catalog: Catalog) -> None:
    errors = ConsoleErrors()
    zone = ZoneInfo(Settings().timezone)   # the live server's (the default)
    other = next(c for c in catalog.departments if c != site.department)
    departments = sorted([site.department, other])
    target = {"target_id": "t1", "order": 1, "departments": departments}
    now = datetime.now(zone).replace(second=0, microsecond=0)
    over = _stored_plan(site, now - timedelta(days=2), [target])
    empty = _stored_plan(site, now + timedelta(hours=3), [])
    ready_start = now + timedelta(hours=1)
    ready = _stored_plan(site, ready_start, [target])

    ctx = desk(browser, site, timezone_id="America/New_York")   # the district's clock, not the browser's
    sup = on_console(ctx, site, "supervisor", errors)
    sup.wait_for_selector("#plans table")
    heads = sup.locator("#plans thead th").all_inner_texts()

    def cells(plan_id: int) -> dict[str, str]:
        """The row of a plan, by its id (the first column), cell by heading."""
        texts = sup.evaluate("(id) => [...document.querySelectorAll('#plans tbody tr')].filter((r) => "
                             "r.cells[0].textContent === String(id)).map((r) => [...r.cells].map((c) => c.innerText))",
                             plan_id)
        assert len(texts) == 1, (plan_id, texts)
        return dict(zip(heads, texts[0], strict=True))

    assert "行动时段" in heads and "制定时间" not in heads, heads
    shown = cells(ready)
    assert shown["行动时段"] == f"{ready_start:%m/%d %H:%M} – {ready_start + timedelta(hours=12):%m/%d %H:%M}", shown
    names = [catalog.departments[d].zh for d in departments]
    assert shown["部门"] == "、".join(names) and site.department not in shown["部门"], shown
    assert sup.locator(f"#plans button[data-plan='{ready}']").count() == 1
    # a plan whose period is over, and one with no planned target, offer no execution and say why
    for plan_id, why in ((over, "已过期"), (empty, "无目标")):
        assert sup.locator(f"#plans button[data-plan='{plan_id}']").count() == 0, plan_id
        assert cells(plan_id)[""] == why, cells(plan_id)
    sup.screenshot(path=str(artifacts / "console-9a-plan-table.png"), full_page=True)
    ctx.close()
    assert errors == []


def test_a_report_in_without_the_position_says_why_in_words(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    incident_id = _whistled_case(site)
    ctx = desk(browser, site)   # the officer has not allowed the page the position: the browser denies it
    dept = on_console(ctx, site, "department_officer", errors)
    dept.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    dept.click("#report-in")
    said = dept.wait_for_selector("#asg-msg .notice.bad").inner_text()
    assert said.startswith("定位权限被拒绝"), said   # the patrol page's words, not the browser's message
    assert "denied" not in said.lower(), said
    with site.client("department_officer") as c:
        asg = c.get(f"/api/v1/incidents/{incident_id}/assignments").json()["data"]
    assert not next(a for a in asg if a["department"] == site.department)["reported_in_at"]
    ctx.close()
    assert errors == []


def test_a_chief_declines_a_whistle_and_the_township_overrules_it(browser: Any, site: Site, artifacts: Path) -> None:
    errors = ConsoleErrors()
    incident_id = _whistled_case(site)
    chief_ctx = desk(browser, site)
    chief = on_console(chief_ctx, site, "department_chief", errors)
    chief.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    chief.wait_for_selector("#decline-form")
    # a decline needs a reason, asked for on the page before anything is sent
    chief.click("#decline")
    chief.wait_for_selector("#asg-msg .notice.bad:has-text('原因')")
    # the lists name this department lead for the category: without a ground the server refuses (W06), the
    # page says why on which field, and the reason typed is kept
    reason = "排放源为工业企业生产线，应由经信部门牵头"
    chief.fill("#decline-reason", reason)
    chief.click("#decline")
    refusal = chief.wait_for_selector("#asg-msg .notice.bad:has-text('W06')").inner_text()
    assert refusal.startswith("退单依据：本部门是清单所列主责部门，退单须选择依据"), refusal
    assert "维持主责（W06）" in refusal, refusal
    assert chief.input_value("#decline-reason") == reason
    chief.select_option("#decline-ground", "wrong_category")
    chief.click("#decline")
    chief.wait_for_selector("#asg-msg .notice.ok:has-text('退单')")
    # declined, the assignment owes no report-in: its countdown has stopped and says so; it leaves the list
    countdown = chief.locator("#asg-detail .countdown")
    assert countdown.inner_text() == "已退单"
    assert "late" not in (countdown.get_attribute("class") or "")
    assert chief.query_selector("#decline-form") is None and chief.query_selector("#report-in") is None
    chief.wait_for_selector(f"#assignments li[data-incident='{incident_id}']", state="detached")
    chief.screenshot(path=str(artifacts / "console-10-chief-declined.png"))

    town_ctx = desk(browser, site)
    town = on_console(town_ctx, site, "township_dispatcher", errors)
    town.click(f"#cases button.case[data-id='{incident_id}']")
    row = f"#detail tr[data-department='{site.department}']"
    town.wait_for_selector(f"{row}[data-status=declined]")
    assert reason in town.inner_text(row) and "已退单" in town.inner_text(row)
    assert town.inner_text(f"{row} .countdown") == "已退单"
    town.screenshot(path=str(artifacts / "console-11-township-sees-decline.png"))
    # overruling needs a reason too; given one, the department is summoned again and its countdown runs
    town.click(f"{row} button.overrule")
    town.wait_for_selector("#flash .notice.bad:has-text('原因')")
    town.fill("#asg-reason", "案件类别无误，退单无效、维持主责")
    town.click(f"{row} button.overrule")
    town.wait_for_selector(f"{row}[data-status=summoned]")
    town.wait_for_function(f"() => /^\\d+:\\d\\d$/.test(document.querySelector(\"{row} .countdown\").textContent)")
    # the department sees the whistle back on its list and in the panel it has open
    chief.wait_for_selector(f"#assignments li[data-incident='{incident_id}']", timeout=20_000)
    chief.wait_for_selector("#asg-detail #decline-form", timeout=20_000)

    with site.client("supervisor") as c:
        events = c.get(f"/api/v1/incidents/{incident_id}/timeline").json()["events"]
    decline = next(e for e in events if e["kind"] == "decline")
    assert decline["actor"] == site.users["department_chief"]
    assert decline["payload"]["ground"] == "wrong_category" and decline["payload"]["reason"] == reason, decline
    assert [e["kind"] for e in events][-1] == "overrule"
    for ctx in (chief_ctx, town_ctx):
        ctx.close()
    # the browser logs the refused decline (422) itself; nothing else may go wrong
    assert [e for e in errors if "status of 422" not in e] == [] and len(errors) == 1, errors


def test_a_patrol_on_the_console_is_sent_to_the_patrol_page(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    ctx = desk(browser, site)
    page = on_console(ctx, site, "patrol", errors)
    note = page.wait_for_selector("#flash .notice.info")
    assert "巡查员请使用巡查上报页面" in note.inner_text()
    link = page.locator("#flash a#to-patrol")
    assert link.get_attribute("href") == "/app/patrol" and "/app/patrol" in link.inner_text()
    for desk_view in ("#township-view", "#department-view", "#supervisor-view", "#live"):
        assert page.is_hidden(desk_view), desk_view
    link.click()
    page.wait_for_url("**/app/patrol")
    page.wait_for_selector(f"#cat-list button[data-code='{CATEGORY}']")   # still signed in
    ctx.close()
    assert errors == []


#: the evaluation's columns as the page labels them (a subset: enough to find every cell by its label)
EVAL_LABELS = {"rank": "排名", "name": "名称", "score": "得分", "on_time_rate": "报到及时率",
               "report_in_rate": "报到率", "duty_rate": "职权履行率", "resolution_rate": "办结率",
               "outcome_rate": "解决不反弹率", "adequate_rate": "执法到位率", "rating_score": "街乡评价",
               "whistles": "接哨数"}


def test_the_supervisors_evaluation_table_is_labelled_and_shows_a_dash_for_none(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    ctx = desk(browser, site)
    sup = on_console(ctx, site, "supervisor", errors)
    sup.wait_for_selector("#evaluation table tbody tr")
    period = sup.input_value("#eval-period")
    with site.client("supervisor") as c:
        answer = c.get("/api/v1/evaluation", params={"period": period, "by": "department"}).json()
    rows = answer["data"]
    heads = sup.locator("#evaluation thead th").all_inner_texts()
    assert heads.index("排名") < heads.index("名称") < heads.index("得分"), heads
    assert sup.locator("#evaluation tbody tr").count() == len(rows)
    checked = small = 0
    for r in rows:
        cells = sup.locator(f"#evaluation tbody tr[data-unit='{r['department']}'] td").all_inner_texts()
        by_label = dict(zip(heads, cells, strict=True))
        assert by_label["名称"], r
        # a unit scored on too few whistles is not ranked, and says so; a deduction reads as one
        if r.get("small_sample"):
            assert by_label["排名"] == "样本少", (r, by_label)
            small += 1
        # the deduction is per 100 occasions (so a busy body is not charged for its volume), beside the points
        assert by_label["扣分(每百次)"] == (f"−{r['deduction']:.1f}" if r["deduction"] else "0.0"), (r, by_label)
        assert by_label["警示分"] == f"{r['warning_points']:g}", (r, by_label)
        assert by_label["扣前得分"] == ("—" if r["score_base"] is None else f"{r['score_base']:.1f}"), (r, by_label)
        for key, label in EVAL_LABELS.items():
            if key == "rank" and r.get("small_sample"):
                continue  # said above: 样本少
            if key in r and r[key] is None:
                assert by_label[label] == "—", (key, r, by_label)
                checked += 1
            elif key.endswith("_rate") and r.get(key) is not None:
                assert by_label[label] == f"{r[key] * 100:.1f}%", (key, r, by_label)
    assert checked, "no missing figure in the evaluation: the dash was not seen"
    assert small == sum(bool(r.get("small_sample")) for r in rows)
    # what a reader must know (how the score is made, or that the period holds nothing) under the table
    assert answer["notes"] and sup.locator("#evaluation .eval-note").all_inner_texts() == answer["notes"]
    ctx.close()
    assert errors == []


def test_times_are_shown_on_the_districts_clock_whatever_the_browsers_zone(browser: Any, site: Site) -> None:
    errors = ConsoleErrors()
    zone = Settings().timezone   # what the live server reads (no GISE_TIMEZONE in its environment: the default)
    incident_id = _whistled_case(site)
    with site.client("township_dispatcher") as c:
        asg = c.get(f"/api/v1/incidents/{incident_id}/assignments").json()["data"]
    due = next(a for a in asg if a["department"] == site.department)["report_in_due"]
    district = datetime.fromisoformat(due).astimezone(ZoneInfo(zone))
    faraway = datetime.fromisoformat(due).astimezone(ZoneInfo("America/New_York"))
    assert f"{district:%m/%d %H:%M}" != f"{faraway:%m/%d %H:%M}"

    ctx = desk(browser, site, timezone_id="America/New_York")
    town = errors.watch(ctx.new_page())
    town.goto("/app/console")
    assert town.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"
    assert town.get_attribute("meta[name=gise-timezone]", "content") == zone
    sign_in(town, site.users["township_dispatcher"])
    town.click(f"#cases button.case[data-id='{incident_id}']")
    row = f"#detail tr[data-department='{site.department}']"
    town.wait_for_selector(row)
    heads = town.locator("#detail table >> nth=1").locator("thead th").all_inner_texts()
    shown = town.locator(f"{row} td").nth(heads.index("报到截止")).inner_text()
    assert shown == f"{district:%m/%d %H:%M}", (shown, due)

    dept_ctx = desk(browser, site, timezone_id="America/New_York")
    dept = on_console(dept_ctx, site, "department_officer", errors)
    dept.click(f"#assignments li[data-incident='{incident_id}'] button.case")
    dept.wait_for_selector("#asg-detail .countdown")
    assert f"报到截止: {district:%m/%d %H:%M}" in dept.inner_text("#asg-detail"), dept.inner_text("#asg-detail")
    for c in (ctx, dept_ctx):
        c.close()
    assert errors == []
