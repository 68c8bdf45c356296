"""Every simulated sector stream, by the sector name ``--streams`` selects them with."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from models.registry import Registry
from models.sectors import CITIZEN, EDUCATION, HEALTH, PUBLIC_SERVICE, TOURISM, require_sector
from simulators.base import Stream
from simulators.citizen import CitizenReportStream
from simulators.education import AttendanceStream, SchoolReportStream
from simulators.health import BedCensusStream, HealthClaimStream, HealthEncounterStream
from simulators.public_service import DossierStream
from simulators.tourism import TourismArrivalStream, TourismFeedbackStream

StreamFactory = Callable[[int, float], list[Stream]]
"""(seed, scale) → a sector's streams."""

SIMULATORS: Registry[StreamFactory] = Registry("simulated sector")
"""Sector → how to make its simulated streams, in the order they are generated."""


def register_simulator(sector: str, factory: StreamFactory) -> StreamFactory:
    """Declare a sector's simulator: ``ioc simulate --streams <sector>`` and ``ioc demo``
    generate it from here on."""
    return SIMULATORS.add(require_sector(sector), factory)


register_simulator(
    HEALTH,
    lambda seed, scale: [
        HealthEncounterStream(seed=seed, scale=scale),
        HealthClaimStream(seed=seed, scale=scale),
        BedCensusStream(seed=seed, scale=scale),
    ],
)
register_simulator(
    EDUCATION,
    lambda seed, scale: [
        AttendanceStream(seed=seed, scale=scale),
        SchoolReportStream(seed=seed, scale=scale),
    ],
)
register_simulator(
    TOURISM,
    lambda seed, scale: [
        TourismArrivalStream(seed=seed, scale=scale),
        TourismFeedbackStream(seed=seed, scale=scale),
    ],
)
register_simulator(PUBLIC_SERVICE, lambda seed, scale: [DossierStream(seed=seed, scale=scale)])
register_simulator(CITIZEN, lambda seed, scale: [CitizenReportStream(seed=seed, scale=scale)])


def make_streams(
    seed: int, sectors: Iterable[str] | None = None, scale: float = 1.0
) -> list[Stream]:
    """The streams of the chosen sectors (all when ``None``), volumes times ``scale``."""
    chosen = set(SIMULATORS if sectors is None else sectors)
    unknown = sorted(chosen - set(SIMULATORS))
    if unknown:
        raise ValueError(
            f"unknown stream {', '.join(unknown)}; choose from {', '.join(SIMULATORS)}"
        )
    return [s for sector, make in SIMULATORS.items() if sector in chosen for s in make(seed, scale)]
