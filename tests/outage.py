"""A TCP proxy in front of PostgreSQL that a test cuts and restores: a database outage as a
worker sees it (refused connections, live ones dropped), without touching the server."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qs, urlparse

from sqlalchemy.engine import make_url


class DatabaseOutage:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        socket_dir = parse_qs(urlparse(database_url).query).get("host", [None])[0]
        self._unix = f"{socket_dir}/.s.PGSQL.{url.port or 5432}" if socket_dir else None
        self._tcp = (url.host or "127.0.0.1", url.port or 5432)
        self._url = url
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self.up = True
        self.port = 0

    async def start(self) -> str:
        """Listen on a free port; return the database URL through the proxy."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        proxied = self._url.set(host="127.0.0.1", port=self.port, query={})
        return proxied.render_as_string(hide_password=False)

    def cut(self) -> None:
        """Refuse new connections and drop the live ones."""
        self.up = False
        for writer in list(self._live):
            writer.transport.abort()
        self._live.clear()

    def restore(self) -> None:
        self.up = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.transport.abort()
            return
        if self._unix:
            up_reader, up_writer = await asyncio.open_unix_connection(self._unix)
        else:
            up_reader, up_writer = await asyncio.open_connection(*self._tcp)
        self._live |= {writer, up_writer}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
