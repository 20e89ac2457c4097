"""A warning can be withdrawn (撤销) when the facts it was raised on turn out otherwise.

A department that reported in without signal is timed at its fix (the phone queues the report-in and sends it
when back online); the escalation pass may meanwhile have found it absent and raised a no-show (W02). When the
report-in arrives and shows it was there in time, that W02 is withdrawn: it stays in the record, with when and
why (``withdrawn_at``, ``withdrawn_reason``), and no longer counts — not in the evaluation, not towards W07.

Revision ID: 0017_warning_withdrawn
Revises: 0016_township_teams
Create Date: 2026-11-28
"""

from alembic import op

revision = "0017_warning_withdrawn"
down_revision = "0016_township_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE warning ADD COLUMN withdrawn_at timestamptz, ADD COLUMN withdrawn_reason text")


def downgrade() -> None:
    op.execute("ALTER TABLE warning DROP COLUMN withdrawn_reason, DROP COLUMN withdrawn_at")
