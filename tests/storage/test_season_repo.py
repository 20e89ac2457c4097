"""The season's facts the demo summary reads: a whistle is a township's only when a township blew it."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session

from gis_enforcement.dispatch.whistle import DISTRICT, JOINT_PLAN, TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import season_repo
from tests.dispatch.helpers import T0, new_case


def test_a_joint_operations_whistle_is_no_townships(db: Session, locator: Locator, catalog: Catalog,
                                                    jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[20]
    own = new_case(db, locator, catalog, v.geometry.x, v.geometry.y)
    joint = new_case(db, locator, catalog, v.geometry.x + 0.003, v.geometry.y)
    w_own = whistle(db, catalog=catalog, incident_ids=[own.id], mode=TOWNSHIP, whistler=v["township_code"], at=T0)
    w_joint = whistle(db, catalog=catalog, incident_ids=[joint.id], mode=JOINT_PLAN, whistler=DISTRICT, at=T0)
    whistles = season_repo.season_frames(db, incident_ids=[own.id, joint.id])["whistles"].set_index("id")
    assert whistles.at[w_own.whistle_id, "township_code"] == v["township_code"]
    assert pd.isna(whistles.at[w_joint.whistle_id, "township_code"])   # not a township called "district"
