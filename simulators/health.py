"""Health encounters as the province's hospital information systems (HIS) report them.

Volume: Vietnam counts about 2.3 outpatient visits per person per year at public
facilities; for Quảng Nam's ~1.5 million people that is ~3.5 million encounters a year,
~9,500 a day on average. Each commune's patients go to their district health centre
(``his/TTYT-<district>``); a share of emergencies and admissions go to the provincial
general hospital in Tam Kỳ (``his/BVDK-QN``). Clinics work 07:00–17:00 on weekdays and
mornings on Saturday; emergencies come at any hour. Every commune gets the same base
rate here (populations per commune come with the admin-unit loader).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from models.events import HEALTH_ENCOUNTER, make_event
from models.payloads.health import HealthEncounter
from models.units import Unit, communes
from simulators.base import EventDoc, event_ids, hour_rng

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
PROVINCIAL_HOSPITAL = "his/BVDK-QN"

DAILY_ENCOUNTERS = 9_500
CLASSES = ("outpatient", "inpatient", "emergency")
AGE_BANDS = ("0-4", "5-14", "15-49", "50-64", "65+")
AGE_P = (0.12, 0.13, 0.38, 0.19, 0.18)
ICD = ("I", "IV", "IX", "X", "XI", "XIII", "XIX", "XVIII", "XXI")
ICD_P = (0.08, 0.10, 0.16, 0.22, 0.12, 0.10, 0.07, 0.08, 0.07)
INSURED_SHARE = 0.91  # BHYT coverage in Quảng Nam, ~91% of the population

# Share of a weekday's outpatient load in each local hour (0–23): morning peak, lunch dip.
# fmt: off
_CLINIC_HOURS = np.array([
    0, 0, 0, 0, 0, 0, 0.02, 0.14, 0.18, 0.16, 0.12, 0.06,
    0.03, 0.08, 0.10, 0.08, 0.03, 0, 0, 0, 0, 0, 0, 0,
])
# fmt: on
_CLINIC_HOURS = _CLINIC_HOURS / _CLINIC_HOURS.sum()
_WEEKDAY_FACTOR = (1.08, 1.0, 1.0, 1.0, 0.97, 0.45, 0.0)  # Mon..Sun
EMERGENCY_SHARE = 0.07
INPATIENT_SHARE = 0.08


@dataclass
class HealthEncounterStream:
    """Seeded encounter generator over the province's communes."""

    seed: int
    units: tuple[Unit, ...] = field(default_factory=communes)
    name: str = "health"

    def __post_init__(self) -> None:
        self._codes = np.array([u.code for u in self.units])
        self._sources = np.array([f"his/TTYT-{u.parent_code}" for u in self.units])
        self._per_commune_day = DAILY_ENCOUNTERS / len(self.units)

    def _rate(self, local_hour: datetime) -> tuple[float, float]:
        """Expected (clinic, emergency) encounters per commune in this local hour."""
        clinic_day = self._per_commune_day * (1 - EMERGENCY_SHARE)
        clinic = clinic_day * _WEEKDAY_FACTOR[local_hour.weekday()] * _CLINIC_HOURS[local_hour.hour]
        emergency = self._per_commune_day * EMERGENCY_SHARE / 24
        return float(clinic), emergency

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        rng = hour_rng(self.seed, self.name, hour_start)
        clinic_rate, emergency_rate = self._rate(hour_start.astimezone(LOCAL))
        n_clinic = rng.poisson(clinic_rate, size=len(self.units))
        n_emergency = rng.poisson(emergency_rate, size=len(self.units))
        every = np.arange(len(self.units))
        commune_idx = np.concatenate([np.repeat(every, n_clinic), np.repeat(every, n_emergency)])
        emergency = np.arange(len(commune_idx)) >= n_clinic.sum()
        n = len(commune_idx)
        if n == 0:
            return []
        inpatient = ~emergency & (rng.random(n) < INPATIENT_SHARE / (1 - EMERGENCY_SHARE))
        classes = np.where(emergency, 2, np.where(inpatient, 1, 0))
        offsets = rng.random(n) * 3600
        ages = rng.choice(len(AGE_BANDS), size=n, p=AGE_P)
        sexes = rng.random(n) < 0.52
        insured = rng.random(n) < INSURED_SHARE
        icd = rng.choice(len(ICD), size=n, p=ICD_P)
        waits = np.where(emergency, rng.gamma(1.5, 6, n), rng.gamma(2.0, 22, n)).astype(int)
        costs = (
            (rng.lognormal(12.4, 0.8, n) * np.where(classes == 1, 18, 1)).astype(int) // 1000 * 1000
        )
        to_province = (classes > 0) & (rng.random(n) < 0.35)
        ids = event_ids(rng, n)
        events = []
        for i in range(n):
            ci = commune_idx[i]
            payload = HealthEncounter(
                encounter_class=CLASSES[classes[i]],
                age_band=AGE_BANDS[ages[i]],
                sex="F" if sexes[i] else "M",
                insured=bool(insured[i]),
                icd_chapter=ICD[icd[i]],
                wait_minutes=int(min(waits[i], 24 * 60)),
                cost_vnd=int(costs[i]),
            )
            moment = (hour_start + timedelta(seconds=float(offsets[i]))).astimezone(LOCAL)
            events.append(
                make_event(
                    HEALTH_ENCOUNTER,
                    id=ids[i],
                    source=PROVINCIAL_HOSPITAL if to_province[i] else str(self._sources[ci]),
                    time=moment.replace(microsecond=moment.microsecond // 1000 * 1000),
                    subject=str(self._codes[ci]),
                    payload=payload,
                )
            )
        return events
