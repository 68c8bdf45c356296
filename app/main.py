"""The FastAPI application: indicators, units, sources, alerts, stream and exports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from app import apidocs, ops
from app.alerts.endpoints import router as alerts_router
from app.auth.endpoints import router as auth_router
from app.auth.service import current_principal
from app.export.endpoints import router as export_router
from app.gateway.endpoints import MAX_EVENTS
from app.gateway.endpoints import router as gateway_router
from app.gateway.publisher import BrokerHealth, KafkaPublisher
from app.indicators.endpoints import router as indicators_router
from app.kit import outages, redact
from app.kit.answers import AnswerCache
from app.kit.errors import ApiError
from app.kit.guards import RequestGuard
from app.kit.kept_responses import KeptResponses
from app.kit.limits import TokenBuckets
from app.kit.security import SecurityHeaders
from app.kit.snapshots import Snapshots
from app.resources import Resources, attach
from app.sources.endpoints import router as sources_router
from app.stream.endpoints import router as stream_router
from app.stream.evaluator import Evaluator
from app.stream.service import Hub
from app.units.endpoints import router as units_router
from app.wall.endpoints import router as wall_router
from ingest.validation import Validator
from models.db import make_engine
from models.settings import Settings, get_settings
from models.version import VERSION

DESCRIPTION = """Indicators of a province's sectors, rolled up commune → district → province
and by time bucket, fed live by the sector streams.

Authentication: open indicators and exports need no key. Operator views (sources, alerts,
restricted indicators) need an API key, sent as `X-API-Key: <key>` or
`Authorization: Bearer <key>`."""


SMALL_BODY_BYTES = 64 * 1024
"""Routes other than the gateway take small JSON bodies (a key's name and role)."""


def create_app(
    database_url: str, kafka_bootstrap: str | None = None, settings: Settings | None = None
) -> FastAPI:
    settings = settings or get_settings()
    redact.install()

    metrics = CollectorRegistry()
    snapshots = Snapshots(database_url)  # connects on first use, closed with the lifespan
    answers = AnswerCache(settings.answer_cache_mb * 2**20, snapshots, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """The one place the API's resources are made, handed to routes, and closed."""
        redact.install()  # again: the server may have (re)configured logging since
        engine = make_engine(database_url, pool_timeout=settings.db_pool_timeout_seconds)
        publisher = (
            KafkaPublisher(kafka_bootstrap, timeout=settings.gateway_timeout_seconds)
            if kafka_bootstrap
            else None
        )
        evaluator = Evaluator(
            engine,
            database_url,
            alert_interval=settings.alert_interval_seconds,
            volume_scale=settings.volume_scale,  # the deployment's sources, at its volume
            clock=settings.now,
        )
        per_minute = settings.auth_failures_per_minute
        per_second = settings.gateway_events_per_second
        resources = Resources(
            settings=settings,
            database_url=database_url,
            engine=engine,
            broker=BrokerHealth(kafka_bootstrap),
            publisher=publisher,
            validator=Validator.from_settings(settings),
            evaluator=evaluator,
            hub=Hub(engine, database_url, evaluator, counted=stream_clients.set),
            metrics=metrics,
            auth_failures=TokenBuckets(rate=per_minute / 60, burst=per_minute),
            gateway_quota=TokenBuckets(rate=per_second, burst=max(2 * per_second, MAX_EVENTS)),
            answers=answers,
            snapshots=snapshots,
        )
        try:
            await resources.hub.start()
            attach(app, resources)
            yield
        finally:
            attach(app, None)
            await resources.hub.stop()
            await resources.snapshots.close()
            if publisher is not None:
                await publisher.close()
            await engine.dispose()

    app = FastAPI(
        title="Provincial IOC API",
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by app.apidocs from the vendored assets instead of a CDN
        redoc_url=None,
        # Counted as the bytes arrive, Content-Length honoured: 413 before memory is spent.
        max_body_size=SMALL_BODY_BYTES,
    )
    # Outermost but for CORS (added after it) and the metrics middleware: refused requests
    # still carry CORS headers and are counted.
    app.add_middleware(KeptResponses, answers=answers, snapshots=snapshots)
    app.add_middleware(RequestGuard)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Authorization", "Last-Event-ID", "Content-Type"],
        )

    outages.install(app, pool_timeout=settings.db_pool_timeout_seconds)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.message}, status_code=exc.status_code, headers=exc.headers
        )

    stream_clients = ops.instrument(app, metrics)
    app.include_router(ops.router)
    apidocs.install(app)
    app.include_router(wall_router)
    for router in (
        indicators_router, units_router, sources_router, alerts_router, stream_router,
        export_router, auth_router, gateway_router,
    ):  # fmt: skip
        # Every API route checks a presented key, so a wrong key is a 401 even where no key
        # is needed (rather than silently reading as the public).
        app.include_router(
            router,
            prefix="/api/v1",
            dependencies=[Depends(current_principal)],
            max_body_size=settings.max_body_bytes if router is gateway_router else None,
        )
    return app
