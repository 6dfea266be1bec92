"""The speaker: one output stream whose callback pulls the :class:`PlaybackQueue`.

The callback does three things: ``queue.pull(frames)`` (which resamples to the device rate and
credits items with what it hands over), a copy into ``outdata``, and a copy into the output tap —
a :class:`TimedRing` of exactly the samples handed to the device with their DAC times, kept for the
echo canceller. A stream can be opened in *standby* (silence, queue untouched) so a device switch can
open the new device first and only take the queue over once it works.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np
import sounddevice as sd

from desktop_app.audio.device_stream import CallbackClock, DeviceStream, StreamTimes
from desktop_app.audio.devices import DeviceInfo
from desktop_app.audio.playback_queue import PlaybackQueue
from desktop_app.audio.ringbuffer import TimedRing
from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger

log = get_logger("audio")

OutputHook = Callable[[np.ndarray, float], None]


class Playback(DeviceStream):
    """Plays ``queue`` on ``device`` (stable id/name, :class:`DeviceInfo`, or None for the default).

    ``output_hook(block, dac_time)`` — if set — is called in the audio thread with each block handed
    to the device (it must only copy). ``tap`` holds the last ``tap_seconds`` of the same samples.
    """

    kind = "output"

    def __init__(
        self,
        device: str | DeviceInfo | None = None,
        queue: PlaybackQueue | None = None,
        *,
        block_ms: float = 20.0,
        samplerate: int | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        on_error: Callable[[AudioDeviceError], None] | None = None,
        tap_seconds: float = 2.0,
        output_hook: OutputHook | None = None,
        idle_suspend_s: float | None = 2.0,
    ) -> None:
        super().__init__(device, block_ms=block_ms, samplerate=samplerate, loop=loop, on_error=on_error)
        self.queue = queue if queue is not None else PlaybackQueue()
        self.tap_seconds = tap_seconds
        self.tap: TimedRing | None = None
        self.output_hook = output_hook
        self.live = False
        self.device_underflows = 0  # PortAudio's output_underflow flags (the device starved)
        self.frames_out = 0
        self._latency_s = 0.0
        self._clock = CallbackClock()  # PortAudio's DAC times on our clock, however late the callback ran
        self.idle_suspend_s = idle_suspend_s
        self._idle_since: float | None = None

    def start(self, standby: bool = False) -> None:
        """Open the output; ``standby`` plays silence until :meth:`activate`. Raises AudioDeviceError."""
        self._open(self._make_stream, 1)
        self._latency_s = float(self._stream.latency) if self._stream is not None else 0.0
        if not standby:
            self.activate()

    def activate(self) -> None:
        """Take the queue over: from the next callback on, this stream plays it."""
        if self._stream is None:
            return
        self.queue.set_output_rate(self.samplerate)
        self.queue.on_wake = self.resume
        self.live = True

    def stop(self) -> None:
        if self.live and self.queue.on_wake == self.resume:
            self.queue.on_wake = None
        self.live = False
        super().stop()

    def resume(self) -> None:
        self._idle_since = None
        super().resume()

    def _tick(self) -> None:
        """Pause the stream after ``idle_suspend_s`` without assistant audio (no callbacks while
        idle); the queue's ``on_wake`` restarts it, in about a millisecond, when audio arrives."""
        if self.idle_suspend_s is None or not self.live or self.queue.is_playing:
            self._idle_since = None
            return
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        elif now - self._idle_since >= self.idle_suspend_s:
            self._idle_since = None
            self.suspend()

    def _make_stream(self, device: DeviceInfo, rate: int, channels: int) -> sd.OutputStream:
        self.tap = TimedRing(int(rate * self.tap_seconds), rate)
        self.live = False
        self.callbacks = 0
        self.frames_out = 0
        return self._portaudio_stream(sd.OutputStream, device, rate, channels, self._callback)

    def _callback(self, outdata: np.ndarray, frames: int, time_info: StreamTimes, status: sd.CallbackFlags) -> None:
        # PortAudio thread: pull, copy, tap. No logging, no allocation beyond numpy views.
        self.callbacks += 1
        if status.output_underflow:
            self.device_underflows += 1
        if not self.live:
            outdata.fill(0.0)
            return
        block = self.queue.pull(frames)
        if outdata.shape[1] == 1:
            outdata[:, 0] = block
        else:
            outdata[:] = block[:, None]
        self.frames_out += frames
        current = time_info.currentTime
        now = time.monotonic()
        dac = self._clock(time_info.outputBufferDacTime, current, now) if current else now + self._latency_s
        tap = self.tap
        if tap is not None:
            tap.write(block, dac)
        hook = self.output_hook
        if hook is not None:
            hook(block, dac)
