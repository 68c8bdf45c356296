"""Tourism streams from the smart-tourism platform: site visits (ticket scans), lodging
check-ins, and visitor feedback with a sentiment score.

Volumes: Quảng Nam welcomed about 7.8 million visitor arrivals in 2019, Hội An about 5
million of them, roughly 45% international (provincial tourism reports, pre-pandemic);
the registry's sites and lodging areas carry their average daily visitors
(``models.sources.TOURIST_SITES`` / ``LODGING_AREAS``), ~24,000 visitors a day, in parties
of ~3.2 at sites and ~2.4 at lodgings. Seasons: Hội An's high season February–August,
the flood months October–November the low season (``TOURISM_BY_MONTH``); Tết week and
weekends bring domestic visitors. Sites scan tickets 07:00–22:00 (the old town's evening
peak), lodgings check in 11:00–23:00; international guests stay longer (3.1 vs 1.6
nights). About one party in 25 leaves feedback; sentiment is positive on average, lower
in the flood months and on price and cleanliness.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from models.events import TOURISM_ARRIVAL, TOURISM_FEEDBACK
from models.sectors import TOURISM
from models.sources import LODGING_HOURS, SITE_HOURS, sources_of
from simulators.base import (
    EventDoc,
    SeededStream,
    envelope,
    hour_clock,
    hour_rng,
    hour_weights,
    id_strings,
    iso_times,
)
from simulators.seasons import TOURISM_BY_MONTH, tet_holiday_factor

_SITE_HOURS = hour_weights(SITE_HOURS)
_LODGING_HOURS = hour_weights(LODGING_HOURS)
_WEEKDAY = (0.9, 0.85, 0.85, 0.9, 1.0, 1.25, 1.25)
INTERNATIONAL = {"20398": 0.55, "20416": 0.6, "20419": 0.65, "20431": 0.5, "20434": 0.4}
INTERNATIONAL_ELSEWHERE = 0.15
TOPICS = ("service", "price", "cleanliness", "safety", "transport", "other")
TOPIC_P = (0.32, 0.18, 0.14, 0.06, 0.12, 0.18)
TOPIC_MOOD = np.array((0.15, -0.25, -0.2, 0.0, -0.1, 0.05))
FEEDBACK_SHARE = 0.04
CHANNELS = ("app", "portal", "social")


@dataclass
class _TourismStream(SeededStream):
    name: str = TOURISM


class TourismArrivalStream(_TourismStream):
    """Parties arriving at sites (``site_visit``) and checking in at lodgings."""

    def __post_init__(self) -> None:
        places = sources_of(TOURISM, "site") + sources_of(TOURISM, "lodging")
        self._places = places
        self._site = np.array([p.kind == "site" for p in places])
        party = np.where(self._site, 3.2, 2.4)
        self._parties_per_day = np.array([p.capacity for p in places]) / party
        self._intl = np.array(
            [INTERNATIONAL.get(p.commune_code, INTERNATIONAL_ELSEWHERE) for p in places]
        )

    def arrivals(self, hour_start: datetime) -> tuple[np.random.Generator, np.ndarray, int]:
        rng = hour_rng(self.seed, "tourism.arrival", hour_start)
        start_ms, local = hour_clock(hour_start)
        season = TOURISM_BY_MONTH[local.month - 1] * tet_holiday_factor(local.date())
        season *= _WEEKDAY[local.weekday()] * self.scale
        profile = np.where(self._site, _SITE_HOURS[local.hour], _LODGING_HOURS[local.hour])
        counts = rng.poisson(self._parties_per_day * season * profile)
        return rng, np.repeat(np.arange(len(self._places)), counts), start_ms

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        rng, place, start_ms = self.arrivals(hour_start)
        n = len(place)
        if n == 0:
            return []
        site = self._site[place]
        intl = rng.random(n) < self._intl[place]
        size = 1 + rng.poisson(np.where(site, 2.2, 1.4))
        tour = site & (rng.random(n) < 0.03)  # coach parties
        size = np.where(tour, rng.integers(15, 46, n), size)
        nights = np.where(site, 0, 1 + rng.poisson(np.where(intl, 2.1, 0.6)))
        times = iso_times(start_ms + np.sort(rng.integers(0, 3_600_000, n)))
        ids = id_strings(rng, n)
        kind = TOURISM_ARRIVAL.type
        out = []
        for i in range(n):
            p = self._places[place[i]]
            out.append(
                envelope(
                    kind,
                    ids[i],
                    p.code,
                    times[i],
                    p.commune_code,
                    {
                        "kind": "site_visit" if site[i] else "lodging_checkin",
                        "visitors": int(size[i]),
                        "international": bool(intl[i]),
                        "nights": int(min(nights[i], 90)),
                    },
                )
            )
        return out


class TourismFeedbackStream(_TourismStream):
    """Reviews and social-media mentions, scored by the platform's sentiment analysis."""

    def __post_init__(self) -> None:
        self._arrivals = TourismArrivalStream(seed=self.seed, scale=self.scale)
        self._source = sources_of(TOURISM, "feedback")[0]

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        _, place, start_ms = self._arrivals.arrivals(hour_start)
        rng = hour_rng(self.seed, "tourism.feedback", hour_start)
        chosen = place[rng.random(len(place)) < FEEDBACK_SHARE]
        n = len(chosen)
        if n == 0:
            return []
        local = hour_clock(hour_start)[1]
        flood = -0.15 if local.month in (10, 11) else 0.0
        topic = rng.choice(len(TOPICS), size=n, p=TOPIC_P)
        sentiment = np.clip(rng.normal(0.35 + flood + TOPIC_MOOD[topic], 0.4), -1, 1)
        rating = np.clip(np.rint(3.2 + 2 * sentiment + rng.normal(0, 0.5, n)), 1, 5).astype(int)
        channel = rng.choice(3, size=n, p=(0.3, 0.15, 0.55))
        intl = rng.random(n) < self._arrivals._intl[chosen]
        times = iso_times(start_ms + np.sort(rng.integers(0, 3_600_000, n)))
        ids = id_strings(rng, n)
        kind = TOURISM_FEEDBACK.type
        places = self._arrivals._places
        return [
            envelope(
                kind,
                ids[i],
                self._source.code,
                times[i],
                places[chosen[i]].commune_code,
                {
                    "channel": CHANNELS[channel[i]],
                    "topic": TOPICS[topic[i]],
                    "sentiment": round(float(sentiment[i]), 3),
                    "rating": None if channel[i] == 2 else int(rating[i]),
                    "international": bool(intl[i]),
                },
            )
            for i in range(n)
        ]
