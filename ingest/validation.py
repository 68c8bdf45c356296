"""The checks an event passes before it is stored or published, shared by the consumer and
the HTTP gateway so both refuse the same things for the same reasons.

A consumed batch is validated as a batch (:meth:`Validator.parse_many`): the clock is read
once, the envelopes are validated as one list and each event type's payloads as one list
(pydantic validates a list several times faster than its items one call each). Where a
list fails, its items are validated one by one, exactly as :meth:`Validator.parse` does,
so an event is refused for the same reason, with the same detail, alone or in a batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from models.events import (
    MAX_EVENT_BYTES,
    REGISTRY,
    Envelope,
    Event,
    EventRejected,
    EventType,
    RejectReason,
    TimeWindow,
    parse_event,
    validate_event,
)
from models.settings import Settings
from models.sources import sources_by_code
from models.units import commune_codes

T = TypeVar("T")
Parsed = Event | EventRejected

_ENVELOPES = TypeAdapter(list[Envelope])
_PAYLOADS: dict[type[BaseModel], TypeAdapter[list[BaseModel]]] = {}


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
        return self._parse(raw, self.window.clock())

    def validate(self, doc: dict[str, Any]) -> Event:
        return self._known(validate_event(doc), self.window.clock())

    def parse_many(self, raws: Sequence[bytes]) -> list[Parsed]:
        """Each raw event validated as :meth:`parse` would (the event, or why it is refused),
        the clock read once for the batch."""
        now = self.window.clock()
        out: list[Parsed | None] = [None] * len(raws)
        docs: list[tuple[int, Any]] = []
        for i, raw in enumerate(raws):
            if len(raw) > MAX_EVENT_BYTES or b"\\u0000" in raw:
                out[i] = self._alone(raw, now)
                continue
            try:
                doc = orjson.loads(raw)
            except orjson.JSONDecodeError:
                doc = None
            if isinstance(doc, dict):
                docs.append((i, doc))
            else:
                out[i] = self._alone(raw, now)
        envelopes = _each(_ENVELOPES, [d for _, d in docs], Envelope.model_validate)
        by_type: dict[EventType, list[tuple[int, Envelope]]] = defaultdict(list)
        for (i, _doc), env in zip(docs, envelopes, strict=True):
            event_type = REGISTRY.get(env.type) if env is not None else None
            if env is None or event_type is None:  # refused: as parse refuses it
                out[i] = self._alone(raws[i], now)
            else:
                by_type[event_type].append((i, env))
        check = self._checker(now)
        for event_type, items in by_type.items():
            model = event_type.payload
            adapter = _PAYLOADS.get(model) or _PAYLOADS.setdefault(
                model,
                TypeAdapter(list[model]),  # type: ignore[valid-type]
            )
            payloads = _each(adapter, [env.data for _, env in items], model.model_validate)
            for (i, env), payload in zip(items, payloads, strict=True):
                if payload is None:
                    out[i] = self._alone(raws[i], now)
                    continue
                try:
                    out[i] = check(Event(env, event_type, payload))
                except EventRejected as exc:
                    out[i] = exc
        assert all(p is not None for p in out)
        return out  # type: ignore[return-value]

    def _alone(self, raw: bytes, now: datetime) -> Parsed:
        """One event through :meth:`parse`'s path: the event, or why it is refused."""
        try:
            return self._parse(raw, now)
        except EventRejected as exc:
            return exc

    def _parse(self, raw: bytes, now: datetime) -> Event:
        if b"\\u0000" in raw:
            # valid JSON, but PostgreSQL text cannot hold NUL: refused here, not by the store
            # (where it would fail the whole batch again on every redelivery)
            raise EventRejected(RejectReason.SCHEMA, "a string contains the NUL character")
        return self._known(parse_event(raw), now)

    def _known(self, event: Event, now: datetime) -> Event:
        return self._checker(now)(event)

    def _checker(self, now: datetime) -> Callable[[Event], Event]:
        """The checks after the schema, against the window as of ``now``."""
        window, communes, sources = self.window, self._communes, self._sources

        def check(event: Event) -> Event:
            env = event.envelope
            window.check(env.time, now)
            if env.subject not in communes:
                raise EventRejected(
                    RejectReason.UNKNOWN_UNIT, f"subject {env.subject!r} is not a commune"
                )
            if env.source not in sources:
                raise EventRejected(
                    RejectReason.UNKNOWN_SOURCE,
                    f"source {env.source!r} is not a registered system",
                )
            return event

        return check


def _each(
    adapter: TypeAdapter[list[T]], items: list[Any], alone: Callable[[Any], T]
) -> list[T | None]:
    """``items`` validated as one list; where that fails, each on its own (``None`` for
    those that fail, to be refused by the one-event path with its exact reason)."""
    try:
        return list(adapter.validate_python(items))
    except ValidationError:
        pass
    out: list[T | None] = []
    for item in items:
        try:
            out.append(alone(item))
        except ValidationError:
            out.append(None)
    return out
