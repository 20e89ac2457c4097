"""The demo accounts: one per desk, created once, their password reset when the demo runs again."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.admin.credentials import authenticate_password
from gis_enforcement.admin.users import reset_password
from gis_enforcement.demo.accounts import DEMO_PASSWORD, ensure_demo_accounts
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import Unauthenticated
from gis_enforcement.storage import user_repo


def test_demo_accounts_cover_every_desk_and_survive_a_second_run(db: Session, catalog: Catalog) -> None:
    first = ensure_demo_accounts(db, catalog=catalog, township="110117003", department="ECO")
    assert {(a.role, a.unit) for a in first} == {("patrol", "110117003"), ("township_dispatcher", "110117003"),
                                                 ("department_officer", "ECO"), ("department_officer", "TOWN"),
                                                 ("supervisor", "district")}
    # the township's own team is that township's, not all 18 teams
    assert user_repo.get_user(db, username="demo_town").team_township == "110117003"  # type: ignore[union-attr]
    reset_password(db, username="demo_township", password="changed-by-someone-1")
    with pytest.raises(Unauthenticated):
        authenticate_password(db, username="demo_township", password=DEMO_PASSWORD)
    again = ensure_demo_accounts(db, catalog=catalog, township="110117003", department="ECO")
    assert again == first
    for a in again:
        assert authenticate_password(db, username=a.username, password=DEMO_PASSWORD).username == a.username
    assert sum(1 for u in user_repo.list_users(db) if u.username.startswith("demo_")) == 5


def test_a_township_team_leading_the_busiest_township_is_that_townships_team(db: Session, catalog: Catalog) -> None:
    accounts = ensure_demo_accounts(db, catalog=catalog, township="110117003", department="TOWN")
    assert [(a.unit, a.township) for a in accounts if a.unit == "TOWN"] == [("TOWN", "110117003")]
