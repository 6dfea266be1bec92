"""A scripted Realtime peer for controller tests: the test decides every server frame.

Every client frame that arrives is validated against the `openai` SDK's strict client-event union,
and every server frame the script sends is validated against the server union before it goes out.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.server import serve

from tests.realtime.oracle import validate_client_event, validate_server_event


class ScriptedPeer:
    """``async with ScriptedPeer() as peer``: ``peer.url``; ``await peer.next(type)``; ``await peer.send(ev)``."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.all_frames: list[dict[str, Any]] = []
        self.connections = 0
        self._ws = None
        self._connected = asyncio.Event()

    async def _handler(self, ws) -> None:
        self.connections += 1
        self._ws = ws
        self._connected.set()
        try:
            async for text in ws:
                frame = json.loads(text)
                validate_client_event(frame)
                self.all_frames.append(frame)
                await self.frames.put(frame)
        except Exception:  # the test decides how connections end
            pass

    async def __aenter__(self) -> ScriptedPeer:
        self.server = await serve(self._handler, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime-2.1"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def connected(self, count: int = 1) -> None:
        while self.connections < count or self._ws is None:
            self._connected.clear()
            await asyncio.wait_for(self._connected.wait(), 5)

    async def send(self, *events: dict[str, Any]) -> None:
        for event in events:
            validate_server_event(event)
            await self._ws.send(json.dumps(event))

    async def next(self, type_: str, timeout: float = 5.0, skip: tuple[str, ...] = ("input_audio_buffer.append",)) -> dict:
        """The next client frame of ``type_``; frames of the ``skip`` types are passed over,
        anything else arriving first fails the test."""
        while True:
            frame = await asyncio.wait_for(self.frames.get(), timeout)
            if frame["type"] == type_:
                return frame
            if frame["type"] not in skip:
                raise AssertionError(f"expected {type_}, got {frame['type']}: {frame}")

    def sent_types(self) -> list[str]:
        return [f["type"] for f in self.all_frames if f["type"] != "input_audio_buffer.append"]

    async def drop(self) -> None:
        """Kill the TCP connection without a close frame (1006 at the client)."""
        self._ws.transport.abort()

    async def close(self, code: int, reason: str) -> None:
        await self._ws.close(code, reason)


class FakeAudio:
    """An AudioPort whose playback position the test sets; records everything the controller asks.
    It has no echo canceller (``near_end_speech`` is None) and no onset detector."""

    def __init__(self) -> None:
        self.enqueued: dict[str, int] = {}
        self.order: list[str] = []
        self.played: dict[str, int] = {}
        self.gate = False
        self.muted = False
        self.flushes = 0
        self.finished: set[str] = set()
        self.started = False
        self.playing_item: str | None = None
        self.dropped: list[str] = []
        self.dropped_unheard: tuple[str, ...] = ()
        self.finished_playing: set[str] = set()  # flushed or played out: never sounds again
        self.on_frame = None
        self.mic_level_dbfs = -60.0
        self.output_level_dbfs = -120.0
        self.paused = False
        self.pauses: list[bool] = []

    def start(self, on_mic_frame) -> list[str]:
        self.started, self.on_frame = True, on_mic_frame
        return []

    def stop(self) -> None:
        self.started = False

    def set_gate(self, open_: bool) -> None:
        self.gate = open_

    def set_muted(self, muted: bool) -> None:
        self.muted = muted

    def enqueue(self, item_id: str, pcm16: bytes) -> None:
        if item_id not in self.enqueued:
            self.order.append(item_id)
        self.enqueued[item_id] = self.enqueued.get(item_id, 0) + len(pcm16)
        self.playing_item = self.playing_item or item_id

    def finish(self, item_id: str) -> None:
        self.finished.add(item_id)

    def flush(self):
        self.flushes += 1
        item, self.playing_item = self.playing_item, None
        self.dropped_unheard = tuple(i for i in self.order if i != item and i not in self.played
                                     and i not in self.finished_playing)
        self.finished_playing.update(self.order)
        return None if item is None else (item, self.played.get(item, 0))

    def unheard(self) -> tuple[str, ...]:
        return self.dropped_unheard

    def drop(self, item_id: str):
        self.dropped.append(item_id)
        if item_id == self.playing_item:
            return self.flush()
        return None

    def played_ms(self, item_id: str) -> int:
        return self.played.get(item_id, 0)

    def pause_playback(self, paused: bool) -> None:
        self.paused = paused
        self.pauses.append(paused)

    def near_end_speech(self, window_ms: float = 300.0) -> bool | None:
        return None

    def set_onset_callback(self, callback) -> None:
        pass

    def finish_playing(self) -> None:
        if self.playing_item is not None:
            self.finished_playing.add(self.playing_item)
        self.playing_item = None

    @property
    def is_playing(self) -> bool:
        return self.playing_item is not None

    def speak(self, ms: int) -> None:
        """Deliver ``ms`` of microphone audio in 20 ms frames."""
        for _ in range(ms // 20):
            self.on_frame(b"\x00\x01" * 480)


class EchoAwareAudio(FakeAudio):
    """A port whose echo canceller says whether the microphone holds near-end speech."""

    def __init__(self) -> None:
        super().__init__()
        self.near_end: bool | None = False
        self.onset = None

    def near_end_speech(self, window_ms: float = 300.0):
        return self.near_end

    def set_onset_callback(self, callback) -> None:
        self.onset = callback
