"""The input audio buffer, sans I/O: audio and commands in, :data:`BufferEvent` values out.

:class:`InputBuffer` knows nothing of sockets, events on the wire, the conversation or the loop. Its
owner feeds it (:meth:`~InputBuffer.append` — a wire payload; :meth:`~InputBuffer.append_pcm` —
pcm16 24 kHz mono as a WebRTC track delivers it) and commands it (commit, clear, the idle timeout),
and acts on what it returns, in order: each value but :class:`Committed` knows its server event
(``wire()``); the owner emits it and does the rest (cancel the answer on ``speech_started``), and
turns a :class:`Committed` segment into a conversation item (it needs the conversation to place it).

Appended audio is decoded to pcm16 24 kHz and placed on the session-cumulative input timeline, which
counts the wire payload (48 bytes a millisecond for pcm, 8 for G.711; §5). The G.711 decoder's
8 → 24 kHz resampler holds its newest ~25 ms back, so at every commit or clear it is flushed into the
buffer (or dropped) and replaced: an item holds exactly the audio appended for it. With
``turn_detection`` set, every append feeds the :class:`~.vad.TurnDetector`; its onset becomes
:class:`SpeechStarted` (with the item id the turn will commit under), its end :class:`SpeechStopped`
then :class:`Committed` (§3.6 B). The idle timeout (§3.6 G) commits the whole (silent) buffer; its
period starts where the owner says the last answer finished playing (:meth:`~InputBuffer.idle_begins`).

While turn detection hears nobody, the buffer keeps only the newest ``IDLE_KEEP_MS`` of pcm, so an
open microphone in an empty room costs bounded memory; the uncommitted segment's start is tracked
apart from the pcm kept, so a commit still counts all of it (``Committed.not_kept_ms``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from desktop_app.audio.codecs import Decoder, bytes_per_ms
from desktop_app.local_server.schema import Problem
from desktop_app.local_server.vad import TurnDetector

MIN_COMMIT_MS = 100.0
IDLE_KEEP_MS = 60_000  # while nobody speaks, the pcm kept (plus the prefix): a commit counts the rest
_TRIM_STEP_MS = 5_000.0  # trim in steps this big, not a little on every append
PCM_BYTES_PER_MS = 48  # pcm16 24 kHz mono


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Turn detection heard an onset; the turn will be committed as ``item_id``."""

    audio_start_ms: float
    item_id: str

    def wire(self) -> dict[str, Any]:
        """The server event that says so."""
        return {"type": "input_audio_buffer.speech_started", "audio_start_ms": int(self.audio_start_ms),
                "item_id": self.item_id}


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Turn detection heard the end of the turn (a :class:`Committed` with ``cause="speech"`` follows)."""

    audio_end_ms: float
    item_id: str

    def wire(self) -> dict[str, Any]:
        """The server event that says so."""
        return {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": int(self.audio_end_ms),
                "item_id": self.item_id}


@dataclass(frozen=True, slots=True)
class TimeoutTriggered:
    """The idle timeout fired (a :class:`Committed` with ``cause="timeout"`` follows)."""

    audio_start_ms: float
    audio_end_ms: float
    item_id: str

    def wire(self) -> dict[str, Any]:
        """The server event that says so."""
        return {"type": "input_audio_buffer.timeout_triggered", "audio_start_ms": int(self.audio_start_ms),
                "audio_end_ms": int(self.audio_end_ms), "item_id": self.item_id}


@dataclass(frozen=True, slots=True)
class Committed:
    """A segment of input becomes the user audio item ``item_id``: ``pcm`` is what was kept of it and
    ``not_kept_ms`` how much came before that whose pcm was let go while nobody spoke."""

    item_id: str
    pcm: bytes
    cause: Literal["client", "speech", "timeout"]
    not_kept_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class Cleared:
    """The buffer was emptied by the client."""

    def wire(self) -> dict[str, Any]:
        """The server event that says so."""
        return {"type": "input_audio_buffer.cleared"}


BufferEvent = SpeechStarted | SpeechStopped | TimeoutTriggered | Committed | Cleared


class InputBuffer:
    """One session's input: the timeline, the pcm since the last commit, the decoder and turn detection.

    ``new_item_id`` names the user items it commits (the session's id source, so ids stay in the
    service's format and reproducible with a seed).
    """

    def __init__(self, fmt: str, turn_detection: dict[str, Any] | None, new_item_id: Callable[[], str]) -> None:
        self._new_item_id = new_item_id
        self.input_ms = 0.0  # session-cumulative input timeline
        self.buffer = bytearray()  # pcm16 24 kHz since the last commit (trimmed while idle with VAD)
        self.buffer_start_ms = 0.0  # timeline position of buffer[0]
        self.segment_start_ms = 0.0  # where the uncommitted audio starts (<= buffer_start_ms)
        self._idle_start_ms = 0.0  # where the current idle period began
        self._decoder = Decoder(fmt)
        self._pending_item_id: str | None = None  # the item id a turn in progress will commit under
        self._speech_start_ms = 0.0
        self._turn_detection = turn_detection
        self.detector = TurnDetector(turn_detection) if turn_detection else None

    # --- state -----------------------------------------------------------------------------------

    @property
    def appended_ms(self) -> float:
        """Audio appended since the last commit or clear (counted from the wire payload, §4.4)."""
        return self.input_ms - self.segment_start_ms

    @property
    def speaking(self) -> bool:
        """Turn detection is inside a turn."""
        return self.detector is not None and self.detector.speaking

    @property
    def format(self) -> str:
        """The wire format :meth:`append` decodes."""
        return self._decoder.format.value

    def configure(self, turn_detection: dict[str, Any] | None, fmt: str) -> list[BufferEvent]:
        """Apply a new ``turn_detection`` (None: off) and input format; what the old format's decoder
        held back goes through the buffer (and may complete a turn)."""
        if turn_detection is None:
            self.detector = None
        elif self.detector is None:
            self.detector = TurnDetector(turn_detection, start_ms=self.input_ms)
        elif turn_detection != self._turn_detection:
            self.detector.configure(turn_detection)
        self._turn_detection = turn_detection
        if fmt != self.format:
            return self._take_pcm(self._new_decoder(fmt))
        return []

    # --- audio in --------------------------------------------------------------------------------

    def append(self, payload: bytes) -> list[BufferEvent]:
        """A wire payload in the input format; raises ValueError when it is not valid audio."""
        pcm = self._decoder.decode(payload)
        self.input_ms += len(payload) / bytes_per_ms(self._decoder.format)
        return self._take_pcm(pcm)

    def append_pcm(self, pcm: bytes) -> list[BufferEvent]:
        """Decoded pcm16 24 kHz mono (the WebRTC seam: a track's frames, no wire format); raises
        ValueError on an odd byte count."""
        if len(pcm) % 2:
            raise ValueError("pcm16 audio has an odd number of bytes")
        self.input_ms += len(pcm) / PCM_BYTES_PER_MS
        return self._take_pcm(bytes(pcm))

    # --- commands --------------------------------------------------------------------------------

    def commit(self) -> list[BufferEvent] | Problem:
        """The client commits: everything since the last commit, if there is at least 100 ms of it."""
        if self.appended_ms < MIN_COMMIT_MS - 1e-6 or not self.buffer:
            have = self.appended_ms if self.buffer else 0.0
            return Problem(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, "
                f"but buffer only has {have:.2f}ms of audio.",
                None,
            )
        return [self._commit_all(self._pending_item_id or self._new_item_id(), "client")]

    def clear(self) -> list[BufferEvent]:
        """The client drops everything since the last commit (and what the decoder holds back)."""
        self._new_decoder()
        self._reset()
        return [Cleared()]

    def idle_begins(self) -> None:
        """The last answer has finished playing: the idle period starts here on the timeline."""
        self._idle_start_ms = self.input_ms

    def timeout(self) -> list[BufferEvent]:
        """The idle timeout fired: the whole (silent) buffer is committed."""
        item_id = self._new_item_id()
        triggered = TimeoutTriggered(self._idle_start_ms, self.input_ms, item_id)
        return [triggered, self._commit_all(item_id, "timeout")]

    # --- inside ----------------------------------------------------------------------------------

    def _new_decoder(self, fmt: str | None = None) -> bytes:
        """Start a fresh decoder (of ``fmt``, or the same format); returns what the old one held back."""
        tail = self._decoder.flush()
        self._decoder = Decoder(fmt or self._decoder.format)
        return tail

    def _take_pcm(self, pcm: bytes) -> list[BufferEvent]:
        """Decoded audio into the buffer and through turn detection."""
        self.buffer.extend(pcm)
        events: list[BufferEvent] = []
        if self.detector is not None:
            for vad_event in self.detector.feed(np.frombuffer(pcm, dtype=np.int16)):
                if vad_event.kind == "started":
                    events.append(self._speech_started(vad_event.at_ms))
                else:
                    events += self._speech_stopped(vad_event.at_ms)
            if not self.detector.speaking:
                self._trim_idle()
        return events

    def _commit_all(self, item_id: str, cause: Literal["client", "timeout"]) -> Committed:
        """Everything since the last commit (and the decoder's tail) becomes one item; start afresh."""
        self.buffer.extend(self._new_decoder())
        committed = Committed(item_id, bytes(self.buffer), cause, self.buffer_start_ms - self.segment_start_ms)
        self._reset()
        return committed

    def _reset(self) -> None:
        self.buffer.clear()
        self.buffer_start_ms = self.segment_start_ms = self.input_ms
        self._pending_item_id = None
        if self.detector is not None:
            self.detector.reset(self.input_ms)

    def _trim_idle(self) -> None:
        assert self.detector is not None
        keep = int((self.detector.prefix_ms + IDLE_KEEP_MS) * PCM_BYTES_PER_MS)
        keep -= keep % 2
        excess = len(self.buffer) - keep
        if excess >= _TRIM_STEP_MS * PCM_BYTES_PER_MS:
            del self.buffer[:excess]
            self.buffer_start_ms += excess / PCM_BYTES_PER_MS

    def _speech_started(self, audio_start_ms: float) -> SpeechStarted:
        start = max(audio_start_ms, self.buffer_start_ms)
        self._speech_start_ms = start
        self._pending_item_id = self._new_item_id()
        return SpeechStarted(start, self._pending_item_id)

    def _speech_stopped(self, audio_end_ms: float) -> list[BufferEvent]:
        item_id = self._pending_item_id or self._new_item_id()
        lo = int((self._speech_start_ms - self.buffer_start_ms) * PCM_BYTES_PER_MS)
        hi = int((audio_end_ms - self.buffer_start_ms) * PCM_BYTES_PER_MS)
        lo, hi = max(0, lo - lo % 2), min(len(self.buffer), hi - hi % 2)
        committed = Committed(item_id, bytes(self.buffer[lo:hi]), "speech")
        del self.buffer[:hi]
        self.buffer_start_ms += hi / PCM_BYTES_PER_MS
        self.segment_start_ms = audio_end_ms
        self._pending_item_id = None
        return [SpeechStopped(audio_end_ms, item_id), committed]
