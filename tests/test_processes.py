"""``ioc serve --processes 2``: two API processes answer on one port, ``/metrics`` sums
them, a process that dies is replaced, and Ctrl-C stops every one of them.

Slow (two API processes start, one twice): marker ``deploy``, run by ``.ci/run``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from ioc.embedded import free_port
from tests.conftest import ADMIN_API_KEY

pytestmark = [pytest.mark.deploy, pytest.mark.integration]

START_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0
"""Far above the few seconds a stop takes: only there so that a hung stop fails."""


def _children(proc: psutil.Process) -> list[psutil.Process]:
    """The API processes: the serving command's children that are not multiprocessing's
    resource tracker."""
    return [
        c
        for c in proc.children(recursive=True)
        if "spawn_main" in " ".join(c.cmdline()) and c.status() != psutil.STATUS_ZOMBIE
    ]


def _wait(what: str, check: object, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except (httpx.HTTPError, psutil.Error):
            pass
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _metric(base: str, name: str) -> float:
    text = httpx.get(f"{base}/metrics", headers={"X-API-Key": ADMIN_API_KEY}, timeout=5).text
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


@pytest.fixture
def served(
    clean_db: object, database_url: str, tmp_path: Path
) -> Iterator[tuple[str, psutil.Popen]]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "IOC_DATABASE_URL": database_url,
        "IOC_API_HOST": "127.0.0.1",
        "IOC_API_PORT": str(port),
        "IOC_ADMIN_API_KEY": ADMIN_API_KEY,
        "IOC_ALERT_INTERVAL_SECONDS": "0",
    }
    with log.open("wb") as out:
        proc = psutil.Popen(
            [sys.executable, "-c", "from ioc.cli import main; main()", "serve", "--processes", "2"],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait("two API processes serving", lambda: len(_children(proc)) == 2
              and httpx.get(f"{base}/healthz", timeout=1).status_code == 200)  # fmt: skip
        yield base, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def test_two_processes_share_the_port_and_the_metrics(served: tuple[str, psutil.Popen]) -> None:
    base, proc = served
    assert proc.poll() is None
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(20):  # a connection each: they land on either process
            with httpx.Client(base_url=base, timeout=30) as once:
                assert once.get("/api/v1/indicators/health.encounters").status_code == 200
        counted = _metric(
            base,
            'ioc_api_requests_total{method="GET",route="/api/v1/indicators/{code}",status="200"}',
        )
        assert counted == 20  # summed over both processes, whichever answered the scrape
        streams = [
            client.send(client.build_request("GET", "/api/v1/stream"), stream=True)
            for _ in range(4)
        ]
        try:
            _wait("four stream clients counted", lambda: _metric(base, "ioc_stream_clients") == 4)
        finally:
            for response in streams:
                response.close()
        _wait("the clients gone", lambda: _metric(base, "ioc_stream_clients") == 0, 30)


def test_a_process_that_dies_is_replaced_and_ctrl_c_stops_all(
    served: tuple[str, psutil.Popen],
) -> None:
    base, proc = served
    first, second = _children(proc)
    first.kill()
    _wait("a new API process", lambda: len(_children(proc)) == 2
          and first.pid not in {c.pid for c in _children(proc)})  # fmt: skip
    replacement = next(c for c in _children(proc) if c.pid != second.pid)
    _wait("the port answering", lambda: httpx.get(f"{base}/healthz", timeout=1).status_code == 200)
    everyone = [proc, second, replacement]
    os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole process group
    assert proc.wait(STOP_TIMEOUT) == 0
    _, alive = psutil.wait_procs(everyone, timeout=STOP_TIMEOUT)
    assert not alive, f"left running: {alive}"
