"""What the live stream carries: one JSON document per SSE event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from models.units import HIERARCHY_2020

EventKind = Literal["indicator", "alert", "source", "reset"]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One SSE event. ``indicator`` / ``units`` let a client's filter match without parsing.

    ``id`` comes from the database (``stream_event``), the same on every replica, so a
    client resumes with ``Last-Event-ID`` wherever its reconnect lands; a ``reset`` has none.
    """

    id: int | None
    kind: EventKind
    data: dict[str, Any]
    indicator: str | None = None
    units: frozenset[str] = field(default_factory=frozenset)
    open_data: bool = True
    public_only: bool = False
    """The public's version of a value an operator receives unabridged in another event."""
    hierarchy: str = HIERARCHY_2020
    """The unit tree an indicator value's ``units`` belong to (codes may repeat across trees);
    alerts and source status speak in the 2020 tree's units."""

    @property
    def key(self) -> tuple[Any, ...]:
        """What a newer event of the same key replaces: one value of one indicator for one
        unit, level and period; one alert; one source's status."""
        d = self.data
        if self.kind == "indicator":
            return (self.kind, d.get("indicator"), d.get("level"), d.get("bucket"),
                    d.get("unit_code"), d.get("period_start"))  # fmt: skip
        if self.kind == "alert":
            return (self.kind, d.get("id"))
        if self.kind == "source":
            return (self.kind, d.get("source"))
        return (self.kind,)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A client's filter; None means everything it may see."""

    indicators: frozenset[str] | None
    units: frozenset[str] | None
    operator: bool
    hierarchy: str = HIERARCHY_2020
    """Indicator values arrive in this unit tree only, so ``units`` mean one thing."""

    def wants(self, event: StreamEvent) -> bool:
        if event.kind == "reset":
            return True
        if not self.operator and (event.kind != "indicator" or not event.open_data):
            return False
        if self.operator and event.public_only:
            return False
        if event.kind == "indicator" and event.hierarchy != self.hierarchy:
            return False
        if self.indicators is not None and event.indicator not in self.indicators:
            return False
        return self.units is None or bool(self.units & event.units) or not event.units
