"""Services the fault tests own, so they can stop, kill and restart them: a PostgreSQL,
an Apache Kafka broker, ``ioc ingest`` workers and ``ioc serve``.

Every process here is started by the test that uses it and stopped by its pid; nothing
else running on the machine is touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from ioc.embedded import embedded_postgres, free_port, pg_ctl

REPO = Path(__file__).resolve().parents[2]
IOC = str(Path(sys.executable).with_name("ioc"))


def wait_until(predicate: object, seconds: float, what: str, step: float = 0.2) -> None:
    """Poll ``predicate`` until it is true, or fail saying what never happened."""
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(step)


class StoppablePostgres:
    """An embedded PostgreSQL of the fault tests' own, stopped and started with ``pg_ctl``
    on the same data directory and socket, so clients see a real outage and a real return."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._stack = contextlib.ExitStack()
        self.url = ""
        self._socket_dir = ""

    def __enter__(self) -> StoppablePostgres:
        self.url = self._stack.enter_context(embedded_postgres(self._base, database="ioc_faults"))
        self._socket_dir = parse_qs(urlparse(self.url).query)["host"][0]
        self._first_pid = self.pid()
        return self

    def __exit__(self, *exc: object) -> None:
        # embedded-postgres stops the server it started; one we restarted is ours to stop
        with contextlib.suppress(subprocess.CalledProcessError):
            if self.running() and self.pid() != self._first_pid:
                self.stop()
        self._stack.close()

    def pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        return int(pidfile.read_text().split()[0]) if pidfile.exists() else None

    @property
    def pgdata(self) -> Path:
        return (self._base / "postgres").resolve()

    def _pg_ctl(self, *args: str) -> None:
        pg_ctl(self.pgdata, *args)

    def running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def stop(self) -> None:
        """Fast shutdown: open sessions are cut, as when a server goes down."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self._pg_ctl(
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {self._socket_dir}",
            "-l",
            str(self.pgdata / "log"),
            "start",
        )


class OwnKafka:
    """An Apache Kafka 2.3.0 broker with its ZooKeeper, started by ``.ci/kafka.sh`` in a
    state directory of the test's own. ``stop_broker`` / ``start_broker`` stop and start
    the broker JVM alone on the same port, config and log dirs (ZooKeeper stays up)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.bootstrap = ""
        self._restarted: subprocess.Popen[bytes] | None = None
        self._env = {
            **os.environ,
            "KAFKA_STATE_DIR": str(state_dir),
            # the distribution `.ci/run` (or an earlier test run) already unpacked
            "KAFKA_CACHE_DIR": str(REPO / ".ci" / ".kafka" / "dist"),
            "KAFKA_START_TIMEOUT": "180",
        }

    def _script(self, command: str) -> str:
        done = subprocess.run(
            ["bash", str(REPO / ".ci" / "kafka.sh"), command],
            env=self._env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"kafka.sh {command} failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip()

    def __enter__(self) -> OwnKafka:
        self.bootstrap = self._script("start").splitlines()[-1]
        return self

    def __exit__(self, *exc: object) -> None:
        self._script("stop")
        if self._restarted is not None:
            self._restarted.wait(30)

    @property
    def _pid_file(self) -> Path:
        return self.state_dir / "kafka.pid"

    def broker_pid(self) -> int:
        return int(self._pid_file.read_text().strip())

    def answers(self) -> bool:
        host, _, port = self.bootstrap.rpartition(":")
        with socket.socket() as sock:
            sock.settimeout(1)
            return sock.connect_ex((host, int(port))) == 0

    def stop_broker(self) -> None:
        pid = self.broker_pid()
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not _alive(pid), 90, "the Kafka broker to stop")
        wait_until(lambda: not self.answers(), 10, "the broker port to close")

    def start_broker(self) -> None:
        home = REPO / ".ci" / ".kafka" / "dist" / "kafka_2.12-2.3.0"
        conf = self.state_dir / "run" / "server.properties"
        env = {k: v for k, v in self._env.items() if k != "CLASSPATH"}
        env |= {
            "LOG_DIR": str(self.state_dir / "logs" / "kafka"),
            "KAFKA_HEAP_OPTS": "-Xms256m -Xmx1g",
            "EXTRA_ARGS": "-name kafka",
        }
        with (self.state_dir / "logs" / "kafka-restarted.out").open("ab") as out:
            proc = subprocess.Popen(
                [str(home / "bin" / "kafka-server-start.sh"), str(conf)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._restarted = proc
        self._pid_file.write_text(str(proc.pid))  # so `kafka.sh stop` stops this one too
        wait_until(self.answers, 120, "the restarted Kafka broker to listen")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


@dataclass
class Proc:
    """One ``ioc`` subprocess of a test, its log file and how it ended."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    health: Path | None = None
    exits: list[int] = field(default_factory=list)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 12) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Fleet:
    """The ``ioc`` processes a test runs: workers it can kill -9 and restart, and the API."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = {**os.environ, **env}
        self.procs: list[Proc] = []
        self.kills = 0

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Proc:
        log = self.workdir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [IOC, *args],
                env={**self.env, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def worker(self, name: str) -> Proc:
        health = self.workdir / f"{name}.health"
        proc = self.spawn(name, ["ingest", "--health-file", str(health)])
        proc.health = health
        return proc

    def restart(self, proc: Proc) -> Proc:
        """The same worker again (same name, log and health file), as a supervisor would."""
        assert not proc.alive()
        fresh = self.worker(proc.name)
        fresh.exits = [*proc.exits]
        self.procs.remove(proc)
        return fresh

    def kill9(self, proc: Proc) -> None:
        proc.popen.send_signal(signal.SIGKILL)
        proc.exits.append(proc.popen.wait(30))
        self.kills += 1

    def serve(self, name: str = "api", **env: str) -> tuple[Proc, str]:
        port = free_port()
        proc = self.spawn(name, ["serve"], {"IOC_API_PORT": str(port), **env})
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _listening(port) or not proc.alive(), 60, f"{name} to listen")
        assert proc.alive(), f"{name} exited at start:\n{proc.tail()}"
        return proc, base

    def stop_all(self) -> None:
        """SIGTERM (finish the batch, commit, leave the group), then SIGKILL if stuck."""
        for proc in self.procs:
            if proc.alive():
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.popen.wait(30)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def fleet(workdir: Path, env: dict[str, str]) -> Iterator[Fleet]:
    ioc = Fleet(workdir, env)
    try:
        yield ioc
    finally:
        ioc.stop_all()
