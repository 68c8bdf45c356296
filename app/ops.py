"""Liveness, readiness and Prometheus metrics: what an orchestrator or watchdog polls."""

from __future__ import annotations

import os
import time

from fastapi import APIRouter, Depends, FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import Role, require_role
from app.resources import ResourcesDep

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is unreachable."}})
async def readyz(resources: ResourcesDep, response: Response) -> dict[str, str]:
    """The database and the broker are reachable (503 if not); a broker that is not
    configured is said so, and does not make the API unready: it reads without one."""
    checks = {"database": "ok", "broker": "ok"}
    try:
        async with resources.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        checks["database"] = f"unreachable: {type(exc).__name__}"
    broker = resources.broker
    if not broker.bootstrap:
        # The API reads without a broker; only the ingest gateway needs one.
        checks["broker"] = "not configured: the ingest gateway refuses events"
    elif not await broker.probe():  # the gateway fails fast on this too
        checks["broker"] = f"unreachable: {broker.bootstrap}"
    if any(v.startswith("unreachable") for v in checks.values()):
        response.status_code = 503
    return checks


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
    dependencies=[Depends(require_role(Role.OPERATOR))],
)
async def metrics(resources: ResourcesDep) -> Response:
    """Prometheus metrics: requests by route and status, latency, stream clients.

    Operator (or admin) key: Prometheus sends it with ``authorization: {credentials: KEY}``.
    """
    return Response(generate_latest(exposed(resources.metrics)), media_type=CONTENT_TYPE_LATEST)


def exposed(registry: CollectorRegistry) -> CollectorRegistry:
    """What ``/metrics`` reports: ``registry``; with several API processes on one port
    (:mod:`ioc.processes`, which sets ``PROMETHEUS_MULTIPROC_DIR``), every process's figures
    summed, since a scrape reaches whichever process accepts it."""
    shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not shared:
        return registry
    summed = CollectorRegistry()
    multiprocess.MultiProcessCollector(summed, path=shared)  # type: ignore[no-untyped-call]
    return summed


def instrument(app: FastAPI, registry: CollectorRegistry) -> Gauge:
    """Count requests and time them per route template (not per URL: bounded labels), into
    ``registry`` (the one ``/metrics`` serves). Returns the live-stream clients gauge, which
    the hub sets as clients come and go (summed over the live processes when several)."""
    requests = Counter(
        "ioc_api_requests", "API requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "ioc_api_request_seconds", "API request latency", ["route"], registry=registry
    )
    clients = Gauge(
        "ioc_stream_clients", "Connected live-stream clients", registry=registry,
        multiprocess_mode="livesum",
    )  # fmt: skip
    app.add_middleware(_Measured, requests=requests, latency=latency)
    return clients


class _Measured:
    """Counts and times each request up to its response's start (for a live stream, its
    opening, not its whole life), as plain ASGI: no task or body queue of its own per
    request, unlike Starlette's ``BaseHTTPMiddleware``. A request that fails before any
    response counts as a 500, as the error middleware outside answers it."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        counted = False

        def count(status: int) -> None:
            nonlocal counted
            counted = True
            route = getattr(scope.get("route"), "path", "unmatched")
            if scope["path"].startswith("/api/v1/") and not route.startswith("/api/v1"):
                route = "/api/v1" + route  # included routers report their own paths
            self.requests.labels(scope["method"], route, str(status)).inc()
            self.latency.labels(route).observe(time.perf_counter() - started)

        async def measured(message: Message) -> None:
            if message["type"] == "http.response.start" and not counted:
                count(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, measured)
        except Exception:
            if not counted:
                count(500)
            raise
