"""Microphone input: the device stream (:class:`Capture`) and its headless stand-ins
(:class:`ArrayCapture`, :class:`FileCapture`), all producing the same 20 ms pcm16 frames.

The PortAudio callback only copies the block into a preallocated :class:`SampleRing`, counts, and —
if no drain is already pending and the ring holds what completes the frame being filled — schedules
one ``loop.call_soon_threadsafe(self._drain)``. So the loop wakes once per 20 ms frame whatever the
block (or less, coalesced) and never polls. The drain runs the shared
:class:`~.capture_chain.CaptureChain` (resample, meter, gate, re-chunk) on the loop thread.

One exception (issue #24): with blocks shorter than a frame (10 ms, headset and ducking modes), a
block that peaks :data:`ONSET_DB` over the microphone's noise floor after a quiet one (the first
sound of speech) wakes the loop at once, and what the frame being filled holds so far goes out as a
shorter frame (:meth:`~.capture_chain.CaptureChain.send_partial`) instead of waiting 10 ms for the
rest: half of the onsets reached the server 10 ms late. The next block goes out at once too (the
resampler held the onset block's last millisecond back). Only onsets pay the two extra wake-ups and
messages.
"""

from __future__ import annotations

import asyncio
import math
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sounddevice as sd

from desktop_app.audio.capture_chain import (FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, PRE_ROLL_MS, CaptureChain,
                                             CaptureTap, Processor)
from desktop_app.audio.codecs import PCM_RATE
from desktop_app.audio.device_stream import CallbackClock, DeviceStream, StreamTimes
from desktop_app.audio.devices import DeviceInfo
from desktop_app.audio.levels import FLOOR_DBFS
from desktop_app.audio.ringbuffer import SampleRing
from desktop_app.audio.speech_prob import SpeechMeter
from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger

log = get_logger("audio")

FrameCallback = Callable[[bytes], None]
_STAMPS = 128
# A block whose peak stands this far over the chain's noise floor (an RMS level), after a quiet one, is
# a speech onset: Gaussian noise peaks ~11 dB over its RMS in a 10 ms block; a first syllable's peaks
# clear it before its mean power does (a server's VAD fires on it as early: the bench's on one sample).
ONSET_DB = 20.0


class _Controls:
    """Mute, push-to-talk gate and meters, kept across chain rebuilds (device switches)."""

    chain: CaptureChain | None

    def _init_controls(self, on_frame: FrameCallback | None, block_ms: float, pre_roll_ms: float, fade_ms: float) -> None:
        self.on_frame = on_frame
        self._block_ms = block_ms
        self._pre_roll_ms = pre_roll_ms
        self._fade_ms = fade_ms
        self._gate = True
        self._muted = False
        self.chain = None
        self.processor: Processor | None = None
        self.speech_meter: SpeechMeter | None = None
        self.tap: CaptureTap | None = None  # bench instrumentation (set before start)

    def _new_chain(self, rate: int) -> CaptureChain:
        # the chain is fed once per frame at least (a shorter block wakes the loop every frame, below)
        chain = CaptureChain(rate, self._send, block_ms=max(self._block_ms, FRAME_MS), pre_roll_ms=self._pre_roll_ms,
                             fade_ms=self._fade_ms, processor=self.processor)
        chain.gate_open, chain.muted = self._gate, self._muted
        if self.speech_meter is not None:
            self.speech_meter.reset()  # a new stream: nothing from the last one may count
        chain.speech_meter = self.speech_meter
        chain.tap = self.tap
        return chain

    def _send(self, frame: bytes) -> None:
        if self.on_frame is not None:
            self.on_frame(frame)

    def set_processor(self, processor: Processor | None) -> None:
        """A stage after the resampler (the echo canceller), kept across chain rebuilds."""
        self.processor = processor
        if self.chain is not None:
            self.chain.processor = processor

    def set_speech_meter(self, meter: SpeechMeter | None) -> None:
        """The speech-probability meter (the VAD plot's curve), kept across chain rebuilds."""
        self.speech_meter = meter
        if self.chain is not None:
            self.chain.speech_meter = meter

    def set_gate(self, open_: bool) -> None:
        """Push-to-talk: True while held (opening sends the 250 ms pre-roll). Hands-free keeps it True."""
        self._gate = open_
        if self.chain is not None:
            self.chain.set_gate(open_)

    def mute(self, muted: bool = True) -> None:
        """Muted: no frames sent (after a short fade)."""
        self._muted = muted
        if self.chain is not None:
            self.chain.set_muted(muted)

    @property
    def muted(self) -> bool:
        return self._muted

    @property
    def gate_open(self) -> bool:
        return self._gate

    @property
    def level_dbfs(self) -> float:
        return self.chain.level_dbfs if self.chain is not None else FLOOR_DBFS

    @property
    def speech_energy(self) -> float:
        return self.chain.speech_energy if self.chain is not None else 0.0

    @property
    def speech_probability(self) -> float | None:
        """The speech meter's probability (0–1), None without a meter."""
        return self.chain.speech_probability if self.chain is not None else None


class Capture(_Controls, DeviceStream):
    """The microphone: ``on_frame(bytes)`` receives 960-byte pcm16 24 kHz mono frames on the loop
    (shorter at an onset sent early, see the module's docstring; several in one piece after a hold).

    Opens ``device`` (a stable id or name, a :class:`DeviceInfo`, or None for the default) at its own
    rate in ``block_ms`` blocks with ``latency='low'``; stereo is downmixed. A device failure stops
    the stream and calls ``on_error`` once with an :class:`AudioDeviceError`.
    """

    kind = "input"

    def __init__(
        self,
        device: str | DeviceInfo | None = None,
        block_ms: float = 20.0,
        on_frame: FrameCallback | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        samplerate: int | None = None,
        channels: int = 1,
        pre_roll_ms: float = PRE_ROLL_MS,
        fade_ms: float = 5.0,
        ring_ms: float = 1000.0,
        on_error: Callable[[AudioDeviceError], None] | None = None,
        suspend_when_muted: bool = True,
    ) -> None:
        DeviceStream.__init__(self, device, block_ms=block_ms, samplerate=samplerate, loop=loop, on_error=on_error)
        self._init_controls(on_frame, block_ms, pre_roll_ms, fade_ms)
        self._want_channels = channels
        self._ring_ms = ring_ms
        self.suspend_when_muted = suspend_when_muted
        self._ring: SampleRing | None = None
        self._scratch = np.zeros((0, 1), dtype=np.float32)
        self._drain_pending = False
        self._wake_at = 1  # device samples in the ring that complete the chain's next frame (set by each drain)
        self._onset_peak = math.inf  # a block peaking over this is loud (set by each drain from the floor)
        self._loud = False  # the last block was loud
        self._early = False  # the pending drain was woken by an onset before the frame was complete
        self._follow = False  # … and the next one sends what the resampler held back of it
        self.early_sends = 0  # partial frames sent at an onset
        self.drains = 0  # loop wake-ups that read the ring (one per frame, whatever the block)
        self.status_overflows = 0
        self._stamp_pos = np.zeros(_STAMPS, dtype=np.int64)
        self._stamp_time = np.zeros(_STAMPS, dtype=np.float64)
        self._stamp_adc = np.zeros(_STAMPS, dtype=np.float64)  # ADC time just after the block (echo canceller)
        self._clock = CallbackClock()  # PortAudio's ADC times on our clock

    @property
    def level_dbfs(self) -> float:
        return FLOOR_DBFS if self.suspended else _Controls.level_dbfs.fget(self)  # type: ignore[attr-defined]

    @property
    def speech_energy(self) -> float:
        return 0.0 if self.suspended else _Controls.speech_energy.fget(self)  # type: ignore[attr-defined]

    @property
    def speech_probability(self) -> float | None:
        probability = _Controls.speech_probability.fget(self)  # type: ignore[attr-defined]
        return 0.0 if self.suspended and probability is not None else probability

    @property
    def overflows(self) -> int:
        """Input overflows: reported by PortAudio plus blocks the ring had no room for."""
        return self.status_overflows + (self._ring.overflows if self._ring is not None else 0)

    def start(self) -> None:
        """Open and start the input stream; raises :class:`AudioDeviceError`."""
        self._open(self._make_stream, self._want_channels)

    def _make_stream(self, device: DeviceInfo, rate: int, channels: int) -> sd.InputStream:
        self._ring = SampleRing(int(rate * self._ring_ms / 1000), channels)
        self._scratch = np.zeros((self._ring.capacity, channels), dtype=np.float32)
        self.chain = self._new_chain(rate)
        self._drain_pending = False
        self._wake_at = 1
        self._loud = self._early = self._follow = False
        self.callbacks = 0
        return self._portaudio_stream(sd.InputStream, device, rate, channels, self._callback)

    def _callback(self, indata: np.ndarray, frames: int, time_info: StreamTimes, status: sd.CallbackFlags) -> None:
        # PortAudio thread: copy, count, wake the loop at most once per pending drain.
        if status.input_overflow:
            self.status_overflows += 1
        ring = self._ring
        if ring is None:
            return
        ring.write(indata)
        slot = self.callbacks % _STAMPS
        self._stamp_pos[slot] = ring.total_written
        now = self._stamp_time[slot] = time.monotonic()
        current = time_info.currentTime
        if current:
            self._stamp_adc[slot] = self._clock(time_info.inputBufferAdcTime, current, now) + frames / self.samplerate
        else:
            self._stamp_adc[slot] = now
        if self.tap is not None:
            self.tap.block(indata, self.samplerate, float(self._stamp_adc[slot]) - frames / self.samplerate)
        self.callbacks += 1
        # Blocks shorter than a frame (10 ms ones) wake the loop only once they complete the frame
        # being filled: what is sent goes out as early as with a wake per block, at half the wake-ups;
        # but a speech onset's first half-frame goes out at once (looked for in blocks shorter than a frame).
        onset = False
        if frames * PCM_RATE < FRAME_SAMPLES * self.samplerate:
            mono = indata[:, 0]
            loud = max(float(mono.max()), -float(mono.min())) > self._onset_peak
            onset, self._loud = loud and not self._loud, loud
        if not self._drain_pending and (ring.available >= self._wake_at or onset):
            self._early = ring.available < self._wake_at
            self._drain_pending = True
            try:
                self._loop.call_soon_threadsafe(self._drain)  # type: ignore[union-attr]
            except RuntimeError:  # loop closed during shutdown
                pass

    def mute(self, muted: bool = True) -> None:
        """Muted: the fade-out and the padded last frame are sent, then the stream is paused (no
        callbacks, no CPU, the OS's microphone indicator off) until unmuted; the meter reads silence.
        With ``suspend_when_muted=False`` (the settings meter) it keeps running and metering."""
        super().mute(muted)
        if not muted and self.suspended:
            if self.chain is not None:
                self.chain.restart()
            if self._ring is not None:
                self._ring.discard()
            self.resume()

    def _drain(self) -> None:
        self._drain_pending = False
        self.drains += 1
        ring, chain = self._ring, self.chain
        if ring is None or chain is None or self._stream is None:
            return
        newest = (self.callbacks - 1) % _STAMPS
        start = ring.total_read
        n = ring.read_into(self._scratch[: ring.available])
        if n:
            captured_at = float(self._stamp_adc[newest]) - (int(self._stamp_pos[newest]) - start) / self.samplerate
            chain.process(self._scratch[:n], captured_at)
            if self._early or self._follow:
                sent = chain.send_partial()
                self.early_sends += sent
                # the resampler holds the block's last millisecond back: the next block's drain sends it
                # (an onset there would otherwise wait for a whole frame, 20 ms)
                self._follow = self._early and sent > 0
        self._wake_at = max(1, math.ceil(chain.samples_wanted() * self.samplerate / PCM_RATE))
        if self._follow:
            self._wake_at = min(self._wake_at, self.blocksize_frames)
        floor = chain.speech.floor_dbfs
        self._onset_peak = math.inf if floor is None else 10.0 ** ((floor + ONSET_DB) / 20.0)
        if self._muted and self.suspend_when_muted and not chain.sending:
            self.suspend()

    def stop(self) -> None:
        DeviceStream.stop(self)

    def input_time(self, position: int) -> float | None:
        """Monotonic time of the callback that delivered input frame ``position`` (latency stats);
        None once that callback has left the small stamp history."""
        newest = self.callbacks
        oldest = max(0, newest - _STAMPS)
        for k in range(oldest, newest):
            slot = k % _STAMPS
            if self._stamp_pos[slot] >= position:
                return None if k == oldest and k > 0 else float(self._stamp_time[slot])
        return None


class ArrayCapture(_Controls):
    """Feeds an array's samples as microphone frames, in real time (``realtime=True``) or as fast as
    the loop allows; the same ``on_frame`` contract, gate and mute as :class:`Capture`.

    ``done`` is a future resolved after the last (padded) frame; ``tail_silence_ms`` of silence can
    follow the audio so a server VAD sees the speech end.
    """

    def __init__(
        self,
        samples: np.ndarray,
        rate: int,
        on_frame: FrameCallback | None = None,
        *,
        block_ms: float = 20.0,
        realtime: bool = True,
        tail_silence_ms: float = 0.0,
        pre_roll_ms: float = PRE_ROLL_MS,
        fade_ms: float = 5.0,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._init_controls(on_frame, block_ms, pre_roll_ms, fade_ms)
        samples = np.asarray(samples)
        if samples.dtype.kind in "iu":
            samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max + 1)
        tail = np.zeros((int(rate * tail_silence_ms / 1000),) + samples.shape[1:], dtype=np.float32)
        self.samples = np.concatenate((samples.astype(np.float32), tail))
        self.rate = int(rate)
        self.realtime = realtime
        self._block = max(1, int(round(rate * block_ms / 1000)))
        self._loop = loop
        self._handle: asyncio.Handle | None = None
        self._pos = 0
        self._t0 = 0.0
        self.done: asyncio.Future[None] | None = None

    def start(self) -> None:
        loop = self._loop = self._loop or asyncio.get_running_loop()
        self.chain = self._new_chain(self.rate)
        self.done = loop.create_future()
        self._pos = 0
        self._t0 = loop.time()
        self._schedule()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self.done is not None and not self.done.done():
            self.done.cancel()

    def _schedule(self) -> None:
        assert self._loop is not None
        if self.realtime:
            due = self._t0 + (self._pos + self._block) / self.rate
            self._handle = self._loop.call_at(due, self._step)
        else:
            self._handle = self._loop.call_soon(self._step)

    def _step(self) -> None:
        assert self.chain is not None and self.done is not None
        block = self.samples[self._pos : self._pos + self._block]
        self._pos += len(block)
        if len(block):
            self.chain.process(block)
        if self._pos >= len(self.samples):
            self.chain.flush()
            self._handle = None
            if not self.done.done():
                self.done.set_result(None)
            return
        self._schedule()


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A PCM WAV file as float32 ``(frames, channels)`` and its rate (8/16/24/32-bit integer)."""
    with wave.open(str(path), "rb") as wav:
        width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8
        data = ints.astype(np.float32) / 8388608.0
    elif width in (2, 4):
        dtype = "<i2" if width == 2 else "<i4"
        data = np.frombuffer(raw, dtype).astype(np.float32) / float(2 ** (8 * width - 1))
    else:
        raise ValueError(f"unsupported WAV sample width {width}")
    return data.reshape(-1, channels), rate


class FileCapture(ArrayCapture):
    """:class:`ArrayCapture` reading a WAV file (headless ``--input``)."""

    def __init__(self, path: str | Path, on_frame: FrameCallback | None = None, **kwargs: Any) -> None:
        samples, rate = read_wav(path)
        super().__init__(samples, rate, on_frame, **kwargs)
        self.path = Path(path)


__all__ = ["FRAME_BYTES", "ArrayCapture", "Capture", "FileCapture", "read_wav"]
