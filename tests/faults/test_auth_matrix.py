"""The auth matrix on a real ``ioc serve`` (uvicorn, in a process of its own): every role,
a wrong and a revoked key, on a route of every level including the gateway; the events the
gateway takes are stored once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests import ingest_builders as b
from tests.faults.checks import Checks
from tests.faults.conftest import Served
from tests.faults.http import Tally
from tests.faults.ledger import Ledger, differences_after_drain

pytestmark = pytest.mark.faults

ROLES = ("anonymous", "wrong", "revoked", "public", "operator", "ingest", "admin", "bearer")
EVERYONE = {"anonymous", "public", "operator", "ingest", "admin"}
ALLOWED = {
    "public": EVERYONE,
    "any": EVERYONE,
    "operator": {"operator", "admin"},
    "ingest": {"ingest", "admin"},
    "admin": {"admin"},
}


def _allowed(role: str, needed: str) -> bool:
    effective = "admin" if role == "bearer" else role
    return effective in ALLOWED[needed]


async def test_every_role_gets_what_its_role_allows_over_real_http(
    served: Served, fault_db: tuple[str, AsyncEngine]
) -> None:
    checks, answers, ledger = Checks(), Tally(), Ledger()
    at = datetime.now(UTC) - timedelta(hours=3)
    routes = (
        ("GET", "/api/v1/indicators", None, "public", 200),
        ("GET", "/api/v1/units/503", None, "public", 200),
        ("GET", "/api/v1/auth/me", None, "any", 200),
        ("GET", "/api/v1/sources", None, "operator", 200),
        ("GET", "/api/v1/alerts", None, "operator", 200),
        ("GET", "/api/v1/auth/keys", None, "admin", 200),
        ("POST", "/api/v1/events", "event", "ingest", 200),
    )
    for method, path, body, needed, ok in routes:
        for role in ROLES:
            event = [b.encounter(at + timedelta(seconds=len(ledger.unique)), 1)]
            answer = await answers.request(
                served.http,
                method,
                path,
                headers=served.headers[role],
                json=event if body else None,
            )
            if role in ("wrong", "revoked"):
                expected = 401
            elif _allowed(role, needed):
                expected = ok
            else:
                expected = 401 if role == "anonymous" else 403
            got = answer.status_code if answer is not None else 0
            checks.expect(got == expected, f"{role} {method} {path}: {got} != {expected}")
            if body and got == 200:
                ledger.record_all(event)
    problems = await differences_after_drain(fault_db[1], ledger)
    checks.expect(not problems, f"store vs events accepted: {problems}")
    checks.expect(served.worker.alive(), f"the worker exited:\n{served.worker.tail()}")
    checks.expect(
        not {0, 500} & set(answers.statuses), f"answers {dict(answers.statuses)} {answers.examples}"
    )
    checks.assert_all()
