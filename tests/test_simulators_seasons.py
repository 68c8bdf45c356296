"""Calendar and place effects, and the seed figures reproduced as indicators (±2 points)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from models.units import MOUNTAIN_DISTRICTS, communes
from simulators.education import AttendanceStream
from simulators.health import HealthEncounterStream
from simulators.public_service import DossierStream
from simulators.runner import collect
from simulators.tourism import TourismArrivalStream


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=7)


def present_pupils(stream: AttendanceStream, day: date) -> tuple[int, int]:
    events = collect([stream], local_midnight(day), local_midnight(day + timedelta(days=1)))
    return sum(e["data"]["present"] for e in events), sum(e["data"]["enrolled"] for e in events)


def test_attendance_is_zero_during_tet_and_summer_and_high_in_term() -> None:
    stream = AttendanceStream(seed=4)
    present, enrolled = present_pupils(stream, date(2025, 3, 4))
    assert enrolled > 300_000
    assert 0.94 < present / enrolled < 0.98
    for holiday in (date(2025, 1, 29), date(2025, 2, 3), date(2025, 7, 15), date(2025, 8, 20)):
        assert present_pupils(stream, holiday) == (0, 0), holiday  # Tết 2025; summer


def test_dengue_peaks_in_october_not_april() -> None:
    stream = HealthEncounterStream(seed=8)

    def dengue(first: date) -> int:
        events = collect([stream], local_midnight(first), local_midnight(first) + timedelta(days=4))
        return sum(e["data"]["icd_code"] == "A90" for e in events)

    october, april = dengue(date(2025, 10, 6)), dengue(date(2025, 4, 7))
    assert october > 50
    assert october > 5 * april


def test_hoi_an_old_town_is_busier_in_high_season() -> None:
    stream = TourismArrivalStream(seed=2)

    def old_town_visitors(first: date) -> int:
        start = local_midnight(first)
        events = collect([stream], start, start + timedelta(days=7))
        return sum(e["data"]["visitors"] for e in events if e["source"] == "tourism/PHOCO-HOIAN")

    assert old_town_visitors(date(2025, 6, 2)) > 1.8 * old_town_visitors(date(2025, 11, 3))


def test_desks_close_for_tet_while_the_portal_stays_open() -> None:
    stream = DossierStream(seed=5)
    start = local_midnight(date(2025, 1, 29))  # mùng 1 Tết
    received = [
        e["data"]
        for e in collect([stream], start, start + timedelta(days=3))
        if e["data"]["stage"] == "received"
    ]
    assert received and {d["channel"] for d in received} == {"online"}
    working = collect([stream], start + timedelta(days=14), start + timedelta(days=15))
    assert sum(e["data"]["channel"] == "desk" for e in working) > 500


def _cohorts(stream: DossierStream, year: int) -> list[dict[str, np.ndarray]]:
    """Dossiers received in every 5th day of the year (a sample of every hour of them)."""
    first = datetime(year, 1, 1, tzinfo=UTC)
    return [
        stream.draw_cohort(first + timedelta(days=d, hours=h)).entities
        for d in range(0, 365, 5)
        for h in range(24)
    ]


def test_online_dossier_share_2022_reproduces_the_seed_figure() -> None:
    cohorts = _cohorts(DossierStream(seed=11), 2022)
    online = sum(int(c["online"].sum()) for c in cohorts)
    total = sum(len(c["online"]) for c in cohorts)
    assert total > 50_000
    assert abs(online / total - 0.5573) < 0.02


def test_online_procedures_2021_reproduce_the_seed_figure() -> None:
    offered: set[str] = set()
    seen: set[str] = set()
    for cohort in _cohorts(DossierStream(seed=12), 2021):
        for proc, level in zip(cohort["proc"], cohort["online_level"], strict=True):
            seen.add(str(proc))
            if level != "none":
                offered.add(str(proc))
    assert len(seen) > 1_000
    assert abs(len(offered) / len(seen) - 0.41) < 0.02


def test_mountain_communes_submit_fewer_dossiers_online() -> None:
    mountain = {i for i, u in enumerate(communes()) if u.parent_code in MOUNTAIN_DISTRICTS}
    share: dict[bool, list[int]] = {True: [0, 0], False: [0, 0]}
    for cohort in _cohorts(DossierStream(seed=13), 2023)[::3]:
        for commune, online in zip(cohort["commune"], cohort["online"], strict=True):
            tally = share[int(commune) in mountain]
            tally[0] += int(online)
            tally[1] += 1
    mountain_rate = share[True][0] / share[True][1]
    lowland_rate = share[False][0] / share[False][1]
    assert mountain_rate < 0.6 * lowland_rate
