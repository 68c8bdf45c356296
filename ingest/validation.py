"""The checks an event passes before it is stored or published, shared by the consumer and
the HTTP gateway so both refuse the same things for the same reasons."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from models.events import (
    Event,
    EventRejected,
    RejectReason,
    TimeWindow,
    parse_event,
    validate_event,
)
from models.settings import Settings
from models.sources import sources_by_code
from models.units import commune_codes


class Validator:
    """Schema (shared pydantic models), then the time must be inside the accepted window and
    the commune and the source must be known."""

    def __init__(
        self,
        communes: Collection[str] | None = None,
        sources: Collection[str] | None = None,
        window: TimeWindow | None = None,
    ) -> None:
        self._communes = frozenset(communes if communes is not None else commune_codes())
        self._sources = frozenset(sources if sources is not None else sources_by_code())
        self.window = window or TimeWindow()

    @classmethod
    def from_settings(cls, settings: Settings) -> Validator:
        """The validator a deployment runs: its time window comes from the settings."""
        return cls(
            window=TimeWindow.of(
                settings.event_max_age_days,
                settings.event_max_ahead_hours,
                settings.retention_days,
            )
        )

    def parse(self, raw: bytes) -> Event:
        """Validate raw bytes (size, JSON, schema, time, unit, source) or raise EventRejected."""
        if b"\\u0000" in raw:
            # valid JSON, but PostgreSQL text cannot hold NUL: refused here, not by the store
            # (where it would fail the whole batch again on every redelivery)
            raise EventRejected(RejectReason.SCHEMA, "a string contains the NUL character")
        return self._known(parse_event(raw))

    def validate(self, doc: dict[str, Any]) -> Event:
        return self._known(validate_event(doc))

    def _known(self, event: Event) -> Event:
        env = event.envelope
        self.window.check(env.time)
        if env.subject not in self._communes:
            raise EventRejected(
                RejectReason.UNKNOWN_UNIT, f"subject {env.subject!r} is not a commune"
            )
        if env.source not in self._sources:
            raise EventRejected(
                RejectReason.UNKNOWN_SOURCE, f"source {env.source!r} is not a registered system"
            )
        return event
