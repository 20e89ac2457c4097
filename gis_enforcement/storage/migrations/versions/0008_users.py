"""Users, their roles and units, API keys for machine clients, refresh tokens; who filed each incident.

A user has one role scoped to one unit (a township, a department, or the district). Passwords and API keys are
kept only as hashes (argon2 for passwords, SHA-256 for the high-entropy keys, which are looked up by their
prefix). Refresh tokens are remembered by their id so a used or revoked one cannot be used again.

Revision ID: 0008_users
Revises: 0007_hotspots_plans
Create Date: 2026-11-26
"""

from alembic import op

revision = "0008_users"
down_revision = "0007_hotspots_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE app_user (
            id             bigserial PRIMARY KEY,
            username       text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{2,64}$'),
            display_name   text,
            role           text NOT NULL CHECK (role IN ('patrol', 'township_dispatcher', 'department_officer',
                                                         'department_chief', 'supervisor', 'admin')),
            unit_kind      text NOT NULL CHECK (unit_kind IN ('township', 'department', 'district')),
            unit_code      text NOT NULL,
            password_hash  text NOT NULL,
            disabled       boolean NOT NULL DEFAULT false,
            created_at     timestamptz NOT NULL DEFAULT now(),
            updated_at     timestamptz NOT NULL DEFAULT now()
        );

        CREATE TABLE api_key (
            id            bigserial PRIMARY KEY,
            user_id       bigint NOT NULL REFERENCES app_user (id),
            name          text NOT NULL,
            prefix        text NOT NULL UNIQUE,
            key_hash      text NOT NULL,
            created_at    timestamptz NOT NULL DEFAULT now(),
            last_used_at  timestamptz,
            revoked_at    timestamptz
        );

        CREATE TABLE refresh_token (
            jti         text PRIMARY KEY,
            user_id     bigint NOT NULL REFERENCES app_user (id),
            issued_at   timestamptz NOT NULL,
            expires_at  timestamptz NOT NULL,
            used_at     timestamptz
        );
        CREATE INDEX refresh_token_user_idx ON refresh_token (user_id);

        ALTER TABLE incident ADD COLUMN created_by text;
        CREATE INDEX incident_created_by_idx ON incident (created_by) WHERE created_by IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS refresh_token, api_key, app_user CASCADE; "
        "ALTER TABLE incident DROP COLUMN IF EXISTS created_by"
    )
