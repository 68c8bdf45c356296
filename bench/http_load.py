"""The API under load: ``ioc serve`` in a child process, driven by ``wrk`` over loopback.

wrk (C, event loop) keeps the load generator's own cost small on a 2-core machine; a Lua
script rotates over the questions and prints the latency percentiles as JSON.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench import memory
from ioc.embedded import free_port

_SCRIPT = """
local paths = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"p50_ms": %%.2f, "p95_ms": %%.2f, "p99_ms": %%.2f, "max_ms": %%.2f, "requests": %%d, ' ..
    '"socket_errors": %%d, "non_2xx": %%d, "seconds": %%.2f}\\n',
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests,
    e.connect + e.read + e.write + e.timeout, e.status, summary.duration / 1e6))
end
"""


METRICS_KEY = secrets.token_urlsafe(24)
"""The admin key the API child accepts for this run only, to read its ``/metrics``."""


@contextlib.contextmanager
def api_server(
    database_url: str, volume_scale: float = 1.0, answer_cache: bool = True, processes: int = 1
) -> Iterator[str]:
    """``ioc serve`` on a free loopback port, expecting the sources at the simulated
    ``volume_scale``; yields its base URL. ``answer_cache=False``: every answer computed
    afresh (``IOC_ANSWER_CACHE_MB=0``), the cost of a question nobody asked before.
    ``processes``: API processes on the port (``IOC_API_PROCESSES``)."""
    port = free_port()
    env = {
        **os.environ,
        "IOC_DATABASE_URL": database_url,
        "IOC_API_HOST": "127.0.0.1",
        "IOC_API_PORT": str(port),
        "IOC_ALERT_INTERVAL_SECONDS": "0",
        "IOC_LOG_LEVEL": "WARNING",
        "IOC_VOLUME_SCALE": str(volume_scale),
        "IOC_ADMIN_API_KEY": METRICS_KEY,  # the bench reads /metrics with it
        "IOC_API_PROCESSES": str(processes),
        **({} if answer_cache else {"IOC_ANSWER_CACHE_MB": "0"}),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", "from ioc.cli import main; main()", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wrk(
    base: str, paths: list[str], *, clients: int, seconds: int, database_url: str | None = None
) -> dict[str, Any]:
    """Latency percentiles of ``clients`` connections asking ``paths`` in turn; with the
    ``database_url``, also the CPU milliseconds a request cost the API and PostgreSQL."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    quoted = ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_SCRIPT % quoted)
    cpu_before = memory.cpu_seconds(database_url) if database_url else None
    answers_before = answer_counts(base)
    try:
        threads = min(2, clients)
        out = subprocess.run(
            [binary, f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s",
             "-s", script.name, base],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        Path(script.name).unlink()
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["clients"] = clients
    result["requests_per_s"] = round(result["requests"] / result["seconds"], 1)
    after = answer_counts(base)
    result["answers"] = {k: round(after.get(k, 0) - answers_before.get(k, 0)) for k in after}
    if cpu_before is not None and database_url and result["requests"]:
        spent = memory.cpu_spent(cpu_before, memory.cpu_seconds(database_url))
        result["cpu_ms_per_request"] = {
            side: round(s * 1000 / result["requests"], 2) for side, s in spent.items()
        }
    return result


def check_all_answer(base: str, paths: list[str]) -> dict[str, float]:
    """Each question once, alone (warms caches and proves it is a 200): its time in ms."""
    times = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        for path in paths:
            started = time.perf_counter()
            answer = client.get(path)
            answer.raise_for_status()
            times[path] = round((time.perf_counter() - started) * 1000, 1)
    return times


def answer_counts(base: str) -> dict[str, float]:
    """The API's answers so far by how they were had (``kept``: served from memory,
    ``computed``), from its ``/metrics``: says whether a load measured kept answers."""
    found = httpx.get(f"{base}/metrics", headers={"X-API-Key": METRICS_KEY}, timeout=30)
    found.raise_for_status()
    counts = {}
    for line in found.text.splitlines():
        if line.startswith("ioc_api_answers_total{"):
            labels, value = line.rsplit(" ", 1)
            counts[labels.split('result="')[1].split('"')[0]] = float(value)
    return counts
