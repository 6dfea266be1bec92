"""Where a response's speech goes: the :class:`AudioOut` seam and its WebSocket implementation.

A response produces pcm16 24 kHz mono in chunks; it never knows how the listener gets them. Per
audio content part it :meth:`~AudioOut.open`\\ s an :class:`AudioStream` and awaits
:meth:`~AudioStream.write` for each chunk, which returns when the next chunk is due and says when
the listener will have heard everything so far (the idle timeout starts there).

* Over a WebSocket (:class:`EventAudioOut`, the default) the client owns playback: each chunk is
  encoded to the response's output format and sent as a ``response.output_audio.delta`` event,
  paced on a real-time clock (:class:`Pacer`: ``pace``, the bursty/slow faults). Nothing is
  buffered here, so :meth:`~AudioOut.clear` has nothing to drop and returns None; the client
  truncates what it did not play.
* Over WebRTC the server owns playback: an implementation feeds an outgoing track (the track's clock
  paces ``write``), emits ``output_audio_buffer.started``/``stopped`` itself, and on
  :meth:`~AudioOut.clear` drops what has not played and reports what was heard (:class:`Heard`),
  so the session truncates the item the way a client would (realtime-protocol.md §1.6, §3.8).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from desktop_app.audio.codecs import Encoder
from desktop_app.local_server.faults import SessionFaults
from desktop_app.local_server.outbox import Emit


@dataclass(frozen=True, slots=True)
class AudioPart:
    """The audio content part a stream carries: where its events point, and the response's output format."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    format: dict[str, Any]

    def where(self) -> dict[str, Any]:
        """The fields every event about this part carries."""
        return {"response_id": self.response_id, "item_id": self.item_id, "output_index": self.output_index,
                "content_index": self.content_index}


@dataclass(frozen=True, slots=True)
class Heard:
    """What a server that owns playback had played of the sounding item when it was cleared."""

    response_id: str
    item_id: str
    audio_end_ms: int


class AudioStream(Protocol):
    """One audio content part on its way to the listener."""

    async def write(self, pcm: bytes, *, final: bool) -> float:
        """Send ``pcm`` (pcm16 24 kHz mono; ``final``: the part's last chunk); wait until the next chunk
        is due. Returns the loop time at which the listener will have heard everything written."""
        ...


class AudioOut(Protocol):
    """A session's output audio (one per session, whatever carries it)."""

    def open(self, part: AudioPart) -> AudioStream:
        """Start sending an audio content part."""
        ...

    def clear(self) -> Heard | None:
        """Drop output not yet played (the user interrupted, or ``output_audio_buffer.clear``). Returns
        what was heard of the item sounding, or None when nothing is held here (the client owns
        playback, or nothing was playing)."""
        ...


AudioOutFactory = Callable[[Emit], AudioOut]
"""Builds a session's :class:`AudioOut` from the session's emitter (for ``output_audio_buffer.*``)."""


class Pacer:
    """The real-time clock one audio stream is sent against (``pace``; bursty/slow faults)."""

    def __init__(self, pace: float, faults: SessionFaults, delays: list[float] | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._sent_ms = 0.0
        self._pace = pace
        self._faults = faults
        self._burst_left = faults.burst()
        self._delays = delays

    async def sent(self, ms: float) -> float:
        """Account ``ms`` of audio just sent; wait until the next chunk is due. Returns the loop time
        at which the client will have played everything sent so far."""
        self._sent_ms += ms
        if self._pace <= 0:
            await asyncio.sleep(0)
            return self._loop.time()
        due = self._t0 + self._sent_ms / 1000.0 * self._faults.slowdown / self._pace
        self._burst_left -= 1
        if self._burst_left > 0:
            return due
        self._burst_left = self._faults.burst()
        wait = due - self._loop.time()
        await asyncio.sleep(max(0.0, wait))
        if self._delays is not None and wait >= 0:
            self._delays.append(max(0.0, self._loop.time() - due))
        return due


class EventAudioOut:
    """The WebSocket's :class:`AudioOut`: ``response.output_audio.delta`` events, paced."""

    def __init__(self, emit: Emit, pacer: Callable[[], Pacer]) -> None:
        self._emit = emit
        self._pacer = pacer

    def open(self, part: AudioPart) -> AudioStream:
        return _DeltaStream(self._emit, part, self._pacer())

    def clear(self) -> Heard | None:
        return None  # nothing is held here: the client owns playback and truncates itself


class _DeltaStream:
    """One part as base64 deltas in the part's output format (G.711's resampler flushed at the end)."""

    def __init__(self, emit: Emit, part: AudioPart, clock: Pacer) -> None:
        self._emit = emit
        self._where = part.where()
        self._encoder = Encoder(part.format["type"])
        self._clock = clock

    async def write(self, pcm: bytes, *, final: bool) -> float:
        payload = self._encoder.encode(pcm) + (self._encoder.flush() if final else b"")
        self._emit({"type": "response.output_audio.delta", **self._where,
                    "delta": base64.b64encode(payload).decode("ascii")})
        return await self._clock.sent(len(pcm) / 48.0)
