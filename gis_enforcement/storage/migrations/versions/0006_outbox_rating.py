"""Township ratings of attendance (评价权), and the outbox: a global event order for the event stream and
webhook subscriptions with one delivery row per (subscription, event).

``case_event.id`` numbers every event across cases in insertion order; ``recorded_at`` is the wall clock at
insertion (``clock_timestamp``), which the event stream uses to decide how long to wait for a number that a
transaction still in flight holds. A trigger fans every new event out to the active subscriptions that want
its kind, in the same statement as the event: an event is never recorded without its deliveries, and a
subscriber that is down loses nothing.

Revision ID: 0006_outbox_rating
Revises: 0005_follow_up
Create Date: 2026-11-25
"""

from alembic import op

revision = "0006_outbox_rating"
down_revision = "0005_follow_up"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE assignment
            ADD COLUMN rating_timeliness smallint CHECK (rating_timeliness BETWEEN 1 AND 5),
            ADD COLUMN rating_adequacy   smallint CHECK (rating_adequacy BETWEEN 1 AND 5),
            ADD COLUMN rating_comment    text,
            ADD COLUMN rated_at          timestamptz,
            ADD COLUMN rated_by          text;

        ALTER TABLE case_event
            ADD COLUMN id bigserial,
            ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT clock_timestamp();
        CREATE UNIQUE INDEX case_event_id_idx ON case_event (id);

        CREATE TABLE webhook_subscription (
            id           bigserial PRIMARY KEY,
            url          text NOT NULL,
            secret       text NOT NULL,
            kinds        text[],
            township     text,
            active       boolean NOT NULL DEFAULT true,
            created_at   timestamptz NOT NULL DEFAULT now(),
            description  text
        );

        CREATE TABLE webhook_delivery (
            subscription_id bigint NOT NULL REFERENCES webhook_subscription (id) ON DELETE CASCADE,
            event_id        bigint NOT NULL,
            attempts        integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            delivered_at    timestamptz,
            last_error      text,
            PRIMARY KEY (subscription_id, event_id)
        );
        CREATE INDEX webhook_delivery_due_idx ON webhook_delivery (subscription_id, event_id)
            WHERE delivered_at IS NULL;

        -- one statement per batch of events (statement-level, with the inserted rows as a transition table):
        -- a COPY of a year's events costs one join, not a trigger call per row
        CREATE FUNCTION case_event_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO webhook_delivery (subscription_id, event_id)
            SELECT s.id, e.id FROM new_events e JOIN webhook_subscription s
                ON s.active AND (s.kinds IS NULL OR e.kind = ANY (s.kinds))
            LEFT JOIN incident i ON s.township IS NOT NULL AND i.id = e.incident_id
            WHERE s.township IS NULL OR s.township = i.township_code;
            RETURN NULL;
        END $$;
        CREATE TRIGGER case_event_fan_out AFTER INSERT ON case_event
            REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION case_event_fan_out();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER IF EXISTS case_event_fan_out ON case_event;
        DROP FUNCTION IF EXISTS case_event_fan_out();
        DROP TABLE IF EXISTS webhook_delivery;
        DROP TABLE IF EXISTS webhook_subscription;
        DROP INDEX IF EXISTS case_event_id_idx;
        ALTER TABLE case_event DROP COLUMN IF EXISTS id, DROP COLUMN IF EXISTS recorded_at;
        ALTER TABLE assignment DROP COLUMN IF EXISTS rating_timeliness, DROP COLUMN IF EXISTS rating_adequacy,
            DROP COLUMN IF EXISTS rating_comment, DROP COLUMN IF EXISTS rated_at, DROP COLUMN IF EXISTS rated_by;
        """
    )
