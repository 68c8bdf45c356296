"""Education streams as the school management system (CSDL ngành giáo dục) reports them.

Schools: a preschool, a primary and a lower-secondary school per commune and one or two
upper-secondary schools per district (``models.sources``), enrolment from the commune's
population (~0.2 pupils per inhabitant, in line with Quảng Nam's ~330,000 pupils in
general education and ~70,000 in preschools). Each school sends, on each school day
(``models.calendar.is_school_day``: September–May, Monday–Friday, no public holidays,
no Tết break), one attendance record per grade between 07:30 and 10:00. Attendance is
~96%, lower in the flood months and ~2 points lower in mountain districts. Schools file a
monthly report for each school month (due the 5th of the next month) and semester and
year reports (S1 due 20 January, S2 and Y due 10 June); 85% file before the due date, the
rest up to ten days late.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import numpy as np

from models.calendar import is_school_day
from models.events import EDUCATION_ATTENDANCE, EDUCATION_REPORT
from models.sectors import EDUCATION
from models.sources import GRADES, SourceSystem, sources_of
from models.units import MOUNTAIN_DISTRICTS, communes
from simulators.base import (
    EventDoc,
    SeededStream,
    envelope,
    hour_clock,
    hour_rng,
    id_strings,
    iso_times,
)
from simulators.lifecycle import at_local
from simulators.seasons import ATTENDANCE_BY_MONTH

PUPILS_PER_CLASS = {"preschool": 25, "primary": 30, "lower_secondary": 35, "upper_secondary": 38}
PUPILS_PER_TEACHER = {
    "preschool": 14,
    "primary": 20,
    "lower_secondary": 16,
    "upper_secondary": 17,
}
ATTENDANCE_START, ATTENDANCE_END = 7.5 * 3600, 10 * 3600
REPORT_WINDOW = (-6, 10)
"""Days before / after the due date in which schools file."""


def _school_schedule() -> list[SourceSystem]:
    return list(sources_of(EDUCATION))


@cache
def _mountain_communes() -> frozenset[str]:
    return frozenset(u.code for u in communes() if u.parent_code in MOUNTAIN_DISTRICTS)


def report_periods(year: int) -> list[tuple[str, dt.date]]:
    """(period, due date) of the reports due in a calendar year."""
    out = [(f"{year}-M{m:02d}", dt.date(year, m % 12 + 1, 5)) for m in (1, 2, 3, 4, 5)]
    out += [(f"{year}-M{m:02d}", dt.date(year + (m == 12), m % 12 + 1, 5)) for m in (9, 10, 11, 12)]
    out += [(f"{year - 1}-S1", dt.date(year, 1, 20))]
    out += [(f"{year - 1}-S2", dt.date(year, 6, 10)), (f"{year - 1}-Y", dt.date(year, 6, 10))]
    return out


def _from_schools(
    kind: str,
    ids: list[str],
    times: list[str],
    schools: list[SourceSystem],
    data: list[dict[str, object]],
) -> list[EventDoc]:
    """Events the schools send about themselves (their commune, their level), one each."""
    return [
        envelope(kind, ids[k], s.code, times[k], s.commune_code, {"school_level": s.kind, **d})
        for k, (s, d) in enumerate(zip(schools, data, strict=True))
    ]


@dataclass
class _EducationStream(SeededStream):
    name: str = EDUCATION


class AttendanceStream(_EducationStream):
    """One record per school × grade × school day."""

    def __post_init__(self) -> None:
        self._schools = _school_schedule()
        mountain = _mountain_communes()
        rows = [
            (i, grade, s.capacity / len(GRADES[s.kind]), s.commune_code in mountain)
            for i, s in enumerate(self._schools)
            for grade in GRADES[s.kind]
        ]
        self._school = np.array([r[0] for r in rows])
        self._grade = np.array([r[1] for r in rows])
        self._enrolled = np.maximum(1, np.rint(np.array([r[2] for r in rows]) * self.scale))
        self._mountain = np.array([r[3] for r in rows])
        # Each school sends at its own habitual minute, the same every day.
        habit = np.random.default_rng([self.seed, 7]).random(len(self._schools))
        self._send_s = ATTENDANCE_START + habit * (ATTENDANCE_END - ATTENDANCE_START)

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        start_ms, local = hour_clock(hour_start)
        day = local.date()
        if not is_school_day(day):
            return []
        send_ms = at_local(np.array([np.datetime64(day, "D")]), self._send_s[self._school])
        rows = np.flatnonzero((send_ms >= start_ms) & (send_ms < start_ms + 3_600_000))
        if len(rows) == 0:
            return []
        rng = hour_rng(self.seed, "education.attendance", hour_start)
        rate = ATTENDANCE_BY_MONTH[local.month - 1] - np.where(self._mountain[rows], 0.02, 0)
        enrolled = self._enrolled[rows].astype(int)
        present = rng.binomial(enrolled, np.clip(rate + rng.normal(0, 0.01, len(rows)), 0, 1))
        times = iso_times(send_ms[rows] + rng.integers(0, 1000, len(rows)))
        ids = id_strings(rng, len(rows))
        schools = [self._schools[self._school[r]] for r in rows]
        data = [
            {
                "grade": int(self._grade[r]),
                "day": day.isoformat(),
                "enrolled": int(enrolled[k]),
                "present": int(present[k]),
            }
            for k, r in enumerate(rows)
        ]
        return _from_schools(EDUCATION_ATTENDANCE.type, ids, times, schools, data)


class SchoolReportStream(_EducationStream):
    """Periodic reports with their headcounts, filed around each due date."""

    def __post_init__(self) -> None:
        self._schools = _school_schedule()

    def _filing_ms(self, period: str, due: dt.date) -> np.ndarray:
        """When each school files ``period``: a pure function of (seed, period)."""
        rng = np.random.default_rng([self.seed, 11, *period.encode()])
        n = len(self._schools)
        late = rng.random(n) < 0.15
        offset = np.where(
            late, rng.integers(1, REPORT_WINDOW[1] + 1, n), rng.integers(REPORT_WINDOW[0], 1, n)
        )
        days = np.datetime64(due, "D") + offset.astype("timedelta64[D]")
        return at_local(days, rng.uniform(7.5 * 3600, 16.5 * 3600, n))

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        start_ms, local = hour_clock(hour_start)
        out: list[EventDoc] = []
        for year in (local.year, local.year + 1):
            for period, due in report_periods(year):
                gap = (local.date() - due).days
                if not REPORT_WINDOW[0] - 1 <= gap <= REPORT_WINDOW[1] + 1:
                    continue
                filed = self._filing_ms(period, due)
                hit = np.flatnonzero((filed >= start_ms) & (filed < start_ms + 3_600_000))
                if len(hit):
                    out += self._reports(hour_start, period, due, filed, hit)
        return out

    def _reports(
        self, hour_start: datetime, period: str, due: dt.date, filed: np.ndarray, hit: np.ndarray
    ) -> list[EventDoc]:
        rng = hour_rng(self.seed, "education.report." + period, hour_start)
        ids = id_strings(rng, len(hit))
        times = iso_times(filed[hit])
        schools = [self._schools[i] for i in hit]
        data = []
        for school in schools:
            pupils = max(1, round(school.capacity * self.scale * rng.uniform(0.98, 1.02)))
            data.append({
                "period": period,
                "pupils": pupils,
                "classes": max(1, -(-pupils // PUPILS_PER_CLASS[school.kind])),
                "teachers": max(1, round(pupils / PUPILS_PER_TEACHER[school.kind])),
                "due": due.isoformat(),
            })  # fmt: skip
        return _from_schools(EDUCATION_REPORT.type, ids, times, schools, data)
