"""A recording relay in front of the embedded LocalServer: the window's event log, for tests.

The window's session takes any "demo server" (an async context with ``url`` and ``pool``); this one
starts the real :class:`LocalServer`, listens on its own port and pipes every WebSocket frame both
ways unchanged, keeping ``events`` in the headless ``--events`` shape
(``{"dir": "sent"|"received", "event": {...}}``), so a GUI test can check the protocol from the
frames exactly as a headless run does.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from desktop_app.local_server import LocalServer


class RecordingRelay:
    """``async with RecordingRelay(LocalServer(...)) as relay``: ``relay.url``, ``relay.events``."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.events: list[dict[str, Any]] = []
        self.url = ""
        self._listener: Any = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def pool(self) -> Any:
        return self.server.pool

    async def __aenter__(self) -> RecordingRelay:
        await self.server.start()
        self._listener = await serve(self._relay, "127.0.0.1", 0, max_size=None, compression=None)
        port = self._listener.sockets[0].getsockname()[1]
        parts = urlsplit(self.server.url)
        self.url = f"ws://127.0.0.1:{port}{parts.path}?{parts.query}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._listener.close()
        await self._listener.wait_closed()
        for pipe in list(self._pipes):
            pipe.cancel()
        await self.server.stop()

    async def _relay(self, client: ServerConnection) -> None:
        assert client.request is not None
        upstream_url = f"ws://{urlsplit(self.server.url).netloc}{client.request.path}"
        headers = {k: v for k, v in client.request.headers.items() if k.lower() == "authorization"}
        async with connect(upstream_url, additional_headers=headers, max_size=None, compression=None) as upstream:
            up = asyncio.ensure_future(self._pipe(client, upstream, "sent"))
            down = asyncio.ensure_future(self._pipe(upstream, client, "received"))
            self._pipes |= {up, down}
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            for pipe in (up, down):
                pipe.cancel()
                self._pipes.discard(pipe)
            await asyncio.gather(up, down, return_exceptions=True)
        await client.close()

    async def _pipe(self, source: Any, target: Any, direction: str) -> None:
        try:
            async for frame in source:
                self.events.append({"dir": direction, "event": json.loads(frame)})
                await target.send(frame)
        except ConnectionClosed:
            pass
