"""The audio engine: one microphone :class:`Capture` and one speaker :class:`Playback` around a
:class:`PlaybackQueue` that outlives them both.

The queue — the conversation's audio and its per-item played/received accounting — belongs to the
engine, not to a device, so switching devices, recovering from an unplugged headset or refreshing
the device list never loses the conversation's place. Device switches are all-or-nothing (friture's
habit): the new stream is opened first (the speaker in standby), and only when it works does the old
one close; if it fails the old stream keeps running and the error is raised.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Callable

import numpy as np

from desktop_app.audio import devices
from desktop_app.audio.echo_control import EchoControl
from desktop_app.audio.capture import Capture
from desktop_app.audio.capture_chain import CaptureTap
from desktop_app.audio.codecs import tone_pcm16
from desktop_app.audio.devices import DeviceInfo
from desktop_app.audio.levels import FLOOR_DBFS
from desktop_app.audio.playback import OutputHook, Playback
from desktop_app.audio.playback_queue import PlaybackQueue, PlaybackReport
from desktop_app.audio.ringbuffer import TimedRing
from desktop_app.audio.speech_prob import SpeechMeter, make_speech_meter
from desktop_app.audio.stream_tuning import GIL_SWITCH_INTERVAL_S, block_for_mode, freeze_startup_objects
from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger

log = get_logger("audio")

KEEP = object()  # "leave this side as it is" for switch_devices
_tone_ids = itertools.count(1)


class AudioEngine:
    """Microphone frames out (``on_mic_frame``), assistant audio in (:attr:`queue`), device control.

    ``on_error(AudioDeviceError)`` is called on the loop, once per failure, when a device fails
    mid-stream; the failed side is stopped and :meth:`switch_devices` can start it on another device.
    ``output_hook(block, dac_time)`` runs in the output callback with exactly the samples handed to
    the device (the echo canceller's reference); :attr:`output_tap` keeps the last 2 s of them.

    Echo handling (:mod:`.aec`) follows :attr:`audio_mode`: ``speakers`` cancels the echo on the
    microphone path, ``headset`` (the default of a bare engine; the app applies the setting) leaves
    it alone, ``ducking`` gates the microphone while the assistant is audible. ``near_end_speech()``
    says whether the user really spoke; ``on_near_end_onset()`` (if set) is called on the loop when
    the user starts talking over the assistant.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        on_mic_frame: Callable[[bytes], None] | None = None,
        on_error: Callable[[AudioDeviceError], None] | None = None,
        queue: PlaybackQueue | None = None,
        capture_block_ms: float | None = None,
        playback_block_ms: float = 20.0,
        output_hook: OutputHook | None = None,
        audio_mode: str = "headset",
        speech_meter: bool = True,
    ) -> None:
        self._loop = loop
        self.on_mic_frame = on_mic_frame
        self.on_error = on_error
        self.queue = queue if queue is not None else PlaybackQueue()
        self._capture_block_ms = capture_block_ms  # None: by the audio mode (block_for_mode())
        self.playback_block_ms = playback_block_ms
        self.output_hook = output_hook
        self.capture: Capture | None = None
        self.playback: Playback | None = None
        self.notices: list[str] = []
        self._muted = False
        self._gate = True
        self._probe: Capture | None = None
        self.on_near_end_onset: Callable[[], None] | None = None
        self._clip_watchers: list[OutputHook] = []  # play_clip: told of each block handed to the device
        self.capture_tap: CaptureTap | None = None  # bench instrumentation of the microphone path
        self.echo = EchoControl(audio_mode, speaker_busy=self._speaker_busy)
        self._want_speech_meter = speech_meter
        self._speech_meter: SpeechMeter | None = None  # made at the first start; its model loads once shown
        self.echo.on_near_end_onset = self._near_end_onset
        self.echo.on_hold = self._hold
        self.echo.set_listening(self._gate and not self._muted)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, input_name: str | None = None, output_name: str | None = None) -> list[str]:
        """Open the speaker, then the microphone. Returns fallback notices; raises AudioDeviceError
        (and leaves nothing open) when either cannot be opened."""
        self.stop()
        self.notices = []
        freeze_startup_objects()
        if sys.getswitchinterval() > GIL_SWITCH_INTERVAL_S:
            log.info("= GIL switch interval %.0f -> %.0f ms for the audio callbacks",
                     1000 * sys.getswitchinterval(), 1000 * GIL_SWITCH_INTERVAL_S)
            sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        if self._want_speech_meter and self._speech_meter is None:
            self._want_speech_meter = False  # one try: without the model the plot shows the level
            self._speech_meter = make_speech_meter()
        playback = self._new_playback(output_name)
        try:
            capture = self._new_capture(input_name)
        except AudioDeviceError:
            playback.stop()
            raise
        self.playback, self.capture = playback, capture
        log.info("= audio engine started: in %s, out %s", capture.device.name, playback.device.name)  # type: ignore[union-attr]
        return list(self.notices)

    def switch_devices(self, input_name: object = KEEP, output_name: object = KEEP) -> list[str]:
        """Move to other devices without losing the conversation (``KEEP`` leaves a side alone).

        Each side opens the new stream first; if that fails the old one keeps running and the
        AudioDeviceError propagates. A side that had failed is simply started on the new device.
        """
        self.notices = []
        if output_name is not KEEP:
            new_playback = self._new_playback(output_name, standby=True)  # type: ignore[arg-type]
            old, self.playback = self.playback, new_playback
            if old is not None:
                old.stop()
            new_playback.activate()
        if input_name is not KEEP:
            new_capture = self._new_capture(input_name)  # type: ignore[arg-type]
            old_capture, self.capture = self.capture, new_capture
            if old_capture is not None:
                old_capture.stop()
        return list(self.notices)

    def stop(self) -> None:
        for stream in (self.capture, self.playback, self._probe):
            if stream is not None:
                stream.stop()
        self.capture = self.playback = self._probe = None

    def refresh_devices(self) -> list[DeviceInfo]:
        """Re-read the device list (hot-plug). Running streams are closed for the moment PortAudio
        needs to re-initialise and reopened by name; the queue keeps its place."""
        running = self.capture is not None or self.playback is not None
        in_name = self._choice(self.capture)
        out_name = self._choice(self.playback)
        if running:
            self.stop()
        found = devices.list_devices(refresh=True)
        if running:
            self.start(in_name, out_name)
        return found

    @staticmethod
    def _choice(stream: Capture | Playback | None) -> str | None:
        if stream is None or stream.device is None:
            return None
        requested = stream.requested
        return requested.stable_id if isinstance(requested, DeviceInfo) else requested

    def _new_playback(self, name: str | None, standby: bool = False) -> Playback:
        playback = Playback(
            name, self.queue, block_ms=self.playback_block_ms, loop=self._loop,
            on_error=self._on_device_error, output_hook=self._output_hook,
        )
        playback.start(standby=True)
        self.echo.far.set_rate(playback.samplerate)  # before the first block reaches the reference
        if not standby:
            playback.activate()
        if playback.notice:
            self.notices.append(playback.notice)
        return playback

    def _new_capture(self, name: str | None) -> Capture:
        capture = Capture(name, self.capture_block_ms, self._mic_frame, self._loop, on_error=self._on_device_error)
        capture.tap = self.capture_tap
        capture.mute(self._muted)
        capture.set_gate(self._gate)
        capture.set_processor(self.echo.process)
        capture.set_speech_meter(self._speech_meter)
        capture.start()
        if capture.notice:
            self.notices.append(capture.notice)
        return capture

    def _mic_frame(self, frame: bytes) -> None:
        if self.on_mic_frame is not None:
            self.on_mic_frame(frame)

    def _on_device_error(self, error: AudioDeviceError) -> None:
        self.queue.release()  # a failed microphone sends no more frames: nothing would end a hold
        if self.on_error is not None:
            self.on_error(error)

    def _speaker_busy(self) -> bool:
        """Assistant audio is queued or on its way to the DAC (the canceller's light path waits)."""
        return self.queue.is_playing

    def _output_hook(self, block: np.ndarray, dac_time: float) -> None:
        self.echo.output_hook(block, dac_time)
        if self.output_hook is not None:
            self.output_hook(block, dac_time)
        for watch in self._clip_watchers:  # a clip playing through the running speaker
            watch(block, dac_time)

    def _hold(self, pause: bool) -> None:
        """The echo guard saw the first sign of the user over the assistant: pause playback (nothing
        is lost) until it is confirmed as speech (the controller barges in and flushes), dies away
        (resume), or nobody has ended it within the queue's ``max_hold_ms`` (resume)."""
        if pause:
            if self._gate and not self._muted:  # push-to-talk with the button up, or muted: not a turn
                self.queue.hold()
        else:
            self.queue.release()

    def _near_end_onset(self) -> None:
        if not self._gate or self._muted:
            return
        if self.on_near_end_onset is not None:
            self.on_near_end_onset()

    # --- echo ----------------------------------------------------------------------------------

    @property
    def audio_mode(self) -> str:
        """The mode in effect: ``speakers``, ``headset`` or ``ducking`` (also when ``speakers`` was
        asked for but the canceller cannot load)."""
        return self.echo.mode

    @property
    def capture_block_ms(self) -> float:
        """The microphone's block for the mode in effect (or as the constructor fixed it)."""
        return self._capture_block_ms if self._capture_block_ms is not None else block_for_mode(self.echo.mode)

    def set_audio_mode(self, mode: str) -> str:
        """Switch the echo handling at once; returns the mode in effect. A hold the old echo guard
        had asked for ends with it. The speaker keeps running; the microphone is reopened on the same
        device when the new mode takes another block (:func:`block_for_mode`) — if that fails it
        keeps its old block, which costs latency only."""
        mode = self.echo.set_mode(mode)
        self.queue.release()
        capture = self.capture
        if capture is not None and capture.block_ms != self.capture_block_ms:
            try:
                self.switch_devices(input_name=self._choice(capture))
            except AudioDeviceError as exc:
                log.warning("! the microphone keeps its %.0f ms blocks in %s mode: reopening it failed (%s)",
                            capture.block_ms, mode, exc)
        return mode

    @property
    def aec_available(self) -> bool:
        return self.echo.aec_available

    @property
    def aec_reason(self) -> str:
        """One sentence on why echo cancellation is unavailable ('' when it is available)."""
        return self.echo.aec_reason

    def near_end_speech(self, window_ms: float = 300.0) -> bool | None:
        """True: the (echo-cancelled) microphone held the user's speech within ``window_ms``; False:
        only echo or noise; None: cannot tell (headset mode) — trust the server."""
        return self.echo.near_end_speech(window_ms)

    def apply_calibration(self, delay_ms: float, erl_db: float | None = None) -> None:
        """Use the room calibration's output→input delay (ms) and echo return loss (dB, positive when
        the echo is quieter than what is played; None: keep learning it on line)."""
        self.echo.calibrate(delay_ms, erl_db)

    # --- conversation controls -----------------------------------------------------------------

    def mute(self, muted: bool = True) -> None:
        """Mute the microphone; a hold on the assistant ends (a muted user is not interrupting)."""
        self._muted = muted
        self.echo.set_listening(self._gate and not muted)
        if muted:
            self.queue.release()
        if self.capture is not None:
            self.capture.mute(muted)

    @property
    def muted(self) -> bool:
        return self._muted

    def set_gate(self, open_: bool) -> None:
        """Push-to-talk gate (True while held; always open hands-free). Closing it ends a hold."""
        self._gate = open_
        self.echo.set_listening(open_ and not self._muted)
        if not open_:
            self.queue.release()
        if self.capture is not None:
            self.capture.set_gate(open_)

    def flush(self, fade_ms: float = 8.0) -> PlaybackReport | None:
        """Barge-in: silence the assistant and report how far the interrupted item played."""
        if self.queue.is_playing:
            self.echo.interrupted()  # the user may still be talking: no early switch of the canceller's path
        return self.queue.flush(fade_ms)

    @property
    def input_level_dbfs(self) -> float:
        return self.capture.level_dbfs if self.capture is not None else FLOOR_DBFS

    @property
    def speech_energy(self) -> float:
        return self.capture.speech_energy if self.capture is not None else 0.0

    @property
    def speech_probability(self) -> float | None:
        """Silero VAD's speech probability (0–1) of what the microphone sends — comparable with the
        server VAD's threshold; 0.0 while muted; None when no meter could load or nothing captures."""
        return self.capture.speech_probability if self.capture is not None else None

    @property
    def output_level_dbfs(self) -> float:
        return self.queue.level_dbfs if self.queue.is_playing else FLOOR_DBFS

    @property
    def output_tap(self) -> TimedRing | None:
        return self.playback.tap if self.playback is not None else None

    # --- settings helpers ----------------------------------------------------------------------

    async def test_tone(self, output_name: str | None = None, freq: float = 440.0, seconds: float = 1.0) -> None:
        """Play a test tone on ``output_name``; returns when it has been handed to the device."""
        await self.play_clip(tone_pcm16(freq, seconds), output_name)

    async def play_clip(self, pcm16: bytes, output_name: str | None = None) -> None:
        """Play a short PCM16 24 kHz clip (the test tone, a voice preview) to its end: through the
        running speaker when it is that device, otherwise on a short-lived stream of its own.

        Returns once its last sample was handed to the device — the output callback says so (no
        polling) — or raises ``asyncio.TimeoutError`` when the device stopped taking audio.
        """
        item_id = f"clip-{next(_tone_ids)}"
        running = self.playback
        own: Playback | None = None
        if running is not None and running.running and (output_name is None or self._choice(running) == output_name):
            queue = self.queue
        else:
            queue = PlaybackQueue()
            own = Playback(output_name, queue, block_ms=self.playback_block_ms, loop=self._loop)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        expected = len(pcm16) // 2

        def watch(block: np.ndarray, dac_time: float) -> None:  # the audio thread: compare, post once
            if not done.done() and queue.report(item_id).received_samples >= expected \
                    and queue.report(item_id).played_samples >= expected:
                loop.call_soon_threadsafe(finish)

        def finish() -> None:  # the loop: once
            if not done.done():
                done.set_result(None)

        self._clip_watchers.append(watch)
        try:
            if own is not None:
                own.output_hook = watch
                own.start()
            queue.enqueue(item_id, pcm16)
            queue.finish(item_id)
            await asyncio.wait_for(done, len(pcm16) / 48000 + 2.0)
        finally:
            self._clip_watchers.remove(watch)
            if own is not None:
                own.stop()

    def start_input_probe(self, input_name: str | None = None) -> Capture:
        """A microphone stream that only measures (for the settings meter): read ``level_dbfs``."""
        self.stop_input_probe()
        probe = Capture(input_name, self.capture_block_ms, None, self._loop, suspend_when_muted=False)
        probe.mute(True)
        probe.start()
        self._probe = probe
        return probe

    def stop_input_probe(self) -> None:
        if self._probe is not None:
            self._probe.stop()
            self._probe = None
