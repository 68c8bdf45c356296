"""Oversize bodies and keys in logs on a real ``ioc serve`` (uvicorn, in a process of its
own): a key is checked before a body is read, an oversize body is refused with 413 without
being held in memory, and no key reaches a log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults.checks import Checks
from tests.faults.conftest import Served
from tests.faults.http import ADMIN_KEY

pytestmark = pytest.mark.faults

MB = 1024 * 1024
BIG = 50 * MB
RSS_GROWTH_LIMIT = 150 * MB
"""Ten 50 MB bodies must not be held: the API may grow a little, not by the bodies' size."""


async def _raw_post(port: int, path: str, headers: dict[str, str], size: int) -> int:
    """POST ``size`` bytes and return the status, stopping the upload as soon as the server
    answers (a server that refuses early may close before the body is through). ``size``
    is sent as Content-Length, or chunked when ``Content-Length`` is absent from headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chunked = "Content-Length" not in headers
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else "\r\n"
    chunk = b"[" + b" " * (MB - 1)

    async def upload() -> None:
        writer.write(head.encode())
        for _ in range(size // MB):
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    sending = asyncio.create_task(upload())
    try:
        status_line = await asyncio.wait_for(reader.readline(), 120)
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        writer.close()
    return int(status_line.split()[1]) if status_line else 0


def _rss(pid: int) -> int:
    """Resident memory of a process, from /proc (bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


async def test_oversize_bodies_get_413_after_the_key_check_and_are_never_held(
    served: Served,
) -> None:
    checks = Checks()
    before = _rss(served.api.popen.pid)
    # Without a valid key: 401, or 413 when the declared length alone is over the limit
    # (refused before a byte of the body is read either way); with one: 413.
    for role, expected in (("anonymous", {401, 413}), ("wrong", {401, 413}), ("ingest", {413})):
        for n in range(10 if role != "wrong" else 3):
            sized = {"Content-Length": str(BIG)} if n % 2 == 0 else {}
            # a chunked body has no declared length: without a key, the key check answers
            allowed = expected if sized or role == "ingest" else {401}
            headers = served.headers[role] | sized
            status = await _raw_post(served.port, "/api/v1/events", headers, BIG)
            how = "sized" if sized else "chunked"
            checks.expect(
                status in allowed, f"50 MB POST ({role}, {how}): {status} not in {allowed}"
            )
    growth = _rss(served.api.popen.pid) - before
    checks.expect(
        growth < RSS_GROWTH_LIMIT, f"the API grew by {growth // MB} MB over 23 posts of 50 MB"
    )
    checks.expect(served.api.alive(), f"the API exited:\n{served.api.tail()}")
    checks.assert_all()


async def test_keys_never_reach_a_log(served: Served) -> None:
    """The wall and the stream take ``?api_key=`` (a browser's EventSource sends no headers)."""
    http, keys = served.http, served.keys
    await http.get(f"/wall?api_key={keys['operator']}")
    await http.get(f"/api/v1/indicators?api_key={keys['public']}")
    await http.get("/api/v1/sources", headers={"X-API-Key": keys["operator"]})
    await http.get("/api/v1/indicators", headers={"Authorization": f"Bearer {keys['admin']}"})
    await http.get(f"/api/v1/sources?api_key={keys['revoked']}")
    served.ioc.stop_all()  # flush and close every log
    logs = "".join(p.log.read_text(errors="replace") for p in served.ioc.procs)
    assert logs, "the processes wrote no log at all"
    leaked = [k[:12] + "…" for k in [*keys.values(), ADMIN_KEY] if k in logs]
    assert not leaked, f"keys written to the logs: {leaked}"
