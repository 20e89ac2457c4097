"""Demo accounts, so that the pages can be tried on the demo database at once: a patrol officer and the
dispatcher of the township with the most cases, an officer of the department that leads most of them, an officer
of that township's own integrated enforcement team (综合行政执法队, summoned to most of its cases), and a district
supervisor — all with the one documented demo password. Run again, they are kept (password reset)."""

from __future__ import annotations

from dataclasses import dataclass

from gis_enforcement.admin.users import add_user, reset_password
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import AlreadyRecorded
from gis_enforcement.storage import Session

__all__ = ["DEMO_PASSWORD", "DemoAccount", "ensure_demo_accounts"]

#: the demo database only — never give a real user this password
DEMO_PASSWORD = "pinggu-demo-2026"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    unit: str
    page: str   # where the account works: /app/patrol or /app/console
    township: str | None = None   # a township team's officer: the township whose team it serves


def ensure_demo_accounts(session: Session, *, catalog: Catalog, township: str, department: str) -> list[DemoAccount]:
    """Create the demo accounts (or reset their password when they exist) and return them."""
    teams = sorted(catalog.township_teams)
    accounts = [DemoAccount("demo_patrol", "patrol", township, "/app/patrol"),
                DemoAccount("demo_township", "township_dispatcher", township, "/app/console"),
                *[DemoAccount(f"demo_{d.lower()}", "department_officer", d, "/app/console",
                              township if d in catalog.township_teams else None)
                  for d in dict.fromkeys([department, *teams])],
                DemoAccount("demo_supervisor", "supervisor", "district", "/app/console")]
    for a in accounts:
        try:
            add_user(session, catalog=catalog, username=a.username, password=DEMO_PASSWORD, role=a.role, unit=a.unit,
                     display_name=f"{a.username} (demo)", township=a.township)
        except AlreadyRecorded:
            reset_password(session, username=a.username, password=DEMO_PASSWORD)
    return accounts
