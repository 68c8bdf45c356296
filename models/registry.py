"""A registry: the one place a kind of declaration (event types, streams, roll-up tiers,
indicators, sectors) is listed, filled by ``add`` calls next to each declaration.

Product modules declare their entries at import; a deployment's extension or a test can
declare one more the same way, without editing the modules that read the registry. A name
declared twice is refused: it is a copy or a typo, never a refinement.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar

V = TypeVar("V")


class Registry(Mapping[str, V]):
    """Name → declaration, in declaration order; read like a mapping."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, V] = {}

    def add(self, name: str, item: V) -> V:
        """Declare ``item`` under ``name``; returns it, so a declaration reads
        ``X = REGISTRY.add(name, X(...))``."""
        if name in self._items:
            raise ValueError(f"{self.what} {name!r} is declared twice")
        self._items[name] = item
        return item

    def remove(self, name: str) -> V:
        """Withdraw a declaration (what a test that declared one does when it ends)."""
        return self._items.pop(name)

    def __getitem__(self, name: str) -> V:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.what} {name!r}; declared: {', '.join(self._items)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {list(self._items)})"
