"""/api/v1/health — is the platform up, which lists and layers does it hold."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gis_enforcement import __version__
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.storage import layer_repo

router = APIRouter(prefix="/api/v1", tags=["meta"])


@router.get("/health", operation_id="health")
def health(platform: PlatformDep, session: SessionDep) -> dict[str, Any]:
    """Version, catalog version and stored layer counts."""
    return {
        "status": "ok",
        "version": __version__,
        "catalog_version": platform.catalog.version,
        "layers": layer_repo.layer_counts(session),
    }
