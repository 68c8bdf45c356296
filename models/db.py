"""The engine: one place that knows how we talk to PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from models.settings import normalise_database_url


def make_engine(url: str, *, pool_size: int = 5, pool_timeout: float = 30.0) -> AsyncEngine:
    return create_async_engine(
        normalise_database_url(url),
        pool_size=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
    )
