"""HTTP helpers of the fault tests: keys issued through the API, and a tally of answers
(the suite's rule: no answer is ever a 500)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import httpx

ADMIN_KEY = "faults-admin-key-0123456789abcdef"
"""The bootstrap admin key every ``ioc`` process of the suite accepts."""


async def issue_key(http: httpx.AsyncClient, role: str) -> str:
    return (await issue(http, role))[1]


async def issue(http: httpx.AsyncClient, role: str) -> tuple[int, str]:
    """A new key of ``role`` from the API (admin bootstrap key): its id and the key."""
    answer = await http.post(
        "/api/v1/auth/keys",
        json={"name": f"faults-{role}", "role": role},
        headers={"X-API-Key": ADMIN_KEY},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"]), str(answer.json()["key"])


@dataclass
class Tally:
    """Answers by status, and the first few of each status >= 500 for the failure message."""

    statuses: Counter[int] = field(default_factory=Counter)
    examples: dict[int, str] = field(default_factory=dict)

    def add(self, what: str, answer: httpx.Response) -> httpx.Response:
        self.statuses[answer.status_code] += 1
        if answer.status_code >= 500 and answer.status_code not in self.examples:
            self.examples[answer.status_code] = f"{what}: {answer.text[:300]}"
        return answer

    async def request(
        self, http: httpx.AsyncClient, method: str, url: str, **kwargs: object
    ) -> httpx.Response | None:
        """Send and tally; a connection dropped or timed out counts as status 0."""
        try:
            answer = await http.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            self.statuses[0] += 1
            self.examples.setdefault(0, f"{method} {url}: {type(exc).__name__} {exc}")
            return None
        return self.add(f"{method} {url}", answer)

    @property
    def server_errors(self) -> int:
        return self.statuses[500]
