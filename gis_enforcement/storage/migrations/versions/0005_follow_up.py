"""部门要求、街乡落实: follow-up tasks a department hands to the township after enforcement.

Revision ID: 0005_follow_up
Revises: 0004_recurrence
Create Date: 2026-11-25
"""

from alembic import op

revision = "0005_follow_up"
down_revision = "0004_recurrence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE follow_up_task (
            id             bigserial PRIMARY KEY,
            incident_id    uuid NOT NULL REFERENCES incident (id),
            requested_by   text NOT NULL,
            township_code  text NOT NULL,
            task           text NOT NULL,
            requested_at   timestamptz NOT NULL,
            due_at         timestamptz NOT NULL,
            status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
            done_at        timestamptz,
            done_note      text
        );
        CREATE INDEX follow_up_open_idx ON follow_up_task (due_at) WHERE status = 'open';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS follow_up_task")
