"""Patrol tracks: the positions a patrol officer's page records while a patrol is on, one row per patrol.

The row's id is the page's own UUID: the page re-sends the whole track as it grows and each upload replaces the
stored vertices. A track of a single position is stored as a line of two equal vertices (``point_count`` 1), so
the column keeps one geometry type.

Revision ID: 0010_tracks
Revises: 0009_photos
Create Date: 2026-12-02
"""

from alembic import op

revision = "0010_tracks"
down_revision = "0009_photos"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE patrol_track (
            id              text PRIMARY KEY,
            officer         text NOT NULL,
            township_code   text,
            department      text,
            started_at      timestamptz NOT NULL,
            ended_at        timestamptz NOT NULL CHECK (ended_at >= started_at),
            point_count     integer NOT NULL CHECK (point_count >= 1),
            times           timestamptz[] NOT NULL CHECK (cardinality(times) = point_count),
            accuracies      double precision[]
                            CHECK (accuracies IS NULL OR cardinality(accuracies) = point_count),
            received_at     timestamptz NOT NULL,
            updated_at      timestamptz NOT NULL,
            geom            geometry(LineString, 4326) NOT NULL
        );
        CREATE INDEX patrol_track_geom_gix ON patrol_track USING gist (geom);
        CREATE INDEX patrol_track_officer_idx ON patrol_track (officer, started_at DESC);
        CREATE INDEX patrol_track_township_idx ON patrol_track (township_code, started_at DESC);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS patrol_track")
