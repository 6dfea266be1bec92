"""A conversation's audio for the history, read off the frames (only when the user turned recording on).

What is kept is what was *said and heard*:

* the user's side is the microphone audio the client appended, cut to each committed turn — the
  server VAD's ``audio_start_ms``..``audio_end_ms`` span when it reports one, else everything
  appended since the buffer was last cleared or committed (push-to-talk);
* the assistant's side is the audio it sent, cut where the client truncated the item (what played
  before a barge-in; an unheard item truncated at 0 keeps nothing). An answer is handed over once
  the user's next turn is committed or the conversation ends, so a late truncation still counts.

The tap never raises into the transport: a frame it cannot read is skipped (and logged once).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Protocol

from desktop_app.log import get_logger

log = get_logger("app")

#: The user's audio kept while waiting for a commit (the newest, in seconds): a hands-free
#: microphone appends all the time, most of it silence between turns.
MAX_PENDING_S = 120
_RATES = {"audio/pcm": 24000, "audio/pcmu": 8000, "audio/pcma": 8000}


class AudioSink(Protocol):
    """Where the audio goes (:class:`~desktop_app.history.service.ConversationRecorder`)."""

    record_audio: bool

    def audio(self, item_id: str, role: str, pcm16: bytes, rate: int = 24000) -> None: ...


def _decode(payload: str, fmt: str) -> bytes:
    raw = base64.b64decode(payload)
    if fmt == "audio/pcm":
        return raw
    # G.711 only: numpy is not loaded for PCM.
    from desktop_app.audio.codecs import alaw_decode, ulaw_decode

    return (ulaw_decode(raw) if fmt == "audio/pcmu" else alaw_decode(raw)).astype("<i2").tobytes()


class AudioTap:
    """A frame observer that hands each item's audio to :attr:`sink` while it records."""

    def __init__(self) -> None:
        self.sink: AudioSink | None = None
        self._formats = {"input": "audio/pcm", "output": "audio/pcm"}
        self._failed = False
        self._reset_input()
        self._answers: dict[str, bytearray] = {}
        self._cuts: dict[str, int] = {}

    @property
    def active(self) -> bool:
        return self.sink is not None and self.sink.record_audio

    def frame(self, direction: str, text: str) -> None:
        """The transport's ``(direction, text)`` for every frame."""
        if not self.active:
            return
        try:
            event = json.loads(text)
            if isinstance(event, dict):
                self._event(direction, str(event.get("type", "")), event)
        except (ValueError, TypeError, KeyError, binascii.Error) as exc:
            if not self._failed:
                self._failed = True
                log.warning("! recording: a frame could not be read (%r); recording goes on", exc)

    def flush(self) -> None:
        """The conversation ends: hand over the answers still held."""
        self._hand_over_answers()
        self._reset_input()

    # --- inside --------------------------------------------------------------------------------

    def _reset_input(self) -> None:
        self._pending = bytearray()
        self._pending_start_ms = 0.0  # where _pending[0] sits on the input timeline
        self._timeline_ms = 0.0  # audio appended since the session started
        self._speech: list[float | None] = [None, None]

    def _event(self, direction: str, kind: str, event: dict[str, Any]) -> None:
        if kind in ("session.update", "session.created", "session.updated"):
            self._learn(event)
            if kind == "session.created":  # a new connection: its input timeline starts at 0
                self._reset_input()
        elif direction == "sent":
            if kind == "input_audio_buffer.append":
                self._appended(_decode(event["audio"], self._formats["input"]))
            elif kind == "input_audio_buffer.clear":
                self._drop_pending_until(self._timeline_ms)
            elif kind == "conversation.item.truncate":
                self._cuts[str(event["item_id"])] = int(event["audio_end_ms"])
        elif kind == "response.output_audio.delta":
            pcm = _decode(event["delta"], self._formats["output"])
            self._answers.setdefault(str(event["item_id"]), bytearray()).extend(pcm)
        elif kind == "input_audio_buffer.speech_started":
            self._speech = [float(event["audio_start_ms"]), None]
        elif kind == "input_audio_buffer.speech_stopped":
            self._speech[1] = float(event["audio_end_ms"])
        elif kind == "input_audio_buffer.committed":
            self._committed(str(event["item_id"]))

    def _learn(self, event: dict[str, Any]) -> None:
        audio = (event.get("session") or {}).get("audio")
        for side in ("input", "output"):
            part = audio.get(side) if isinstance(audio, dict) else None
            fmt = (part.get("format") or {}).get("type") if isinstance(part, dict) else None
            if fmt in _RATES:
                self._formats[side] = fmt

    def _rate(self, side: str) -> int:
        return _RATES[self._formats[side]]

    def _appended(self, pcm: bytes) -> None:
        self._pending += pcm
        self._timeline_ms += len(pcm) / 2 / self._rate("input") * 1000
        excess = len(self._pending) - MAX_PENDING_S * self._rate("input") * 2
        if excess > 0:
            self._drop_pending_until(self._pending_start_ms + excess / 2 / self._rate("input") * 1000)

    def _offset(self, ms: float) -> int:
        """Byte offset in ``_pending`` of the input timeline position ``ms``."""
        samples = round((ms - self._pending_start_ms) * self._rate("input") / 1000)
        return max(0, min(len(self._pending), samples * 2))

    def _drop_pending_until(self, ms: float) -> None:
        del self._pending[:self._offset(ms)]
        self._pending_start_ms = max(self._pending_start_ms, min(ms, self._timeline_ms))

    def _committed(self, item_id: str) -> None:
        start, end = self._speech
        start = self._pending_start_ms if start is None else start
        end = self._timeline_ms if end is None else end
        said = bytes(self._pending[self._offset(start):self._offset(end)])
        self._drop_pending_until(end)
        self._speech = [None, None]
        self._hand_over_answers()  # what the assistant said before this turn is final now
        if said and self.sink is not None:
            self.sink.audio(item_id, "user", said, self._rate("input"))

    def _hand_over_answers(self) -> None:
        answers, self._answers = self._answers, {}
        cuts, self._cuts = self._cuts, {}
        rate = self._rate("output")
        for item_id, pcm in answers.items():
            cut = cuts.get(item_id)
            heard = bytes(pcm if cut is None else pcm[:int(cut * rate / 1000) * 2])
            if heard and self.sink is not None:
                self.sink.audio(item_id, "assistant", heard, rate)
