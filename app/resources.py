"""What the API holds for its lifetime, and the typed dependencies routes reach it by.

The lifespan in :mod:`app.main` is the one place that makes these (and closes them); a
route asks for what it needs (``EngineDep``, ``ResourcesDep``) instead of reading untyped
attributes off the application, so a misspelt or missing resource fails at type-check time
and a test swaps one with ``app.dependency_overrides[get_resources]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from app.gateway.publisher import BrokerHealth, Publisher
from app.kit.answers import AnswerCache
from app.kit.limits import TokenBuckets
from app.kit.snapshots import Snapshots
from ingest.validation import Validator
from models.settings import Settings

if TYPE_CHECKING:
    from app.stream.evaluator import Evaluator
    from app.stream.service import Hub

_SLOT = "resources"


@dataclass(slots=True)
class Resources:
    """The API's resources: made together in the lifespan, closed together after it."""

    settings: Settings
    database_url: str
    engine: AsyncEngine
    broker: BrokerHealth
    """The broker's health as the gateway and ``/readyz`` see it."""
    publisher: Publisher | None
    """Where the gateway publishes; None when no broker is configured (reads only)."""
    validator: Validator
    """The gateway's event checks, the same as the ingest workers'."""
    evaluator: Evaluator
    """The alert, value and source-status evaluator (the hub runs it beside the fan-out)."""
    hub: Hub
    """The live-stream hub."""
    metrics: CollectorRegistry
    auth_failures: TokenBuckets
    """Failed API-key checks per client address (``IOC_AUTH_FAILURES_PER_MINUTE``)."""
    gateway_quota: TokenBuckets
    """Events posted per key (``IOC_GATEWAY_EVENTS_PER_SECOND``)."""
    answers: AnswerCache
    """Answers to settled questions, per database snapshot (``IOC_ANSWER_CACHE_MB``)."""
    snapshots: Snapshots
    """The database's snapshot now, shared by the requests asking at once."""


def attach(app: Starlette, resources: Resources | None) -> None:
    """Hand the lifespan's resources to the app (None when they are closed)."""
    setattr(app.state, _SLOT, resources)


def running(app: Starlette) -> Resources | None:
    """The app's resources while its lifespan runs, else None."""
    found = getattr(app.state, _SLOT, None)
    return found if isinstance(found, Resources) else None


def resources_of(app: Starlette) -> Resources:
    """The app's resources; an error outside its lifespan (nothing is open then)."""
    found = running(app)
    if found is None:
        raise RuntimeError("The API's resources exist only while its lifespan runs.")
    return found


async def get_resources(request: Request) -> Resources:
    return resources_of(request.app)


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_answers(request: Request) -> AnswerCache:
    return resources_of(request.app).answers


AnswersDep = Annotated[AnswerCache, Depends(get_answers)]


async def get_engine(resources: ResourcesDep) -> AsyncEngine:
    return resources.engine


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]


async def get_volume_scale(resources: ResourcesDep) -> float:
    return resources.settings.volume_scale


VolumeScaleDep = Annotated[float, Depends(get_volume_scale)]
"""The volume the sources are expected at (``IOC_VOLUME_SCALE``; 1 = the province)."""


async def get_now(resources: ResourcesDep) -> datetime:
    return resources.settings.now()


NowDep = Annotated[datetime, Depends(get_now)]
"""The moment a request is answered as of (``Settings.now``: ``IOC_PINNED_NOW`` or the clock)."""
