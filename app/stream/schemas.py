"""What the live stream carries: one JSON document per SSE event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal["indicator", "alert", "source", "reset"]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One SSE event. ``indicator`` / ``unit`` let a client's filter match without parsing."""

    id: str
    kind: EventKind
    data: dict[str, Any]
    indicator: str | None = None
    units: frozenset[str] = field(default_factory=frozenset)
    open_data: bool = True
    public_only: bool = False
    """The public's version of a value an operator receives unabridged in another event."""

    def encode(self) -> bytes:
        import orjson

        return (
            f"id: {self.id}\nevent: {self.kind}\ndata: ".encode()
            + orjson.dumps(self.data)
            + b"\n\n"
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    """A client's filter; None means everything it may see."""

    indicators: frozenset[str] | None
    units: frozenset[str] | None
    operator: bool

    def wants(self, event: StreamEvent) -> bool:
        if event.kind == "reset":
            return True
        if not self.operator and (event.kind != "indicator" or not event.open_data):
            return False
        if self.operator and event.public_only:
            return False
        if self.indicators is not None and event.indicator not in self.indicators:
            return False
        return self.units is None or bool(self.units & event.units) or not event.units
