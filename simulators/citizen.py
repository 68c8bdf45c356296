"""Citizen reports through the 1022 hotline and its channels (call, Smart Quảng Nam app,
Zalo, web), each a lifecycle: received → assigned → resolved → (sometimes) rated.

Volume: about 120 reports a day province-wide (an assumption of the order that provincial
1022 centres publish: tens of thousands a year), by population of the commune concerned;
calls between 06:00 and 22:00, app and web at any hour; the app is used 60% less in the
mountainous districts (fewer smartphones). Infrastructure, environment and emergency
reports rise 60% in the October–November floods. Deadlines: emergencies within 4 hours,
infrastructure and environment within 5 working days, others 15 working days (the
default of INDICATORS.md). 91% are resolved on time (Huế reports > 98% handled; the target
handling rate is 90%); 45% are rated, 86% satisfied and 6% "dislike" (satisfaction > 92%).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from models.calendar import add_working_days_array, business_calendar
from models.events import CITIZEN_REPORT
from models.sectors import CITIZEN
from models.sources import CALL_HOURS, HOTLINE_CHANNELS
from models.units import MOUNTAIN_DISTRICTS, communes
from simulators.base import hour_clock, hour_rng, hour_weights, iso_times
from simulators.lifecycle import Cohort, LifecycleStream, at_local, local_days

REPORTS_PER_DAY = 120
CATEGORIES = ("procedures", "emergency", "environment", "infrastructure", "public_order", "other")
CATEGORY_P = np.array((0.22, 0.08, 0.18, 0.27, 0.15, 0.10))
FLOOD_SENSITIVE = np.array((False, True, True, True, False, False))
CHANNEL_P = np.array((0.5, 0.25, 0.15, 0.1))  # call, app, zalo, web (HOTLINE_CHANNELS order)
STAGES = ("received", "assigned", "resolved", "rated")
RATINGS = ("satisfied", "neutral", "dislike")
AGENCY_LEVELS = ("province", "district", "commune")
HORIZON_DAYS = 45
_CALL_HOURS = hour_weights(CALL_HOURS)
_FLOOD_MONTHS = (10, 11)


class CitizenReportStream(LifecycleStream):
    """Seeded hotline-report lifecycles."""

    rng_key = "citizen.report"
    horizon_hours = HORIZON_DAYS * 24
    event_type = CITIZEN_REPORT.type

    def __init__(self, seed: int, scale: float = 1.0) -> None:
        super().__init__()
        self.seed, self.scale, self.name = seed, scale, CITIZEN
        self.units = communes()
        self._codes = [u.code for u in self.units]
        pop = np.array([u.population or 1 for u in self.units], dtype=float)
        self._share = pop / pop.sum()
        self._mountain = np.array([u.parent_code in MOUNTAIN_DISTRICTS for u in self.units])

    def draw_cohort(self, hour_start: datetime) -> Cohort:
        rng = hour_rng(self.seed, self.rng_key, hour_start)
        start_ms, local = hour_clock(hour_start)
        per_hour = REPORTS_PER_DAY * self.scale / 24
        calls = rng.poisson(REPORTS_PER_DAY * self.scale * CHANNEL_P[0] * _CALL_HOURS[local.hour])
        others = rng.poisson(per_hour * (1 - CHANNEL_P[0]))
        n = int(calls + others)
        channel = np.concatenate(
            [np.zeros(calls, int), rng.choice([1, 2, 3], size=others, p=CHANNEL_P[1:] / 0.5)]
        )
        commune = rng.choice(len(self.units), size=n, p=self._share)
        # The app is little used in the mountains: most such reports come by phone there.
        to_call = (channel == 1) & self._mountain[commune] & (rng.random(n) < 0.6)
        channel = np.where(to_call, 0, channel)
        weights = CATEGORY_P * np.where(FLOOD_SENSITIVE & (local.month in _FLOOD_MONTHS), 1.6, 1)
        category = rng.choice(len(CATEGORIES), size=n, p=weights / weights.sum())
        received = start_ms + np.sort(rng.integers(0, 3_600_000, n))
        return self._lifecycle(rng, hour_start, commune, channel, category, received)

    def _lifecycle(
        self,
        rng: np.random.Generator,
        hour_start: datetime,
        commune: np.ndarray,
        channel: np.ndarray,
        category: np.ndarray,
        received: np.ndarray,
    ) -> Cohort:
        n = len(commune)
        emergency = category == 1
        quick = (category == 2) | (category == 3)
        budget = np.where(quick, 5, 15)
        due_day = add_working_days_array(local_days(received), budget)
        due = np.where(
            emergency, received + 4 * 3_600_000, at_local(due_day, np.full(n, 17 * 3600))
        )
        assigned = received + (rng.gamma(1.5, np.where(emergency, 0.2, 3.0)) * 3_600_000).astype(
            np.int64
        )
        on_time = rng.random(n) < 0.91
        window = np.maximum(due - assigned, 600_000)
        resolved = np.where(
            on_time,
            assigned + (rng.random(n) * window).astype(np.int64),
            due + (rng.uniform(0.05, 10, n) * 86_400_000).astype(np.int64),
        )
        resolved = np.maximum(resolved, assigned + 60_000)
        resolved_days = local_days(resolved)
        off = ~np.is_busday(resolved_days, busdaycal=business_calendar()) & ~emergency
        resolved = np.where(off, resolved + 2 * 86_400_000, resolved)  # next week instead
        on_time = resolved <= due
        rated = rng.random(n) < 0.45
        rated_at = resolved + (rng.gamma(1.2, 10, n) * 3_600_000).astype(np.int64)
        level = np.where(
            emergency,
            1,
            np.where(
                category == 0,
                rng.choice(3, size=n, p=(0.4, 0.3, 0.3)),
                rng.choice(3, size=n, p=(0.1, 0.4, 0.5)),
            ),
        )
        hour = int(hour_start.timestamp()) // 3600
        salt = rng.integers(0, 1 << 16, n)
        entities: dict[str, Any] = {
            "id": [f"PA-{hour:07x}-{i:04x}{s:04x}" for i, s in enumerate(salt)],
            "commune": commune,
            "channel": channel,
            "category": category,
            "level": level,
            "received": iso_times(received),
            "due": iso_times(due),
            "on_time": on_time,
            "rating": rng.choice(3, size=n, p=(0.86, 0.08, 0.06)),
        }
        last = np.maximum(rated_at, resolved + 1)
        stages = [(0, None, received), (1, None, assigned), (2, None, resolved), (3, rated, last)]
        return self.build(rng, hour_start, entities, stages)

    def source_subject(self, cohort: Cohort, entity: int) -> tuple[str, str]:
        e = cohort.entities
        return HOTLINE_CHANNELS[int(e["channel"][entity])][0], self._codes[
            int(e["commune"][entity])
        ]

    def payload(self, cohort: Cohort, entity: int, stage: int) -> dict[str, Any]:
        e = cohort.entities
        data: dict[str, Any] = {
            "report_id": e["id"][entity],
            "stage": STAGES[stage],
            "category": CATEGORIES[int(e["category"][entity])],
            "channel": HOTLINE_CHANNELS[int(e["channel"][entity])][2],
            "received_at": e["received"][entity],
            "due_at": e["due"][entity],
            "handling_agency_level": AGENCY_LEVELS[int(e["level"][entity])],
        }
        if stage == 2:
            data["resolved_on_time"] = bool(e["on_time"][entity])
        elif stage == 3:
            data["rating"] = RATINGS[int(e["rating"][entity])]
        return data
