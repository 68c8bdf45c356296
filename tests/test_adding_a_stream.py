"""Adding a stream is declaring it: the walk of ``docs/adding-a-stream.md``, step by step.

An environment-sensor stream (hourly PM2.5 per commune) is declared in this module only —
payload, tables, stream spec, sources, simulator, indicator — registered through the
product's registries, its events simulated and written by the real writer into the real
PostgreSQL, and its indicator answered by the API with completeness. Nothing outside this
module knows the stream; when the test ends its declarations are withdrawn and its tables
dropped, so the product's schema (``tests/test_schema.py``) is untouched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from httpx import AsyncClient
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Float, MetaData, String, func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.indicators.service import streams_of
from ingest.consumer import check_sectors
from ingest.spec import EventTable, Rollup, one, table_of, value
from ingest.tables import EVENT_TABLES, register_stream
from ingest.writer import RawMessage, Writer
from models.catalogue import BY_CODE, register_indicator
from models.catalogue.metrics import sum_of
from models.events import REGISTRY, EventType, dump_event, register_event_type, topics
from models.indicators import Indicator, Target
from models.sectors import SECTORS, declare_sector
from models.sources import SOURCE_FAMILIES, SourceSystem, register_sources
from models.tables.base import (
    NAMING_CONVENTION,
    PARTITIONED,
    Count,
    EventColumns,
    HourlyColumns,
)
from models.tables.tiers import TIERS, declare_tiers
from simulators.base import EventDoc, SeededStream, envelope, hour_rng, id_strings, iso_times
from simulators.runner import collect
from simulators.streams import SIMULATORS, make_streams, register_simulator

pytestmark = pytest.mark.integration

# Step 1, the event's data model (in the product: models/payloads/environment.py).


class AirQualityReading(BaseModel):
    """A station's mean PM2.5 concentration over the past hour."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pm25: float = Field(ge=0, le=2_000, description="PM2.5, µg/m³, hourly mean.")


ENVIRONMENT = "environment"
AIR_QUALITY = EventType(ENVIRONMENT, "air_quality", AirQualityReading)
"""``vn.gov.quangnam.environment.air_quality`` on topic ``<prefix>.environment.air_quality``."""

# Step 2, its tables (in the product: models/tables/environment.py, on ``Base``). Here they sit on
# a metadata of the test's own, so the product's declared schema stays what it is.


class _ThrowawayBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AirQualityRow(EventColumns, _ThrowawayBase):
    """A station's hourly PM2.5 reading."""

    __tablename__ = "environment_air_quality"
    __table_args__ = PARTITIONED

    pm25: Mapped[float] = mapped_column(Float)


class AirQualityHourly(HourlyColumns, _ThrowawayBase):
    """Hour × commune × station: readings and their PM2.5 sum (mean = sum ÷ readings)."""

    __tablename__ = "environment_air_quality_hourly"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    readings: Mapped[int] = mapped_column(Count)
    pm25_sum: Mapped[float] = mapped_column(Float)
    readings_over_limit: Mapped[int] = mapped_column(Count)


PM25_DAY_LIMIT = 50.0
"""QCVN 05:2023/BTNMT: PM2.5 over 24 hours at most 50 µg/m³ (annual mean 25 µg/m³)."""

# Step 4, the stream spec and its measures (in the product: ingest/streams.py).

AIR_QUALITY_STREAM = EventTable(
    event_type=AIR_QUALITY,
    table=table_of(AirQualityRow),
    rollups=(
        Rollup(
            table_of(AirQualityHourly),
            dims=("source",),
            measures={
                "readings": one,
                "pm25_sum": value("pm25"),
                "readings_over_limit": lambda r: 1 if r["pm25"] > PM25_DAY_LIMIT else 0,
            },
        ),
    ),
)
STATIONS = (("envsensor/AQ-TANTHANH", "20335"), ("envsensor/AQ-ANMY", "20341"))
DISTRICT = "502"  # Tam Kỳ, holding both communes


# Step 5, its sources, whose cadence completeness counts (in the product: models/sources.py).


def air_quality_sources() -> list[SourceSystem]:
    return [
        SourceSystem(
            source,
            f"Trạm quan trắc không khí {source}",
            ENVIRONMENT,
            (AIR_QUALITY.type,),
            commune,
            kind="air_station",
            cadence="hour",  # a station owes a reading every hour, day and night
        )
        for source, commune in STATIONS
    ]


# Step 6, its simulator (in the product: simulators/environment.py).


@dataclass
class AirQualityStream(SeededStream):
    """Each station reports once an hour, a few minutes past it."""

    name: str = "environment"

    def events_for_hour(self, hour_start: datetime) -> list[EventDoc]:
        rng = hour_rng(self.seed, "environment.air_quality", hour_start)
        n = len(STATIONS)
        start_ms = int(hour_start.timestamp() * 1000)
        times = iso_times(start_ms + rng.integers(60_000, 600_000, n))
        ids = id_strings(rng, n)
        pm25 = np.round(rng.lognormal(np.log(30), 0.5, n), 1).tolist()
        return [
            envelope(AIR_QUALITY.type, ids[i], source, times[i], commune, {"pm25": pm25[i]})
            for i, (source, commune) in enumerate(STATIONS)
        ]


@dataclass(frozen=True)
class Declared:
    event_type: EventType
    indicator: Indicator


@pytest.fixture
def declared() -> Iterator[Declared]:
    """The declarations registered (and step 7, the indicator, declared: its sector must
    be declared first); all withdrawn, in reverse, when the test ends."""
    sector = declare_sector(ENVIRONMENT, "air quality from monitoring stations")
    air_quality = register_event_type(AIR_QUALITY)
    tiers = declare_tiers(AirQualityHourly, "environment_air_quality_daily")
    register_stream(AIR_QUALITY_STREAM)
    register_sources(ENVIRONMENT, air_quality_sources)
    register_simulator(sector, lambda seed, scale: [AirQualityStream(seed=seed, scale=scale)])
    indicator = register_indicator(
        Indicator(
            code="environment.pm25_mean",
            name_vi="Nồng độ bụi PM2.5 trung bình",
            name_en="Mean PM2.5 concentration",
            sector=sector,
            unit="µg/m³",
            description="PM2.5 readings summed ÷ readings.",
            numerator=sum_of(AirQualityHourly.__tablename__, "pm25_sum"),
            denominator=sum_of(AirQualityHourly.__tablename__, "readings"),
            decimals=1,
            higher_is_better=False,
            targets=(Target(year=2025, value=25, amber_at=50, source="QCVN 05:2023/BTNMT"),),
        )
    )
    try:
        yield Declared(air_quality, indicator)
    finally:
        BY_CODE.remove(indicator.code)
        SIMULATORS.remove(sector)
        SOURCE_FAMILIES.remove(ENVIRONMENT)
        EVENT_TABLES.remove(air_quality.type)
        TIERS.remove(AirQualityHourly.__tablename__)
        _ThrowawayBase.metadata.remove(tiers.day)
        REGISTRY.remove(air_quality.type)
        SECTORS.remove(sector)


@pytest.fixture
async def tables(declared: Declared, clean_db: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """Step 3, the migration: here ``create_all`` of the test's tables, dropped at the end."""
    async with clean_db.begin() as conn:
        await conn.run_sync(_ThrowawayBase.metadata.create_all)
    try:
        yield clean_db
    finally:
        async with clean_db.begin() as conn:
            await conn.run_sync(_ThrowawayBase.metadata.drop_all)


@pytest.fixture
async def client(tables: AsyncEngine, api: AsyncClient) -> AsyncClient:
    return api


START = datetime(2025, 3, 3, tzinfo=UTC) - timedelta(hours=7)  # local midnight, Monday
END = START + timedelta(days=2)


def _local_day(doc: EventDoc) -> str:
    return doc["time"][:10]  # the simulator writes local time (+07:00)


async def test_a_stream_declared_outside_the_product_is_ingested_and_answered(
    declared: Declared, tables: AsyncEngine, client: AsyncClient
) -> None:
    docs = collect(make_streams(seed=4, sectors=[ENVIRONMENT]), START, END)
    assert len(docs) == 48 * len(STATIONS)
    messages = [
        RawMessage(declared.event_type.topic("ioc"), 0, i, doc["source"].encode(), dump_event(doc))
        for i, doc in enumerate(docs)
    ]
    result = await Writer(tables).write(messages)
    assert result.rejected == {} and result.inserted == len(docs)
    assert result.notice is not None and AirQualityHourly.__tablename__ in result.notice.rollups

    async with tables.connect() as conn:  # both tiers filled in the writer's transaction
        hourly = table_of(AirQualityHourly)
        day = TIERS[hourly.name].day
        assert await conn.scalar(select(func.sum(hourly.c.readings))) == len(docs)
        assert await conn.scalar(select(func.count()).select_from(day)) == 2 * len(STATIONS)

    listed = (await client.get("/api/v1/indicators", params={"sector": ENVIRONMENT})).json()
    assert [i["code"] for i in listed] == [declared.indicator.code]
    assert streams_of(declared.indicator) == [declared.event_type.type]
    assert declared.event_type.topic("ioc") in topics("ioc")  # ingest subscribes to it
    assert check_sectors([ENVIRONMENT]) == [ENVIRONMENT]  # ioc ingest --sectors environment

    answer = await client.get(
        f"/api/v1/indicators/{declared.indicator.code}/values",
        params={
            "unit": DISTRICT,
            "level": "commune",
            "bucket": "day",
            "from": START.isoformat(),
            "to": END.isoformat(),
        },
    )
    assert answer.status_code == 200, answer.text
    readings: dict[tuple[str, str], list[float]] = defaultdict(list)
    for doc in docs:  # the expected means, from the events as sent
        readings[(doc["subject"], _local_day(doc))].append(doc["data"]["pm25"])
    got = {(v["unit_code"], v["period_start"][:10]): v for v in answer.json()["values"]}
    assert set(got) == set(readings)
    for key, values in readings.items():
        point = got[key]
        assert point["denominator"] == len(values) == 24
        assert point["numerator"] == pytest.approx(sum(values))
        assert point["value"] == round(sum(values) / len(values), 1)
        assert point["completeness"] == 1.0  # every owed hourly reading arrived
        assert point["target"] == 25
        expected = "green" if point["value"] <= 25 else "amber" if point["value"] <= 50 else "red"
        assert point["status"] == expected


def test_a_declaration_naming_what_is_not_declared_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        register_event_type(REGISTRY["vn.gov.quangnam.health.encounter"])
    with pytest.raises(ValueError, match="unknown sector 'weather'"):
        register_event_type(EventType("weather", "rain", AirQualityReading))
    with pytest.raises(KeyError, match=r"environment\.air_quality"):
        register_stream(AIR_QUALITY_STREAM)  # its event type was never registered
    typo = sum_of("health_encounter_hourly", "encounter")
    with pytest.raises(ValueError, match="has no column encounter"):
        register_indicator(BY_CODE["health.encounters"].model_copy(update={"numerator": typo}))
    with pytest.raises(ValueError, match="not a declared roll-up"):
        register_indicator(
            BY_CODE["health.encounters"].model_copy(
                update={"numerator": sum_of("health_encounters_hourly", "encounters")}
            )
        )
