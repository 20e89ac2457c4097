"""W13 分拣超时: a report its township leaves untriaged past the lists' ``triage_within_hours`` warns the township
once — counted from the report's receipt, as 分拣及时率 counts it; a report whistled, declined or marked a
duplicate in time is not warned, one filed as 类别待定 is until it is named (改类), and one outside the district
is on no township's desk. The township evaluation charges the warning's points with no change of its own."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from uuid import uuid4

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.analysis.evaluate_service import evaluate
from gis_enforcement.dispatch import triage
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.escalation import UNTRIAGED_RULE, untriaged_reports
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo, incident_repo, warning_repo
from tests.api.callers import ADMIN, SwitchedClient, switched_client
from tests.dispatch.helpers import METRE, TZ, new_case

#: when the reports of these tests came in (the intake stamps the wall clock; the tests set it)
RECEIVED = datetime(2026, 5, 12, 23, 10, tzinfo=TZ)
H = timedelta(hours=1)


def w13(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [w for w in rows if w["rule_code"] == UNTRIAGED_RULE]


# -- the rule, pure --------------------------------------------------------------------------------------------
def test_the_rule_warns_a_report_left_untriaged_from_its_receipt() -> None:
    now = datetime(2026, 6, 2, 12, 0, tzinfo=TZ)
    reports = pd.DataFrame({
        "incident_id": ["late", "exactly", "not-yet", "outside"],
        "township_code": ["T1", "T2", "T1", None],
        "category": ["ENV-01", "OTH-00", "MIN-01", "ENV-03"],
        "received_at": [now - 30 * H, now - 24 * H, now - 23.9 * H, now - 40 * H],
    }, index=[7, 3, 9, 1])  # any index: the frame is read by position
    drafts = untriaged_reports(reports, now=now, within_hours=24)
    assert [(d.rule_code, d.subject_kind, d.subject_code, d.dedupe_key, d.incident_id, d.level) for d in drafts] == [
        ("W13", "township", "T1", "W13:late", "late", "yellow"),
        ("W13", "township", "T2", "W13:exactly", "exactly", "yellow"),  # at the limit it is late, as 分拣及时率 says
    ]
    assert dict(drafts[0].detail) == {"category": "ENV-01", "received_at": "2026-05-31T22:00:00+00:00",
                                      "triage_due": "2026-06-01T22:00:00+00:00", "hours_waiting": 30.0}
    # the lists' window: 48 hours, and only the 'outside' report is that old — but it has no township
    assert untriaged_reports(reports, now=now, within_hours=48) == []
    assert untriaged_reports(reports.iloc[:0], now=now, within_hours=24) == []
    with pytest.raises(Exception, match="now"):
        untriaged_reports(reports, now=datetime(2026, 6, 2, 12, 0), within_hours=24)


def test_the_shipped_lists_have_w13_for_the_township_charged_like_w09(catalog: Catalog) -> None:
    rule = catalog.warning_rules["W13"]
    assert (rule.subject, rule.level, rule.provenance) == ("township", "yellow", "draft")
    assert rule.trigger.startswith("分拣超时：") and rule.consequence
    assert rule.points("yellow") == catalog.warning_rules["W09"].points("yellow") == 1.0
    assert set(rule.notify) == {"subject", "command_center"}


# -- the scan, on PostGIS ----------------------------------------------------------------------------------------
def received(db: Session, *reports: Any, at: datetime = RECEIVED) -> None:
    incident_repo.set_receipt_times(db, received={r.id: at for r in reports})


def test_untriaged_reports_are_warned_once_and_triaged_ones_never(db: Session, locator: Locator, catalog: Catalog,
                                                                   site, jurisdiction: Jurisdiction) -> None:
    x, y, township = site
    left = new_case(db, locator, catalog, x, y)  # nobody looks at it
    whistled = new_case(db, locator, catalog, x + 400 * METRE, y)  # whistled two hours after it came in
    again = new_case(db, locator, catalog, x + 410 * METRE, y)  # another report of the same case: marked 重复
    declined = new_case(db, locator, catalog, x - 400 * METRE, y, category="ENV-03")  # 不予受理
    unsure = new_case(db, locator, catalog, x, y + 400 * METRE, category="OTH-00")  # 类别待定, never named
    named = new_case(db, locator, catalog, x, y - 400 * METRE, category="OTH-00")  # 类别待定, named in time (改类)
    east = jurisdiction.district.geometry.iloc[0].exterior.coords
    lon, lat = max(east, key=lambda c: c[0])
    outside = new_case(db, locator, catalog, lon + 0.004, lat, accuracy_m=500)  # no township: on nobody's desk
    assert outside.township_code is None and outside.border_townships
    late = new_case(db, locator, catalog, x - 400 * METRE, y - 400 * METRE)  # came in a day later
    received(db, left, whistled, again, declined, unsure, named, outside)
    received(db, late, at=RECEIVED + 24 * H)

    whistle(db, catalog=catalog, incident_ids=[whistled.id], mode=TOWNSHIP, whistler=whistled.township_code,
            at=RECEIVED + 2 * H,
            only_departments=[whistled.lead_department])
    triage.mark_duplicate(db, incident_id=again.id, township=again.township_code, duplicate_of=whistled.id,
                          at=RECEIVED + 3 * H)
    triage.reject(db, incident_id=declined.id, township=declined.township_code, reason="火已熄灭，村委会已劝导",
                  at=RECEIVED + 5 * H)
    triage.reclassify(db, catalog=catalog, incident_id=named.id, township=named.township_code, category="ENV-03",
                      at=RECEIVED + 20 * H)

    assert w13(tick(db, catalog=catalog, now=RECEIVED + 23 * H)) == []  # nothing is late yet
    first = w13(tick(db, catalog=catalog, now=RECEIVED + 25 * H))
    assert sorted((w["incident_id"], w["subject_code"]) for w in first) == sorted(
        [(left.id, township), (unsure.id, unsure.township_code)])
    w = next(w for w in first if w["incident_id"] == left.id)
    assert (w["subject_kind"], w["level"], w["dedupe_key"]) == ("township", "yellow", f"W13:{left.id}")
    assert w["consequence"] == catalog.warning_rules["W13"].consequence
    assert set(w["notify"]) == {"subject", "command_center"} and w["detail"]["hours_waiting"] == 25.0
    # the warning is on the report's record, and the record is intact
    events, _ = dispatch_repo.events_of(db, incident_id=left.id)
    assert [e.kind for e in events] == ["warning"] and verify_case_record(db, incident_id=left.id) is None

    assert w13(tick(db, catalog=catalog, now=RECEIVED + 25 * H)) == []  # the same pass again: nothing new
    # the scan itself leaves out the reports warned already (it runs every minute: they are not read again)
    assert warning_repo.untriaged_reports(db, now=RECEIVED + 25 * H, within_hours=24).empty
    # a day later: the report that came in late is due now; the two warned before are not warned again
    assert [w["incident_id"] for w in w13(tick(db, catalog=catalog, now=RECEIVED + 49 * H))] == [late.id]
    # naming the 类别待定 report at last neither raises nor withdraws anything
    triage.reclassify(db, catalog=catalog, incident_id=unsure.id, township=unsure.township_code, category="ENV-03",
                      at=RECEIVED + 50 * H)
    assert w13(tick(db, catalog=catalog, now=RECEIVED + 80 * H)) == []
    assert db.execute(text("SELECT count(*) FROM warning WHERE rule_code = 'W13'")).scalar_one() == 3


def test_the_clock_runs_from_the_receipt_not_the_observation(db: Session, locator: Locator, catalog: Catalog,
                                                            site) -> None:
    x, y, _ = site
    queued = new_case(db, locator, catalog, x, y)  # observed 05-12 23:00, sent from a phone's queue 30 h later
    received(db, queued, at=datetime(2026, 5, 12, 23, 0, tzinfo=TZ) + 30 * H)
    assert w13(tick(db, catalog=catalog, now=datetime(2026, 5, 12, 23, 0, tzinfo=TZ) + 40 * H)) == []
    raised = w13(tick(db, catalog=catalog, now=datetime(2026, 5, 12, 23, 0, tzinfo=TZ) + 54 * H))
    assert [w["incident_id"] for w in raised] == [queued.id]


def test_lists_without_w13_warn_nobody_for_triage(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, _ = site
    received(db, new_case(db, locator, catalog, x, y))
    rules = MappingProxyType({c: r for c, r in catalog.warning_rules.items() if c != "W13"})
    assert w13(tick(db, catalog=dataclasses.replace(catalog, warning_rules=rules), now=RECEIVED + 30 * H)) == []
    assert len(w13(tick(db, catalog=catalog, now=RECEIVED + 30 * H))) == 1


def test_the_setting_of_receipt_times_names_its_rows(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, _ = site
    report = new_case(db, locator, catalog, x, y)
    assert incident_repo.set_receipt_times(db, received={}) == 0
    assert incident_repo.set_receipt_times(db, received={report.id: RECEIVED, uuid4(): RECEIVED}) == 1
    assert incident_repo.set_receipt_times(db, received={report.id: RECEIVED}) == 0  # unchanged: nothing written
    assert db.execute(text("SELECT received_at FROM incident WHERE id = :id"), {"id": report.id}).scalar_one() \
        == RECEIVED


# -- what reads the warnings --------------------------------------------------------------------------------------
def test_the_evaluation_and_the_warning_list_carry_w13(platform: Platform, db: Session, locator: Locator,
                                                       catalog: Catalog, site) -> None:
    x, y, township = site
    report = new_case(db, locator, catalog, x, y)
    received(db, report)
    raised = w13(tick(db, catalog=catalog, now=RECEIVED + 30 * H))
    assert len(raised) == 1
    towns = evaluate(db, catalog=catalog, start=datetime(2026, 5, 1, tzinfo=TZ), end=datetime(2026, 6, 1, tzinfo=TZ),
                     by="township", as_of=RECEIVED + 31 * H).set_index("township_code")
    row = towns.loc[township]
    assert (row["own_warnings"], row["warning_points"]) == (1, catalog.warning_rules["W13"].points("yellow"))
    assert (row["reports"], row["untriaged"]) == (1, 1) and row["triage_on_time_rate"] == 0.0

    with switched_client(platform, db, RECEIVED + 31 * H, SwitchedClient) as api:
        r = api.call("GET", "/api/v1/warnings", ADMIN, params={"rule": "W13"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 1
    shown = body["data"][0]
    assert (shown["rule_code"], shown["subject_kind"], shown["subject_code"], shown["incident_id"]) == (
        "W13", "township", township, str(report.id))
    assert shown["consequence"] == catalog.warning_rules["W13"].consequence
