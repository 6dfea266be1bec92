"""The assistant's voice when it arrives as media (WebRTC), not as ``response.output_audio.delta`` events.

A WebRTC call carries one continuous audio track; the data channel says when the server's output
buffer starts and stops playing a response (``output_audio_buffer.started/stopped/cleared``,
realtime-protocol.md §3.8) and which audio item a response is making (``response.content_part.added``
with an audio part). :class:`MediaVoice` puts the two together, so playback, the played-position
ledger, truncation and the transcript's heard/unheard split work exactly as over a WebSocket:

* PCM between ``started`` and the end of the answer goes to :meth:`AudioPort.enqueue` under the
  response's audio item, and is counted in the core's ledger (``media_audio``) like deltas.
* The two paths are not in step: the jitter buffer delays the track (~80 ms) behind the data channel.
  So after ``started`` the silence still in flight is skipped (at most :data:`LEAD_MS`), and frames
  that came just *before* ``started`` are kept for a moment (:data:`PREROLL_MS`) in case the event was
  the slower one; after ``stopped`` the tail still in flight is taken until the track falls silent
  (at most :data:`TAIL_MS`). Silence outside an answer is dropped.
* :attr:`streaming` is True while the server is still playing an answer (started, not yet stopped or
  cleared): the turn is not over while audio is on its way, even if the local queue ran dry for a
  moment. Barge-in asks :attr:`needs_clear` whether ``output_audio_buffer.clear`` must stop the
  server's buffer (:class:`~.barge_in.BargeIn`).

A response with several audio items plays them in turn; the track cannot tell where one ends, so
its audio is counted to the newest audio item (the service makes one per answer).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable

import numpy as np

from desktop_app.controller.audio_port import AudioPort
from desktop_app.log import get_logger
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.response_events import (
    ContentPartAdded, OutputAudioBufferCleared, OutputAudioBufferStarted, OutputAudioBufferStopped,
)
from desktop_app.transport.base import Transport

log = get_logger("controller")

#: A finished answer whose audio has not started playing this long after its response.done never will.
NEVER_STARTED_S = 3.0
#: After ``started``, leading silence still in the jitter buffer is skipped for at most this long.
LEAD_MS = 300
#: Frames are kept this long before a ``started`` that may be late.
PREROLL_MS = 200
#: After ``stopped``, audio is taken until the track falls silent, for at most this long.
TAIL_MS = 400
#: A frame whose samples all stay within this is silence (Opus decodes digital silence to zeros).
SILENT_PEAK = 8


def _silent(pcm: bytes) -> bool:
    samples = np.frombuffer(pcm, dtype=np.int16)
    return not len(samples) or int(np.abs(samples.astype(np.int32)).max()) <= SILENT_PEAK


class MediaVoice:
    """Attributes a media transport's remote PCM to the assistant's items; follows the server's
    output buffer. Inactive (and never called) on a WebSocket."""

    def __init__(self, audio: AudioPort, core: Callable[[], Dialect | None],
                 silenced: Callable[[str | None], bool]) -> None:
        self._audio = audio
        self._core = core
        self._silenced = silenced
        self._items: dict[str, str] = {}  # response id -> its newest audio item
        self._response: str | None = None  # the response the server's buffer is playing
        self._playing = False  # between started and stopped/cleared
        self._lead_ms = 0.0  # leading silence skipped so far (None-like: -1 once speech began)
        self._tail_ms: float | None = None  # after stopped: tail taken so far
        self._preroll: collections.deque[bytes] = collections.deque()
        self._preroll_ms = 0.0
        self._media = False  # the transport carries audio: answers are heard through the track
        # Responses with audio whose playing has not started yet: the answer is on its way even when
        # its response.done comes first (the track is real-time; the events are not). A response
        # whose audio never starts is let go :data:`NEVER_STARTED_S` after its response.done.
        self._awaiting: dict[str, float | None] = {}

    def attach(self, transport: Transport) -> None:
        """A new connection: a media transport hands its remote audio here."""
        self.connection_ended()
        self._media = transport.carries_audio
        if transport.carries_audio:
            transport.set_audio_sink(self.pcm)

    @property
    def streaming(self) -> bool:
        """The server is still playing (or its tail is still arriving, or an answer's audio has not
        started yet)."""
        if self._playing or self._tail_ms is not None:
            return True
        now = time.monotonic()
        return any(deadline is None or now < deadline for deadline in self._awaiting.values())

    def response_done(self, response_id: str, status: str | None) -> None:
        """``response.done``: an answer cut short may never play; a finished one has a little while."""
        if response_id not in self._awaiting:
            return
        if status == "completed":
            self._awaiting[response_id] = time.monotonic() + NEVER_STARTED_S
        else:
            del self._awaiting[response_id]

    def needs_clear(self, core: Dialect) -> bool:
        """Barge-in: the server's output buffer is playing and must be told to stop."""
        return self._playing and core.traits.output_buffer

    # --- data channel events ----------------------------------------------------------------------
    def part_added(self, event: ContentPartAdded) -> None:
        if event.part.get("type") == "audio":
            self._items[event.response_id] = event.item_id
            if self._media and event.response_id is not None:
                self._awaiting.setdefault(event.response_id, None)

    def started(self, event: OutputAudioBufferStarted) -> None:
        self._awaiting.pop(event.response_id or "", None)
        self._finish_tail()
        self._response, self._playing, self._lead_ms = event.response_id, True, 0.0
        preroll, self._preroll = list(self._preroll), collections.deque()
        self._preroll_ms = 0.0
        for pcm in preroll:
            self.pcm(pcm)

    def stopped(self, event: OutputAudioBufferStopped) -> None:
        if self._playing and event.response_id in (self._response, ""):
            self._playing = False
            self._tail_ms = 0.0

    def cleared(self, event: OutputAudioBufferCleared) -> None:
        """The server dropped what it had not played (our clear, or its VAD): nothing more comes."""
        self._awaiting.clear()
        self._playing = False
        self._tail_ms = None
        item = self._item()
        if item is not None:
            self._audio.finish(item)
        self._response = None

    def connection_ended(self) -> None:
        self._awaiting.clear()
        self._items.clear()
        self._response, self._playing, self._tail_ms = None, False, None
        self._preroll.clear()
        self._preroll_ms = 0.0

    # --- the track --------------------------------------------------------------------------------
    def pcm(self, pcm: bytes) -> None:
        """One decoded frame of the remote track (PCM16 24 kHz mono, on the loop)."""
        ms = len(pcm) / 48.0
        if not self._playing and self._tail_ms is None:
            if not _silent(pcm):
                self._preroll.append(pcm)
                self._preroll_ms += ms
                while self._preroll_ms > PREROLL_MS:
                    self._preroll_ms -= len(self._preroll.popleft()) / 48.0
            elif self._preroll:  # speech then silence with no started: not an answer we know of
                self._preroll.clear()
                self._preroll_ms = 0.0
            return
        silent = _silent(pcm)
        if self._tail_ms is not None:  # after stopped: the tail in flight, until silence
            self._tail_ms += ms
            if silent or self._tail_ms > TAIL_MS:
                self._finish_tail()
                return
        elif self._lead_ms >= 0:  # after started: skip the silence still in flight
            if silent and self._lead_ms < LEAD_MS:
                self._lead_ms += ms
                return
            self._lead_ms = -1.0
        item = self._item()
        if item is None or self._silenced(self._response):
            return
        self._audio.enqueue(item, pcm)
        core = self._core()
        if core is not None and not core.closed:
            core.media_audio(item, len(pcm))

    def _item(self) -> str | None:
        return self._items.get(self._response) if self._response is not None else None

    def _finish_tail(self) -> None:
        if self._tail_ms is None:
            return
        self._tail_ms = None
        item = self._item()
        if item is not None:
            self._audio.finish(item)
        log.debug("= output buffer drained for %s", self._response)
