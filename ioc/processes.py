"""Several API processes on one port, for ``ioc serve --processes N`` (``IOC_API_PROCESSES``).

Why: one Python process answers on one core. On the project's two-core machine a kept
answer costs the API a few milliseconds of CPU and PostgreSQL a fraction of one, so fifty
clients queue behind one process while the second core idles. The processes share nothing
but the listening socket (the parent binds it; each child accepts on it), and what they
must not do twice is already the deployment's job once: one evaluator holds an advisory lock
(:mod:`app.stream.evaluator`), each process keeps its own answers per database snapshot
(:mod:`app.kit.answers`) and its own live-stream clients, fed by the same change notices.

The parent only supervises: a child that dies is replaced (a crash must not halve the
wall's capacity for good); SIGINT or SIGTERM asks every child to stop, waits for them, and
kills what is left after the grace time, so no process outlives the command.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess

import structlog
import uvloop
from prometheus_client import multiprocess

from ioc.server import GRACE_SECONDS, api_server

RESTART_PAUSE_SECONDS = 1.0
"""Pause before replacing a child that died: one failing at start must not spin the CPU."""
log = structlog.get_logger(__name__)

STOP_TIMEOUT_SECONDS = GRACE_SECONDS + 8.0
"""How long the children get to stop (their open requests get ``GRACE_SECONDS``, then their
application's shutdown runs) before they are killed."""


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every child accepts on."""
    sock = socket.create_server((host, port), reuse_port=False, backlog=2048)
    sock.set_inheritable(True)
    return sock


def _child(sock: socket.socket, database_url: str, kafka: str | None, log_level: str) -> None:
    """One API process: the application and its server, on the parent's socket.

    A terminal's Ctrl-C reaches the whole process group; a child starting up ignores it
    (the parent's SIGTERM follows), and once serving its server takes both signals."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by the parent
    from app.main import create_app
    from ioc import logs
    from models.settings import get_settings

    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json)
    host, port = sock.getsockname()[:2]
    server = api_server(create_app(database_url, kafka), host, port, log_level)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(server.serve(sockets=[sock]))


def serve_processes(
    count: int,
    sock: socket.socket,
    database_url: str,
    kafka: str | None,
    log_level: str,
) -> None:
    """Run ``count`` API processes on ``sock`` until SIGINT or SIGTERM, replacing any that
    dies; returns once every child has stopped."""
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    # Each child keeps its metrics in files here and /metrics sums them (app.ops.exposed).
    shared = tempfile.TemporaryDirectory(prefix="ioc-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared.name

    def start() -> BaseProcess:
        child = context.Process(
            target=_child, args=(sock, database_url, kafka, log_level), daemon=False
        )
        # Blocked while the child starts, so it starts blocked (the mask outlives fork and
        # exec): a Ctrl-C during its imports waits for it to ignore SIGINT instead of
        # raising there; the parent's own copy is delivered once unblocked, not lost.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            child.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        return child

    def ask_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, ask_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    children = [start() for _ in range(count)]
    try:
        while not stop.wait(0.5):
            for i, child in enumerate(children):
                if not child.is_alive() and not stop.wait(RESTART_PAUSE_SECONDS):
                    multiprocess.mark_process_dead(child.pid, shared.name)  # type: ignore[no-untyped-call]
                    log.warning("api process exited; starting another",
                                pid=child.pid, exitcode=child.exitcode)  # fmt: skip
                    children[i] = start()
    finally:
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for child in children:
            child.join(max(0.0, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
                child.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        shared.cleanup()
