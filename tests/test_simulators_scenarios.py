"""Scenarios change exactly what they declare, on their day, and nothing else.

What they make the product do (the alerts they raise and no others) is proven end to end by
``tests/test_scenarios.py`` (fault suite).
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections import Counter
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from ioc.cli import app
from models.alert_rules import BY_RULE
from models.clock import LOCAL
from models.sources import sources_by_code
from models.units import legacy_units
from simulators.base import event_time, events_between
from simulators.scenarios import BY_NAME, SCENARIOS, SCHOOL_KINDS, ScenarioRun
from simulators.streams import make_streams

DAY = dt.date(2025, 10, 21)
SEED = 5
DISTRICT = {u.code: u.parent_code for u in legacy_units()}


@cache
def _clean(sectors: tuple[str, ...], hours: tuple[int, int]) -> tuple[dict[str, Any], ...]:
    midnight = datetime.combine(DAY, dt.time(0), LOCAL)
    start, end = (midnight + timedelta(hours=h) for h in hours)
    return tuple(events_between(make_streams(SEED, sectors), start, end))


def _day(
    sectors: tuple[str, ...], scenario: str | None, hours: tuple[int, int] = (7, 13)
) -> list[dict[str, Any]]:
    """The clean events of those hours, with the scenario applied hour by hour as a run
    applies it (``ScenarioRun.apply``)."""
    clean = list(_clean(sectors, hours))
    if scenario is None:
        return clean
    run = ScenarioRun(BY_NAME[scenario], DAY, SEED)
    midnight = datetime.combine(DAY, dt.time(0), LOCAL)
    out: list[dict[str, Any]] = []
    for h in range(*hours):
        start = midnight + timedelta(hours=h)
        batch = [e for e in clean if start <= event_time(e) < start + timedelta(hours=1)]
        out += run.apply(start, batch)
    return out


def _ids(events: list[dict[str, Any]]) -> set[str]:
    return {e["id"] for e in events}


def test_every_scenario_is_declared_in_both_languages_with_known_rules() -> None:
    for s in SCENARIOS:
        assert s.title_vi and s.title_en and s.description_vi and s.description_en
        assert s.district in DISTRICT.values()
        assert s.expected_alerts and all(rule in BY_RULE for rule in s.expected_alerts)


def test_dengue_surge_adds_dengue_outpatients_in_its_district_only() -> None:
    clean = _day(("health",), None, (0, 24))
    surge = _day(("health",), "dengue_surge", (0, 24))
    assert surge == _day(("health",), "dengue_surge", (0, 24))  # seeded: the same again
    assert _ids(clean) < _ids(surge)
    before = _ids(clean)
    added = [e for e in surge if e["id"] not in before]
    assert 40 <= len(added) <= 80  # 60 a day, in clinic hours
    assert {e["data"]["icd_code"] for e in added} == {"A90"}
    assert {DISTRICT[e["subject"]] for e in added} == {"506"}
    assert {e["source"] for e in added} == {"his/TTYT-506"}


def test_hospital_silent_drops_that_feed_from_nine_and_nothing_else() -> None:
    clean = _day(("health",), None)
    silent = _day(("health",), "hospital_silent")
    nine = datetime.combine(DAY, dt.time(9), LOCAL)
    after = _ids(silent)
    gone = [e for e in clean if e["id"] not in after]
    assert gone and {e["source"] for e in gone} == {"his/TTYT-514"}
    assert all(event_time(e) >= nine for e in gone)
    assert any(e["source"] == "his/TTYT-514" and event_time(e) < nine for e in silent)
    assert _ids(silent) < _ids(clean)


def test_flood_day_closes_schools_and_desks_and_fills_the_hotline() -> None:
    sectors = ("education", "public_service", "citizen")
    clean, flood = _day(sectors, None, (6, 12)), _day(sectors, "flood_day", (6, 12))
    registry = sources_by_code()

    def closed(e: dict[str, Any]) -> bool:
        source = registry[e["source"]]
        kinds = (*SCHOOL_KINDS, "commune_desk", "district_desk")
        return source.kind in kinds and DISTRICT[source.commune_code] == "508"

    assert any(closed(e) for e in clean)
    assert not any(closed(e) for e in flood)
    kept = [e for e in clean if not closed(e)]
    assert _ids(kept) <= _ids(flood)  # the rest of the province as on a clean day
    before = _ids(clean)
    reports = Counter((e["type"], DISTRICT[e["subject"]]) for e in flood if e["id"] not in before)
    received = sum(
        1
        for e in clean
        if e["type"].endswith("citizen.report")
        and DISTRICT[e["subject"]] == "508"
        and datetime.fromisoformat(e["data"]["received_at"]).astimezone(LOCAL).date() == DAY
    )
    assert received > 0
    assert reports == {("vn.gov.quangnam.citizen.report", "508"): 3 * received}


def test_simulate_lists_and_applies_scenarios(tmp_path: Path) -> None:
    listed = CliRunner().invoke(app, ["simulate", "--list-scenarios"])
    assert listed.exit_code == 0, listed.output
    for s in SCENARIOS:
        assert s.name in listed.output
    out = tmp_path / "events.jsonl.gz"
    args = ["simulate", "--from", "2025-10-21T08:00+07:00", "--to", "2025-10-21T12:00+07:00"]
    args += ["--streams", "health", "--sink", "file", "--out", str(out), "--seed", str(SEED)]
    result = CliRunner().invoke(app, [*args, "--scenario", "dengue_surge"])
    assert result.exit_code == 0, result.output
    assert "dengue_surge" in result.output and "2025-10-21" in result.output
    lines = [orjson.loads(line) for line in gzip.decompress(out.read_bytes()).splitlines()]
    dengue = [e for e in lines if e["type"].endswith("encounter") and e["data"]["icd_code"]]
    assert sum(DISTRICT[e["subject"]] == "506" for e in dengue) >= 20


@pytest.mark.parametrize("command", ["simulate", "demo"])
def test_an_unknown_scenario_is_refused_with_the_choices(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--scenario", "meteor"])
    assert result.exit_code != 0
    assert all(name in result.output for name in BY_NAME)  # the choices, named
