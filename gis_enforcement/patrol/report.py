"""What an intake run tells its caller: per-row errors and the batch totals."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: Every code a refused row can carry (``RowError.code``), ``<field>:<kind>``: the field the error names and
#: what is wrong with it. Stable: a client (the patrol page) says each in its own words; a new refusal adds a
#: code here, and ``RowError`` refuses a code that is not listed.
ROW_ERROR_CODES: tuple[str, ...] = (
    # read from the submission (``parse.feature_row``): the row cannot be read at all
    "type:feature",                 # not a GeoJSON Feature
    "properties:object",            # properties is not an object
    "geometry:point",               # the geometry is not a GeoJSON Point
    "geometry.coordinates:pair",    # the coordinates are not [lon, lat]
    "photos:list",                  # photos is not a list
    # judged value by value (``validate``)
    "id:missing", "id:format",
    "category:missing", "category:unknown",       # values: {"value": the code sent}
    "lon:number", "lon:range",                    # range — values: {"min", "max"}
    "lat:number", "lat:range",
    "crs:unknown",                                # values: {"allowed": [datums]}
    "accuracy_m:number", "accuracy_m:range",      # range — values: {"min", "max"} (metres)
    "observed_at:missing", "observed_at:format",
    "observed_at:future",                         # values: {"skew_s": the clock skew allowed}
    "observed_at:past",                           # values: {"earliest": "2000-01-01"}
    "reporter:length", "description:length",      # values: {"max": characters}
    "photos:count",                               # values: {"max": photos}
    "photos:reference",
    "track_id:format",
    # the id against the rest of the batch and what is stored (``intake``, ``submit``)
    "id:batch_conflict",            # sent twice in the batch with different content
    "id:conflict",                  # already stored with different content
    "id:concurrent",                # stored by another request at the same moment; sending again is safe
)
_KNOWN_CODES = frozenset(ROW_ERROR_CODES)


@dataclass(frozen=True, slots=True)
class RowError:
    """One refused value: the source row (1-based as the user sees it), the field, why (in English), the
    machine ``code`` of the refusal (one of :data:`ROW_ERROR_CODES`) and the ``values`` the reason names
    (the unknown category, a limit), for a client that says it in other words."""

    row: int
    field: str
    reason: str
    id: str | None = None
    code: str = dataclasses.field(kw_only=True)  # (the class's own ``field`` hides the function here)
    values: dict[str, Any] = dataclasses.field(default_factory=dict, kw_only=True, hash=False)

    def __post_init__(self) -> None:
        if self.code not in _KNOWN_CODES:
            raise ValueError(f"unknown row-error code {self.code!r}: add it to ROW_ERROR_CODES")
        if self.code.rpartition(":")[0] != self.field:
            raise ValueError(f"row-error code {self.code!r} does not name the field {self.field!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason, "id": self.id, "code": self.code,
                "values": self.values}

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.reason}"


@dataclass
class IngestReport:
    """Totals of one intake batch. ``rejected`` counts rows (a row may have several errors); ``repeated``
    counts rows that repeat an earlier row of the same batch, same id and content, taken once — so that
    submitted = accepted + already_stored + rejected + repeated."""

    submitted: int = 0
    accepted: int = 0
    already_stored: int = 0
    rejected: int = 0
    repeated: int = 0
    likely_duplicates: int = 0
    recurrences: int = 0
    errors: list[RowError] = field(default_factory=list)
    flags: Counter[str] = field(default_factory=Counter)
    accepted_ids: list[str] = field(default_factory=list)
    stored_ids: list[str] = field(default_factory=list)  # ids that were already stored with the same content
    batch_id: int | None = None
    source: str | None = None

    def to_dict(self, *, with_ids: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "submitted": self.submitted,
            "accepted": self.accepted,
            "already_stored": self.already_stored,
            "rejected": self.rejected,
            "repeated": self.repeated,
            "likely_duplicates": self.likely_duplicates,
            "recurrences": self.recurrences,
            "flags": dict(self.flags),
            "errors": [e.to_dict() for e in self.errors],
            "batch_id": self.batch_id,
        }
        if with_ids:
            out["accepted_ids"] = self.accepted_ids
            out["stored_ids"] = self.stored_ids
        return out
