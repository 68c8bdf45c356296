"""The API's HTTP server for ``ioc serve`` and ``ioc demo``: stops on the first Ctrl-C or
SIGTERM within a bounded time, however many live-stream clients are connected."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

import uvicorn
from fastapi import FastAPI

GRACE_SECONDS = 2
"""How long open requests (live streams included) may take to finish once asked to stop;
after that uvicorn cancels them, so the embedded services behind can be stopped in time."""


class ApiServer(uvicorn.Server):
    """uvicorn's server, minus re-raising the signal that stopped it once it has stopped.

    uvicorn re-raises a captured SIGTERM after shutdown; with the default handler back in
    place that kills the process on the spot, before the command's ``finally`` blocks have
    stopped the embedded PostgreSQL and broker. The command's own code decides instead.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._on_exit: list[Callable[[], object]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def on_exit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` in the event loop as soon as a signal asks the server to stop."""
        self._on_exit.append(callback)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None:
            for callback in self._on_exit:
                self._loop.call_soon_threadsafe(callback)

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
