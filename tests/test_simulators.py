"""Simulator properties that need no broker: determinism, calendar shape, file sink."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from models.events import parse_event
from simulators.health import HealthEncounterStream
from simulators.runner import backfill, collect
from simulators.sinks import FileSink

MONDAY = datetime(2025, 3, 3, tzinfo=UTC) - timedelta(hours=7)  # Monday 00:00 local


def test_same_seed_same_events_any_slicing() -> None:
    noon, end = MONDAY + timedelta(hours=11), MONDAY + timedelta(days=1)
    day = collect([HealthEncounterStream(seed=5)], MONDAY, end)
    halves = collect([HealthEncounterStream(seed=5)], MONDAY, noon) + collect(
        [HealthEncounterStream(seed=5)], noon, end
    )
    assert day == halves
    other = collect([HealthEncounterStream(seed=6)], MONDAY, MONDAY + timedelta(days=1))
    assert [e["id"] for e in other] != [e["id"] for e in day]


def test_events_are_valid_in_range_and_ordered() -> None:
    end = MONDAY + timedelta(days=1)
    events = collect([HealthEncounterStream(seed=1)], MONDAY, end)
    times = [datetime.fromisoformat(e["time"]) for e in events]
    assert times == sorted(times)
    assert times[0] >= MONDAY
    assert times[-1] < end
    assert len({e["id"] for e in events}) == len(events)
    for event in events[:: max(1, len(events) // 200)]:
        parse_event(orjson.dumps(event))


def test_clinics_are_busy_on_weekday_mornings_and_closed_on_sunday_nights() -> None:
    stream = HealthEncounterStream(seed=2)
    monday_9am = collect([stream], MONDAY + timedelta(hours=9), MONDAY + timedelta(hours=10))
    sunday_2am = collect([stream], MONDAY - timedelta(hours=22), MONDAY - timedelta(hours=21))
    assert len(monday_9am) > 10 * len(sunday_2am) > 0
    assert {e["data"]["encounter_class"] for e in sunday_2am} == {"emergency"}


async def test_gzip_file_sink_is_byte_identical_across_runs(tmp_path: Path) -> None:
    outputs = []
    for name in ("a.jsonl.gz", "b.jsonl.gz"):
        sink = FileSink(tmp_path / name)
        sent = await backfill(
            [HealthEncounterStream(seed=9)], sink, MONDAY, MONDAY + timedelta(hours=12)
        )
        await sink.close()
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]
    lines = gzip.decompress(outputs[0]).splitlines()
    assert len(lines) == sent > 0
