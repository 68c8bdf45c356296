"""Token buckets: failed key checks per client address, and events per key on the gateway.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; a request
that finds too few tokens is refused (429) with ``Retry-After`` saying when enough will be
back. In memory per API process (each replica limits on its own), bounded in size: idle
full buckets are forgotten first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

MAX_BUCKETS = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    def __init__(self, *, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_BUCKETS:
                self._forget(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        return bucket

    def wait_for(self, key: str, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are there (0: now), without taking any."""
        if not self.enabled:
            return 0.0
        bucket = self._refilled(key, time.monotonic())
        return max(0.0, (min(cost, self.burst) - bucket.tokens) / self.rate)

    def take(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; 0 when taken, else the seconds to wait (nothing taken).
        A cost above the burst is charged the burst (it could never pass otherwise)."""
        if not self.enabled:
            return 0.0
        cost = min(cost, self.burst)
        bucket = self._refilled(key, time.monotonic())
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self.rate

    def _forget(self, now: float) -> None:
        full = [
            k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst
        ]
        for key in full or list(self._buckets)[: MAX_BUCKETS // 10]:
            del self._buckets[key]
