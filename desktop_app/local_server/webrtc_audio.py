"""The local server's media over WebRTC: the assistant's voice as an outgoing track, the caller's
microphone decoded from the incoming one.

* :class:`VoiceTrack` sends 20 ms frames on its own clock (the RTP clock), silence when nothing is
  queued, as the service does. It is the :class:`~.audio_out.AudioOut` of a WebRTC session
  (:class:`TrackAudioOut`): a response's :meth:`~.audio_out.AudioStream.write` queues pcm and waits
  while more than :data:`AHEAD_MS` is waiting, so generation runs just ahead of playback; the track
  emits ``output_audio_buffer.started`` when the first frame of a response leaves and ``stopped``
  when the response's last frame has left; :meth:`~TrackAudioOut.clear` drops what has not left and
  reports how much of the sounding item did (:class:`~.audio_out.Heard`).
* :func:`pump_input` decodes the caller's track (Opus → 48 kHz) to pcm16 24 kHz mono for
  :meth:`Session.feed_pcm <desktop_app.local_server.session.Session.feed_pcm>` and counts frames, so a
  commit on the data channel can wait until the audio sent before it has come through the jitter
  buffer (:meth:`InputClock.frames_after`).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av.frame import Frame

from desktop_app.local_server.audio_out import AudioPart, AudioStream, Heard
from desktop_app.local_server.outbox import Emit
from desktop_app.rtp_audio import pcm16_frame, pump_track

RATE = 24_000
FRAME = 480  # samples per 20 ms frame
#: A response's audio may be generated this far ahead of what has left on the track.
AHEAD_MS = 200.0


@dataclass(slots=True)
class _Part:
    """One audio part on its way: its pcm not yet sent, samples sent so far, and whether more comes."""

    part: AudioPart
    pending: bytearray = field(default_factory=bytearray)
    sent: int = 0
    final: bool = False


class VoiceTrack(MediaStreamTrack):
    """The outgoing audio track of one call: queued parts in order, silence between them."""

    kind = "audio"

    def __init__(self, emit: Emit) -> None:
        super().__init__()
        self._emit = emit
        self._parts: collections.deque[_Part] = collections.deque()
        self._playing: str | None = None  # the response whose audio is leaving
        self._start: float | None = None
        self._pts = 0
        self._moved = asyncio.Event()  # set whenever frames left (writers waiting for room)

    # --- the session's side --------------------------------------------------------------------
    def queue(self, part: _Part) -> None:
        self._parts.append(part)

    def queued_ms(self) -> float:
        return sum(len(p.pending) for p in self._parts) / 48.0

    async def room(self) -> None:
        """Wait until at most :data:`AHEAD_MS` is queued."""
        while self.queued_ms() > AHEAD_MS and self.readyState == "live":
            self._moved.clear()
            await self._moved.wait()

    def clear(self) -> Heard | None:
        """Drop everything not sent; what was heard of the part sounding (None: nothing was)."""
        sounding = next((p for p in self._parts if p.sent > 0), None) if self._playing is not None else None
        self._parts.clear()
        self._playing = None  # cleared, not stopped: the session says output_audio_buffer.cleared
        self._moved.set()
        if sounding is None:
            return None
        return Heard(sounding.part.response_id, sounding.part.item_id, sounding.sent * 1000 // RATE)

    # --- the RTP side --------------------------------------------------------------------------
    async def recv(self) -> Frame:
        if self.readyState != "live":
            raise MediaStreamError
        loop = asyncio.get_running_loop()
        if self._start is None:
            self._start = loop.time()
        wait = self._start + self._pts / RATE - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        elif wait < -0.25:  # the loop stalled: keep the timestamps continuous, re-anchor the clock
            self._start = loop.time() - self._pts / RATE
        frame = pcm16_frame(self._take(FRAME * 2), self._pts)
        self._pts += FRAME
        return frame

    def _take(self, nbytes: int) -> bytes:
        out = bytearray()
        while len(out) < nbytes and self._parts:
            head = self._parts[0]
            if not head.pending:
                if not head.final:
                    break  # the generator is behind: a gap of silence, the part goes on after it
                self._parts.popleft()
                continue
            if self._playing != head.part.response_id:
                self._playing = head.part.response_id
                self._emit({"type": "output_audio_buffer.started", "response_id": head.part.response_id})
            k = min(nbytes - len(out), len(head.pending))
            out += head.pending[:k]
            del head.pending[:k]
            head.sent += k // 2
            if head.final and not head.pending:
                self._parts.popleft()
        if self._playing is not None and not self._parts:
            response_id, self._playing = self._playing, None
            self._emit({"type": "output_audio_buffer.stopped", "response_id": response_id})
        self._moved.set()
        return bytes(out) + bytes(nbytes - len(out))


class TrackAudioOut:
    """A WebRTC session's :class:`~.audio_out.AudioOut`: response audio onto the :class:`VoiceTrack`."""

    def __init__(self, track: VoiceTrack) -> None:
        self.track = track

    def open(self, part: AudioPart) -> AudioStream:
        queued = _Part(part)
        self.track.queue(queued)
        return _TrackStream(self.track, queued)

    def clear(self) -> Heard | None:
        return self.track.clear()


class _TrackStream:
    def __init__(self, track: VoiceTrack, part: _Part) -> None:
        self._track = track
        self._part = part

    async def write(self, pcm: bytes, *, final: bool) -> float:
        self._part.pending += pcm
        self._part.final = final
        await self._track.room()
        return asyncio.get_running_loop().time() + self._track.queued_ms() / 1000.0


class InputClock:
    """Counts decoded input frames, so events can wait for the audio sent before them."""

    def __init__(self) -> None:
        self.frames = 0
        self._arrived = asyncio.Event()
        self.ended = False

    def tick(self) -> None:
        self.frames += 1
        self._arrived.set()

    def end(self) -> None:
        self.ended = True
        self._arrived.set()

    async def frames_after(self, count: int, timeout: float) -> None:
        """Wait until ``count`` more frames have been decoded (or ``timeout``, or the track ended)."""
        target = self.frames + count
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.frames < target and not self.ended and loop.time() < deadline:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - loop.time())
            except asyncio.TimeoutError:
                return


async def pump_input(track: MediaStreamTrack, feed: Callable[[bytes], None], clock: InputClock) -> None:
    """Decode the caller's track into ``feed`` (pcm16 24 kHz mono) until it ends."""
    try:
        await pump_track(track, feed, clock.tick)
    finally:
        clock.end()
