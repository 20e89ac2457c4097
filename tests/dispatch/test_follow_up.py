"""部门要求、街乡落实: a department hands follow-up to the township; the deadline counts working days (调休
included); an overdue task raises W09 once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.follow_up import complete_follow_up, request_follow_up
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.calendar import WorkCalendar
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.settings import PROJECT_ROOT
from gis_enforcement.storage import dispatch_repo
from tests.dispatch.helpers import TZ, new_case

CALENDAR = WorkCalendar.from_yaml(PROJECT_ROOT / "data" / "calendar" / "cn_workdays.yaml")


def test_follow_up_over_the_national_day_week_and_w09(db: Session, locator: Locator, catalog: Catalog,
                                                      site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    t0 = datetime(2026, 9, 23, 10, 0, tzinfo=TZ)  # Wednesday before 中秋 (09-25..27) and 国庆 (10-01..07)
    whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=t0,
            only_departments=[inc.lead_department])
    lead = inc.lead_department
    with pytest.raises(InvalidInput) as not_yet:  # it has not enforced anything yet
        request_follow_up(db, calendar=CALENDAR, incident_id=inc.id, department=lead, task="日常巡查",
                          working_days=3, at=t0)
    assert not_yet.value.field == "department"
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead, lon=x, lat=y, accuracy_m=5,
                      server_time=t0 + timedelta(minutes=20))
    on_site.start_action(db, incident_id=inc.id, department=lead, at=t0 + timedelta(minutes=30))
    # working days after Wed 09-23: Thu 24 (1), Mon 28 (2), Tue 29 (3), Wed 30 (4), Thu 10-08 (5), Fri 09 (6),
    # Sat 10-10 (7, a 调休 working day) -> due at 24:00 of 10-10
    task = request_follow_up(db, calendar=CALENDAR, incident_id=inc.id, department=lead,
                             task="拆除后场地复垦，纳入村日常巡查", working_days=7, at=t0 + timedelta(hours=2))
    row = dispatch_repo.lock_follow_up(db, task_id=task)
    assert row["due_at"] == datetime(2026, 10, 11, 0, 0, tzinfo=TZ)
    assert all(w["rule_code"] != "W09" for w in tick(db, catalog=catalog, now=datetime(2026, 10, 10, 23, 0, tzinfo=TZ)))
    late = tick(db, catalog=catalog, now=datetime(2026, 10, 11, 8, 0, tzinfo=TZ))
    w09 = [w for w in late if w["rule_code"] == "W09"]
    assert len(w09) == 1 and w09[0]["subject_code"] == township
    assert all(w["rule_code"] != "W09" for w in tick(db, catalog=catalog, now=datetime(2026, 10, 12, tzinfo=TZ)))
    with pytest.raises(InvalidInput):
        complete_follow_up(db, task_id=task, township="110117999", at=datetime(2026, 10, 12, tzinfo=TZ))
    complete_follow_up(db, task_id=task, township=township, at=datetime(2026, 10, 12, 9, 0, tzinfo=TZ),
                       note="已复垦")
    with pytest.raises(InvalidInput):
        complete_follow_up(db, task_id=task, township=township, at=datetime(2026, 10, 12, 9, 0, tzinfo=TZ))
    assert verify_case_record(db, incident_id=inc.id) is None
