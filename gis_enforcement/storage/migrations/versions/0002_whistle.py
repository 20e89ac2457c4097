"""The whistle chain: whistles, one assignment per department, enforcement records, the case event chain.

Revision ID: 0002_whistle
Revises: 0001_spine
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002_whistle"
down_revision = "0001_spine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE incident
            ADD COLUMN whistled_at  timestamptz,
            ADD COLUMN closed_at    timestamptz,
            ADD COLUMN event_count  integer NOT NULL DEFAULT 0,
            ADD COLUMN event_head   text;

        CREATE TABLE whistle (
            id             bigserial PRIMARY KEY,
            mode           text NOT NULL CHECK (mode IN ('township', 'lead_department', 'department_request')),
            whistled_at    timestamptz NOT NULL,
            whistler_unit  text NOT NULL,
            actor          text,
            note           text,
            incident_ids   uuid[] NOT NULL
        );

        CREATE TABLE assignment (
            id                    bigserial PRIMARY KEY,
            incident_id           uuid NOT NULL REFERENCES incident (id),
            whistle_id            bigint NOT NULL REFERENCES whistle (id),
            department            text NOT NULL,
            role                  text NOT NULL CHECK (role IN ('lead', 'assist')),
            status                text NOT NULL DEFAULT 'summoned',
            summoned_at           timestamptz NOT NULL,
            report_in_due         timestamptz NOT NULL,
            resolution_due        timestamptz,
            reported_in_at        timestamptz,
            report_in_lon         double precision,
            report_in_lat         double precision,
            report_in_accuracy_m  double precision,
            report_in_distance_m  double precision,
            report_in_device_time timestamptz,
            minutes_late          double precision,
            done_at               timestamptz,
            reason                text,
            UNIQUE (incident_id, department)
        );
        CREATE INDEX assignment_department_status_idx ON assignment (department, status);
        CREATE INDEX assignment_due_idx ON assignment (report_in_due) WHERE status = 'summoned';

        CREATE TABLE enforcement_record (
            id              bigserial PRIMARY KEY,
            assignment_id   bigint NOT NULL REFERENCES assignment (id),
            incident_id     uuid NOT NULL REFERENCES incident (id),
            action_type     text NOT NULL,
            measures        text[] NOT NULL DEFAULT '{}',
            legal_basis     jsonb NOT NULL DEFAULT '[]'::jsonb,
            penalty_amount  numeric(14, 2),
            seized_items    text,
            officer         text NOT NULL,
            acted_at        timestamptz NOT NULL,
            lon             double precision,
            lat             double precision,
            photos          jsonb NOT NULL DEFAULT '[]'::jsonb,
            recorded_at     timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX enforcement_record_incident_idx ON enforcement_record (incident_id);

        -- One hash chain per case: each event's hash covers the previous hash and the event's canonical JSON,
        -- and the case row keeps the head, so an edited, removed or inserted event breaks verification.
        CREATE TABLE case_event (
            incident_id  uuid NOT NULL REFERENCES incident (id),
            seq          integer NOT NULL,
            at           timestamptz NOT NULL,
            actor        text,
            kind         text NOT NULL,
            payload      jsonb NOT NULL,
            prev_hash    text NOT NULL,
            hash         text NOT NULL,
            PRIMARY KEY (incident_id, seq)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS case_event, enforcement_record, assignment, whistle CASCADE; "
        "ALTER TABLE incident DROP COLUMN IF EXISTS whistled_at, DROP COLUMN IF EXISTS closed_at, "
        "DROP COLUMN IF EXISTS event_count, DROP COLUMN IF EXISTS event_head"
    )
