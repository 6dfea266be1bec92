"""A GPT-Live test client for the local server: every frame sent and received is checked against the SDK.

The session clock runs on the audio this client sends (:meth:`LiveClient.stream`), so a test decides
exactly how much session time passes; ``real_time`` paces the sends so the server's synthesizer, which
runs on worker threads, keeps up as it would with a person talking.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from tests.live.oracle import validate_live_client_event, validate_live_server_event

TIMEOUT = 30.0
FRAME = 480  # 20 ms of pcm16 24 kHz, in samples


class LiveClient:
    """One WebSocket to ``/v1/live/sessions``; received events accumulate in :attr:`events`."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.output = bytearray()  # every output audio delta, decoded, in order
        self.sent_ms = 0.0
        self.failures: list[str] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self.closed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, url: str, headers: dict[str, str] | None = None) -> LiveClient:
        return cls(await connect(url, additional_headers=headers or {}, max_size=None, compression=None))

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                event = json.loads(frame)
                try:
                    validate_live_server_event(event)
                except Exception as exc:  # noqa: BLE001 — reported by the test at its next wait
                    self.failures.append(f"{event.get('type')}: {exc}")
                if event["type"] == "session.output_audio.delta":
                    self.output += base64.b64decode(event["delta"])
                self.events.append(event)
                self._changed.set()
        finally:
            self.closed.set()
            self._changed.set()

    async def send(self, event: dict[str, Any], *, event_id: bool = True) -> str | None:
        if event_id and "event_id" not in event:
            event = {**event, "event_id": f"evt_test_{next(self._ids)}"}
        validate_live_client_event(event)
        await self.ws.send(json.dumps(event))
        return event.get("event_id")

    async def start(self, **session: Any) -> dict[str, Any]:
        event_id = await self.send({"type": "session.start", "session": {"model": "gpt-live-1", **session}})
        started = await self.wait("session.started")
        assert started.get("client_event_id") == event_id
        return started

    async def stream(self, pcm: np.ndarray, *, real_time: float = 0.0) -> None:
        """Send ``pcm`` (int16 24 kHz) in 20 ms appends; ``real_time`` > 0 paces them (1.0 = real time)."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for n, at in enumerate(range(0, len(pcm), FRAME)):
            chunk = pcm[at: at + FRAME].astype("<i2").tobytes()
            await self.send({"type": "session.input_audio.append", "audio": base64.b64encode(chunk).decode()},
                            event_id=False)
            self.sent_ms += len(chunk) / 48
            if real_time > 0:
                await asyncio.sleep(max(0.0, t0 + (n + 1) * 0.02 / real_time - loop.time()))
            elif n % 10 == 9:
                await asyncio.sleep(0)

    async def silence(self, ms: int, *, real_time: float = 0.0) -> None:
        await self.stream(np.zeros(ms * 24, np.int16), real_time=real_time)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]

    async def wait(self, kind: str, count: int = 1, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The ``count``-th event of ``kind`` (waits for it)."""
        async def until() -> dict[str, Any]:
            while True:
                assert not self.failures, self.failures
                found = self.of(kind)
                if len(found) >= count:
                    return found[count - 1]
                if self.closed.is_set():
                    raise AssertionError(f"closed before {kind} #{count}; got {[e['type'] for e in self.events]}")
                self._changed.clear()
                await self._changed.wait()
        return await asyncio.wait_for(until(), timeout)

    async def await_while_talking(self, kind: str, count: int = 1, limit_ms: int = 20000,
                                  real_time: float = 4.0) -> dict[str, Any]:
        """Keep sending silence (a live microphone never stops) until the ``count``-th ``kind`` comes."""
        for _ in range(limit_ms // 100):
            if len(self.of(kind)) >= count:
                return self.of(kind)[count - 1]
            await self.silence(100, real_time=real_time)
        return await self.wait(kind, count, timeout=5)

    async def caught_up(self) -> None:
        """Wait until the output track has arrived for all the input sent (to within one 100 ms chunk)."""
        async def until() -> None:
            while len(self.output) / 48 < self.sent_ms - 100:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(until(), TIMEOUT)

    def transcript(self, kind: str) -> str:
        return "".join(e["delta"] for e in self.of(f"session.{kind}_transcript.delta"))

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.wait_for(self._reader, 5)
        assert not self.failures, self.failures


def voiced_ms(pcm: bytes, *, block_ms: int = 20, level: int = 300) -> list[float]:
    """Start times (ms into ``pcm``) of the 20 ms blocks of output that hold voice."""
    samples = np.frombuffer(pcm, np.int16)
    block = block_ms * 24
    return [i * block_ms for i in range(len(samples) // block)
            if np.abs(samples[i * block:(i + 1) * block]).max() > level]
