"""Hot-spot runs and their cells, the register of recurring sites (回头看), and joint-operation plans.

A run is stored with its parameters, the scale it chose and its summary, so it can be re-read and re-run;
cells carry their statistics and polygon. Plans keep their targets, the targets that wait (and why), the
staffing, the catalog version they were made with, and — once executed — the whistles that carried them out.

Revision ID: 0007_hotspots_plans
Revises: 0006_outbox_rating
Create Date: 2026-11-25
"""

from alembic import op

revision = "0007_hotspots_plans"
down_revision = "0006_outbox_rating"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE hotspot_run (
            id          bigserial PRIMARY KEY,
            created_at  timestamptz NOT NULL DEFAULT now(),
            kind        text NOT NULL CHECK (kind IN ('gi_star', 'emerging')),
            parameters  jsonb NOT NULL,
            scale       jsonb,
            summary     jsonb NOT NULL,
            n_incidents integer NOT NULL,
            n_cells     integer NOT NULL
        );

        CREATE TABLE hotspot_cell (
            run_id    bigint NOT NULL REFERENCES hotspot_run (id) ON DELETE CASCADE,
            cell_id   text NOT NULL,
            count     integer NOT NULL,
            z         double precision,
            p         double precision,
            pseudo_p  double precision,
            gi_bin    smallint,
            pattern   text,
            detail    jsonb,
            geom      geometry(MULTIPOLYGON, 4326) NOT NULL,
            PRIMARY KEY (run_id, cell_id)
        );
        CREATE INDEX hotspot_cell_geom_gix ON hotspot_cell USING gist (geom);

        CREATE TABLE recurring_site (
            site_id          text PRIMARY KEY,
            kind             text NOT NULL,
            categories       text[] NOT NULL,
            township_code    text,
            n_incidents      integer NOT NULL,
            n_recurrences    integer NOT NULL,
            first_reported_at timestamptz,
            last_reported_at timestamptz,
            last_closed_at   timestamptz,
            follow_up_due    timestamptz,
            history          jsonb NOT NULL,
            parameters       jsonb NOT NULL,
            updated_at       timestamptz NOT NULL DEFAULT now(),
            geom             geometry(POINT, 4326) NOT NULL
        );
        CREATE INDEX recurring_site_geom_gix ON recurring_site USING gist (geom);

        CREATE TABLE operation_plan (
            id              bigserial PRIMARY KEY,
            created_at      timestamptz NOT NULL DEFAULT now(),
            status          text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'executed')),
            catalog_version text NOT NULL,
            parameters      jsonb NOT NULL,
            targets         jsonb NOT NULL,
            waiting         jsonb NOT NULL,
            staffing        jsonb NOT NULL,
            route           jsonb NOT NULL,
            executed_at     timestamptz,
            whistle_ids     bigint[],
            incident_ids    uuid[]
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS operation_plan, recurring_site, hotspot_cell, hotspot_run")
