"""The oracle: catalogue indicators recomputed from raw CloudEvents, by their definitions.

Written from the catalogue's words (``models/catalogue``, ``../shared/INDICATORS.md``) and
the event contract only: no roll-up table, no SQL, no product measure function. Each
roll-up measure the catalogue names is restated here as what it counts in an event's
payload; each lifecycle metric as the catalogue defines it over an entity's life, folded
here from that entity's own events. Values are ``{(unit, period_start): number}`` over
calendar periods in Asia/Ho_Chi_Minh time (UTC+7, no daylight saving).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from models.calendar import public_holidays
from models.events import EventRejected, parse_event
from models.indicators import Indicator, Metric

LOCAL = timezone(timedelta(hours=7))
Key = tuple[str, datetime]
Totals = dict[Key, float]


@dataclass(frozen=True)
class Raw:
    """An accepted event: who sent it, when it happened, where, what."""

    type: str
    time: datetime
    commune: str
    data: Mapping[str, Any]


def accepted(lines: Iterable[bytes], communes: set[str], sources: set[str]) -> list[Raw]:
    """Events the contract accepts, from a known source about a known commune, each
    (source, id) once: what a correct pipeline must count."""
    seen: set[tuple[str, str]] = set()
    out = []
    for line in lines:
        try:
            event = parse_event(line)
        except EventRejected:
            continue
        env = event.envelope
        if env.subject not in communes or env.source not in sources:
            continue
        if (env.source, env.id) in seen:
            continue
        seen.add((env.source, env.id))
        out.append(Raw(event.event_type.type, env.time, env.subject, event.payload.model_dump()))
    return out


# --- periods -----------------------------------------------------------------------------


def period_start(moment: datetime, bucket: str) -> datetime:
    local = moment.astimezone(LOCAL).replace(minute=0, second=0, microsecond=0)
    if bucket == "hour":
        return local
    day = local.replace(hour=0)
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    raise ValueError(bucket)


def period_end(start: datetime, bucket: str) -> datetime:
    if bucket == "month":
        return (start + timedelta(days=32)).replace(day=1)
    return start + {"hour": timedelta(hours=1), "day": timedelta(days=1)}.get(
        bucket, timedelta(days=7)
    )


def periods(start: datetime, end: datetime, bucket: str) -> list[tuple[datetime, datetime]]:
    out, cursor = [], period_start(start, bucket)
    while cursor < end:
        out.append((cursor, period_end(cursor, bucket)))
        cursor = out[-1][1]
    return out


# --- what each catalogue measure counts, restated per event ------------------------------

ENCOUNTER, BEDS, CLAIM = (
    f"vn.gov.quangnam.health.{k}" for k in ("encounter", "bed_census", "claim")
)
ATTENDANCE, SCHOOL_REPORT = (f"vn.gov.quangnam.education.{k}" for k in ("attendance", "report"))
ARRIVAL, FEEDBACK = (f"vn.gov.quangnam.tourism.{k}" for k in ("arrival", "feedback"))
DOSSIER, REPORT = "vn.gov.quangnam.public_service.dossier", "vn.gov.quangnam.citizen.report"

Count = Callable[[Raw], float]


def _one(e: Raw) -> float:
    return 1.0


def _field(name: str) -> Count:
    return lambda e: float(e.data[name] or 0)


def _true(name: str) -> Count:
    return lambda e: 1.0 if e.data[name] else 0.0


def _both(first: str, second: str) -> Count:
    """1 when both fields hold (are true, or non-zero)."""
    return lambda e: 1.0 if e.data[first] and e.data[second] else 0.0


MEASURES: dict[str, tuple[str, dict[str, Count]]] = {
    "health_encounter_hourly": (ENCOUNTER, {
        "encounters": _one, "wait_minutes_sum": _field("wait_minutes"),
    }),
    "health_encounter_diagnosis_hourly": (ENCOUNTER, {
        "encounters": _one,
        "dengue": lambda e: 1.0 if e.data["icd_code"] in ("A90", "A91", "A97") else 0.0,
    }),
    "health_bed_census_hourly": (BEDS, {
        "beds_occupied_sum": _field("beds_occupied"), "beds_total_sum": _field("beds_total"),
    }),
    "health_claim_hourly": (CLAIM, {
        "claims": _one, "everified": _true("sent_for_everification"),
        "chip_id_lookups": _true("chip_id_lookup"),
        "chip_id_lookups_ok": _both("chip_id_lookup", "chip_id_lookup_ok"),
    }),
    "education_attendance_hourly": (ATTENDANCE, {
        "present_sum": _field("present"), "enrolled_sum": _field("enrolled"),
    }),
    "education_report_hourly": (SCHOOL_REPORT, {
        "reports": _one, "pupils_sum": _field("pupils"), "teachers_sum": _field("teachers"),
        # "sent by the due day": the local date it was sent, not after the due date
        "reports_on_time": lambda e: float(e.time.astimezone(LOCAL).date() <= e.data["due"]),
    }),
    "tourism_arrival_hourly": (ARRIVAL, {
        "visitors_sum": _field("visitors"),
        "guest_nights_sum": lambda e: float(e.data["visitors"] * (e.data["nights"] or 0)),
    }),
    "tourism_feedback_hourly": (FEEDBACK, {
        "feedback": _one, "positive": lambda e: 1.0 if e.data["sentiment"] > 0 else 0.0,
        "sentiment_sum": lambda e: float(e.data["sentiment"]),
    }),
    "public_service_dossier_hourly": (DOSSIER, {
        "dossiers": _one, "synced": _true("synced_to_national_portal"),
        "reused_digitised_data": _true("reused_digitised_data"),
        "vneid_authenticated": _true("vneid_authenticated"),
        "with_fee": lambda e: 1.0 if e.data["fee_vnd"] > 0 else 0.0,
        "issues_result": _true("issues_result"),
        "paid_online": _both("paid_online", "fee_vnd"),
        "e_result": _both("e_result", "issues_result"),
        "digitised_with_e_result": _both("digitised_inputs", "e_result"),
    }),
    "citizen_report_hourly": (REPORT, {
        "reports": _one,
        "resolved_on_time": lambda e: float(e.data["stage"] == "resolved" and _report_on_time(e)),
        "handling_hours_sum": lambda e: (
            (e.time - e.data["received_at"]).total_seconds() / 3600
            if e.data["stage"] == "resolved"
            else 0.0
        ),
    }),
}  # fmt: skip


def _report_on_time(e: Raw) -> bool:
    judged = e.data["resolved_on_time"]
    return bool(judged) if judged is not None else e.time <= e.data["due_at"]


def _dossier_on_time(e: Raw) -> bool:
    judged = e.data["on_time"]
    return bool(judged) if judged is not None else e.time <= e.data["due_at"]


# --- lifecycles, folded per entity from its own events -----------------------------------


@dataclass
class Life:
    """One dossier or report as its events tell it."""

    commune: str = ""
    received: datetime | None = None
    due: datetime | None = None
    supplement_days: float = 0.0
    newest: tuple[datetime, int] | None = None
    completed: datetime | None = None
    completion: Raw | None = None
    rated: datetime | None = None
    rating: Raw | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def completed_at(self) -> datetime | None:
        """Completion, never before receipt."""
        assert self.received is not None
        return None if self.completed is None else max(self.received, self.completed)

    @property
    def done_at(self) -> datetime | None:
        """Known finished from: its completion, else its rating (a rating implies it)."""
        assert self.received is not None
        known = self.completed if self.completed is not None else self.rated
        return None if known is None else max(self.received, known)

    def deadline(self) -> datetime:
        assert self.due is not None
        return self.due + timedelta(days=self.supplement_days)

    def open_at(self, moment: datetime) -> bool:
        assert self.received is not None
        done = self.done_at
        return self.received < moment and not (done is not None and done < moment)


DOSSIER_ORDER = ("received", "supplement_requested", "supplement_received", "completed", "rated")
REPORT_ORDER = ("received", "assigned", "resolved", "rated")
STATE = {
    "public_service_dossier": (DOSSIER, "dossier_id", DOSSIER_ORDER, "completed"),
    "citizen_report": (REPORT, "report_id", REPORT_ORDER, "resolved"),
}


def lives(events: list[Raw], state: str) -> dict[str, Life]:
    kind, key, order, finish = STATE[state]
    out: dict[str, Life] = defaultdict(Life)
    for e in sorted((e for e in events if e.type == kind), key=lambda e: e.time):
        life = out[e.data[key]]
        stage = e.data["stage"]
        rank = (e.time, order.index(stage))
        if life.newest is None or rank >= life.newest:  # the newest event's facts
            life.newest, life.commune = rank, e.commune
            life.received, life.due = e.data["received_at"], e.data["due_at"]
        if stage == "supplement_received":
            life.supplement_days += e.data["supplement_days"] or 0.0
        if stage == finish and (life.completed is None or e.time >= life.completed):
            life.completed, life.completion = e.time, e
        if stage == "rated" and (life.rated is None or e.time >= life.rated):
            life.rated, life.rating = e.time, e
    return dict(out)


def state_value(state: str, life: Life, column: str) -> object:
    """A state column the catalogue filters on, as the entity's events give it."""
    if column == "on_time":
        return None if life.completion is None else _dossier_on_time(life.completion)
    if column == "resolved_on_time":
        return None if life.completion is None else _report_on_time(life.completion)
    if column in ("rating", "complaint"):
        return None if life.rating is None else life.rating.data[column]
    raise KeyError(column)


def working_days(life: Life, holidays: set[date]) -> float:
    """Working days in (received, completed] by local date, less supplement days, ≥ 0."""
    assert life.received is not None and life.completed_at is not None
    first = life.received.astimezone(LOCAL).date()
    last = life.completed_at.astimezone(LOCAL).date()
    days = sum(
        1
        for n in range(1, (last - first).days + 1)
        if (d := first + timedelta(days=n)).weekday() < 5 and d not in holidays
    )
    return max(days - life.supplement_days, 0.0)


# --- the catalogue's metrics -------------------------------------------------------------


@dataclass
class Oracle:
    events: list[Raw]
    unit_of: dict[str, dict[str, str]]
    """level → commune → the unit at that level holding it."""
    population: dict[str, dict[str, float]]
    now: datetime
    _lives: dict[str, dict[str, Life]] = field(default_factory=dict)

    def life(self, state: str) -> dict[str, Life]:
        if state not in self._lives:
            self._lives[state] = lives(self.events, state)
        return self._lives[state]

    def metric(
        self, metric: Metric, level: str, bucket: str, start: datetime, end: datetime
    ) -> Totals:
        out: Totals = defaultdict(float)
        for part in (metric, *metric.plus):
            for k, v in self._one(part, level, bucket, start, end).items():
                out[k] += part.weight * v
        return dict(out)

    def _one(self, m: Metric, level: str, bucket: str, start: datetime, end: datetime) -> Totals:
        units = self.unit_of[level]
        out: Totals = defaultdict(float)
        if m.kind == "sum":
            kind, measures = MEASURES[str(m.rollup)]
            count = measures[str(m.measure)]
            for e in self.events:
                if e.type != kind or not start <= e.time < end or e.commune not in units:
                    continue
                if all(_matches(e.data.get(c), v) for c, v in m.filters.items()):
                    out[units[e.commune], period_start(e.time, bucket)] += count(e)
            return dict(out)
        if m.kind == "population":
            return {}
        state = str(m.rollup)
        holidays = set(public_holidays())
        for life in self.life(state).values():
            if life.commune not in units:
                continue
            unit = units[life.commune]
            if m.kind in ("received_in_period", "completed_in_period", "working_days_to_done"):
                moment = life.received if m.kind == "received_in_period" else life.completed_at
                if moment is None or not start <= moment < end:
                    continue
                if not all(_matches(state_value(state, life, c), v) for c, v in m.filters.items()):
                    continue
                if any(state_value(state, life, c) == v for c, v in m.unless.items()):
                    continue
                amount = working_days(life, holidays) if m.kind == "working_days_to_done" else 1.0
                out[unit, period_start(moment, bucket)] += amount
                continue
            for p_start, p_end in periods(start, end, bucket):
                moment = p_start if m.kind == "open_at_start" else min(p_end, self.now)
                hit = life.open_at(moment)
                if m.kind == "open_overdue_at_end":
                    hit = hit and life.deadline() < moment
                if hit:
                    out[unit, p_start] += 1.0
        return dict(out)

    def indicator(
        self, ind: Indicator, level: str, bucket: str, start: datetime, end: datetime
    ) -> dict[Key, tuple[float, float | None]]:
        """(numerator, denominator) per (unit, period); cells where both are 0 left out."""
        num = self.metric(ind.numerator, level, bucket, start, end)
        if ind.denominator is None:
            return {k: (v, None) for k, v in num.items() if v}
        if ind.denominator.kind == "population":
            pops = self.population[level]
            return {k: (v, pops.get(k[0])) for k, v in num.items() if v}
        den = self.metric(ind.denominator, level, bucket, start, end)
        keys = {k for k in set(num) | set(den) if num.get(k) or den.get(k)}
        return {k: (num.get(k, 0.0), den.get(k, 0.0)) for k in keys}


def _matches(actual: object, wanted: object) -> bool:
    return actual in wanted if isinstance(wanted, tuple) else actual == wanted
