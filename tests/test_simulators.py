"""Simulator properties that need no broker: determinism, validity, daily cycles, file sink."""

from __future__ import annotations

import gzip
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from models.events import REGISTRY, parse_event
from models.sources import sources_by_code
from models.units import commune_codes
from simulators.health import HealthEncounterStream
from simulators.runner import backfill, collect, hour_batches
from simulators.sinks import FileSink
from simulators.streams import SIMULATORS, make_streams

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


def test_every_stream_is_slice_independent_even_lifecycles() -> None:
    """A lifecycle stream caches cohorts; fresh instances over other slices must agree."""
    start, mid, end = (
        MONDAY + timedelta(hours=8),
        MONDAY + timedelta(hours=10),
        MONDAY + timedelta(hours=12),
    )
    whole = collect(make_streams(3), start, end)
    parts = collect(make_streams(3), mid, end)
    assert collect(make_streams(3), start, mid) + parts == whole
    assert len({e["type"] for e in whole}) == len(REGISTRY)


def test_every_event_is_valid_from_a_registered_source_in_a_known_commune() -> None:
    end = MONDAY + timedelta(days=1)
    events = collect(make_streams(1, scale=0.3), MONDAY, end)
    sources, communes = sources_by_code(), commune_codes()
    times = [datetime.fromisoformat(e["time"]) for e in events]
    assert times == sorted(times)
    assert times[0] >= MONDAY and times[-1] < end
    assert len({e["id"] for e in events}) == len(events)
    kinds = Counter(e["type"].removeprefix("vn.gov.quangnam.") for e in events)
    assert set(kinds) == {t.removeprefix("vn.gov.quangnam.") for t in REGISTRY}
    for event in events:
        assert event["source"] in sources, event["source"]
        assert event["subject"] in communes
        assert event["type"] in sources[event["source"]].event_types
    for event in events[:: max(1, len(events) // 2000)]:
        parse_event(orjson.dumps(event))


def test_unknown_stream_names_are_refused() -> None:
    assert {s.name for s in make_streams(1)} == set(SIMULATORS)
    with pytest.raises(ValueError, match="unknown stream bogus"):
        make_streams(1, ["health", "bogus"])


def test_clinics_are_busy_on_weekday_mornings_and_closed_on_sunday_nights() -> None:
    stream = HealthEncounterStream(seed=2)
    monday_9am = collect([stream], MONDAY + timedelta(hours=9), MONDAY + timedelta(hours=10))
    sunday_2am = collect([stream], MONDAY - timedelta(hours=22), MONDAY - timedelta(hours=21))
    assert len(monday_9am) > 10 * len(sunday_2am) > 0
    assert {e["data"]["encounter_class"] for e in sunday_2am} == {"emergency"}


async def test_gzip_file_of_all_streams_is_byte_identical_across_runs(tmp_path: Path) -> None:
    outputs, counts = [], []
    for name, seed in (("a.jsonl.gz", 9), ("b.jsonl.gz", 9), ("c.jsonl.gz", 10)):
        sink = FileSink(tmp_path / name)
        sent = await backfill(
            make_streams(seed, scale=0.2), sink, MONDAY, MONDAY + timedelta(hours=10)
        )
        await sink.close()
        outputs.append((tmp_path / name).read_bytes())
        counts.append(sent)
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]
    lines = gzip.decompress(outputs[0]).splitlines()
    assert len(lines) == counts[0] > 1000


def test_registry_baselines_match_what_the_sources_send_in_a_normal_week() -> None:
    """``expected_per_hour`` is what completeness divides by: off baselines raise false alarms."""
    sources = sources_by_code()
    start = datetime(2025, 3, 9, 17, tzinfo=UTC)  # Monday 10 March, 00:00 local
    sent: Counter[str] = Counter()
    slots: Counter[str] = Counter()
    for hour_start, events in hour_batches(make_streams(2), start, start + timedelta(days=7)):
        local = hour_start + timedelta(hours=7)
        reporting = {
            code
            for code, s in sources.items()
            if local.weekday() in s.reporting_weekdays
            and s.reporting_hours[0] <= local.hour < s.reporting_hours[1]
        }
        slots.update(reporting)
        sent.update(e["source"] for e in events if e["source"] in reporting)
    by_kind: dict[tuple[str, str], list[float]] = {}
    for code, s in sources.items():
        ratio = sent[code] / slots[code] / s.expected_per_hour
        by_kind.setdefault((code.split("/")[0], s.kind), []).append(ratio)
    assert len(by_kind) == 18
    for kind, ratios in by_kind.items():
        assert 0.85 < statistics.median(ratios) < 1.2, kind
