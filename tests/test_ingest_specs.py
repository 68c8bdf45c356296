"""The stream specs agree with the contracts and the tables (no database needed)."""

from __future__ import annotations

from typing import get_args

import pytest

from ingest.spec import EventTable
from ingest.tables import EVENT_TABLES, SOURCE_HOURLY
from models.events import REGISTRY

ENVELOPE_COLUMNS = {"occurred_at", "event_id", "source", "commune_code", "ingested_at"}


def test_every_registered_type_has_a_spec() -> None:
    assert set(EVENT_TABLES) == set(REGISTRY)


@pytest.mark.parametrize("spec", EVENT_TABLES.values(), ids=lambda s: s.event_type.type)
def test_every_payload_field_has_a_column_and_every_column_a_source(spec: EventTable) -> None:
    columns = set(spec.table.c.keys())
    fields = set(spec.event_type.payload.model_fields)
    assert fields <= columns, f"{spec.table.name} would drop {fields - columns}"
    assert columns == fields | ENVELOPE_COLUMNS


@pytest.mark.parametrize("spec", EVENT_TABLES.values(), ids=lambda s: s.event_type.type)
def test_roll_ups_and_states_name_real_columns(spec: EventTable) -> None:
    row_columns = set(spec.table.c.keys()) | {"event_type"}
    for rollup in (*spec.rollups, SOURCE_HOURLY):
        target = set(rollup.table.c.keys())
        key = {"bucket_start", "commune_code", *rollup.dims}
        assert {c.name for c in rollup.table.primary_key} == key
        assert set(rollup.dims) <= row_columns
        assert set(rollup.measures) | set(rollup.latest) <= target
        assert set(rollup.latest.values()) <= row_columns
        assert "updated_at" in target
        assert not set(rollup.measures) & key
    lifecycle = spec.lifecycle
    if lifecycle is None:
        return
    state = set(lifecycle.table.c.keys())
    assert {c.name for c in lifecycle.table.primary_key} == {lifecycle.key}
    assert {"stage", "stage_at", "updated_at", *lifecycle.facts, *lifecycle.additive} <= state
    assert set(lifecycle.facts) <= row_columns
    for stage in lifecycle.stages.values():
        assert {stage.at} - {None} | set(stage.columns) <= state
    assert set(lifecycle.stages) == set(lifecycle.order)
    stages = get_args(spec.event_type.payload.model_fields["stage"].annotation)
    assert tuple(lifecycle.order) == stages  # the contract's order is the lifecycle's order
