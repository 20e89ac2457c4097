"""An index that answers a township's list of cases by itself: township, status, newest first.

The page behind a dispatcher's list (``GET /api/v1/incidents?township=…&status=…``, newest first, 100 at a
time) and its total read every matching row from the table: with 10^5 stored cases a township has ~10^4 of
them, scattered over the table in the order they arrived. With ``(township_code, status, observed_at DESC,
id)`` the total is counted from the index alone and the page is the index's first entries, fetched by id
(``storage.incident_repo.list_incidents``). The index begins with ``township_code``, so it also serves every
search the single-column township index served, which it replaces: intake keeps the same number of indexes.

Revision ID: 0012_township_list_index
Revises: 0011_scope_index
Create Date: 2026-11-26
"""

from alembic import op

revision = "0012_township_list_index"
down_revision = "0011_scope_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX incident_township_status_time_idx ON incident (township_code, status, observed_at DESC, id)")
    op.execute("DROP INDEX incident_township_idx")


def downgrade() -> None:
    op.execute("CREATE INDEX incident_township_idx ON incident (township_code)")
    op.execute("DROP INDEX incident_township_status_time_idx")
