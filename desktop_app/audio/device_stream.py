"""What the input and output device wrappers share: opening at a supported rate, registering the
stream (so a device refresh never re-initialises PortAudio under it), and a watchdog that turns a
failed or vanished device into one clear :class:`AudioDeviceError`.

A device that disappears does not always make PortAudio fail loudly: with ALSA it can simply stop
calling back while the stream still claims to be active (measured with a PipeWire node removed
mid-stream). So failure is detected two ways: PortAudio's *finished* callback firing without a stop
we asked for, and a 4 Hz loop timer seeing no callback for ``stall_s``. The timer is the only
periodic work and costs nothing measurable.

A failed stream is closed on a short-lived daemon thread, never on the loop: PortAudio 19.6's ALSA
thread can spin forever in its poll loop after the device vanished, and then ``Pa_AbortStream``
never returns. The stream stays counted as open until PortAudio lets go of it, so a device refresh
(which would have to terminate PortAudio) is postponed rather than hung.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Protocol

import sounddevice as sd

from desktop_app.audio import devices, sound_server
from desktop_app.audio.devices import DeviceInfo, Kind
from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger

log = get_logger("audio")

# 48 kHz first: it is what PipeWire and PulseAudio run at and what PC hardware runs natively, while
# PortAudio reports 44.1 kHz for every ALSA plugin device (pipewire, pulse, default) as a placeholder.
# Opening those at 44.1 kHz makes the PipeWire client code in this process resample again: measured
# 1.6 % of a core more for the engine than at 48 kHz. A device without 48 kHz gets its own default.
PREFERRED_RATE = 48000
FALLBACK_RATES = (44100, 32000, 24000, 16000)
_PA_INVALID_SAMPLE_RATE = -9997


class StreamTimes(Protocol):
    """The part of PortAudio's callback time info used (sounddevice passes a cffi struct)."""

    currentTime: float  # noqa: N815 — PortAudio's field names
    inputBufferAdcTime: float  # noqa: N815
    outputBufferDacTime: float  # noqa: N815


class CallbackClock:
    """PortAudio's stream times (a block's ADC or DAC time) on ``time.monotonic()``, exact however late
    the callback's Python code ran.

    PortAudio stamps ``currentTime`` as it calls back; the callback reads our clock only once it holds
    the GIL — on a loaded machine, or during a collection, tens of ms later. ``now + (device time −
    currentTime)`` carries that whole wait (measured: up to 6 ms at load 1.5, 16 ms under load),
    and the echo canceller's reference then breaks its run and jumps. Instead the offset between
    the clocks is the smallest ``now − currentTime`` seen — a late read is never early — allowed to
    creep up 1 ms per second of stream time in case the two clocks drift. Per second, not per callback
    (it was 20 µs a callback): with 10 ms blocks that doubled the creep, and a loop kept busy for a
    few hundred ms moved the microphone's times by the 0.5 ms that re-pairs the echo canceller
    (issue #24). Measured with ALSA on PipeWire: PortAudio's device times step by exactly the block
    (±0.02 ms).
    """

    CREEP_PER_S = 0.001

    def __init__(self) -> None:
        self.offset = float("inf")
        self._last: float | None = None  # the previous call's ``currentTime``

    def __call__(self, device_time: float, current: float, now: float) -> float:
        """``device_time`` (PortAudio's clock) on ours; ``now`` is ``time.monotonic()`` read in the callback."""
        # (a resumed stream's first, late, callback after seconds of pause must not move the offset)
        elapsed = 0.0 if self._last is None else min(max(0.0, current - self._last), 0.1)
        self._last = current
        offset = min(now - current, self.offset + self.CREEP_PER_S * elapsed)
        self.offset = offset
        return device_time + offset


class DeviceStream:
    """Base of :class:`~.capture.Capture` and :class:`~.playback.Playback` (one PortAudio stream)."""

    kind: Kind = "input"

    def __init__(
        self,
        device: str | DeviceInfo | None = None,
        *,
        block_ms: float = 20.0,
        samplerate: int | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        on_error: Callable[[AudioDeviceError], None] | None = None,
        stall_s: float = 0.6,
    ) -> None:
        self.requested = device
        self.block_ms = block_ms
        self.requested_rate = samplerate
        self.on_error = on_error
        self.stall_s = stall_s
        self._loop = loop
        self._stream: sd._StreamBase | None = None
        self._stopping = False
        self._watch: asyncio.TimerHandle | None = None
        self._seen_callbacks = -1
        self._last_progress = 0.0
        self.suspended = False
        self.device: DeviceInfo | None = None
        self.notice: str | None = None
        self.samplerate = 0
        self.channels = 0
        self.blocksize_frames = 0
        self.callbacks = 0  # bumped by the audio callback; read by the watchdog
        self.error: AudioDeviceError | None = None

    @property
    def label(self) -> str:
        return "microphone" if self.kind == "input" else "speaker"

    @property
    def running(self) -> bool:
        return self._stream is not None

    @property
    def latency_s(self) -> float:
        """The latency PortAudio reports for the open stream (0 while closed)."""
        return float(self._stream.latency) if self._stream is not None else 0.0

    def _resolve(self) -> DeviceInfo:
        if isinstance(self.requested, DeviceInfo):
            return self.requested
        device, self.notice = devices.resolve_device(self.requested, self.kind)
        return device

    def _pick_rate(self, device: DeviceInfo, channels: int) -> int:
        check = sd.check_input_settings if self.kind == "input" else sd.check_output_settings
        candidates = (
            [self.requested_rate]
            if self.requested_rate
            else [PREFERRED_RATE, int(device.default_samplerate), *FALLBACK_RATES]
        )
        errors: list[str] = []
        only_rates = True
        for rate in dict.fromkeys(candidates):
            try:
                check(device=device.index, samplerate=rate, channels=channels, dtype="float32")
                return int(rate)
            except (sd.PortAudioError, ValueError) as exc:
                errors.append(f"{rate}: {exc}")
                code = exc.args[1] if isinstance(exc, sd.PortAudioError) and len(exc.args) > 1 else None
                only_rates = only_rates and code == _PA_INVALID_SAMPLE_RATE
        if only_rates:
            message = f"The {self.label} “{device.name}” does not accept any usable sample rate; choose another device."
        else:
            message = self._unavailable(device)
        raise AudioDeviceError(message, detail="; ".join(errors))

    def _unavailable(self, device: DeviceInfo) -> str:
        return f"The {self.label} “{device.name}” could not be opened; it may be unplugged or busy in another program."

    def _portaudio_stream(self, stream_cls: type, device: DeviceInfo, rate: int, channels: int,
                          callback: Callable[..., None]) -> sd._StreamBase:
        """A float32 callback stream of ``block_ms`` blocks at 'low' latency, watched for failure."""
        return stream_cls(
            device=device.index,
            samplerate=rate,
            blocksize=int(round(rate * self.block_ms / 1000)),
            channels=channels,
            dtype="float32",
            latency="low",
            callback=callback,
            finished_callback=self._finished_from_portaudio,
        )

    def _open(self, make_stream: Callable[[DeviceInfo, int, int], sd._StreamBase], channels: int) -> None:
        """Resolve, pick the rate, build the stream with ``make_stream(device, rate, channels)``, start."""
        if self._stream is not None:
            return
        self._loop = self._loop or asyncio.get_running_loop()
        device = self._resolve()
        most = device.max_input_channels if self.kind == "input" else device.max_output_channels
        channels = max(1, min(channels, most))
        try:
            rate = self._pick_rate(device, channels)
        except AudioDeviceError:
            if channels != 1 or most < 2:
                raise
            channels = 2  # some hardware only opens in stereo; capture downmixes, playback duplicates
            rate = self._pick_rate(device, channels)
        try:
            with sound_server.routed(self.kind, device.server_name):  # a sink/source chosen by name
                stream = make_stream(device, rate, channels)
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioDeviceError(self._unavailable(device), detail=f"{type(exc).__name__}: {exc}") from exc
        devices.stream_opened()
        self._stream, self.device, self.samplerate, self.channels = stream, device, rate, channels
        self.blocksize_frames = int(stream.blocksize)
        self._stopping = False
        self.error = None
        try:
            stream.start()
        except sd.PortAudioError as exc:
            self._close_stream()
            raise AudioDeviceError(
                f"The {self.label} “{device.name}” could not be started; choose another device.", detail=str(exc)
            ) from exc
        self.suspended = False
        self._watch_from_now()
        log.info("= %s open: %s (%s) at %d Hz, %d ch, latency %.1f ms", self.label, device.name, device.hostapi,
                 rate, channels, 1000 * float(stream.latency))

    def _watch_from_now(self) -> None:
        assert self._loop is not None
        if self._watch is not None:
            self._watch.cancel()
        self._seen_callbacks = -1
        self._last_progress = time.monotonic()
        self._watch = self._loop.call_later(0.25, self._check)

    def suspend(self) -> None:
        """Pause the stream but keep the device open (no callbacks, no CPU); :meth:`resume` restarts
        it in about a millisecond. Used while muted (input) and while nothing plays (output)."""
        stream = self._stream
        if stream is None or self.suspended:
            return
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        self.suspended = True
        stream.abort(ignore_errors=True)
        log.debug("= %s suspended", self.label)

    def resume(self) -> None:
        stream = self._stream
        if stream is None or not self.suspended:
            return
        self.suspended = False
        try:
            stream.start()
        except sd.PortAudioError as exc:
            self._fail(f"could not restart: {exc}")
            return
        self._watch_from_now()
        log.debug("= %s resumed", self.label)

    def stop(self) -> None:
        """Stop and close the stream; safe to call twice or after a failure."""
        if self._stream is None:
            return
        self._stopping = True
        self._close_stream()
        log.info("= %s closed", self.label)

    def _close_stream(self, background: bool = False) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        stream, self._stream = self._stream, None
        if stream is None:
            return
        if background:
            threading.Thread(target=self._release, args=(stream,), name="parley-audio-release", daemon=True).start()
        else:
            self._release(stream)

    def _release(self, stream: sd._StreamBase) -> None:
        try:
            stream.abort(ignore_errors=True)
            stream.close(ignore_errors=True)
        finally:
            devices.stream_closed()

    # --- failure detection (loop thread) -------------------------------------------------------

    def _finished_from_portaudio(self) -> None:
        """PortAudio's finished callback (its thread): check at once rather than at the next tick."""
        loop = self._loop
        if loop is not None and not self._stopping and not loop.is_closed():
            loop.call_soon_threadsafe(self._check)

    def _check(self) -> None:
        stream = self._stream
        if stream is None or self._stopping or self.suspended:
            return
        now = time.monotonic()
        if self.callbacks != self._seen_callbacks:
            self._seen_callbacks = self.callbacks
            self._last_progress = now
        if not stream.active:
            self._fail("the stream stopped by itself")
        elif now - self._last_progress > self.stall_s:
            self._fail(f"no audio callback for {1000 * (now - self._last_progress):.0f} ms")
        else:
            assert self._loop is not None
            self._watch = self._loop.call_later(0.25, self._check)
            self._tick()

    def _tick(self) -> None:
        """Called from the 4 Hz watchdog while the stream runs (subclasses' housekeeping)."""

    def _fail(self, why: str) -> None:
        name = self.device.name if self.device else "?"
        self.error = AudioDeviceError(
            f"The {self.label} “{name}” stopped working or was disconnected; choose another device on the Audio tab.",
            detail=f"{self.label} {name}: {why}",
            fatal=False,
        )
        log.error("! %s", self.error.detail)
        self._stopping = True
        self._close_stream(background=True)
        if self.on_error is not None:
            self.on_error(self.error)
