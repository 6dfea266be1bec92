"""Microphone blocks → 20 ms pcm16 24 kHz frames, with levels, mute and push-to-talk gating.

:class:`CaptureChain` is the loop-side half of capture, shared by the device :class:`~.capture.Capture`
and the headless :class:`~.capture.ArrayCapture`: downmix, resample to 24 kHz (soxr, bursty), meter,
gate, re-chunk through a FIFO so every frame is 480 samples (960 bytes), but for a speech onset
sent early, shorter (:meth:`CaptureChain.send_partial`). An optional
``processor`` (the echo canceller, :mod:`.aec`) runs right after the resampler, told each chunk's ADC time.

Gating never clicks and never loses a first syllable:

* closing (mute, PTT release) fades the next ``fade_ms`` out, pads the last frame with silence so the
  word's end is sent, then sends nothing — no frames at all while closed;
* opening by push-to-talk first sends the last ``pre_roll_ms`` heard while closed (a press that
  lands mid-word still sends the word's start), faded in over ``fade_ms``; unmuting fades in without
  pre-roll, because audio heard while muted was meant to stay private. The pre-roll is trimmed by
  up to one frame at its oldest end so that it and the block that opened end on a frame boundary:
  250 ms (12.5 frames) left half a frame in the FIFO after every press, and the second half of
  every later block waited for the next one — 21 ms for about half of the onsets (issue #24).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from desktop_app.audio.codecs import PCM_RATE, float_to_pcm16
from desktop_app.audio.levels import FLOOR_DBFS, SpeechEnergy
from desktop_app.audio.resample import FrameFifo, StreamResampler, downmix
from desktop_app.audio.speech_prob import SpeechMeter

FRAME_MS = 20
FRAME_SAMPLES = PCM_RATE * FRAME_MS // 1000  # 480
PRE_ROLL_MS = 240.0  # push-to-talk: what is sent from before the press (12 whole frames)
FRAME_BYTES = FRAME_SAMPLES * 2  # 960
# "LD": from 48 kHz a FIR decimator with 1 ms of look-ahead (passband to ~10 kHz); other rates soxr "LQ"
# (16-bit, passband to ~9.5 kHz), which holds back 1–20 ms with 20 ms blocks ("MQ"/"HQ" emit every other
# block). Every millisecond held here delays the user's words and the echo guard's verdict.
CAPTURE_QUALITY = "LD"

# An optional stage right after the resampler (the echo canceller): 24 kHz samples and the monotonic
# ADC time of the first one (None when unknown) in, the processed samples out (possibly fewer or more).
Processor = Callable[[np.ndarray, "float | None"], np.ndarray]


class CaptureTap(Protocol):
    """Watches the microphone path stage by stage (``bench/capture_stages.py``). The app runs
    without one: each stage then costs a single ``is None`` test per block."""

    def block(self, samples: np.ndarray, rate: int, adc_time: float) -> None:
        """Audio thread: a device block as the input callback got it; ``adc_time`` is the monotonic
        ADC time of its first sample. Must be quick and must not keep ``samples``."""

    def stage(self, name: str, samples: np.ndarray) -> None:
        """Loop: 24 kHz samples leaving ``"canceller"`` (resampled, then echo-cancelled if a
        processor runs) or ``"frame"``: whole 20 ms frames handed on to be sent (several in one piece
        when a drain completes more than one). Must not keep ``samples``."""


def _half_cosine(n: int, rising: bool) -> np.ndarray:
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / max(n, 1))
    return (ramp if rising else ramp[::-1]).astype(np.float32)


class CaptureChain:
    """Turns mic blocks at ``in_rate`` into 960-byte frames handed to ``on_frame`` — the frames a block
    completes in one piece — (and, asked at an onset, the frame being filled so far: :meth:`send_partial`).

    ``gate_open`` starts True (hands-free); push-to-talk sets it False at once and drives it with
    :meth:`set_gate`. ``muted`` overrides the gate. Levels are measured whatever the gate says, so the
    meter shows the microphone is alive while muted.
    """

    def __init__(
        self,
        in_rate: int,
        on_frame: Callable[[bytes], None] | None = None,
        *,
        block_ms: float = 20.0,
        pre_roll_ms: float = PRE_ROLL_MS,
        fade_ms: float = 5.0,
        quality: str = CAPTURE_QUALITY,
        processor: Processor | None = None,
    ) -> None:
        self.in_rate = int(in_rate)
        self.on_frame = on_frame
        self.processor = processor
        self._fed = 0  # device-rate samples into the resampler since the last restart
        self._out = 0  # 24 kHz samples out of it since the last restart
        self._resampler = StreamResampler(self.in_rate, PCM_RATE, 1, quality)
        self._fifo = FrameFifo(FRAME_SAMPLES, capacity=FRAME_SAMPLES * 32)
        self._frame = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        self._history = np.zeros(int(pre_roll_ms * PCM_RATE / 1000), dtype=np.float32)
        self._history_fill = 0
        fade = max(1, int(fade_ms * PCM_RATE / 1000))
        self._fade_in = _half_cosine(fade, rising=True)
        self._fade_out = _half_cosine(fade, rising=False)
        self.speech = SpeechEnergy(block_ms)
        self.speech_meter: SpeechMeter | None = None  # the plot's speech probability (set by the capture)
        self.gate_open = True
        self.muted = False
        self.sending = False
        self._pre_roll_armed = False
        self.resampled = 0  # 24 kHz samples out of the resampler so far
        self.frames_sent = 0
        self.last_frame_end = 0  # resampled-stream position of the last sent frame's end
        self.tap: CaptureTap | None = None

    # --- control (loop thread) -----------------------------------------------------------------

    def set_gate(self, open_: bool) -> None:
        """Push-to-talk: True while the key is held. Opening arms the pre-roll."""
        if open_ and not self.gate_open:
            self._pre_roll_armed = True
        elif not open_:
            self._pre_roll_armed = False
        self.gate_open = open_

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        if muted:
            self._pre_roll_armed = False

    def restart(self) -> None:
        """The input resumes after a pause: forget the resampler's tail, the FIFO and the pre-roll
        (all from before the pause) so nothing stale is sent or stitched onto new audio."""
        self._resampler.reset()
        self._fed = self._out = 0
        self._fifo.clear()
        self._history_fill = 0
        self.speech.reset()
        if self.speech_meter is not None:
            self.speech_meter.reset()
        self.sending = False

    @property
    def level_dbfs(self) -> float:
        return self.speech.level_dbfs

    @property
    def speech_energy(self) -> float:
        return self.speech.probability

    @property
    def speech_probability(self) -> float | None:
        """Silero VAD's probability of what is sent (None without a meter)."""
        return self.speech_meter.probability if self.speech_meter is not None else None

    # --- data ----------------------------------------------------------------------------------

    def process(self, block: np.ndarray, captured_at: float | None = None) -> int:
        """Feed one block (``(n, channels)`` or 1-D float32) whose first sample left the ADC at
        monotonic ``captured_at`` (if known); returns the number of frames sent."""
        mono = downmix(block)
        x = self._resampler.process(mono)
        if self.processor is not None:
            # 24 kHz sample j is device sample j·in_rate/24000 (soxr is time-aligned; the low-delay
            # decimator lags 1 ms, as the far end's reference does from a 48 kHz speaker)
            t = None if captured_at is None else captured_at + self._out / PCM_RATE - self._fed / self.in_rate
            self._fed += len(mono)
            self._out += len(x)
            if len(x):
                x = self.processor(x, t)
        if len(x) == 0:
            return 0
        if self.tap is not None:
            self.tap.stage("canceller", x)
        self.resampled += len(x)
        self.speech.update(x)
        want = self.gate_open and not self.muted
        if want and not self.sending:
            if self._pre_roll_armed:
                # the oldest samples that would leave a partial frame behind are dropped: the press's
                # block then ends on a frame boundary, and so does every later block
                fill = self._history_fill
                fill -= min(fill, (fill + len(x) + len(self._fifo)) % FRAME_SAMPLES)
                data = np.concatenate((self._history[len(self._history) - fill :], x))
                self._pre_roll_armed = False
            else:
                data = x.copy()
            k = min(len(self._fade_in), len(data))
            data[:k] *= self._fade_in[:k]
            self._fifo.push(data)
            self.sending = True
        elif want:
            self._fifo.push(x)
        elif self.sending:
            k = min(len(self._fade_out), len(x))
            self._fifo.push(x[:k] * self._fade_out[:k])
            partial = len(self._fifo) % FRAME_SAMPLES
            if partial:
                self._fifo.push(np.zeros(FRAME_SAMPLES - partial, dtype=np.float32))
            self.sending = False
        self._remember(x)
        sent = self._emit()
        # after the frames have gone: the plot's meter (Silero, ~0.2 ms a 32 ms window) decides
        # nothing (it ran first: ~0.8 ms p50 of the bench's "canceller -> 20 ms frame" stage, #24)
        if self.speech_meter is not None:
            self.speech_meter.update(x)
        return sent

    def flush(self) -> int:
        """End of input: drain the resampler and send the tail, padded to a whole frame."""
        tail = self._resampler.flush()
        if self.sending and len(tail):
            self._fifo.push(tail)
        self.resampled += len(tail)
        partial = len(self._fifo) % FRAME_SAMPLES
        if partial:
            self._fifo.push(np.zeros(FRAME_SAMPLES - partial, dtype=np.float32))
        return self._emit()

    def send_partial(self) -> int:
        """Send what the frame being filled holds so far, as a shorter frame (a speech onset in a block
        shorter than a frame: its first part goes out now, not with the next block); 1 if sent."""
        n = len(self._fifo)
        if not self.sending or n == 0 or n >= FRAME_SAMPLES:
            return 0
        part = self._frame[:n]
        self._fifo.pop_into(part)
        self._hand_on(part)
        return 1

    def samples_wanted(self) -> int:
        """24 kHz samples still needed to complete the next frame: what the FIFO lacks while
        sending, a whole frame otherwise. The capture wakes the loop once that much has arrived."""
        return FRAME_SAMPLES - len(self._fifo) % FRAME_SAMPLES if self.sending else FRAME_SAMPLES

    def _remember(self, x: np.ndarray) -> None:
        """Keep the newest ``pre_roll_ms`` of 24 kHz audio (the history is shifted, it is tiny)."""
        h = self._history
        n = len(x)
        if n >= len(h):
            h[:] = x[n - len(h) :]
        else:
            h[:-n] = h[n:]
            h[-n:] = x
        self._history_fill = min(len(h), self._history_fill + n)

    def _emit(self) -> int:
        """Hand on the whole frames ready, in one piece: one message on the wire however many. A
        barge-in's 400 ms released at once went out as 20 messages before its newest frame, the
        first sound: 8-13 ms in the bench's window, against 0.1-0.2 ms as one (#24)."""
        n = len(self._fifo) // FRAME_SAMPLES
        if n == 0:
            return 0
        out = self._frame if n == 1 else np.empty(n * FRAME_SAMPLES, np.float32)
        self._fifo.pop_into(out)
        self._hand_on(out, n)
        return n

    def _hand_on(self, frame: np.ndarray, frames: int = 1) -> None:
        self.last_frame_end = self.resampled - len(self._fifo)
        self.frames_sent += frames
        if self.tap is not None:
            self.tap.stage("frame", frame)
        if self.on_frame is not None:
            self.on_frame(float_to_pcm16(frame).tobytes())


__all__ = ["FRAME_BYTES", "FRAME_SAMPLES", "PRE_ROLL_MS", "CaptureChain", "CaptureTap", "FLOOR_DBFS"]
