"""An index for the scope of a township's users: the cases near its border.

A township dispatcher sees the township's own cases and those flagged near its border (``border_townships``
holds it). The first part of that scope has the township index; without an index on the second, every list of
a township's cases read the whole incident table (~150 ms with 10^5 stored cases). The GIN index is partial:
only the cases near a border are in it, so intake of the rest costs nothing more, and the scope clause says
``border_townships <> '{}'`` so that the planner may use it (``storage.incident_repo.scope_clause``).

Revision ID: 0011_scope_index
Revises: 0010_tracks
Create Date: 2026-11-26
"""

from alembic import op

revision = "0011_scope_index"
down_revision = "0010_tracks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX incident_border_townships_gin ON incident USING gin (border_townships) "
        "WHERE border_townships <> '{}'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX incident_border_townships_gin")
