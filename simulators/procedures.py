"""The province's catalogue of administrative procedures (thủ tục hành chính), as data.

A fact of the province, not of a run: it is drawn once from a fixed seed, so every
simulation seed sees the same procedures. Figures it is shaped to reproduce:

- Quảng Nam offered 41% of its procedures online at level 3–4 (partly or fully online) in
  2021, and 1,396 services on the national portal in 2022 (seed articles, DOMAIN.md); with
  1,950 procedures in the province's remit (provincial departments, districts and
  communes together — an assumed, typical provincial count) that is 71.6% in 2022.
  Procedures move online year by year (``ONLINE_PROCEDURE_SHARE``); the order is
  stratified over popularity in blocks of 50, so any popularity-ordered subset (the
  procedures a sample of dossiers happens to touch) has the same online share to within
  1/50.
- Popularity follows Zipf's law (the commune civil-status and certification procedures
  dominate); commune-level procedures are the most used, province-level the most numerous.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

N_PROCEDURES = 1_950
CATALOGUE_SEED = 766  # after Decision 766/QĐ-TTg, for remembering only
BLOCK = 50
ONLINE_PROCEDURE_SHARE = {2019: 0.22, 2020: 0.30, 2021: 0.41, 2022: 0.716, 2023: 0.80}
LATEST_SHARE = 0.86  # 2024 on
LEVELS = ("commune", "district", "province")
FEES = (0, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000)
FEE_P = (0.42, 0.12, 0.12, 0.12, 0.08, 0.07, 0.05, 0.02)
# Promised processing time in working days, by agency level: (low, high) inclusive.
DAYS = {"commune": (1, 5), "district": (3, 15), "province": (5, 20)}


def online_procedure_share(year: int) -> float:
    if year in ONLINE_PROCEDURE_SHARE:
        return ONLINE_PROCEDURE_SHARE[year]
    return LATEST_SHARE if year > 2023 else 0.15


@dataclass(frozen=True)
class Catalogue:
    codes: list[str]
    weight: np.ndarray
    """Popularity (sums to 1)."""
    level: np.ndarray
    """Index into ``LEVELS``."""
    online_rank: np.ndarray
    """A procedure is online in year y when ``online_rank < online_procedure_share(y)``."""
    full_online: np.ndarray
    """Once online, whether fully (toàn trình) rather than partly."""
    fee: np.ndarray
    issues_result: np.ndarray
    days: np.ndarray

    def online(self, year: int) -> np.ndarray:
        return self.online_rank < online_procedure_share(year)

    def online_level(self, index: np.ndarray, year: int) -> list[str]:
        on = self.online_rank[index] < online_procedure_share(year)
        full = self.full_online[index]
        return [
            "none" if not o else "full" if f else "partial" for o, f in zip(on, full, strict=True)
        ]


@cache
def catalogue() -> Catalogue:
    rng = np.random.default_rng(CATALOGUE_SEED)
    rank = np.arange(N_PROCEDURES)
    weight = 1.0 / (rank + 1.0)
    weight /= weight.sum()
    popular = rank < 120
    level = np.where(
        popular,
        rng.choice(3, size=N_PROCEDURES, p=(0.6, 0.3, 0.1)),
        rng.choice(3, size=N_PROCEDURES, p=(0.15, 0.3, 0.55)),
    )
    online_rank = np.empty(N_PROCEDURES)
    for start in range(0, N_PROCEDURES, BLOCK):
        size = min(BLOCK, N_PROCEDURES - start)
        online_rank[start : start + size] = (rng.permutation(size) + rng.random(size)) / size
    low = np.array([DAYS[LEVELS[i]][0] for i in level])
    high = np.array([DAYS[LEVELS[i]][1] for i in level])
    return Catalogue(
        codes=[f"1.{1000 + 3 * i:06d}" for i in range(N_PROCEDURES)],
        weight=weight,
        level=level,
        online_rank=online_rank,
        full_online=rng.random(N_PROCEDURES) < 0.45,
        fee=rng.choice(FEES, size=N_PROCEDURES, p=FEE_P),
        issues_result=rng.random(N_PROCEDURES) < 0.95,
        days=rng.integers(low, high + 1),
    )
