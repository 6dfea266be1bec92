"""A test client for the local server that checks every event it receives against the SDK oracle.

Each received frame is parsed and validated with the ``openai`` SDK's strict GA server-event union
(``tests/realtime/oracle.py``, realtime-protocol.md §6.2); the first frame that does not validate
fails the test at the next wait or at ``close()``. Fault tests that expect unknown or malformed frames
pass ``validate=False`` and check those frames themselves.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.oracle import ValidationError, validate_server_event

TIMEOUT = 30.0


class OracleFailure(AssertionError):
    """The server sent an event the SDK's strict GA union rejects."""


class Client:
    """One WebSocket to the server; events accumulate in :attr:`events` and are consumed in order."""

    def __init__(self, ws: ClientConnection, validate: bool) -> None:
        self.ws = ws
        self.validate = validate
        self.events: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.failures: list[str] = []
        self._cursor = 0
        self._changed = asyncio.Event()
        self.closed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, url: str, headers: dict[str, str] | None = None, *, validate: bool = True,
                   **options: Any) -> Client:
        ws = await connect(url, additional_headers=headers or {}, max_size=None, compression=None, **options)
        return cls(ws, validate)

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                self.raw.append(frame if isinstance(frame, str) else "<binary>")
                try:
                    event = json.loads(frame)
                except ValueError:
                    event = {"type": "<malformed>", "text": frame}
                if self.validate:
                    try:
                        validate_server_event(event)
                    except ValidationError as exc:
                        self.failures.append(f"{event.get('type')}: {exc}")
                self.events.append(event)
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()
            self._changed.set()

    def _check(self) -> None:
        if self.failures:
            raise OracleFailure("event failed the SDK oracle: " + self.failures[0])

    async def send(self, event: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(json.dumps(event) if isinstance(event, dict) else event)

    async def append_audio(self, pcm: np.ndarray, chunk_ms: int = 100, realtime: bool = False) -> None:
        """Send int16 24 kHz audio as ``input_audio_buffer.append`` chunks (optionally in real time)."""
        step = 24 * chunk_ms
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, at in enumerate(range(0, len(pcm), step)):
            chunk = pcm[at : at + step].astype("<i2").tobytes()
            await self.send({"type": "input_audio_buffer.append", "audio": base64.b64encode(chunk).decode()})
            if realtime:
                await asyncio.sleep(max(0.0, start + (i + 1) * chunk_ms / 1000.0 - loop.time()))

    async def wait_for(self, match: str | Callable[[dict], bool], timeout: float = TIMEOUT) -> dict[str, Any]:
        """Consume events up to and including the first that matches (a type or a predicate)."""
        pred = (lambda e: e.get("type") == match) if isinstance(match, str) else match
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._check()
            while self._cursor < len(self.events):
                event = self.events[self._cursor]
                self._cursor += 1
                if pred(event):
                    return event
            if self.closed.is_set():
                raise AssertionError(f"connection closed ({self.ws.close_code} {self.ws.close_reason}) "
                                     f"before {match!r}; got {self.types()[-8:]}")
            self._changed.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {match!r}; last events {self.types()[-8:]}")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def collect_until(self, match: str | Callable[[dict], bool], timeout: float = TIMEOUT) -> list[dict]:
        """The events from the cursor up to and including the first match."""
        start = self._cursor
        await self.wait_for(match, timeout)
        return self.events[start : self._cursor]

    async def response(self, timeout: float = TIMEOUT) -> tuple[list[dict], dict]:
        """Events up to the next ``rate_limits.updated`` (a response's last event) and its ``response.done``."""
        events = await self.collect_until("rate_limits.updated", timeout)
        done = next(e for e in reversed(events) if e["type"] == "response.done")
        return events, done["response"]

    def types(self, events: list[dict] | None = None) -> list[str]:
        return [e.get("type", "?") for e in (self.events if events is None else events)]

    async def wait_closed(self, timeout: float = TIMEOUT) -> tuple[int | None, str]:
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.ws.close_code, self.ws.close_reason or ""

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.wait_for(self._reader, 10.0)
        self._check()

    async def __aenter__(self) -> Client:
        await self.wait_for("session.created")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def user_text(text: str, **extra: Any) -> dict[str, Any]:
    """A ``conversation.item.create`` with one ``input_text`` user message."""
    return {"type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}, **extra}


def audio_of(events: list[dict]) -> bytes:
    """The decoded bytes of every ``response.output_audio.delta`` in ``events``."""
    return b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta")
