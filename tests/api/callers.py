"""Callers for API tests that are about something else than access: the admin (every action, district-wide)
stands in for the signed-in user. Access itself is tested with real sign-in in test_auth_api.py and
test_access_matrix.py."""

from __future__ import annotations

from gis_enforcement.domain.access import Caller, Role

ADMIN = Caller("test-admin", Role.ADMIN, "district", "district")


def as_admin(app) -> None:  # type: ignore[no-untyped-def]
    from gis_enforcement.api.auth import get_caller

    app.dependency_overrides[get_caller] = lambda: ADMIN
