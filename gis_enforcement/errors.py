"""One family of errors for the whole platform, and the one table that maps them to HTTP.

Each error carries a machine ``code``, an HTTP ``status``, a user-safe ``message`` and, for bad input, the
``field`` at fault — so the API and the CLI can both say exactly what was wrong and where.
"""

from __future__ import annotations

from typing import Any


class EnforcementError(Exception):
    """Base of every error the platform raises on purpose."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, field: str | None = None, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.detail:
            out["detail"] = self.detail
        return out

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidInput(EnforcementError):
    """A value given by a user or client is wrong; ``field`` names it."""

    code = "invalid_input"
    status = 422


class NotFound(EnforcementError):
    code = "not_found"
    status = 404


class IdempotencyConflict(EnforcementError):
    """The same client id was sent before with different content."""

    code = "idempotency_conflict"
    status = 409


class AlreadyRecorded(EnforcementError):
    """A one-time act (a rating, a closure) was recorded before with different content; it is not changed."""

    code = "already_recorded"
    status = 409


class AlreadySummoned(AlreadyRecorded):
    """A whistle would summon nobody new: every department it names is already on its case(s). Nothing is
    written."""

    code = "already_summoned"


class ConcurrentIntake(EnforcementError):
    """Another request stored one of the same ids while this one was being checked; sending again is safe."""

    code = "concurrent_intake"
    status = 409


class LayerInvalid(EnforcementError):
    """A jurisdiction or zone layer cannot be used as given."""

    code = "layer_invalid"
    status = 422


class CatalogInvalid(EnforcementError):
    """The four lists contain an unknown code, a duplicate, or a rule without a lead."""

    code = "catalog_invalid"
    status = 422


class NotConfigured(EnforcementError):
    """A prerequisite is missing (layers not loaded, catalog absent)."""

    code = "not_configured"
    status = 503


class DatabaseUnavailable(EnforcementError):
    code = "database_unavailable"
    status = 503


class DatabaseBusy(EnforcementError):
    """Every database connection stayed in use for the pool's timeout; ``retry_after`` seconds later the
    request may be sent again."""

    code = "database_busy"
    status = 503


class Overloaded(EnforcementError):
    """The server already works on as many requests of this kind as it takes at once; nothing of this one was
    done, and ``retry_after`` seconds later it may be sent again."""

    code = "overloaded"
    status = 503


class PayloadTooLarge(EnforcementError):
    code = "payload_too_large"
    status = 413


class UnsupportedMedia(EnforcementError):
    """An upload that is not of an accepted kind (a photo that is not a JPEG, PNG or WebP image)."""

    code = "unsupported_media"
    status = 415


class Unauthenticated(EnforcementError):
    """No credentials, or credentials that are wrong, expired or revoked."""

    code = "unauthenticated"
    status = 401


class Forbidden(EnforcementError):
    """The caller is known but their role or unit does not allow this."""

    code = "forbidden"
    status = 403


class TooManyRequests(EnforcementError):
    """The caller sent more requests than the limit allows; ``retry_after`` seconds later it may try again."""

    code = "too_many_requests"
    status = 429


# The one table: error class -> HTTP status. The API's exception handler reads it; nothing else
# decides statuses.
HTTP_STATUS: dict[type[EnforcementError], int] = {
    cls: cls.status
    for cls in (
        EnforcementError,
        InvalidInput,
        NotFound,
        IdempotencyConflict,
        AlreadyRecorded,
        ConcurrentIntake,
        LayerInvalid,
        CatalogInvalid,
        NotConfigured,
        DatabaseUnavailable,
        DatabaseBusy,
        Overloaded,
        PayloadTooLarge,
        UnsupportedMedia,
        Unauthenticated,
        Forbidden,
        TooManyRequests,
    )
}


def http_status(exc: EnforcementError) -> int:
    """Status for an error: the nearest class in the table along the MRO."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]  # type: ignore[index]
    return 500
