"""Turn detection on the input stream: a real voice activity detector, not a timer.

Audio (pcm16 24 kHz) is cut into 30 ms frames. A frame is speech when its level passes an energy
gate *and* WebRTC's VAD (``webrtcvad-wheels``) says so; the VAD gets the frame decimated to 8 kHz —
the rate it works at internally — by a three-sample mean. Nothing looks ahead: a frame is judged
the moment its last sample arrives (a resampler's look-ahead would hold a turn's end back until the
next append), and quiet frames cost one dot product (this runs for every append of every session
on the event loop). ``threshold``
(0–1) sets both: the VAD's aggressiveness (0.5 → mode 2) and the gate (0.5 → -37.5 dBFS; higher is
stricter, so quiet noise is ignored). Speech starts when 3 of the last 5 frames are speech;
``speech_started.audio_start_ms`` is that onset minus ``prefix_padding_ms``. It stops after
``silence_duration_ms`` without speech; ``speech_stopped.audio_end_ms`` is the point of detection,
so, as the service documents, it includes the silence window.

``semantic_vad`` has no threshold or windows of its own: ``eagerness`` picks the silence window
(high 300 ms, medium/auto 600 ms, low 1200 ms).

All times are on the session-cumulative input timeline in milliseconds (every appended sample
counts, committed or not) — the timeline ``audio_start_ms``/``audio_end_ms`` use (§7.6).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

FRAME_MS = 30
_RATE = 8000
_FRAME_24K = 24 * FRAME_MS
SEMANTIC_SILENCE_MS = {"high": 300, "medium": 600, "auto": 600, "low": 1200}
def decimate(frame: np.ndarray) -> np.ndarray:
    """One 24 kHz frame (a multiple of 3 samples) as 8 kHz: the mean of each three samples (a
    boxcar, zero at 8 kHz; enough for a VAD)."""
    return (frame.astype(np.int32).reshape(-1, 3).sum(axis=1) // 3).astype(np.int16)


@dataclass(frozen=True, slots=True)
class VadEvent:
    """``kind`` is ``"started"`` (``at_ms`` = audio_start_ms) or ``"stopped"`` (``at_ms`` = audio_end_ms)."""

    kind: str
    at_ms: float


def gate_dbfs(threshold: float) -> float:
    """The energy a 30 ms frame needs to count as speech, for a ``threshold`` in 0–1."""
    return -60.0 + 45.0 * threshold


def vad_mode(threshold: float) -> int:
    """WebRTC VAD aggressiveness (0–3) for a ``threshold`` in 0–1."""
    return min(3, max(0, int(threshold * 4)))


class _SpeechJudge(Protocol):
    """What turn detection asks of a VAD (``webrtcvad.Vad`` or :class:`_EnergyOnly`)."""

    def is_speech(self, frame: bytes, rate: int) -> bool: ...


class _EnergyOnly:
    """Stand-in when ``webrtcvad`` is not installed: the energy gate alone decides."""

    def is_speech(self, frame: bytes, rate: int) -> bool:
        return True


def _make_vad(mode: int) -> _SpeechJudge:
    try:
        import webrtcvad
    except ImportError:
        return _EnergyOnly()
    vad: _SpeechJudge = webrtcvad.Vad(mode)
    return vad


class TurnDetector:
    """Feeds on appended audio and reports speech onsets and ends for one session."""

    def __init__(self, turn_detection: dict[str, Any], start_ms: float = 0.0) -> None:
        self._pending = np.zeros(0, np.int16)
        self._next_frame_ms = start_ms
        self._window: deque[tuple[bool, float]] = deque(maxlen=5)
        self.speaking = False
        self._last_voiced_end = 0.0
        self.configure(turn_detection)

    def configure(self, td: dict[str, Any]) -> None:
        """Apply a (complete) ``turn_detection`` object; the stream position is kept."""
        if td["type"] == "semantic_vad":
            threshold, self.prefix_ms = 0.5, 300
            self.silence_ms = SEMANTIC_SILENCE_MS.get(td.get("eagerness") or "auto", 600)
        else:
            threshold = float(td.get("threshold", 0.5))
            self.prefix_ms = int(td.get("prefix_padding_ms", 300))
            self.silence_ms = int(td.get("silence_duration_ms", 200))
        self._gate = gate_dbfs(threshold)
        # The gate as a sum of squares over one frame, so no log or root per frame.
        self._gate_energy = (10.0 ** (self._gate / 20.0) * 32768.0) ** 2 * _FRAME_24K
        self._vad = _make_vad(vad_mode(threshold))

    def reset(self, at_ms: float) -> None:
        """Forget any speech in progress (buffer cleared or committed by hand); time goes on."""
        self.speaking = False
        self._window.clear()
        self._pending = np.zeros(0, np.int16)
        self._next_frame_ms = at_ms

    def feed(self, pcm: np.ndarray) -> list[VadEvent]:
        """Process appended int16 24 kHz samples; returns the onsets/ends they complete."""
        data = np.concatenate([self._pending, pcm]) if len(self._pending) else pcm
        events: list[VadEvent] = []
        n = len(data) // _FRAME_24K
        for i in range(n):
            event = self._frame(data[i * _FRAME_24K : (i + 1) * _FRAME_24K])
            if event is not None:
                events.append(event)
        self._pending = data[n * _FRAME_24K :].copy()
        return events

    def _is_speech(self, frame: np.ndarray) -> bool:
        f = frame.astype(np.float32)
        if float(np.dot(f, f)) < self._gate_energy:
            return False
        return bool(self._vad.is_speech(decimate(frame).tobytes(), _RATE))

    def _frame(self, frame: np.ndarray) -> VadEvent | None:
        start = self._next_frame_ms
        self._next_frame_ms = end = start + FRAME_MS
        voiced = self._is_speech(frame)
        if voiced:
            self._last_voiced_end = end
        if not self.speaking:
            self._window.append((voiced, start))
            if sum(v for v, _ in self._window) >= 3:
                onset = next(t for v, t in self._window if v)
                self.speaking = True
                self._window.clear()
                return VadEvent("started", max(0.0, onset - self.prefix_ms))
            return None
        if end - self._last_voiced_end >= self.silence_ms:
            self.speaking = False
            return VadEvent("stopped", end)
        return None
