"""Declared closures: a source (or every source of some kinds in a unit) that is closed for
a period owes no report then (a flood closes a district's schools and desks for the day).

A closure is decided by the province and declared to the product (``POST
/api/v1/sources/closures`` by an operator, or by a scenario that closes sources); the
owed slots of ``app.sources.slots`` leave out every slot whose reporting time lies wholly
inside a closure, so a closed source is neither late nor missing in completeness.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from models.sources import SourceSystem, source_registry
from models.units import PROVINCE_CODE, communes

Intervals = dict[str, list[tuple[datetime, datetime]]]
"""Source code → its closed periods ``[start, end)``."""


@dataclass(frozen=True, slots=True)
class Closure:
    """One declared closure: of ``source``, or of every source located in ``unit_code`` (a
    commune, a district of the 2020 tree, or the province) of the given ``kinds`` (all
    kinds when empty), from ``starts_at`` to ``ends_at``."""

    starts_at: datetime
    ends_at: datetime
    reason: str
    source: str | None = None
    unit_code: str | None = None
    kinds: tuple[str, ...] = ()

    @classmethod
    def of(cls, record: Any) -> Closure:
        """The closure a stored row or a declaration (anything with these fields) states."""
        return cls(
            starts_at=record.starts_at,
            ends_at=record.ends_at,
            reason=record.reason,
            source=record.source,
            unit_code=record.unit_code,
            kinds=tuple(record.kinds),
        )

    def covers(self, source: SourceSystem) -> bool:
        if self.source is not None:
            return source.code == self.source
        if self.kinds and source.kind not in self.kinds:
            return False
        return self.unit_code in _places(source.commune_code)


@cache
def _places(commune: str) -> tuple[str, ...]:
    """The units a source located in ``commune`` sits in: the commune, its district, the
    province."""
    district = next((u.parent_code for u in communes() if u.code == commune), None)
    return (commune, district or "", PROVINCE_CODE)


def closed_intervals(
    closures: Iterable[Closure], sources: Iterable[SourceSystem] | None = None
) -> Intervals:
    """The closed periods of each source the closures cover."""
    chosen = list(closures)
    out: Intervals = defaultdict(list)
    if not chosen:
        return {}
    for source in source_registry() if sources is None else sources:
        for closure in chosen:
            if closure.covers(source):
                out[source.code].append((closure.starts_at, closure.ends_at))
    return dict(out)
