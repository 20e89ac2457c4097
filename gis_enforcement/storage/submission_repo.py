"""One incident submitted on its own (a patrol's phone, an Open311 client): what intake needs to know from the
store in one statement, and the write in another.

The batch path (``incident_repo``) moves whole columns by COPY; for one row its fixed costs — temporary tables,
CSV, a savepoint — are most of the work. Here everything intake reads about one submission (the layer load,
the incident already stored under its id, the stored rule snapshots, the duplicate and recurrence candidates)
comes back in one round trip, and the batch row and the incident are written by one statement that returns
the stored incident as ``incident_repo.get_incident`` would read it.

Both statements are prepared once per connection (``storage.prepared``: planning them cost PostgreSQL more
than running them) and run on the session's DBAPI cursor, in the session's transaction: for a statement run
once per request, SQLAlchemy's execution layer (parameter processing, result metadata for ~30 columns) costs
more client time than the driver and the round trip together. Values come back as a ``text()`` statement
returns them, since neither declares types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gis_enforcement.domain.records import Incident
from gis_enforcement.storage.incident_repo import (
    CONTENT_COLUMNS,
    SENT_CATEGORY,
    select_incidents_from,
    to_incident,
)
from gis_enforcement.storage.prepared import Prepared
from gis_enforcement.storage.tables import INCIDENT_COPY_COLUMNS

#: (id, category, lon, lat, time in µs since 1970) of a stored incident
Candidate = tuple[str, str, float, float, int]


@dataclass(frozen=True, slots=True)
class SubmissionContext:
    """What the store holds that bears on one submission."""

    layer_load: int | None  # the newest layer load (None: no layers loaded)
    stored: dict[str, Any] | None  # CONTENT_COLUMNS of the incident stored under the id (observed_at in µs)
    snapshot_ids: dict[str, int]  # digest → id of those rule snapshots asked about that are stored
    nearby: list[Candidate]  # duplicate candidates (observed time), earliest first
    closed: list[Candidate]  # recurrence candidates (closing time), earliest closure first


#: a stored content column read otherwise than by its name: the category as the patrol sent it (改类 keeps it)
_STORED = {"category": SENT_CATEGORY}

_CONTEXT = Prepared("gise_submission_context", f"""
SELECT
  (SELECT max(id) FROM layer_load) AS layer_load,
  (SELECT json_build_object({", ".join(f"'{c}', {_STORED.get(c, c)}" for c in CONTENT_COLUMNS if c != "observed_at")},
                            'observed_at', (extract(epoch FROM observed_at) * 1000000)::bigint)
     FROM incident WHERE id = CAST(:id AS uuid)) AS stored,
  (SELECT json_object_agg(digest, id) FROM rule_snapshot WHERE digest = ANY(CAST(:digests AS text[])))
     AS snapshot_ids,
  (SELECT json_agg(json_build_array(id, category, lon, lat, (extract(epoch FROM observed_at) * 1000000)::bigint)
                   ORDER BY observed_at, id)
     FROM incident WHERE category = :category AND observed_at BETWEEN :near_start AND :near_end
      AND geom && ST_MakeEnvelope(:nx0, :ny0, :nx1, :ny1, 4326)) AS nearby,
  (SELECT json_agg(json_build_array(id, category, lon, lat, (extract(epoch FROM closed_at) * 1000000)::bigint)
                   ORDER BY closed_at, id)
     FROM incident WHERE status = 'closed' AND category = :category AND closed_at BETWEEN :closed_from AND :closed_to
      AND geom && ST_MakeEnvelope(:cx0, :cy0, :cx1, :cy1, 4326)) AS closed
""")


def submission_context(
    session: Session,
    *,
    incident_id: str,
    category: str,
    digests: Sequence[str],
    near_bbox: tuple[float, float, float, float],
    near_start: datetime,
    near_end: datetime,
    closed_bbox: tuple[float, float, float, float],
    closed_from: datetime,
    closed_to: datetime,
) -> SubmissionContext:
    """Everything one submission's intake reads, in one statement. The candidates are selected as
    ``incident_repo.nearby_incidents`` and ``incident_repo.closed_cases_near`` select them for a batch, and in
    the same order."""
    with _CONTEXT.execute(session, {
            "id": incident_id, "category": category, "digests": list(digests),
            "near_start": near_start, "near_end": near_end, "closed_from": closed_from, "closed_to": closed_to,
            **dict(zip(("nx0", "ny0", "nx1", "ny1"), near_bbox, strict=True)),
            **dict(zip(("cx0", "cy0", "cx1", "cy1"), closed_bbox, strict=True)),
    }) as cur:
        layer_load, stored, snapshot_ids, nearby, closed = cur.fetchone()
    return SubmissionContext(
        layer_load=layer_load, stored=stored, snapshot_ids=dict(snapshot_ids or {}),
        nearby=[tuple(c) for c in nearby or ()],  # type: ignore[misc]
        closed=[tuple(c) for c in closed or ()],  # type: ignore[misc]
    )


_INSERT = Prepared("gise_submission_insert", f"""
WITH batch AS (SELECT nextval('ingest_batch_id_seq') AS id),
new AS (
  INSERT INTO incident ({", ".join(INCIDENT_COPY_COLUMNS)})
  VALUES ({", ".join("(SELECT id FROM batch)" if c == "batch_id" else f":{c}" for c in INCIDENT_COPY_COLUMNS)})
  ON CONFLICT (id) DO NOTHING
  RETURNING *),
recorded AS (
  INSERT INTO ingest_batch (id, source, submitted, accepted, already_stored, rejected, report)
  SELECT batch_id, CAST(:source AS text), 1, 1, 0, 0, CAST(:report AS jsonb) FROM new)
{select_incidents_from("new")}
""")


def insert_incident(session: Session, *, incident: Mapping[str, Any], source: str | None) -> Incident | None:
    """Write one accepted incident (``INCIDENT_COPY_COLUMNS`` but ``batch_id``; arrays as lists, missing values
    None) with its one-row intake batch, and return it as stored — or None, writing nothing, when an incident
    with its id exists (another request stored it after this one looked)."""
    params = {c: incident.get(c) for c in INCIDENT_COPY_COLUMNS if c != "batch_id"}
    params["source"] = source
    params["report"] = json.dumps({"errors": [], "errors_total": 0})
    with _INSERT.execute(session, params) as cur:
        row = cur.fetchone()
        names = [d[0] for d in cur.description]
    return None if row is None else to_incident(dict(zip(names, row, strict=True)))
