"""Soft checks: a fault drill runs to its end and then reports every check that failed,
so one run says all that is wrong, not only the first thing."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Checks:
    failed: list[str] = field(default_factory=list)

    def expect(self, ok: object, what: str) -> bool:
        if not ok:
            self.failed.append(what)
        return bool(ok)

    def assert_all(self) -> None:
        assert not self.failed, "\n".join(f"- {f}" for f in self.failed)
