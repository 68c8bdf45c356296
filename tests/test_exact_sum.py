"""A double measure's sum does not depend on the order its rows come in (PostgreSQL's
parallel workers combine partial sums in whichever order they finish)."""

from __future__ import annotations

import pytest
from sqlalchemy import Float, Integer, column, func, select, text, values
from sqlalchemy.ext.asyncio import AsyncEngine

from app.indicators.repository import exact_sum

pytestmark = pytest.mark.integration

TERMS = [2.0**53, 1.0, 1.0, -(2.0**53)]
"""Summed as doubles, left to right: each 1.0 vanishes into 2**53 (0.0); the small ones
first: they add up before it (2.0). Their exact sum is 2.0."""


async def summed(engine: AsyncEngine, terms: list[float], exact: bool) -> float:
    rows = values(column("i", Integer), column("x", Float), name="t").data(list(enumerate(terms)))
    ordered = select(rows.c.x).order_by(rows.c.i).subquery()
    total = exact_sum(ordered.c.x) if exact else func.sum(ordered.c.x)
    async with engine.connect() as conn:
        await conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        return float(await conn.scalar(select(total)))


async def test_a_double_sum_is_the_same_in_any_order(engine: AsyncEngine) -> None:
    small_first = [*TERMS[1:-1], TERMS[0], TERMS[-1]]
    assert await summed(engine, TERMS, exact=False) != await summed(
        engine, small_first, exact=False
    )  # the order tells, summed as doubles
    orders = [TERMS, small_first, list(reversed(TERMS))]
    assert [await summed(engine, terms, exact=True) for terms in orders] == [2.0, 2.0, 2.0]
