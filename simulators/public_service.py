"""Public-service dossiers through their lifecycle, as the one-stop-shop software reports them.

Volume: about 600,000 dossiers a year across the province's commune, district and
provincial desks (an assumed 0.4 dossiers per inhabitant a year; the provincial centre
alone publishes figures of this order), arriving at the desks in office hours on working
days and online at any hour (less at night and on days off).

Shaped to reproduce the seed figures as indicators: the share of dossiers submitted
online is ``ONLINE_DOSSIER_SHARE`` for the year (55.73% in 2022); procedures offered
online follow ``simulators.procedures`` (41% in 2021). Mountainous districts submit online
at 45% of the lowland rate (fewer smartphones), lowland communes a little more, so that
the province-wide share stays on target. Decision 766 fields: synced to the national
portal 97%; promised date in working days from the procedure (Tết and holidays skipped);
12% get a supplement request, the citizen taking ~4 days (the clock stops); 3.5% are late
(6% in the mountains); fee paid online by 55% of online and 5% of desk dossiers with a
fee; electronic result 80% online / 55% desk; digitised inputs 92% / 70%; reuse of
digitised data 35%; VNeID 85% / 25%; 35% rate their dossier (88% satisfied, 3% dislike).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np

from models.calendar import add_working_days_array, business_calendar
from models.events import PUBLIC_SERVICE_DOSSIER
from models.sectors import PUBLIC_SERVICE
from models.sources import PROVINCE_DESK
from models.units import MOUNTAIN_DISTRICTS, communes
from simulators.base import hour_clock, hour_rng, hour_weights, iso_times
from simulators.lifecycle import Cohort, LifecycleStream, at_local, local_days
from simulators.procedures import LEVELS, catalogue
from simulators.seasons import is_office_day

DOSSIERS_PER_YEAR = 600_000
ONLINE_DOSSIER_SHARE = {2019: 0.12, 2020: 0.2, 2021: 0.3, 2022: 0.5573, 2023: 0.62}
LATEST_ONLINE_SHARE = 0.7
MOUNTAIN_ONLINE = 0.45
STAGES = ("received", "supplement_requested", "supplement_received", "completed", "rated")
RATINGS = ("satisfied", "neutral", "dislike")
HORIZON_DAYS = 60
OFF_DAY_ONLINE = 0.3
"""Online submissions on a day off, relative to a working day."""

_DESK_HOURS = hour_weights([0] * 7, [0.5, 1, 1, 1, 0.5, 0, 0.5, 1, 1, 1], [0] * 7)
_ONLINE_HOURS = hour_weights(
    [0.1, 0.05, 0.03, 0.03, 0.05, 0.2, 0.5, 0.9, 1, 1, 1, 0.9],
    [0.6, 0.8, 1, 1, 0.9, 0.8, 0.7, 0.8, 0.8, 0.6, 0.4, 0.2],
)


def online_dossier_share(year: int) -> float:
    if year in ONLINE_DOSSIER_SHARE:
        return ONLINE_DOSSIER_SHARE[year]
    return LATEST_ONLINE_SHARE if year > 2023 else 0.08


@cache
def _office_days(year: int) -> int:
    days = np.arange(f"{year}-01-01", f"{year + 1}-01-01", dtype="datetime64[D]")
    return int(np.is_busday(days, busdaycal=business_calendar()).sum())


@dataclass(frozen=True)
class _YearPlan:
    """Per-year rates: desk and online dossiers per office day, and procedure mixes."""

    desk_per_office_day: float
    online_per_office_day: float
    online_given_offered: float
    offered_reach: float
    """Share of dossiers (by procedure popularity) whose procedure is offered online."""
    online_mix: np.ndarray
    desk_mix_lowland: np.ndarray
    desk_mix_mountain: np.ndarray


class DossierStream(LifecycleStream):
    """Seeded dossier lifecycles over the province's communes."""

    rng_key = "public_service.dossier"
    horizon_hours = HORIZON_DAYS * 24
    event_type = PUBLIC_SERVICE_DOSSIER.type

    def __init__(self, seed: int, scale: float = 1.0) -> None:
        super().__init__()
        self.seed, self.scale, self.name = seed, scale, PUBLIC_SERVICE
        self.units = communes()
        self._codes = [u.code for u in self.units]
        self._districts = [u.parent_code or "" for u in self.units]
        pop = np.array([u.population or 1 for u in self.units], dtype=float)
        self._share = pop / pop.sum()
        self._mountain = np.array([d in MOUNTAIN_DISTRICTS for d in self._districts])
        factor = np.where(self._mountain, MOUNTAIN_ONLINE, 1.0)
        self._online_factor = factor / (self._share * factor).sum()
        self._plans: dict[int, _YearPlan] = {}

    def plan(self, year: int) -> _YearPlan:
        if year not in self._plans:
            cat = catalogue()
            offered = cat.online(year)
            reach = float((cat.weight * offered).sum())
            k = min(1.0, online_dossier_share(year) / reach)
            n_office = _office_days(year)
            n_off = (366 if year % 4 == 0 else 365) - n_office
            per_year = DOSSIERS_PER_YEAR * self.scale
            share = k * reach
            online_mix = cat.weight * offered
            low = cat.weight * (1 - offered * k * self._online_factor.max())
            high = cat.weight * (1 - offered * k * self._online_factor.min())
            self._plans[year] = _YearPlan(
                desk_per_office_day=per_year * (1 - share) / n_office,
                online_per_office_day=per_year * share / (n_office + OFF_DAY_ONLINE * n_off),
                online_given_offered=k,
                offered_reach=reach,
                online_mix=online_mix / online_mix.sum(),
                desk_mix_lowland=low / low.sum(),
                desk_mix_mountain=high / high.sum(),
            )
        return self._plans[year]

    def draw_cohort(self, hour_start: datetime) -> Cohort:
        rng = hour_rng(self.seed, self.rng_key, hour_start)
        start_ms, local = hour_clock(hour_start)
        plan = self.plan(local.year)
        office = is_office_day(local.date())
        desk_rate = plan.desk_per_office_day * _DESK_HOURS[local.hour] if office else 0.0
        online_rate = plan.online_per_office_day * _ONLINE_HOURS[local.hour]
        online_rate *= 1.0 if office else OFF_DAY_ONLINE
        # Each commune's dossiers are in proportion to its population; its online part
        # follows its factor, so the desk takes the rest.
        share = plan.online_given_offered * plan.offered_reach
        desk_c = self._share * (1 - share * self._online_factor) / (1 - share)
        n_desk = rng.poisson(desk_rate * desk_c)
        n_online = rng.poisson(online_rate * self._share * self._online_factor)
        every = np.arange(len(self.units))
        commune = np.concatenate([np.repeat(every, n_desk), np.repeat(every, n_online)])
        n = len(commune)
        online = np.arange(n) >= n_desk.sum()
        cat = catalogue()
        mountain = self._mountain[commune]
        proc = np.where(
            online,
            rng.choice(len(cat.codes), size=n, p=plan.online_mix),
            np.where(
                mountain,
                rng.choice(len(cat.codes), size=n, p=plan.desk_mix_mountain),
                rng.choice(len(cat.codes), size=n, p=plan.desk_mix_lowland),
            ),
        )
        received = start_ms + np.sort(rng.integers(0, 3_600_000, n))
        return self._lifecycle(rng, hour_start, local.year, commune, online, proc, received)

    def _lifecycle(
        self,
        rng: np.random.Generator,
        hour_start: datetime,
        year: int,
        commune: np.ndarray,
        online: np.ndarray,
        proc: np.ndarray,
        received: np.ndarray,
    ) -> Cohort:
        cat = catalogue()
        n = len(commune)
        day = local_days(received)
        days = cat.days[proc]
        due_day = add_working_days_array(day, days)
        due = at_local(due_day, np.full(n, 17 * 3600))
        supplement = rng.random(n) < 0.12
        requested = received + (rng.uniform(4, 48, n) * 3_600_000).astype(np.int64)
        supp_days = np.minimum(rng.gamma(2.0, 2.0, n), 15.0)
        supp_ms = (supp_days * 86_400_000).astype(np.int64)
        resubmitted = requested + supp_ms
        late = rng.random(n) < np.where(self._mountain[commune], 0.06, 0.035)
        early = np.floor(rng.random(n) * days * 0.7).astype(int)
        shift = np.where(late, rng.integers(1, 6, n), -early)
        done_day = np.busday_offset(
            due_day, shift, roll="backward", busdaycal=business_calendar()
        ) + np.where(supplement, np.ceil(supp_days).astype(int), 0).astype("timedelta64[D]")
        done_day = np.busday_offset(done_day, 0, roll="forward", busdaycal=business_calendar())
        completed = at_local(done_day, rng.uniform(8 * 3600, 16.5 * 3600, n))
        floor = np.where(supplement, resubmitted, received) + 1_800_000
        completed = np.maximum(completed, floor)
        on_time = completed - np.where(supplement, supp_ms, 0) <= due
        rated = rng.random(n) < 0.35
        rated_at = completed + (rng.gamma(1.5, 12, n) * 3_600_000).astype(np.int64)
        rating = rng.choice(3, size=n, p=(0.88, 0.09, 0.03))
        fee = cat.fee[proc]
        paid = (fee > 0) & (rng.random(n) < np.where(online, 0.55, 0.05))
        issues = cat.issues_result[proc]
        hour = int(hour_start.timestamp()) // 3600
        salt = rng.integers(0, 1 << 16, n)
        entities: dict[str, Any] = {
            "id": [f"HS-{hour:07x}-{i:04x}{s:04x}" for i, s in enumerate(salt)],
            "commune": commune,
            "online": online,
            "proc": proc,
            "online_level": cat.online_level(proc, year),
            "received": iso_times(received),
            "due": iso_times(due),
            "fee": fee,
            "issues": issues,
            "synced": rng.random(n) < 0.97,
            "digitised": rng.random(n) < np.where(online, 0.92, 0.7),
            "reused": rng.random(n) < 0.35,
            "vneid": rng.random(n) < np.where(online, 0.85, 0.25),
            "supp_days": np.round(supp_days, 2),
            "paid": paid,
            "e_result": issues & (rng.random(n) < np.where(online, 0.8, 0.55)),
            "on_time": on_time,
            "rating": rating,
            "complaint": rng.random(n) < np.where(rating == 2, 0.3, 0.003),
        }
        stages = [(0, None, received), (1, supplement, requested), (2, supplement, resubmitted)]
        stages += [(3, None, completed), (4, rated, np.maximum(rated_at, completed + 1))]
        return self.build(rng, hour_start, entities, stages)

    def source_subject(self, cohort: Cohort, entity: int) -> tuple[str, str]:
        c = int(cohort.entities["commune"][entity])
        level = LEVELS[catalogue().level[cohort.entities["proc"][entity]]]
        if level == "commune":
            return f"motcua/UBX-{self._codes[c]}", self._codes[c]
        if level == "district":
            return f"motcua/UBH-{self._districts[c]}", self._codes[c]
        return PROVINCE_DESK, self._codes[c]

    def payload(self, cohort: Cohort, entity: int, stage: int) -> dict[str, Any]:
        e = cohort.entities
        p = int(e["proc"][entity])
        online = bool(e["online"][entity])
        data: dict[str, Any] = {
            "dossier_id": e["id"][entity],
            "stage": STAGES[stage],
            "procedure_code": catalogue().codes[p],
            "online_level": e["online_level"][entity],
            "agency_level": LEVELS[catalogue().level[p]],
            "channel": "online" if online else "desk",
            "received_at": e["received"][entity],
            "due_at": e["due"][entity],
            "fee_vnd": int(e["fee"][entity]),
            "issues_result": bool(e["issues"][entity]),
            "synced_to_national_portal": bool(e["synced"][entity]),
            "digitised_inputs": bool(e["digitised"][entity]),
            "reused_digitised_data": bool(e["reused"][entity]),
            "vneid_authenticated": bool(e["vneid"][entity]),
        }
        if stage == 2:
            data["supplement_days"] = float(e["supp_days"][entity])
        elif stage == 3:
            data["paid_online"] = bool(e["paid"][entity])
            data["e_result"] = bool(e["e_result"][entity])
            data["on_time"] = bool(e["on_time"][entity])
        elif stage == 4:
            data["rating"] = RATINGS[int(e["rating"][entity])]
            data["complaint"] = bool(e["complaint"][entity])
        return data
