"""The time an assignment stood declined before the township overruled the decline (驳回退单).

A decline stops the assignment's clocks until the township decides. When it overrules, the department is back on
the case with the time it had left when it declined: its report-in and resolution deadlines are moved on by the
time the decline stood, and ``declined_s`` (summed over every overruled decline) is taken off the wait before a
no-show (W02), which counts from the summons.

Revision ID: 0014_assignment_declined_s
Revises: 0013_reported_category
Create Date: 2026-11-27
"""

from alembic import op

revision = "0014_assignment_declined_s"
down_revision = "0013_reported_category"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE assignment ADD COLUMN declined_s double precision NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute("ALTER TABLE assignment DROP COLUMN declined_s")
