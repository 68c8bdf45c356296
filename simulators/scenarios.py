"""Scenarios: a situation an operator should see on the wall, declared as data and applied
on top of the normal seeded streams (``ioc simulate --scenario NAME``, ``ioc demo
--scenario NAME``).

A scenario names a district (and a source where it needs one), the local hour of its
day from which it acts, and what it changes in the streams:

- :class:`ExtraDengue`: dengue (A90) outpatients at the district's health centre, on top
  of the usual ones, spread over clinic hours and the district's communes by population
  (encounters only: their BHYT claims are not simulated);
- :class:`SilentSource`: nothing more from one source system for the rest of the day;
- :class:`Closed`: sources of some kinds located in the district send nothing that day (a
  closed school takes no attendance, a closed desk receives no dossier: the dossiers it
  would have received that day are never born, and other dossiers' steps of that day
  are not sent); the closure is declared too (:meth:`ScenarioRun.closures`, registered by
  ``ioc demo`` and printed by ``ioc simulate`` for an operator to declare), so the closed
  sources owe nothing that day;
- :class:`MoreReports`: each citizen report about the district received that day comes
  ``factor`` times (copies with their own ids, whole lives included).

The scenario's day is a run's choice (the last day of a range, today in the demo); every
change is drawn from generators seeded by ``(seed, scenario, hour)``, so a scenario run is
as reproducible as a clean one, and the events it does not touch are the clean run's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import numpy as np

from models.clock import LOCAL
from models.closures import Closure
from models.events import CITIZEN_REPORT, HEALTH_ENCOUNTER, PUBLIC_SERVICE_DOSSIER
from models.sources import CLINIC_HOURS, sources_by_code
from models.units import communes, legacy_units
from simulators.base import EventDoc, Stream, envelope, event_time, hour_rng, id_strings, iso_times
from simulators.health import HealthEncounterStream

SCENARIO_IDS = uuid.UUID("6f1d2c3e-9a4b-4c5d-8e7f-0a1b2c3d4e5f")
"""Namespace of the ids of events a scenario adds (uuid5 of the scenario and a key)."""


@dataclass(frozen=True)
class ExtraDengue:
    per_day: int


@dataclass(frozen=True)
class SilentSource:
    source: str


@dataclass(frozen=True)
class Closed:
    kinds: tuple[str, ...]
    """Source kinds of ``models.sources`` (``primary``, ``commune_desk``…)."""


@dataclass(frozen=True)
class MoreReports:
    factor: int


Change = ExtraDengue | SilentSource | Closed | MoreReports


@dataclass(frozen=True)
class Scenario:
    name: str
    title_vi: str
    title_en: str
    description_vi: str
    description_en: str
    district: str
    """GSO code of the district it happens in (2020 hierarchy)."""
    from_hour: int
    """Local hour of the day from which it acts (to the day's end)."""
    changes: tuple[Change, ...]
    expected_alerts: tuple[str, ...]
    """The alert rules (``models.alert_rules``) it raises for ``district``, and no other."""


SCHOOL_KINDS = ("preschool", "primary", "lower_secondary", "upper_secondary")
DESK_KINDS = ("commune_desk", "district_desk")

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="dengue_surge",
        title_vi="Sốt xuất huyết tăng vọt ở Đại Lộc",
        title_en="Dengue surge in Đại Lộc",
        description_vi="Trung tâm Y tế Đại Lộc khám thêm 60 ca sốt xuất huyết (A90) trong "
        "ngày, gấp nhiều lần mức thường ngày của huyện.",
        description_en="Đại Lộc's health centre sees 60 more dengue (A90) outpatients in the "
        "day, many times the district's usual count.",
        district="506",
        from_hour=0,
        changes=(ExtraDengue(per_day=60),),
        expected_alerts=("health.dengue_surge",),
    ),
    Scenario(
        name="hospital_silent",
        title_vi="Phần mềm bệnh viện Tiên Phước ngừng gửi dữ liệu",
        title_en="Tiên Phước hospital feed goes silent",
        description_vi="Hệ thống thông tin bệnh viện (HIS) của Trung tâm Y tế Tiên Phước "
        "ngừng gửi lượt khám và báo cáo giường bệnh từ 9 giờ đến hết ngày.",
        description_en="The hospital information system (HIS) of Tiên Phước's health centre "
        "sends no encounters and no bed census from 09:00 to the end of the day.",
        district="514",
        from_hour=9,
        changes=(SilentSource("his/TTYT-514"),),
        expected_alerts=("data.hospital_feed_down",),
    ),
    Scenario(
        name="flood_day",
        title_vi="Lũ lụt ở Duy Xuyên: trường học và bộ phận một cửa đóng cửa",
        title_en="Flood day in Duy Xuyên: schools and one-stop desks closed",
        description_vi="Lũ lụt: trường học và bộ phận một cửa cấp xã, huyện của Duy Xuyên "
        "đóng cửa cả ngày; phản ánh qua đường dây nóng về huyện tăng gấp 4.",
        description_en="A flood: Duy Xuyên's schools and its commune and district one-stop "
        "desks are closed all day; hotline reports about the district are 4 times as many.",
        district="508",
        from_hour=0,
        changes=(Closed(SCHOOL_KINDS + DESK_KINDS), MoreReports(factor=4)),
        # The closure is declared: the closed schools and desks owe nothing that day.
        expected_alerts=("citizen.reports_spike",),
    ),
)  # fmt: skip

BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def scenario(name: str) -> Scenario:
    """The scenario called ``name``; a ``ValueError`` lists the choices."""
    if name not in BY_NAME:
        raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(BY_NAME)}")
    return BY_NAME[name]


@cache
def _district_of() -> dict[str, str]:
    return {u.code: u.parent_code or "" for u in legacy_units() if u.level == "commune"}


def _local_day(moment: datetime) -> dt.date:
    return moment.astimezone(LOCAL).date()


@dataclass
class ScenarioRun:
    """A scenario placed on a local day, applied to each hour's clean events."""

    scenario: Scenario
    day: dt.date
    seed: int

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.day, dt.time(self.scenario.from_hour), LOCAL)

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), dt.time(0), LOCAL)

    def closures(self) -> list[Closure]:
        """The closures the scenario declares (a flood's closed schools and desks)."""
        return [
            Closure(
                starts_at=self.starts_at,
                ends_at=self.ends_at,
                reason=f"{self.scenario.title_vi} ({self.scenario.name})",
                unit_code=self.scenario.district,
                kinds=change.kinds,
            )
            for change in self.scenario.changes
            if isinstance(change, Closed)
        ]

    def _active(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    def apply(
        self, hour_start: datetime, events: Sequence[EventDoc], *, encounters: bool = True
    ) -> list[EventDoc]:
        """This hour's events with the scenario's changes, in time order; ``encounters``:
        whether added encounters belong in this batch (the health encounter stream's)."""
        out = list(events)
        for change in self.scenario.changes:
            if isinstance(change, SilentSource):
                out = [e for e in out if not self._silenced(e, change)]
            elif isinstance(change, Closed):
                out = [e for e in out if not self._closed(e, change)]
            elif isinstance(change, MoreReports):
                out += self._copies(out, change)
            elif encounters:
                out += self._dengue(hour_start, change)
        out.sort(key=event_time)
        return out

    def _silenced(self, event: EventDoc, change: SilentSource) -> bool:
        return event["source"] == change.source and self._active(event_time(event))

    def _closed(self, event: EventDoc, change: Closed) -> bool:
        source = sources_by_code().get(event["source"])
        if source is None or source.kind not in change.kinds:
            return False
        if _district_of().get(source.commune_code) != self.scenario.district:
            return False
        if self._active(event_time(event)):
            return True
        # A dossier the closed desk would have received that day is never born.
        if event["type"] != PUBLIC_SERVICE_DOSSIER.type:
            return False
        return self._active(datetime.fromisoformat(event["data"]["received_at"]))

    def _copies(self, events: list[EventDoc], change: MoreReports) -> list[EventDoc]:
        out = []
        for event in events:
            if event["type"] != CITIZEN_REPORT.type:
                continue
            if _district_of().get(event["subject"]) != self.scenario.district:
                continue
            if not self._active(datetime.fromisoformat(event["data"]["received_at"])):
                continue
            for k in range(1, change.factor):
                key = f"{self.scenario.name}:{self.seed}:{event['id']}:{k}"
                copy = dict(event, id=str(uuid.uuid5(SCENARIO_IDS, key)))
                copy["data"] = dict(event["data"], report_id=f"{event['data']['report_id']}-{k}")
                out.append(copy)
        return out

    def _dengue(self, hour_start: datetime, change: ExtraDengue) -> list[EventDoc]:
        local = hour_start.astimezone(LOCAL)
        if not self._active(hour_start):
            return []
        weights = np.asarray(CLINIC_HOURS, dtype=float)
        rng = hour_rng(self.seed, f"scenario.{self.scenario.name}", hour_start)
        n = int(rng.poisson(change.per_day * weights[local.hour] / weights.sum()))
        if n == 0:
            return []
        district = [u for u in communes() if u.parent_code == self.scenario.district]
        pop = np.array([u.population or 1 for u in district], dtype=float)
        where = rng.choice(len(district), size=n, p=pop / pop.sum())
        start_ms = int(hour_start.timestamp() * 1000)
        times = iso_times(start_ms + np.sort(rng.integers(0, 3_600_000, n)))
        ids = id_strings(rng, n)
        return [
            envelope(
                HEALTH_ENCOUNTER.type,
                ids[i],
                f"his/TTYT-{self.scenario.district}",
                times[i],
                district[where[i]].code,
                {
                    "encounter_class": "outpatient",
                    "age_band": ("5-14", "15-49", "50-64")[i % 3],
                    "sex": "F" if rng.random() < 0.5 else "M",
                    "insured": bool(rng.random() < 0.91),
                    "icd_chapter": "I",
                    "icd_code": "A90",
                    "wait_minutes": int(rng.gamma(2.0, 22)),
                    "cost_vnd": int(rng.lognormal(12.4, 0.8)) // 1000 * 1000,
                },
            )
            for i in range(n)
        ]


@dataclass
class ScenarioStream:
    """A stream with a scenario applied to each of its hours (same name, same selection)."""

    inner: Stream
    run: ScenarioRun
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.inner.name

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        events = self.inner.events_for_hour(hour_start)
        adds = isinstance(self.inner, HealthEncounterStream)
        return self.run.apply(hour_start, events, encounters=adds)


def with_scenario(
    streams: Sequence[Stream], name: str | None, day: dt.date, seed: int
) -> list[Stream]:
    """The streams, with the named scenario placed on ``day`` (unchanged without one)."""
    if name is None:
        return list(streams)
    run = ScenarioRun(scenario(name), day, seed)
    return [ScenarioStream(s, run) for s in streams]


def scenario_day(start: datetime, end: datetime | None) -> dt.date:
    """Where a run places its scenario: the last local day of a range, else the start's."""
    return _local_day((end - timedelta(microseconds=1)) if end is not None else start)
