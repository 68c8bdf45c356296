"""Small-count disclosure control: which cells of a public health series must be withheld.

A count under :data:`SMALL_COUNT` (zero excepted: an absence is no one) could single a
patient out, so it is withheld (*primary* suppression). Withholding one cell alone is not
enough: its parent's total minus its visible siblings gives it back, so in every group of
siblings (same parent, same period) where exactly one cell is withheld, the smallest other
non-zero sibling is withheld too (*complementary* suppression). The decision depends only
on the sibling group, never on which part of it a request shows, so two requests cannot
be combined to undo it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

SMALL_COUNT = 5


@dataclass(frozen=True, slots=True)
class Cell:
    """One published figure: ``key`` names it, ``group`` its siblings (parent, period)."""

    key: Hashable
    group: Hashable
    counts: Sequence[float]

    @property
    def small(self) -> bool:
        return any(0 < n < SMALL_COUNT for n in self.counts)

    @property
    def size(self) -> float:
        return min((n for n in self.counts if n > 0), default=0.0)


def withheld(cells: Iterable[Cell]) -> set[Hashable]:
    """Keys of the cells to withhold: the small ones, and one complement per lone one."""
    return withheld_of((c.key, c.group, c.counts) for c in cells)


def withheld_of(cells: Iterable[tuple[Hashable, Hashable, Sequence[float]]]) -> set[Hashable]:
    """:func:`withheld` of (key, group, counts) triples, as many as an answer has values
    (no :class:`Cell` made per value)."""
    groups: dict[Hashable, list[tuple[Hashable, bool, float]]] = defaultdict(list)
    for key, group, counts in cells:
        # :attr:`Cell.small` and :attr:`Cell.size` in one plain loop: this runs once per
        # value of a public health answer, where two generators per value were its largest
        # cost.
        small, size = False, 0.0
        for n in counts:
            if n > 0:
                small = small or n < SMALL_COUNT
                size = n if size == 0.0 or n < size else size
        groups[group].append((key, small, size))
    hidden: set[Hashable] = set()
    for members in groups.values():
        primary = [key for key, small, _ in members if small]
        hidden.update(primary)
        if len(primary) == 1:
            others = [
                (size, str(key), key) for key, small, size in members if not small and size > 0
            ]
            if others:
                hidden.add(min(others, key=lambda o: (o[0], o[1]))[2])
    return hidden
