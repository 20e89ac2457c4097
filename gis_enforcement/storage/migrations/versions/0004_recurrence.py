"""Recurrence: a new incident near a closed case of the same category links to it.

Revision ID: 0004_recurrence
Revises: 0003_warnings
Create Date: 2026-11-25
"""

from alembic import op

revision = "0004_recurrence"
down_revision = "0003_warnings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE incident
            ADD COLUMN recurrence_of          uuid,
            ADD COLUMN recurrence_distance_m  real;
        CREATE INDEX incident_recurrence_idx ON incident (recurrence_of) WHERE recurrence_of IS NOT NULL;
        CREATE INDEX incident_closed_idx ON incident (category, closed_at) WHERE status = 'closed';
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE incident DROP COLUMN IF EXISTS recurrence_of, DROP COLUMN IF EXISTS recurrence_distance_m")
