"""A report no township holds — outside the district, its fix within reach of a township — is not left on
nobody's desk: a township it may lie in can whistle for it; any other is refused, told which may."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.dispatch.helpers import T0, new_case


def test_a_township_the_report_may_lie_in_takes_it_up(db: Session, locator: Locator, catalog: Catalog,
                                                       jurisdiction: Jurisdiction) -> None:
    # ~340 m east of the district's easternmost point, the fix ±500 m
    east = jurisdiction.district.geometry.iloc[0].exterior.coords
    lon, lat = max(east, key=lambda c: c[0])
    case = new_case(db, locator, catalog, lon + 0.004, lat, accuracy_m=500)
    assert case.township_code is None and "outside_district" in case.flags
    assert case.border_townships, "a township lies within the fix's reach"
    others = [c for c in jurisdiction.townships["code"] if c not in case.border_townships]

    with pytest.raises(InvalidInput) as refused:
        whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=others[0], at=T0)
    assert refused.value.field == "incident_ids"
    assert "outside the district" in refused.value.message and case.border_townships[0] in refused.value.message

    result = whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=case.border_townships[0],
                     at=T0)
    assert result.incident_ids == [case.id] and result.assignments
