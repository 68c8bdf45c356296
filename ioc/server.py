"""The API's HTTP server for ``ioc serve`` and ``ioc demo``: stops on the first Ctrl-C or
SIGTERM within a bounded time, however many live-stream clients are connected, and always
runs the application's own shutdown (hub, evaluator, engine) before it returns."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from socket import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

GRACE_SECONDS = 2
"""How long open requests (live streams included) may take to finish once asked to stop;
after that uvicorn cancels them, so the embedded services behind can be stopped in time."""
ECHO_SECONDS = 1.0
"""A second SIGINT this soon after the first is the same Ctrl-C delivered twice, not an
operator insisting: ``uv run`` (``./run``) passes its own copy of a Ctrl-C on to the
command when no terminal is attached, some 0.2 s after the process group had it."""


class ApiServer(uvicorn.Server):
    """uvicorn's server, minus re-raising the signal that stopped it once it has stopped,
    and with the application's shutdown run even on a forced exit.

    uvicorn re-raises a captured SIGTERM after shutdown; with the default handler back in
    place that kills the process on the spot, before the command's ``finally`` blocks have
    stopped the embedded PostgreSQL and broker. The command's own code decides instead.

    A second Ctrl-C makes uvicorn skip the lifespan's shutdown altogether: the hub and the
    evaluator were then left running until ``asyncio.run`` cancelled every task at once, in
    no order — the lifespan among them, mid-``yield`` (a CancelledError traceback), and the
    evaluator's query cancelled twice (psycopg closing its connection mid-cancel). Here a
    forced exit still cuts the open requests short, then shuts the application down.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._on_exit: list[Callable[[], object]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._first_exit: float | None = None

    def on_exit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` in the event loop as soon as a signal asks the server to stop."""
        self._on_exit.append(callback)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self._first_exit is None:
            self._first_exit = now
        elif sig == signal.SIGINT and now - self._first_exit < ECHO_SECONDS:
            return  # the same Ctrl-C again (a wrapper's copy): the stop is under way
        super().handle_exit(sig, frame)
        if self._loop is not None:
            for callback in self._on_exit:
                self._loop.call_soon_threadsafe(callback)

    async def shutdown(self, sockets: list[socket] | None = None) -> None:
        await super().shutdown(sockets)
        done = getattr(self.lifespan, "shutdown_event", None)
        if self.force_exit and not (done and done.is_set()):
            # uvicorn skipped the application's shutdown: end the requests, then run it.
            for task in list(self.server_state.tasks):
                task.cancel(msg="forced exit")
            if self.server_state.tasks:
                await asyncio.wait(list(self.server_state.tasks), timeout=GRACE_SECONDS)
            await self.lifespan.shutdown()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        self._loop = asyncio.get_running_loop()
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def api_server(app: FastAPI, host: str, port: int, log_level: str = "info") -> ApiServer:
    return ApiServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
    )
