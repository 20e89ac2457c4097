"""The escalation pass on a real PostGIS: W01 late, W02 no-show, W05 80 %/100 %, W07 repeats — each once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.dispatch.helpers import METRE, T0, new_case


def rules(rows) -> list[tuple[str, str]]:
    return sorted((w["rule_code"], w["subject_code"]) for w in rows)


def test_late_and_absent_then_idempotent(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    lead, assists = result.assignments[0], result.assignments[1:]
    assert tick(db, catalog=catalog, now=T0 + timedelta(minutes=40)) == []  # nobody is late for W02 yet
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x, lat=y,
                      accuracy_m=5, server_time=T0 + timedelta(minutes=45))
    raised = tick(db, catalog=catalog, now=T0 + timedelta(minutes=61))
    assert rules(raised) == sorted([("W01", lead.department)] + [("W02", a.department) for a in assists])
    w01 = next(w for w in raised if w["rule_code"] == "W01")
    assert w01["detail"]["minutes_late"] == 15.0 and w01["level"] == "yellow" and w01["consequence"]
    assert tick(db, catalog=catalog, now=T0 + timedelta(minutes=61)) == []
    assert tick(db, catalog=catalog, now=T0 + timedelta(minutes=90)) == []
    assert db.execute(text("SELECT count(*) FROM warning")).scalar_one() == len(raised)
    assert verify_case_record(db, incident_id=inc.id) is None
    events, _ = dispatch_repo.events_of(db, incident_id=inc.id)
    assert sum(e.kind == "warning" for e in events) == len(raised)


def lead_on_site(db: Session, locator: Locator, catalog: Catalog, site) -> tuple[Any, float]:
    """A case whistled at T0 to its lead only, the lead reported in 10 minutes later; and its resolution hours."""
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0,
            only_departments=[inc.lead_department])
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=inc.lead_department, lon=x, lat=y,
                      accuracy_m=5, server_time=T0 + timedelta(minutes=10))
    return inc, inc.plan[0].resolution_hours


def test_overdue_resolution_yellow_then_red(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    inc, hours = lead_on_site(db, locator, catalog, site)
    assert tick(db, catalog=catalog, now=T0 + timedelta(hours=hours * 0.79)) == []
    yellow = tick(db, catalog=catalog, now=T0 + timedelta(hours=hours * 0.81))
    assert [(w["rule_code"], w["level"]) for w in yellow] == [("W05", "yellow")]
    red = tick(db, catalog=catalog, now=T0 + timedelta(hours=hours + 1))
    assert [(w["rule_code"], w["level"]) for w in red] == [("W05", "red")]
    assert tick(db, catalog=catalog, now=T0 + timedelta(hours=hours + 2)) == []


def test_third_absence_in_a_year_raises_w07_once(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    cases = [new_case(db, locator, catalog, x + i * 300 * METRE, y) for i in range(3)]
    assist = cases[0].plan[1].department
    for i, inc in enumerate(cases):
        whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township,
                at=T0 + timedelta(days=i), only_departments=[inc.lead_department, assist])
    first = tick(db, catalog=catalog, now=T0 + timedelta(minutes=70))
    assert ("W07", assist) not in rules(first)  # one absence so far
    later = tick(db, catalog=catalog, now=T0 + timedelta(days=2, minutes=70))
    assert ("W07", assist) in rules(later)
    assert all(w["rule_code"] != "W07" for w in tick(db, catalog=catalog, now=T0 + timedelta(days=3)))


def test_a_case_closed_without_a_record_raises_w10_once(db, locator, catalog, site, settings) -> None:
    from datetime import timedelta

    from gis_enforcement.dispatch import on_site, resolution
    from gis_enforcement.dispatch.escalation import tick
    from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
    from tests.dispatch.helpers import T0, new_case, photo_on_case

    x, y, township = site
    cases = []
    for photographed in (False, True):
        inc = new_case(db, locator, catalog, x, y)
        photos = ([{"slot": "after", "sha256": photo_on_case(db, inc.id, settings.photos_dir, slot="after")}]
                  if photographed else [])
        w = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
        lead = w.assignments[0].department
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead, lon=x, lat=y, accuracy_m=5,
                          server_time=T0 + timedelta(minutes=10))
        on_site.start_action(db, incident_id=inc.id, department=lead, at=T0 + timedelta(minutes=20))
        rule = catalog.rule(inc.rule_code)
        on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type="现场检查",
                              officer="执法员", acted_at=T0 + timedelta(minutes=30), measures=[rule.measures[0]],
                              photos=photos)
        on_site.complete(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=1))
        resolution.resolve(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=1), summary="已处置")
        for a in w.assignments[1:]:
            on_site.release(db, incident_id=inc.id, department=a.department, reason="主责已处置",
                            at=T0 + timedelta(hours=1))
        status, _ = resolution.verify(db, incident_id=inc.id, township=township, at=T0 + timedelta(hours=2))
        assert status.value == "closed"
        cases.append((inc, lead))
    # the pass reads recent closures only: none closed since 2 h 01 min after T0
    from gis_enforcement.storage import warning_repo
    assert warning_repo.unrecorded_closures(db, closed_since=T0 + timedelta(hours=2, minutes=1)).empty
    assert len(warning_repo.unrecorded_closures(db, closed_since=T0 + timedelta(hours=2))) == 1
    raised = [w for w in tick(db, catalog=catalog, now=T0 + timedelta(hours=3)) if w["rule_code"] == "W10"]
    (bare, lead), _ = cases
    assert [(w["incident_id"], w["subject_code"]) for w in raised] == [(bare.id, lead)]
    assert raised[0]["detail"]["missing"] == ["photographed record"]
    assert not [w for w in tick(db, catalog=catalog, now=T0 + timedelta(hours=4)) if w["rule_code"] == "W10"]


def test_a_photo_the_lead_added_to_the_case_counts_as_its_photographed_record(db, locator, catalog, site) -> None:
    """The desk records an action and uploads the on-site photo separately (上传照片): that photo, added by an
    officer of the lead department once summoned, is the photographed record; one added by someone else is not."""
    from gis_enforcement.dispatch import on_site, resolution
    from gis_enforcement.storage import photo_repo, user_repo

    x, y, township = site
    cases = []
    for k, by_lead in enumerate((True, False)):
        inc = new_case(db, locator, catalog, x, y)
        w = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
        lead = w.assignments[0].department
        uploader = f"w10_{'lead' if by_lead else 'town'}_{k}"
        user_repo.insert_user(db, username=uploader, display_name=None,
                              role="department_officer" if by_lead else "township_dispatcher",
                              unit_kind="department" if by_lead else "township",
                              unit_code=lead if by_lead else township, password_hash="x")
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead, lon=x, lat=y, accuracy_m=5,
                          server_time=T0 + timedelta(minutes=10))
        on_site.start_action(db, incident_id=inc.id, department=lead, at=T0 + timedelta(minutes=20))
        on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type="现场检查",
                              officer="执法员", acted_at=T0 + timedelta(minutes=30),
                              measures=[catalog.rule(inc.rule_code).measures[0]])  # no photo in the record
        sha = f"{k + 1:x}" * 64
        photo_repo.insert_photo(db, sha256=sha, media_type="image/jpeg", size=10, width=4, height=3, taken_at=None,
                                lon=None, lat=None, camera=None)
        photo_repo.link_photo(db, incident_id=inc.id, sha256=sha, added_by=uploader, at=T0 + timedelta(minutes=35))
        on_site.complete(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=1))
        resolution.resolve(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=1), summary="已处置")
        for a in w.assignments[1:]:
            on_site.release(db, incident_id=inc.id, department=a.department, reason="主责已处置",
                            at=T0 + timedelta(hours=1))
        resolution.verify(db, incident_id=inc.id, township=township, at=T0 + timedelta(hours=2))
        cases.append(inc.id)
    raised = [w for w in tick(db, catalog=catalog, now=T0 + timedelta(hours=3)) if w["rule_code"] == "W10"]
    assert [w["incident_id"] for w in raised] == [cases[1]]  # only the case whose photo the township added


def test_the_repeat_year_is_the_districts_calendar_year(db: Session) -> None:
    """A no-show raised at 00:30 on New Year's Day in Beijing (16:30 UTC the day before) counts in the new year
    of the district; read in another zone it falls in the old one."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from gis_enforcement.domain.escalation import WarningDraft
    from gis_enforcement.storage import warning_repo

    at = datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    drafts = [WarningDraft("W02", "red", "department", "ZONE_TEST_DEPT", f"W02:zone-test:{i}") for i in range(3)]
    warning_repo.insert_warnings(db, drafts=drafts, raised_at=at, consequences={}, notify={})

    def year(tz: str | None) -> list[tuple[int, int]]:
        counts = warning_repo.late_or_absent_counts(db, tz=tz)
        mine = counts[counts["department"] == "ZONE_TEST_DEPT"]
        return list(zip(mine["year"].tolist(), mine["n"].tolist(), strict=True))

    assert year(None) == [(2027, 3)] == year("Asia/Shanghai")
    assert year("UTC") == [(2026, 3)]


def test_an_assist_still_summoned_when_the_case_was_resolved_is_no_show_only_if_it_stayed_open_an_hour(
        db: Session, locator: Locator, catalog: Catalog, site) -> None:
    from gis_enforcement.dispatch import resolution

    x, y, township = site
    assists_of = {}
    for resolved_after in (35, 70):
        inc = new_case(db, locator, catalog, x, y)
        w = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
        lead = w.assignments[0].department
        assert len(w.assignments) > 1
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead, lon=x, lat=y, accuracy_m=5,
                          server_time=T0 + timedelta(minutes=10))
        on_site.start_action(db, incident_id=inc.id, department=lead, at=T0 + timedelta(minutes=15))
        on_site.complete(db, incident_id=inc.id, department=lead, at=T0 + timedelta(minutes=resolved_after))
        resolution.resolve(db, incident_id=inc.id, department=lead, at=T0 + timedelta(minutes=resolved_after),
                           summary="已处置")
        assists_of[resolved_after] = (inc.id, sorted(a.department for a in w.assignments[1:]))
    raised = [w for w in tick(db, catalog=catalog, now=T0 + timedelta(minutes=75)) if w["rule_code"] == "W02"]
    by_case = {case: sorted(w["subject_code"] for w in raised if w["incident_id"] == case)
               for case, _ in assists_of.values()}
    quick, _ = assists_of[35]
    slow, slow_assists = assists_of[70]
    assert by_case[quick] == []                       # resolved 35 min after the whistle: nothing left to come to
    assert by_case[slow] == slow_assists              # the case stayed open 70 min and they never came
    # hours later nothing changes: the resolved case's clock stopped at its resolution
    later = tick(db, catalog=catalog, now=T0 + timedelta(hours=6))
    assert not [w for w in later if w["rule_code"] == "W02" and w["incident_id"] == quick]


def test_a_reopened_case_runs_the_no_show_clock_again() -> None:
    import pandas as pd

    from gis_enforcement.domain.escalation import escalate

    base = {"assignment_id": 1, "incident_id": "c", "department": "WATER", "role": "assist", "status": "summoned",
            "summoned_at": T0, "report_in_due": T0 + timedelta(minutes=30), "resolution_due": None,
            "reported_in_at": None, "township_code": "110117003", "lead_paused_s": None}
    resolved = pd.DataFrame([{**base, "case_status": "resolved", "case_resolved_at": T0 + timedelta(minutes=20)}])
    reopened = pd.DataFrame([{**base, "case_status": "reopened", "case_resolved_at": None}])
    now = T0 + timedelta(minutes=90)
    assert [d.rule_code for d in escalate(resolved, now=now)] == []
    assert [d.rule_code for d in escalate(reopened, now=now)] == ["W02"]


def test_a_yellow_overtaken_by_the_red_in_one_pass_is_not_raised() -> None:
    import pandas as pd

    from gis_enforcement.domain.escalation import escalate

    lead = pd.DataFrame([{"assignment_id": 7, "incident_id": "c", "department": "WATER", "role": "lead",
                          "status": "acting", "summoned_at": T0, "report_in_due": T0 + timedelta(minutes=30),
                          "resolution_due": T0 + timedelta(hours=4), "reported_in_at": T0 + timedelta(minutes=9),
                          "case_status": "in_action", "township_code": "110117003", "case_resolved_at": None,
                          "lead_paused_s": None}])
    assert [(d.rule_code, d.level) for d in escalate(lead, now=T0 + timedelta(hours=3.3))] == [("W05", "yellow")]
    assert [(d.rule_code, d.level) for d in escalate(lead, now=T0 + timedelta(hours=5))] == [("W05", "red")]


def test_a_reopened_case_does_not_charge_the_lead_for_the_time_it_waited_resolved(
        db: Session, locator: Locator, catalog: Catalog, site) -> None:
    from gis_enforcement.dispatch import resolution

    _, _, township = site
    inc, hours = lead_on_site(db, locator, catalog, site)
    on_site.start_action(db, incident_id=inc.id, department=inc.lead_department, at=T0 + timedelta(minutes=20))
    resolved = T0 + timedelta(hours=hours * 0.5)  # half its time used
    on_site.complete(db, incident_id=inc.id, department=inc.lead_department, at=resolved)
    resolution.resolve(db, incident_id=inc.id, department=inc.lead_department, at=resolved, summary="已处置")
    reopened = resolved + timedelta(days=2)
    resolution.reopen(db, incident_id=inc.id, township=township, reason="整改不到位", at=reopened)
    w05 = lambda rows: [(w["rule_code"], w["level"]) for w in rows if w["rule_code"] == "W05"]  # noqa: E731
    assert w05(tick(db, catalog=catalog, now=reopened + timedelta(minutes=1))) == []  # half used, as when resolved
    yellow = tick(db, catalog=catalog, now=reopened + timedelta(hours=hours * 0.35))  # 85 % used
    assert w05(yellow) == [("W05", "yellow")]
    assert yellow[0]["detail"]["paused_hours"] == pytest.approx(48, abs=0.01)
    assert w05(tick(db, catalog=catalog, now=reopened + timedelta(hours=hours * 0.55))) == [("W05", "red")]


def test_the_repeat_rule_counts_each_townships_team_apart(db: Session, locator: Locator, catalog: Catalog,
                                                          jurisdiction) -> None:  # type: ignore[no-untyped-def]
    """W07 (3 late or absent in a year) for a township team is that township's team's: three no-shows in
    township A warn A's team; two in B do not, and the five together are no department's."""
    villages = jurisdiction.villages
    va = villages.iloc[20]
    vb = villages[villages["township_code"] != va["township_code"]].iloc[0]
    for v, n in ((va, 3), (vb, 2)):
        for k in range(n):
            inc = new_case(db, locator, catalog, v.geometry.x + 0.001 * k, v.geometry.y, category="ENV-01")
            whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=v["township_code"], at=T0)
    raised = tick(db, catalog=catalog, now=T0 + timedelta(hours=3))
    teams = [w for w in raised if w["rule_code"] == "W07" and w["subject_code"] == "TOWN"]
    assert [(w["detail"]["township"], w["detail"]["late_or_absent"]) for w in teams] == [(va["township_code"], 3)]
    assert teams[0]["dedupe_key"] == f"W07:TOWN@{va['township_code']}:2026"
    # a district department summoned to all five is one department: its five count together
    others = {w["subject_code"] for w in raised if w["rule_code"] == "W07"} - {"TOWN"}
    assert "ECO" in others
