"""A scripted GPT-Live peer for controller tests: the test decides every server frame.

Every client frame that arrives is validated against the SDK's ``openai.types.live`` client union (no
undeclared fields), every server frame the script sends against its server union before it goes out.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.server import serve

from tests.live.frames import ev, snapshot
from tests.live.oracle import validate_live_client_event, validate_live_server_event

APPEND = "session.input_audio.append"


class LivePeer:
    """``async with LivePeer() as peer``: ``peer.url``; ``await peer.next(type)``; ``await peer.send(ev)``."""

    def __init__(self, *, answer_close: bool = True) -> None:
        self.answer_close = answer_close  # session.close → session.closed and the socket closed, like the service
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.all_frames: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.connections = 0
        self._ws: Any = None
        self._connected = asyncio.Event()
        self.appended_bytes = 0

    async def _handler(self, ws: Any) -> None:
        self.connections += 1
        self.paths.append(ws.request.path)
        self._ws = ws
        self._connected.set()
        try:
            async for text in ws:
                frame = json.loads(text)
                validate_live_client_event(frame)
                self.all_frames.append(frame)
                if frame["type"] == APPEND:
                    self.appended_bytes += len(frame["audio"]) * 3 // 4
                    continue
                await self.frames.put(frame)
                if frame["type"] == "session.close" and self.answer_close:
                    await self.send(ev("session.closed", reason="close_requested", usage={"seconds": 1},
                                       session=snapshot(), client_event_id=frame["event_id"]))
                    await ws.close()
        except Exception:  # noqa: BLE001 — the test decides how connections end
            pass

    async def __aenter__(self) -> LivePeer:
        self.server = await serve(self._handler, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/v1/live/sessions"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def connected(self, count: int = 1) -> None:
        while self.connections < count or self._ws is None:
            self._connected.clear()
            await asyncio.wait_for(self._connected.wait(), 5)

    async def send(self, *events: dict[str, Any]) -> None:
        for event in events:
            validate_live_server_event(event)
            await self._ws.send(json.dumps(event))

    async def next(self, type_: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next client frame of ``type_`` other than audio; anything else arriving first fails."""
        frame = await asyncio.wait_for(self.frames.get(), timeout)
        assert frame["type"] == type_, f"expected {type_}, got {frame['type']}: {frame}"
        return frame

    def sent_types(self) -> list[str]:
        return [f["type"] for f in self.all_frames if f["type"] != APPEND]

    async def close(self) -> None:
        await self._ws.close()

    async def drop(self) -> None:
        """Kill the TCP connection without a close frame (1006 at the client: a retryable loss)."""
        self._ws.transport.abort()
