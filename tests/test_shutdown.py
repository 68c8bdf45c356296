"""Ctrl-C and SIGTERM stop `ioc demo` and `ioc serve` and everything they started.

A demo with live-stream clients connected is stopped ten times by SIGINT to its process
group (a terminal's Ctrl-C) and ten times by SIGTERM to its process (a supervisor's stop),
on one data directory, so each start also reuses what the one before left. After each stop
no process it started (embedded PostgreSQL, broker) may be left. Slow: marker ``deploy``,
run by ``.ci/run``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from ioc.embedded import free_port

pytestmark = pytest.mark.deploy

ROUNDS = 10
START_TIMEOUT = 180.0
STOP_TIMEOUT = 15.0
"""Far above the 5 s a stop takes: only there so that a hung stop fails instead of waiting."""
CLIENTS = 3


def _start(command: list[str], data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from ioc.cli import main; main()", *command],
            env={**_env(data_dir), "IOC_API_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _env(data_dir: Path) -> dict[str, str]:
    """Embedded services only, in ``data_dir``."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("IOC_DATABASE_URL", "IOC_KAFKA_BOOTSTRAP")
    }
    return {**env, "IOC_DATA_DIR": str(data_dir), "IOC_API_HOST": "127.0.0.1"}


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"exited with {proc.returncode} at start:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"not serving within {START_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}")


def _stream_clients(port: int) -> list[threading.Thread]:
    """Live-stream clients that stay connected until the server goes away."""
    connected = threading.Barrier(CLIENTS + 1, timeout=30)

    def client() -> None:
        url = f"http://127.0.0.1:{port}/api/v1/stream?indicator=health.encounters"
        try:
            with httpx.stream("GET", url, timeout=httpx.Timeout(5, read=None)) as response:
                assert response.status_code == 200
                connected.wait()
                for _ in response.iter_bytes():
                    pass
        except (httpx.HTTPError, threading.BrokenBarrierError):
            pass

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    connected.wait()
    return threads


def _started_processes(proc: subprocess.Popen[bytes], data_dir: Path) -> dict[int, psutil.Process]:
    """The command's descendants plus the embedded PostgreSQL (pg_ctl detaches it)."""
    found = {p.pid: p for p in psutil.Process(proc.pid).children(recursive=True)}
    postmaster = data_dir / "postgres" / "postmaster.pid"
    if postmaster.exists():
        server = psutil.Process(int(postmaster.read_text().split()[0]))
        found[server.pid] = server
        found.update({p.pid: p for p in server.children(recursive=True)})
    return found


def _alive(processes: dict[int, psutil.Process]) -> list[str]:
    left = []
    for process in processes.values():
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{process.pid} {process.name()}")
        except psutil.NoSuchProcess:
            pass
    return left


def _stop_once(
    command: list[str], sig: signal.Signals, data_dir: Path, log: Path
) -> tuple[float, int, list[str]]:
    if command[0] == "serve":  # it serves a migrated database only
        subprocess.run(
            [sys.executable, "-c", "from ioc.cli import main; main()", "db", "upgrade"],
            env={**_env(data_dir), "IOC_API_PORT": "0"},
            check=True,
            capture_output=True,
        )
    port = free_port()
    proc = _start(command, data_dir, port, log)
    try:
        _wait_ready(proc, port, log)
        clients = _stream_clients(port)
        started = _started_processes(proc, data_dir)
        began = time.monotonic()
        if sig is signal.SIGINT:
            os.killpg(proc.pid, sig)  # what a terminal's Ctrl-C does
        else:
            proc.send_signal(sig)  # what a supervisor does
        proc.wait(STOP_TIMEOUT)
        took = time.monotonic() - began
        time.sleep(0.3)  # let the kernel reap what just exited
        for client in clients:
            client.join(5)
        return took, len(started), _alive(started)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


@pytest.mark.parametrize(
    "command",
    [["demo", "--days", "0", "--scale", "0.05"], ["serve"]],
    ids=["demo", "serve"],
)
def test_signals_stop_everything_started(
    command: list[str], data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "command.log"
    rounds = ROUNDS if command[0] == "demo" else ROUNDS // 5
    results: list[tuple[str, float, int, list[str]]] = []
    for _ in range(rounds):
        for sig in (signal.SIGINT, signal.SIGTERM):
            took, started, left = _stop_once(command, sig, data_dir, log)
            results.append((sig.name, took, started, left))
    with capsys.disabled():
        for name in ("SIGINT", "SIGTERM"):
            times = sorted(t for n, t, _, _ in results if n == name)
            print(
                f"\nioc {command[0]}: {len(times)} × {name}, stopped in "
                f"{times[0]:.1f}–{times[-1]:.1f} s (median {times[len(times) // 2]:.1f} s), "
                f"{sum(bool(r[3]) for r in results if r[0] == name)} left processes behind"
            )
    leftovers = [(n, left) for n, _, _, left in results if left]
    assert not leftovers, f"processes left after a stop: {leftovers}\n{log.read_text()[-3000:]}"
    assert all(started >= 2 for _, _, started, _ in results), "embedded services not seen"
