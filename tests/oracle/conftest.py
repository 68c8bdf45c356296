"""Replays for the oracle: the recorded stream, and generated ones with faults."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.writer import RawMessage, Writer
from models.sources import source_registry
from simulators.faults import FaultInjector
from simulators.runner import hour_batches
from simulators.sinks import encode
from simulators.streams import make_streams
from tests.oracle.recompute import Oracle, accepted

RECORDING = Path(__file__).parent.parent / "data" / "stream-2025-10-12.jsonl.gz"


def recorded_lines() -> list[bytes]:
    with gzip.open(RECORDING, "rb") as recording:
        return [line.rstrip(b"\n") for line in recording if line.strip()]


def generated_lines(
    start: datetime, end: datetime, seed: int, scale: float, faults: dict[str, float]
) -> list[bytes]:
    """A simulated stream as sent, faults included (in sending order, late ones last)."""
    injector = FaultInjector(seed=seed, rates=faults)
    out: list[bytes] = []
    for hour_start, batch in hour_batches(make_streams(seed, scale=scale), start, end):
        out += [encode(item).value for item in injector.apply(hour_start, batch)]
    out += [encode(item).value for item in injector.flush()]
    return out


async def replay(engine: AsyncEngine, lines: list[bytes]) -> None:
    """Through the ingest writer, in the consumer's batches, as sent."""
    writer = Writer(engine)
    for start in range(0, len(lines), 2000):
        batch = [RawMessage("replay", 0, start + i, None, line)
                 for i, line in enumerate(lines[start:start + 2000])]  # fmt: skip
        await writer.write(batch)


async def oracle_for(api: AsyncClient, lines: Iterable[bytes], now: datetime) -> Oracle:
    """The oracle over the same lines, with the unit tree the API serves (data, not code)."""
    tree = (await api.get("/api/v1/units", params={"hierarchy": "2020"})).json()
    unit_of: dict[str, dict[str, str]] = {"province": {}, "district": {}, "commune": {}}
    population: dict[str, dict[str, float]] = {"province": {}, "district": {}, "commune": {}}

    def walk(node: dict[str, Any], ancestors: dict[str, str]) -> None:
        here = {**ancestors, node["level"]: node["code"]}
        if node["level"] == "commune":
            for level, code in here.items():
                unit_of[level][node["code"]] = code
                if node.get("population") is not None:
                    pops = population[level]
                    pops[code] = pops.get(code, 0.0) + node["population"]
        for child in node.get("children", []):
            walk(child, here)

    for top in tree if isinstance(tree, list) else [tree]:
        walk(top, {})
    sources = {s.code for s in source_registry()}
    events = accepted(lines, set(unit_of["commune"]), sources)
    return Oracle(events, unit_of, population, now)
