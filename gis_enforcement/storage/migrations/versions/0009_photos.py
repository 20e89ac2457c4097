"""Photos: each stored once under its content hash, with what its EXIF says (time, position), linked to cases.

Revision ID: 0009_photos
Revises: 0008_users
Create Date: 2026-11-26
"""

from alembic import op

revision = "0009_photos"
down_revision = "0008_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE photo (
            sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            media_type   text NOT NULL,
            bytes        integer NOT NULL,
            width        integer NOT NULL,
            height       integer NOT NULL,
            taken_at     timestamptz,
            lon          double precision,
            lat          double precision,
            camera       text,
            stored_at    timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE incident_photo (
            incident_id  uuid NOT NULL REFERENCES incident (id),
            sha256       text NOT NULL REFERENCES photo (sha256),
            added_by     text,
            added_at     timestamptz NOT NULL,
            PRIMARY KEY (incident_id, sha256)
        );
        CREATE INDEX incident_photo_sha_idx ON incident_photo (sha256);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS incident_photo, photo")
