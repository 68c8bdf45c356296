"""Health streams as the province's hospital information systems (HIS) and the BHYT
e-verification portal report them: encounters, hourly bed census, insurance claims.

Volumes (stated, then shaped): Vietnam counts about 2.3 outpatient visits per person per
year at public facilities; for Quảng Nam's ~1.5 million people that is ~3.5 million
encounters a year, ~9,500 a day on average, spread over communes by population. Each
commune's patients go to their district health centre (``his/TTYT-<district>``); 35% of
emergencies and admissions go to a provincial hospital (the general hospital in Tam Kỳ,
the central hospital in Núi Thành for the south, the northern-mountain regional hospital
in Nam Giang). Clinics work 07:00–17:00 on weekdays and Saturday mornings; emergencies
come at any hour and rise ~30% in the October–November floods. Dengue (ICD-10 A90) is
~0.12% of visits on a yearly average and follows the central-coast season
(``simulators.seasons.DENGUE_BY_MONTH``: October ≈ 12× April). BHYT covers ~91% of the
population; every insured encounter gives a claim: 99.3% are sent for e-verification
(target 100%), 4.36% of insured visits use the chip ID card, whose look-up succeeds
61.3% of the time (national figures, INDICATORS.md). Each HIS sends a bed-census snapshot
every hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np

from models.events import HEALTH_BED_CENSUS, HEALTH_CLAIM, HEALTH_ENCOUNTER
from models.sectors import HEALTH
from models.sources import (
    CLINIC_HOURS,
    CLINIC_WEEKDAYS,
    EMERGENCY_SHARE,
    ENCOUNTERS_PER_DAY,
    INSURED_SHARE,
    REFERRAL_HOSPITAL,
    sources_of,
)
from models.units import Unit, communes
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
from simulators.seasons import DENGUE_BY_MONTH, EMERGENCY_BY_MONTH

DAILY_ENCOUNTERS = ENCOUNTERS_PER_DAY
CLASSES = ("outpatient", "inpatient", "emergency")
AGE_BANDS = ("0-4", "5-14", "15-49", "50-64", "65+")
AGE_P = (0.12, 0.13, 0.38, 0.19, 0.18)
ICD = ("I", "IV", "IX", "X", "XI", "XIII", "XIX", "XVIII", "XXI")
ICD_P = (0.08, 0.10, 0.16, 0.22, 0.12, 0.10, 0.07, 0.08, 0.07)
DENGUE_SHARE = 0.0012
INPATIENT_SHARE = 0.08
TO_PROVINCE = 0.35
EVERIFIED = 0.993
CHIP_ID_SHARE, CHIP_ID_OK = 0.0436, 0.613
OUTCOMES, OUTCOME_P = ("accepted", "rejected", "pending"), (0.93, 0.035, 0.035)

# The registry's expectations of a clinic day and week are the shapes drawn here.
_CLINIC_HOURS = hour_weights(CLINIC_HOURS)
_WEEKDAY_FACTOR = CLINIC_WEEKDAYS


@dataclass(frozen=True)
class _Encounters:
    """One hour's encounters as columns; claims and events are built from the same draw."""

    ids: list[str]
    times_ms: np.ndarray
    commune: np.ndarray
    facility: np.ndarray
    classes: np.ndarray
    age: np.ndarray
    female: np.ndarray
    insured: np.ndarray
    icd: np.ndarray
    dengue: np.ndarray
    waits: np.ndarray
    costs: np.ndarray


@dataclass
class _HealthStream(SeededStream):
    name: str = HEALTH


@dataclass
class HealthEncounterStream(_HealthStream):
    """Seeded encounter generator over the province's communes."""

    units: tuple[Unit, ...] = field(default_factory=communes)

    def __post_init__(self) -> None:
        self._codes = [u.code for u in self.units]
        pop = np.array([u.population or 1 for u in self.units], dtype=float)
        self._share = pop / pop.sum()
        local = [f"TTYT-{u.parent_code}" for u in self.units]
        regional = [REFERRAL_HOSPITAL.get(u.parent_code or "", "BVDK-QN") for u in self.units]
        self._facilities = sorted(set(local) | set(regional))
        index = {f: i for i, f in enumerate(self._facilities)}
        self._local = np.array([index[f] for f in local])
        self._regional = np.array([index[f] for f in regional])

    def encounters(self, hour_start: datetime) -> _Encounters:
        return _draw(self, hour_start)

    def _draw(self, hour_start: datetime) -> _Encounters:
        rng = hour_rng(self.seed, self.name, hour_start)
        start_ms, local = hour_clock(hour_start)
        per_day = DAILY_ENCOUNTERS * self.scale
        clinic = per_day * (1 - EMERGENCY_SHARE) * _WEEKDAY_FACTOR[local.weekday()]
        clinic *= _CLINIC_HOURS[local.hour]
        emergency = per_day * EMERGENCY_SHARE / 24 * EMERGENCY_BY_MONTH[local.month - 1]
        n_clinic = rng.poisson(clinic * self._share)
        n_emergency = rng.poisson(emergency * self._share)
        every = np.arange(len(self.units))
        commune = np.concatenate([np.repeat(every, n_clinic), np.repeat(every, n_emergency)])
        n = len(commune)
        is_emergency = np.arange(n) >= n_clinic.sum()
        inpatient = ~is_emergency & (rng.random(n) < INPATIENT_SHARE / (1 - EMERGENCY_SHARE))
        classes = np.where(is_emergency, 2, np.where(inpatient, 1, 0))
        offsets = np.sort(rng.integers(0, 3_600_000, n))
        dengue = ~is_emergency & (rng.random(n) < DENGUE_SHARE * DENGUE_BY_MONTH[local.month - 1])
        waits = np.where(is_emergency, rng.gamma(1.5, 6, n), rng.gamma(2.0, 22, n))
        costs = rng.lognormal(12.4, 0.8, n) * np.where(classes == 1, 18, 1)
        to_province = (classes > 0) & (rng.random(n) < TO_PROVINCE)
        return _Encounters(
            ids=id_strings(rng, n),
            times_ms=start_ms + offsets,
            commune=commune,
            facility=np.where(to_province, self._regional[commune], self._local[commune]),
            classes=classes,
            age=rng.choice(len(AGE_BANDS), size=n, p=AGE_P),
            female=rng.random(n) < 0.52,
            insured=rng.random(n) < INSURED_SHARE,
            icd=rng.choice(len(ICD), size=n, p=ICD_P),
            dengue=dengue,
            waits=np.minimum(waits.astype(int), 24 * 60),
            costs=costs.astype(np.int64) // 1000 * 1000,
        )

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        e = self.encounters(hour_start)
        times = iso_times(e.times_ms)
        kind = HEALTH_ENCOUNTER.type
        out = []
        for i in range(len(e.ids)):
            dengue = bool(e.dengue[i])
            out.append(
                envelope(
                    kind,
                    e.ids[i],
                    "his/" + self._facilities[e.facility[i]],
                    times[i],
                    self._codes[e.commune[i]],
                    {
                        "encounter_class": CLASSES[e.classes[i]],
                        "age_band": AGE_BANDS[e.age[i]],
                        "sex": "F" if e.female[i] else "M",
                        "insured": bool(e.insured[i]),
                        "icd_chapter": "I" if dengue else ICD[e.icd[i]],
                        "icd_code": "A90" if dengue else None,
                        "wait_minutes": int(e.waits[i]),
                        "cost_vnd": int(e.costs[i]),
                    },
                )
            )
        return out


@lru_cache(maxsize=8)
def _draw_cached(stream_key: tuple[int, float], hour_start: datetime) -> _Encounters:
    seed, scale = stream_key
    return HealthEncounterStream(seed=seed, scale=scale)._draw(hour_start)


def _draw(stream: HealthEncounterStream, hour_start: datetime) -> _Encounters:
    if len(stream.units) != len(communes()):  # a custom unit set: no sharing
        return stream._draw(hour_start)
    return _draw_cached((stream.seed, stream.scale), hour_start)


class HealthClaimStream(_HealthStream):
    """BHYT claims: one per insured encounter, sent within the hour of the visit."""

    def __post_init__(self) -> None:
        self._encounters = HealthEncounterStream(seed=self.seed, scale=self.scale)

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        e = self._encounters.encounters(hour_start)
        rng = hour_rng(self.seed, "health.claim", hour_start)
        insured = np.flatnonzero(e.insured)
        n = len(insured)
        end_ms = int(hour_start.timestamp() * 1000) + 3_600_000
        delay = rng.random(n) * (end_ms - e.times_ms[insured])
        sent = rng.random(n) < EVERIFIED
        outcome = np.where(sent, rng.choice(3, size=n, p=OUTCOME_P), 2)
        chip = rng.random(n) < CHIP_ID_SHARE
        chip_ok = rng.random(n) < CHIP_ID_OK
        covered = np.where(rng.random(n) < 0.3, 1.0, 0.8)
        ids = id_strings(rng, n)
        times = iso_times(e.times_ms[insured] + delay.astype(np.int64))
        kind = HEALTH_CLAIM.type
        facilities = self._encounters._facilities
        codes = self._encounters._codes
        out = []
        for j, i in enumerate(insured):
            out.append(
                envelope(
                    kind,
                    ids[j],
                    "bhyt/" + facilities[e.facility[i]],
                    times[j],
                    codes[e.commune[i]],
                    {
                        "claim_id": "BHYT-" + e.ids[i][:8] + e.ids[i][24:],
                        "encounter_id": e.ids[i],
                        "amount_vnd": int(e.costs[i] * covered[j]),
                        "sent_for_everification": bool(sent[j]),
                        "outcome": OUTCOMES[outcome[j]],
                        "chip_id_lookup": bool(chip[j]),
                        "chip_id_lookup_ok": bool(chip_ok[j]) if chip[j] else None,
                    },
                )
            )
        return out


class BedCensusStream(_HealthStream):
    """Each HIS reports its beds once an hour, a few minutes past the hour."""

    def __post_init__(self) -> None:
        self._sources = sources_of(HEALTH)
        self._his = [s for s in self._sources if s.code.startswith("his/")]
        self._beds = np.array([s.capacity for s in self._his], dtype=float)
        self._provincial = np.array([s.kind == "provincial_hospital" for s in self._his])

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        rng = hour_rng(self.seed, "health.bed_census", hour_start)
        start_ms, local = hour_clock(hour_start)
        n = len(self._his)
        base = np.where(self._provincial, 1.02, 0.78)
        season = 0.25 * (EMERGENCY_BY_MONTH[local.month - 1] - 1)
        weekend = -0.05 if local.weekday() >= 5 else 0.0
        occupancy = base + season + weekend + rng.normal(0, 0.03, n)
        occupied = np.maximum(0, np.rint(self._beds * occupancy)).astype(int)
        times = iso_times(start_ms + rng.integers(60_000, 420_000, n))
        ids = id_strings(rng, n)
        kind = HEALTH_BED_CENSUS.type
        return [
            envelope(
                kind,
                ids[i],
                s.code,
                times[i],
                s.commune_code,
                {"beds_total": int(s.capacity), "beds_occupied": int(occupied[i])},
            )
            for i, s in enumerate(self._his)
        ]
