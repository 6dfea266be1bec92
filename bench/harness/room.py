"""The benchmarks' room: a private PipeWire session with a speaker and a microphone, a talker that
speaks into the microphone and two probes that hear both, all time-stamped on one clock.

* ``spk`` — a null sink, the default sink: what every client plays ends up here.
* ``mic`` — a null sink whose monitor is the default source: what every client records. Nothing
  links the two (no acoustic echo), so every client — with or without echo cancellation — hears
  only the user; Parley's speakers mode still runs its canceller on that path.
* the **talker** — a PortAudio output stream into ``mic`` that plays the user's questions; the DAC
  time PortAudio gives for each block dates the first and last loud samples of every question
  ("the moment sound starts playing into the microphone sink").
* two **probes** — PortAudio input streams on the monitors of ``mic`` and ``spk``, recording with
  the ADC time of every block: when each answer reached the speaker, when it fell silent, and (on
  ``mic``) a check of the talker's clock.

PortAudio's stream times on Linux are ``CLOCK_MONOTONIC``, as is :func:`time.monotonic` in every
process (the scripted server's marks, Parley's own stamps), so all figures share one timeline.
Streams are aimed at a node with ``PIPEWIRE_PROPS`` (``target.object``, ``stream.capture.sink``)
set while PipeWire's ALSA plugin opens them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sounddevice as sd

from bench.harness.analysis import Timeline, Utterance
from tests.plugins.pipewire import PipeWireSession

RATE = 48000
BLOCK = 480  # 10 ms
THRESHOLD = 0.01  # |x| for "loud": the scripted server's VAD threshold


def _portaudio_clock_offset(now: float, current: float, offset: float) -> float:
    """PortAudio's clock → ours: the smallest (now − currentTime) seen (a late callback reads our
    clock late, never early)."""
    return min(offset, now - current) if current else offset


def _open(kind: str, props: str, callback: Callable[..., None], channels: int = 1) -> sd._StreamBase:
    """A 10 ms, low-latency float32 stream on PipeWire's ALSA device, aimed by ``props``."""
    index = next(i for i, d in enumerate(sd.query_devices()) if d["name"] == "pipewire")
    saved = os.environ.get("PIPEWIRE_PROPS")
    os.environ["PIPEWIRE_PROPS"] = props
    try:
        cls = sd.InputStream if kind == "input" else sd.OutputStream
        stream = cls(device=index, samplerate=RATE, blocksize=BLOCK, channels=channels, dtype="float32",
                     latency="low", callback=callback)
        stream.start()
    finally:
        if saved is None:
            os.environ.pop("PIPEWIRE_PROPS", None)
        else:
            os.environ["PIPEWIRE_PROPS"] = saved
    return stream


class Probe:
    """Records a sink's monitor into preallocated int16 memory with each block's ADC time."""

    def __init__(self, sink: str, seconds: float) -> None:
        self.sink = sink
        self.samples = np.zeros(int(seconds * RATE), np.int16)
        blocks = len(self.samples) // BLOCK + 1
        self.block_pos = np.zeros(blocks, np.int64)
        self.block_adc = np.zeros(blocks, np.float64)
        self.n = 0
        self.blocks = 0
        self._offset = float("inf")
        self.overflows = 0
        self._stream: sd._StreamBase | None = None

    def start(self) -> None:
        self._stream = _open("input", f"{{ stream.capture.sink=true target.object={self.sink} "
                                      f"node.name=bench-probe-{self.sink} }}", self._callback)

    def _callback(self, indata: np.ndarray, frames: int, t: Any, status: sd.CallbackFlags) -> None:
        self._offset = _portaudio_clock_offset(time.monotonic(), t.currentTime, self._offset)
        if status.input_overflow:
            self.overflows += 1
        n = min(frames, len(self.samples) - self.n)
        if n <= 0 or self.blocks >= len(self.block_pos):
            return
        self.samples[self.n : self.n + n] = np.clip(indata[:n, 0] * 32768.0, -32768, 32767)
        self.block_pos[self.blocks] = self.n
        self.block_adc[self.blocks] = t.inputBufferAdcTime + self._offset
        self.blocks += 1
        self.n += n

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()
            self._stream = None

    def recording(self) -> Timeline:
        """What was heard, with a monotonic time for every sample (blocks interpolated)."""
        pos = self.block_pos[: self.blocks]
        adc = self.block_adc[: self.blocks]
        # ADC times jitter by a fraction of a block; a straight line through them (the device clock)
        # dates every sample better than any single block stamp.
        if len(pos) >= 2:
            slope, intercept = np.polyfit(pos.astype(np.float64), adc, 1)
        else:
            slope, intercept = 1.0 / RATE, float(adc[0]) if len(adc) else 0.0
        return Timeline(self.samples[: self.n].astype(np.float32) / 32768.0, float(intercept), float(slope))


class Talker:
    """Plays questions into the ``mic`` sink on request, dating their loud samples by DAC time."""

    def __init__(self, sink: str = "mic") -> None:
        self.sink = sink
        self._lock = threading.Lock()
        self._queue: list[tuple[int, np.ndarray, int, int]] = []  # (index, samples, first loud, last loud)
        self._playing: tuple[int, np.ndarray, int, int] | None = None
        self._pos = 0
        self._offset = float("inf")
        self._start_dac = 0.0
        self.said: list[Utterance] = []
        self._stream: sd._StreamBase | None = None

    def start(self) -> None:
        self._stream = _open("output", f"{{ target.object={self.sink} node.name=bench-talker }}", self._callback)

    def say(self, index: int, samples: np.ndarray) -> None:
        """Queue ``samples`` (float32 at 48 kHz) as question ``index``."""
        loud = np.flatnonzero(np.abs(samples) >= THRESHOLD)
        if not len(loud):
            raise ValueError("a question with no loud sample")
        with self._lock:
            self._queue.append((index, samples, int(loud[0]), int(loud[-1])))

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._playing is not None or bool(self._queue)

    def _callback(self, outdata: np.ndarray, frames: int, t: Any, status: sd.CallbackFlags) -> None:
        self._offset = _portaudio_clock_offset(time.monotonic(), t.currentTime, self._offset)
        dac = t.outputBufferDacTime + self._offset
        outdata.fill(0)
        filled = 0
        with self._lock:
            while filled < frames:
                if self._playing is None:
                    if not self._queue:
                        break
                    self._playing, self._pos = self._queue.pop(0), 0
                    self._start_dac = dac + filled / RATE
                index, x, first, last = self._playing
                n = min(frames - filled, len(x) - self._pos)
                outdata[filled : filled + n, 0] = x[self._pos : self._pos + n]
                filled += n
                self._pos += n
                if self._pos >= len(x):
                    self.said.append(Utterance(index, self._start_dac + first / RATE, self._start_dac + last / RATE))
                    self._playing = None

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.abort()
            self._stream.close()
            self._stream = None


class Room:
    """The PipeWire session with ``spk`` and ``mic``; :meth:`client_env` is what a client process
    needs to land in it."""

    def __init__(self) -> None:
        self.session = PipeWireSession()

    def start(self) -> None:
        s = self.session
        s.start()
        try:
            s.add_sink("spk")
            s.add_sink("mic")
            s.pactl("set-default-sink", "spk")
            s.pactl("set-default-source", "mic.monitor")
            deadline = time.monotonic() + 10
            while s.pactl("get-default-source").strip() != "mic.monitor" or s.pactl("get-default-sink").strip() != "spk":
                if time.monotonic() > deadline:
                    raise RuntimeError("the room's default devices were not set within 10 s")
                time.sleep(0.05)
            s.reinit_portaudio()
        except Exception:
            s.stop()
            raise

    def stop(self) -> None:
        self.session.stop()

    def client_env(self) -> dict[str, str]:
        return dict(self.session.env)

    @property
    def runtime_dir(self) -> Path:
        return self.session.runtime_dir
