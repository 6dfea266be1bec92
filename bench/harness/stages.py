"""Dating a spoken onset at every stage of Parley's microphone path, inside the window's process.

:class:`StageRecorder` is the engine's :class:`~desktop_app.audio.capture_chain.CaptureTap`: each
stage runs its own :class:`OnsetDetector` on the audio passing through it, and the first loud
sample after a quiet spell is an onset, stamped with ``time.monotonic()`` when that stage handled
it — the input callback also with the ADC time Parley computed for that very sample. The socket
stage is a wrapper around :meth:`RealtimeSocket.send` (the transport), installed by
:func:`watch_socket`: the onset is dated when the ``input_audio_buffer.append`` carrying it is
handed to the transport's ``send`` (which logs it at DEBUG, frames it and writes it to the socket
before its first await), and that call's return is noted too. Marks go to a JSON-lines file at exit.

Cost: a few µs per block at each stage while installed; nothing when not (the app never installs it).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

THRESHOLD = 0.01  # the scripted server's VAD threshold (|x|)
QUIET_MS = 300.0  # an onset needs this much quiet before it


class OnsetDetector:
    """First sample with |x| ≥ ``threshold`` after at least ``quiet_ms`` of quieter samples."""

    def __init__(self, rate: int, threshold: float = THRESHOLD, quiet_ms: float = QUIET_MS) -> None:
        self.threshold = threshold
        self.quiet_needed = int(rate * quiet_ms / 1000)
        self.quiet = self.quiet_needed  # the stream starts quiet
        self.position = 0

    def feed(self, x: np.ndarray) -> int | None:
        """The index in ``x`` of an onset, if one is in it (the first only)."""
        loud = np.flatnonzero(np.abs(x) >= self.threshold)
        found = None
        if len(loud):
            gaps = np.diff(np.concatenate(([-self.quiet - 1], loud))) - 1  # quiet run before each loud sample
            starts = np.flatnonzero(gaps >= self.quiet_needed)
            if len(starts):
                found = int(loud[starts[0]])
            self.quiet = len(x) - 1 - int(loud[-1])
        else:
            self.quiet += len(x)
        self.position += len(x)
        return found


class StageRecorder:
    """The bench's :class:`CaptureTap` plus the socket stage; :meth:`save` writes the marks."""

    def __init__(self) -> None:
        self.marks: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._block: OnsetDetector | None = None
        self._stages: dict[str, OnsetDetector] = {}

    def _mark(self, stage: str, t: float, **extra: Any) -> None:
        with self._lock:
            self.marks.append({"stage": stage, "t": t, **extra})

    def block(self, samples: np.ndarray, rate: int, adc_time: float) -> None:
        now = time.monotonic()
        if self._block is None:
            self._block = OnsetDetector(rate)
        x = samples[:, 0] if samples.ndim == 2 else samples
        at = self._block.feed(x)
        if at is not None:
            self._mark("callback", now, adc=adc_time + at / rate, block=len(x), rate=rate)

    def stage(self, name: str, samples: np.ndarray) -> None:
        now = time.monotonic()
        detector = self._stages.get(name)
        if detector is None:
            detector = self._stages[name] = OnsetDetector(24000)
        if detector.feed(samples) is not None:
            self._mark(name, now)

    def sent(self, text: str, called: float, returned: float) -> None:
        """A frame :meth:`RealtimeSocket.send` was called with at ``called`` and returned from at
        ``returned``: an append carrying an onset is the socket stage."""
        if '"input_audio_buffer.append"' not in text:
            return
        audio = json.loads(text).get("audio", "")
        x = np.frombuffer(base64.b64decode(audio), dtype="<i2").astype(np.float32) / 32768.0
        detector = self._stages.get("socket")
        if detector is None:
            detector = self._stages["socket"] = OnsetDetector(24000)
        if detector.feed(x) is not None:
            self._mark("send", called, returned=returned)

    def save(self, path: Path) -> None:
        with self._lock:
            path.write_text("".join(json.dumps(m) + "\n" for m in self.marks))


def watch_socket(recorder: StageRecorder) -> None:
    """Date every frame once the transport has handed it over (bench process only): both ways a
    frame leaves — :meth:`RealtimeSocket.send`, and :meth:`RealtimeSocket.send_nowait`, which the
    microphone's appends take when nothing is waiting in the socket's buffer (since #23)."""
    from desktop_app.transport.socket import RealtimeSocket

    original = RealtimeSocket.send
    original_nowait = RealtimeSocket.send_nowait

    async def send(self: RealtimeSocket, text: str) -> None:
        called = time.monotonic()
        await original(self, text)
        recorder.sent(text, called, time.monotonic())

    def send_nowait(self: RealtimeSocket, text: str) -> bool:
        called = time.monotonic()
        done = original_nowait(self, text)
        if done:
            recorder.sent(text, called, time.monotonic())
        return done

    RealtimeSocket.send = send  # type: ignore[method-assign]
    RealtimeSocket.send_nowait = send_nowait  # type: ignore[method-assign]
