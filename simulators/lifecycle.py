"""Lifecycle streams (dossiers, hotline reports): entities born in one hour, with events
spread over the following days or weeks.

Every entity's whole life is drawn when it is born, from the generator of its birth hour
(a *cohort*), so the stream stays a pure function of ``(seed, hour)``: the events of hour
H are those of every cohort born in the last ``horizon`` hours that fall in H. Each
cohort is drawn once and its events filed under the hours they fall in, so a sequential
backfill costs one draw per hour; a cold start (live mode, a random hour) draws the
horizon's cohorts first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from simulators.base import EventDoc, envelope, id_strings, iso_times


@dataclass(frozen=True)
class Cohort:
    """The entities born in one hour and all their events, sorted by event time."""

    entities: dict[str, Any]
    """Column arrays (or lists) per entity attribute, indexed by entity."""
    event_ms: np.ndarray
    event_entity: np.ndarray
    event_stage: np.ndarray
    event_ids: list[str]

    @staticmethod
    def build(
        rng: np.random.Generator,
        entities: dict[str, Any],
        stage_times: list[tuple[int, np.ndarray, np.ndarray]],
        until_ms: int,
    ) -> Cohort:
        """``stage_times``: (stage, entity mask, event ms per entity) for each stage; events
        after ``until_ms`` (the stream's horizon) are left out."""
        ms, ent, stage = [], [], []
        for code, mask, times in stage_times:
            idx = np.flatnonzero(mask & (times < until_ms))
            ms.append(times[idx])
            ent.append(idx)
            stage.append(np.full(len(idx), code))
        all_ms = np.concatenate(ms) if ms else np.zeros(0, np.int64)
        order = np.argsort(all_ms, kind="stable")
        return Cohort(
            entities,
            all_ms[order].astype(np.int64),
            np.concatenate(ent)[order] if ent else np.zeros(0, int),
            np.concatenate(stage)[order] if stage else np.zeros(0, int),
            id_strings(rng, len(all_ms)),
        )


class LifecycleStream:
    """Base of the lifecycle streams: cohort caching and per-hour selection."""

    name: str
    rng_key: str
    horizon_hours: int
    event_type: str

    def __init__(self) -> None:
        self._drawn: set[int] = set()
        self._by_hour: dict[int, list[tuple[Cohort, int, int]]] = {}
        self._floor = -(1 << 62)

    def _index(self, born: int) -> None:
        """Draw the cohort born in hour ``born`` and file its events under their hours."""
        cohort = self.draw_cohort(datetime.fromtimestamp(born * 3600, UTC))
        self._drawn.add(born)
        hours, starts = np.unique(cohort.event_ms // 3_600_000, return_index=True)
        ends = [*starts[1:].tolist(), len(cohort.event_ms)][: len(starts)]
        for hour, a, b in zip(hours.tolist(), starts.tolist(), ends, strict=True):
            self._by_hour.setdefault(hour, []).append((cohort, a, b))

    def _slices(self, hour: int) -> list[tuple[Cohort, int, int]]:
        """The cohort slices holding hour ``hour``'s events, drawing what is missing.

        Only the last two days before the newest hour asked for stay indexed: asking for an
        older hour starts the index afresh (the same events: cohorts are pure functions).
        """
        if hour < self._floor:
            self._drawn.clear()
            self._by_hour.clear()
            self._floor = -(1 << 62)
        for born in range(hour - self.horizon_hours, hour + 1):
            if born not in self._drawn:
                self._index(born)
        found = self._by_hour.get(hour, [])
        floor = hour - 48
        if floor > self._floor + 24:
            self._floor = floor
            self._by_hour = {h: v for h, v in self._by_hour.items() if h >= floor}
            self._drawn = {b for b in self._drawn if b >= floor - self.horizon_hours}
        return found

    def draw_cohort(self, hour_start: datetime) -> Cohort:
        raise NotImplementedError

    def build(
        self,
        rng: np.random.Generator,
        hour_start: datetime,
        entities: dict[str, Any],
        stages: Sequence[tuple[int, np.ndarray | None, np.ndarray]],
    ) -> Cohort:
        """A cohort from its stages: (stage, entity mask or ``None`` for all, event ms)."""
        n = len(stages[0][2])
        everyone = np.ones(n, dtype=bool)
        until = int(hour_start.timestamp() * 1000) + self.horizon_hours * 3_600_000
        return Cohort.build(
            rng, entities, [(c, everyone if m is None else m, t) for c, m, t in stages], until
        )

    def payload(self, cohort: Cohort, entity: int, stage: int) -> dict[str, Any]:
        raise NotImplementedError

    def source_subject(self, cohort: Cohort, entity: int) -> tuple[str, str]:
        raise NotImplementedError

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        out: list[EventDoc] = []
        for cohort, a, b in self._slices(int(hour_start.timestamp()) // 3600):
            times = iso_times(cohort.event_ms[a:b])
            for k, i in enumerate(range(a, b)):
                entity, stage = int(cohort.event_entity[i]), int(cohort.event_stage[i])
                source, subject = self.source_subject(cohort, entity)
                out.append(
                    envelope(
                        self.event_type,
                        cohort.event_ids[i],
                        source,
                        times[k],
                        subject,
                        self.payload(cohort, entity, stage),
                    )
                )
        return out


def local_days(epoch_ms: np.ndarray) -> np.ndarray:
    """Local (UTC+7) calendar day of each instant, as ``datetime64[D]``."""
    return ((epoch_ms + 7 * 3_600_000) // 86_400_000).astype("datetime64[D]")


def at_local(days: np.ndarray, seconds_of_day: np.ndarray) -> np.ndarray:
    """Epoch ms of a local day plus seconds since local midnight."""
    return (
        days.astype("datetime64[D]").astype(np.int64) * 86_400_000
        - 7 * 3_600_000
        + (seconds_of_day * 1000).astype(np.int64)
    )
