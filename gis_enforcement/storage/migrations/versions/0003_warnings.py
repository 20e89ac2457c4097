"""The warning list in action: warnings raised by the escalation pass, one per trigger (dedupe key).

Revision ID: 0003_warnings
Revises: 0002_whistle
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003_warnings"
down_revision = "0002_whistle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE warning (
            id             bigserial PRIMARY KEY,
            dedupe_key     text NOT NULL UNIQUE,
            rule_code      text NOT NULL,
            level          text NOT NULL,
            subject_kind   text NOT NULL,
            subject_code   text NOT NULL,
            incident_id    uuid REFERENCES incident (id),
            assignment_id  bigint REFERENCES assignment (id),
            raised_at      timestamptz NOT NULL,
            consequence    text NOT NULL,
            notify         text[] NOT NULL DEFAULT '{}',
            detail         jsonb NOT NULL DEFAULT '{}'::jsonb
        );
        CREATE INDEX warning_subject_idx ON warning (subject_kind, subject_code, raised_at);
        CREATE INDEX warning_incident_idx ON warning (incident_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS warning")
