"""Every simulated sector stream, by the name ``--streams`` selects them with."""

from __future__ import annotations

from collections.abc import Iterable

from simulators.base import Stream
from simulators.citizen import CitizenReportStream
from simulators.education import AttendanceStream, SchoolReportStream
from simulators.health import BedCensusStream, HealthClaimStream, HealthEncounterStream
from simulators.public_service import DossierStream
from simulators.tourism import TourismArrivalStream, TourismFeedbackStream

SECTORS = ("health", "education", "tourism", "public_service", "citizen")


def make_streams(
    seed: int, sectors: Iterable[str] | None = None, scale: float = 1.0
) -> list[Stream]:
    """The streams of the chosen sectors (all when ``None``), volumes times ``scale``."""
    chosen = list(SECTORS if sectors is None else sectors)
    unknown = sorted(set(chosen) - set(SECTORS))
    if unknown:
        raise ValueError(f"unknown stream {', '.join(unknown)}; choose from {', '.join(SECTORS)}")
    out: list[Stream] = []
    for sector in SECTORS:
        if sector not in chosen:
            continue
        if sector == "health":
            out += [
                HealthEncounterStream(seed=seed, scale=scale),
                HealthClaimStream(seed=seed, scale=scale),
                BedCensusStream(seed=seed, scale=scale),
            ]
        elif sector == "education":
            out += [
                AttendanceStream(seed=seed, scale=scale),
                SchoolReportStream(seed=seed, scale=scale),
            ]
        elif sector == "tourism":
            out += [
                TourismArrivalStream(seed=seed, scale=scale),
                TourismFeedbackStream(seed=seed, scale=scale),
            ]
        elif sector == "public_service":
            out.append(DossierStream(seed=seed, scale=scale))
        else:
            out.append(CitizenReportStream(seed=seed, scale=scale))
    return out
