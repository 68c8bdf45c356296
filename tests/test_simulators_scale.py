"""A scaled feed (``--scale`` below 1, as the bench, the browser test and small demos run) is
a smaller province read honestly: every owed report still arrives, so completeness is ~100 %
and no source is late or silent, while the volumes are the scale's share of the province's.

``IOC_VOLUME_SCALE`` (``Settings.volume_scale``) is the one declaration: the simulator
sends at it and the registry is asked at it (``source_registry(volume_scale)``), so owed
slots follow what is sent.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from app.kit.buckets import LOCAL, Bucket
from app.sources.service import reporting_hours_by_period
from app.sources.slots import Masks, standing, tally
from models.cadence import cadence_of
from models.events import (
    CITIZEN_REPORT,
    HEALTH_CLAIM,
    HEALTH_ENCOUNTER,
    PUBLIC_SERVICE_DOSSIER,
    TOURISM_ARRIVAL,
    TOURISM_FEEDBACK,
)
from models.sources import source_registry
from simulators.base import EventDoc
from simulators.runner import collect
from simulators.streams import make_streams

END = datetime(2025, 10, 22, 4, tzinfo=LOCAL)
"""04:00 on a Wednesday of the flood season, the wall's misleading hour."""
DAYS = 3
SCALE = 0.25
VOLUME_TOLERANCE = 0.08
"""Each counted stream's events at scale ÷ (scale × at full scale) lies within ±8 %
(Poisson noise over three days: the hotline's ~1,300 events are the thinnest)."""
SCALED_TYPES = (
    HEALTH_ENCOUNTER, HEALTH_CLAIM, TOURISM_ARRIVAL, TOURISM_FEEDBACK,
    PUBLIC_SERVICE_DOSSIER, CITIZEN_REPORT,
)  # fmt: skip


def _events(scale: float) -> list[EventDoc]:
    return collect(make_streams(5, scale=scale), END - timedelta(days=DAYS), END)


def _masks(events: list[EventDoc]) -> Masks:
    masks: Masks = {}
    for e in events:
        at = datetime.fromisoformat(e["time"]).astimezone(LOCAL)
        key = (e["source"], at.date())
        masks[key] = masks.get(key, 0) | 1 << at.hour
    return masks


def test_a_fault_free_scaled_feed_is_complete_and_fresh() -> None:
    events = _events(SCALE)
    masks, sources = _masks(events), source_registry(SCALE)
    # The first day is the data's start (a day slot is owed from its reporting window on).
    judged = END - timedelta(days=DAYS - 1)
    counts = tally(sources, masks, Bucket.YEAR, judged, END, END)
    by_sector: dict[str, list[int]] = {}
    for source in sources:
        acc = by_sector.setdefault(source.sector, [0, 0])
        for owed, arrived in counts[source.code].values():
            acc[0] += owed
            acc[1] += arrived
    assert set(by_sector) == {"health", "education", "tourism", "public_service", "citizen"}
    for sector, (owed, arrived) in by_sector.items():
        assert owed > 0 and arrived / owed >= 0.95, (sector, owed, arrived)
    # Owed from where the data starts, as the product judges a stream (its first event).
    since = END - timedelta(days=DAYS)
    status = Counter(standing(s, masks, END, since).status for s in sources)
    assert status == {"fresh": len(sources)}
    # The scale thins volumes, not the province: most sources still owe slots.
    assert sum(cadence_of(s).slot != "none" for s in sources) > 0.9 * len(sources)


def test_volumes_are_the_scales_share_and_the_registry_expects_them() -> None:
    full = Counter(e["type"] for e in _events(1.0))
    events = _events(SCALE)
    part = Counter(e["type"] for e in events)
    for event_type in SCALED_TYPES:
        ratio = part[event_type.type] / (SCALE * full[event_type.type])
        assert abs(ratio - 1) <= VOLUME_TOLERANCE, (event_type.type, ratio)
    # What the registry expects at the scale is what arrives (volume ratio ≈ 1).
    sources = source_registry(SCALE)
    start = END - timedelta(days=DAYS)
    hours = reporting_hours_by_period(sources, Bucket.YEAR, start, END)
    expected = sum(sum(hours[s.code].values()) * s.expected_per_hour for s in sources)
    assert 0.85 < len(events) / expected < 1.15, len(events) / expected


def test_the_full_province_is_unchanged_by_the_scale_declaration() -> None:
    full = {s.code: s for s in source_registry()}
    scaled = {s.code: s for s in source_registry(SCALE)}
    assert scaled.keys() == full.keys()
    his, school = "his/TTYT-502", "school/THPT-502-1"
    # The hourly bed census and a school's attendance records come whatever the volume.
    assert scaled[his].expected_per_hour == pytest.approx(
        1 + (full[his].expected_per_hour - 1) * SCALE, abs=1e-3
    )
    assert scaled[school].expected_per_hour == full[school].expected_per_hour
    assert {s.code: s for s in source_registry()} == full
