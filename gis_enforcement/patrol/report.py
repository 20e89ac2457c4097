"""What an intake run tells its caller: per-row errors and the batch totals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RowError:
    """One refused value: the source row (1-based as the user sees it), the field and why."""

    row: int
    field: str
    reason: str
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason, "id": self.id}

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
