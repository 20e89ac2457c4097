"""Table definitions (SQLAlchemy Core) mirroring the alembic migrations; queries are written against these.

The migrations are the source of truth for the schema; a test checks that these definitions match it.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

layer_load = Table(
    "layer_load",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("source", JSONB, nullable=False),
    Column("report", JSONB, nullable=False),
)

district = Table(
    "district",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
)

township = Table(
    "township",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("level", Text),
    Column("synthetic", Boolean, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
)

village = Table(
    "village",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("township_code", Text, ForeignKey("township.code", ondelete="CASCADE")),
    Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False),
)

zone = Table(
    "zone",
    metadata,
    Column("code", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("properties", JSONB, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
)

grid_cell = Table(
    "grid_cell",
    metadata,
    Column("code", Text, primary_key=True),
    Column("township_code", Text, ForeignKey("township.code", ondelete="CASCADE"), nullable=False),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
)

rule_snapshot = Table(
    "rule_snapshot",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", Text, nullable=False, unique=True),
    Column("catalog_version", Text, nullable=False),
    Column("rule_code", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("zone_kind", Text),
    Column("lead_department", Text, nullable=False),
    Column("plan", JSONB, nullable=False),
    Column("legal_basis", JSONB, nullable=False),
    Column("measures", ARRAY(Text), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

ingest_batch = Table(
    "ingest_batch",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("source", Text),
    Column("submitted", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("already_stored", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("report", JSONB, nullable=False),
)

incident = Table(
    "incident",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("category", Text, nullable=False),
    Column("reported_category", Text),  # the category as filed, when the township named another (改类)
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("lon", Float(53), nullable=False),
    Column("lat", Float(53), nullable=False),
    Column(
        "geom",
        Geometry("POINT", srid=4326, spatial_index=False),
        Computed("ST_SetSRID(ST_MakePoint(lon, lat), 4326)", persisted=True),
    ),
    Column("accuracy_m", Float(53)),
    Column("raw_lon", Float(53), nullable=False),
    Column("raw_lat", Float(53), nullable=False),
    Column("raw_crs", Text, nullable=False),
    Column("reporter", Text),
    Column("description", Text),
    Column("status", Text, nullable=False, server_default="reported"),
    Column("township_code", Text),
    Column("village_code", Text),
    Column("village_distance_m", Float(24)),
    Column("grid_code", Text),
    Column("zone_codes", ARRAY(Text), nullable=False),
    Column("flags", ARRAY(Text), nullable=False),
    Column("border_townships", ARRAY(Text), nullable=False),
    Column("nearest_township_code", Text),
    Column("nearest_township_distance_m", Float(24)),
    Column("rule_snapshot_id", Integer),  # no FK: see migration 0001
    Column("lead_department", Text),
    Column("likely_duplicate_of", UUID(as_uuid=True)),
    Column("duplicate_distance_m", Float(24)),
    Column("photos", ARRAY(Text), nullable=False),
    Column("track_id", Text),
    Column("batch_id", BigInteger),  # no FK: see migration 0001
)

incident.append_column(Column("whistled_at", DateTime(timezone=True)))
incident.append_column(Column("closed_at", DateTime(timezone=True)))
incident.append_column(Column("event_count", Integer, nullable=False, server_default="0"))
incident.append_column(Column("event_head", Text))
incident.append_column(Column("recurrence_of", UUID(as_uuid=True)))
incident.append_column(Column("recurrence_distance_m", Float(24)))
incident.append_column(Column("created_by", Text))

whistle = Table(
    "whistle",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("mode", Text, nullable=False),
    Column("whistled_at", DateTime(timezone=True), nullable=False),
    Column("whistler_unit", Text, nullable=False),
    Column("actor", Text),
    Column("note", Text),
    Column("incident_ids", ARRAY(UUID(as_uuid=True)), nullable=False),
)

assignment = Table(
    "assignment",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("incident_id", UUID(as_uuid=True), ForeignKey("incident.id"), nullable=False),
    Column("whistle_id", BigInteger, ForeignKey("whistle.id"), nullable=False),
    Column("department", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="summoned"),
    Column("summoned_at", DateTime(timezone=True), nullable=False),
    Column("report_in_due", DateTime(timezone=True), nullable=False),
    Column("resolution_due", DateTime(timezone=True)),
    Column("reported_in_at", DateTime(timezone=True)),
    Column("report_in_lon", Float(53)),
    Column("report_in_lat", Float(53)),
    Column("report_in_accuracy_m", Float(53)),
    Column("report_in_distance_m", Float(53)),
    Column("report_in_device_time", DateTime(timezone=True)),
    Column("minutes_late", Float(53)),
    Column("done_at", DateTime(timezone=True)),
    Column("reason", Text),
    # seconds the assignment stood declined before the township overruled it (its deadlines moved on by as much)
    Column("declined_s", Float(53), nullable=False, server_default="0"),
    Column("rating_timeliness", SmallInteger),
    Column("rating_adequacy", SmallInteger),
    Column("rating_comment", Text),
    Column("rated_at", DateTime(timezone=True)),
    Column("rated_by", Text),
    # the township the department was summoned for: the case's, or the township that took up a report on its
    # border; a township team (TOWN) summoned here is this township's team
    Column("township_code", Text),
)

enforcement_record = Table(
    "enforcement_record",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("assignment_id", BigInteger, ForeignKey("assignment.id"), nullable=False),
    Column("incident_id", UUID(as_uuid=True), ForeignKey("incident.id"), nullable=False),
    Column("action_type", Text, nullable=False),
    Column("measures", ARRAY(Text), nullable=False),
    Column("legal_basis", JSONB, nullable=False),
    Column("penalty_amount", Numeric(14, 2)),
    Column("seized_items", Text),
    Column("officer", Text, nullable=False),
    Column("acted_at", DateTime(timezone=True), nullable=False),
    Column("lon", Float(53)),
    Column("lat", Float(53)),
    Column("photos", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

case_event = Table(
    "case_event",
    metadata,
    Column("incident_id", UUID(as_uuid=True), ForeignKey("incident.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", Text),
    Column("kind", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("id", BigInteger, autoincrement=True, nullable=False, unique=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
)

webhook_subscription = Table(
    "webhook_subscription",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),
    Column("kinds", ARRAY(Text)),
    Column("township", Text),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("description", Text),
)

webhook_delivery = Table(
    "webhook_delivery",
    metadata,
    Column("subscription_id", BigInteger, ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
           primary_key=True),
    Column("event_id", BigInteger, primary_key=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("delivered_at", DateTime(timezone=True)),
    Column("last_error", Text),
)

warning = Table(
    "warning",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("dedupe_key", Text, nullable=False, unique=True),
    Column("rule_code", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("subject_kind", Text, nullable=False),
    Column("subject_code", Text, nullable=False),
    Column("incident_id", UUID(as_uuid=True), ForeignKey("incident.id")),
    Column("assignment_id", BigInteger, ForeignKey("assignment.id")),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("consequence", Text, nullable=False),
    Column("notify", ARRAY(Text), nullable=False),
    Column("detail", JSONB, nullable=False),
    # withdrawn (撤销) when its facts turned out otherwise: kept in the record, counted nowhere
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("withdrawn_reason", Text),
)

follow_up_task = Table(
    "follow_up_task",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("incident_id", UUID(as_uuid=True), ForeignKey("incident.id"), nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("township_code", Text, nullable=False),
    Column("task", Text, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("done_at", DateTime(timezone=True)),
    Column("done_note", Text),
)

# The column order used by bulk COPY into ``incident`` (the generated ``geom`` is left to the server, and so are
# the columns only the chain writes later).
INCIDENT_COPY_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in incident.columns
    if c.name not in ("geom", "received_at", "status", "whistled_at", "closed_at", "event_count", "event_head",
                      "reported_category")
)

hotspot_run = Table(
    "hotspot_run",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("kind", Text, nullable=False),
    Column("parameters", JSONB, nullable=False),
    Column("scale", JSONB),
    Column("summary", JSONB, nullable=False),
    Column("n_incidents", Integer, nullable=False),
    Column("n_cells", Integer, nullable=False),
)

hotspot_cell = Table(
    "hotspot_cell",
    metadata,
    Column("run_id", BigInteger, ForeignKey("hotspot_run.id", ondelete="CASCADE"), primary_key=True),
    Column("cell_id", Text, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("z", Float(53)),
    Column("p", Float(53)),
    Column("pseudo_p", Float(53)),
    Column("gi_bin", SmallInteger),
    Column("pattern", Text),
    Column("detail", JSONB),
    Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
)

recurring_site = Table(
    "recurring_site",
    metadata,
    Column("site_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("categories", ARRAY(Text), nullable=False),
    Column("township_code", Text),
    Column("n_incidents", Integer, nullable=False),
    Column("n_recurrences", Integer, nullable=False),
    Column("first_reported_at", DateTime(timezone=True)),
    Column("last_reported_at", DateTime(timezone=True)),
    Column("last_closed_at", DateTime(timezone=True)),
    Column("follow_up_due", DateTime(timezone=True)),
    Column("history", JSONB, nullable=False),
    Column("parameters", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
)

operation_plan = Table(
    "operation_plan",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status", Text, nullable=False, server_default="planned"),
    Column("catalog_version", Text, nullable=False),
    Column("parameters", JSONB, nullable=False),
    Column("targets", JSONB, nullable=False),
    Column("waiting", JSONB, nullable=False),
    Column("staffing", JSONB, nullable=False),
    Column("route", JSONB, nullable=False),
    Column("executed_at", DateTime(timezone=True)),
    Column("whistle_ids", ARRAY(BigInteger)),
    Column("incident_ids", ARRAY(UUID(as_uuid=True))),
)

patrol_track = Table(
    "patrol_track",
    metadata,
    Column("id", Text, primary_key=True),
    Column("officer", Text, nullable=False),
    Column("township_code", Text),
    Column("department", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=False),
    Column("point_count", Integer, nullable=False),
    Column("times", ARRAY(DateTime(timezone=True)), nullable=False),
    Column("accuracies", ARRAY(Float)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("geom", Geometry("LINESTRING", srid=4326, spatial_index=False), nullable=False),
)
