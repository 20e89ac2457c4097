"""The app factory: reads settings, opens the platform, wires routers and the error table."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI

from gis_enforcement import __version__
from gis_enforcement.admin.platform import Platform
from gis_enforcement.api.deps import refuse_nul
from gis_enforcement.api.errors import install_error_handlers
from gis_enforcement.api.examples import attach_examples, load_examples
from gis_enforcement.api.intake_lane import IntakeLane
from gis_enforcement.api.limits import BodyLimit
from gis_enforcement.api.routers import (
    analysis,
    api_docs,
    assignments,
    auth,
    catalog,
    desk,
    dispatch,
    events,
    incidents,
    maps,
    meta,
    ogc,
    open311,
    oversight,
    pages,
    photos,
    tracks,
)
from gis_enforcement.api.scheduler import DeliveryScheduler, EscalationScheduler, PeriodicPass
from gis_enforcement.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, platform: Platform | None = None,
               intake_lane: bool = True) -> FastAPI:
    """Build the application. ``platform`` may be given (tests); otherwise it is opened at start-up.
    ``intake_lane`` serves a single-Feature intake POST by ``api.intake_lane`` (False: by the route, as every
    other request)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the threads that run synchronous routes and dependencies: anyio's default (40) knows nothing of
        # the database pool they share (settings check api_threads against it)
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        passes: list[PeriodicPass] = []
        if getattr(app.state, "platform", None) is None:
            app.state.platform = Platform.open(settings)
            app.state.platform.warm_up()
            # what the platform holds (layers, indexes, the lists) lives as long as the process: a full
            # collection that walks those ~0.5 M objects again and again stalls every request for ~0.2 s
            gc.collect()
            gc.freeze()
            if settings.tick_interval_s > 0:
                passes.append(EscalationScheduler(app.state.platform, settings.tick_interval_s))
            if settings.delivery_interval_s > 0:
                passes.append(DeliveryScheduler(app.state.platform, settings.delivery_interval_s))
            for p in passes:
                p.start()
        yield
        for p in passes:
            p.stop()
        queue = getattr(app.state, "intake_queue", None)
        if queue is not None:
            queue.stop()  # what is queued is taken first
        if platform is None:
            app.state.platform.close()

    app = FastAPI(
        title="gis_enforcement",
        version=__version__,
        description="吹哨报到 enforcement chain: patrol incidents located in townships and zones, matched to "
        "the four lists (问题清单/权责清单/绩效清单/警示清单) and proposed for dispatch.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul)],
        docs_url=None,  # /docs and /redoc are api_docs's: Swagger UI and ReDoc served by the app, not a CDN
        redoc_url=None,
    )
    app.state.platform = platform
    if intake_lane:
        app.add_middleware(IntakeLane, api=app)  # inside BodyLimit (the middleware added last is outermost)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    install_error_handlers(app)
    app.include_router(meta.router)
    app.include_router(catalog.router)
    app.include_router(auth.router)
    app.include_router(incidents.exports_router)
    app.include_router(incidents.router)
    app.include_router(dispatch.router)
    app.include_router(assignments.router)
    app.include_router(oversight.router)
    app.include_router(desk.router)
    app.include_router(events.router)
    app.include_router(analysis.router)
    app.include_router(photos.router)
    app.include_router(tracks.router)
    app.include_router(maps.router)
    app.include_router(ogc.router)
    app.include_router(open311.router)
    app.include_router(pages.router)
    app.include_router(api_docs.router)

    def openapi() -> dict[str, Any]:
        """FastAPI's description of the routes, with the recorded answers as examples (``api.examples``)."""
        if app.openapi_schema is None:
            attach_examples(FastAPI.openapi(app), load_examples())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
    return app
