"""The FastAPI application: indicators, units and operations under ``/api/v1``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from app import ops
from app.indicators.endpoints import router as indicators_router
from app.kit.errors import ApiError
from models.db import make_engine


def create_app(database_url: str, kafka_bootstrap: str | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine: AsyncEngine = make_engine(database_url)
        app.state.engine = engine
        app.state.kafka_bootstrap = kafka_bootstrap
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Provincial IOC API",
        version="0.1.0",
        description="Indicators of a province's sectors, rolled up commune → district → "
        "province and by time bucket, fed live by the sector streams.",
        lifespan=lifespan,
    )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    app.include_router(ops.router)
    app.include_router(indicators_router, prefix="/api/v1")
    return app
