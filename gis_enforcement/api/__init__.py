"""HTTP API: ``create_app(settings)`` wires routers, dependencies and the one error table."""

from gis_enforcement.api.app import create_app

__all__ = ["create_app"]
