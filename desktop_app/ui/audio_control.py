"""The Audio tab's actions on the engine: list and refresh devices, switch them while talking, the
microphone test meter and the speaker test tone. Failures come back as one sentence each.

Without an engine (PortAudio missing) every action reports that there is no audio, and the device
lists are empty.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger
from desktop_app.tasks import spawn
from desktop_app.ui.audio_guard import NO_DEVICES

if TYPE_CHECKING:  # importing the engine loads PortAudio, which may be missing: typing only
    from desktop_app.audio.capture import Capture
    from desktop_app.audio.engine import AudioEngine

log = get_logger("ui")

PROBE_INTERVAL_MS = 50


def device_choices(found: list, kind: str) -> list[tuple[str, str]]:
    """``(label, stable id)`` for the devices of ``kind`` (``input``/``output``), defaults marked."""
    choices = []
    for device in found:
        if not device.has(kind):
            continue
        default = device.is_default_input if kind == "input" else device.is_default_output
        label = f"{device.name} ({device.hostapi})" + (" — default" if default else "")
        choices.append((label, device.stable_id))
    return choices


class AudioControl(QObject):
    """Signals: ``devices_changed(inputs, outputs)`` as ``(label, id)`` lists; ``probe_level(dbfs)``."""

    devices_changed = Signal(list, list)
    probe_level = Signal(float)

    def __init__(self, engine: AudioEngine | None, notify: Callable[[str], None],
                 suspend: Callable[[str, bool], None] = lambda reason, on: None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self._notify = notify
        self._suspend = suspend  # the microphone test must not talk to the assistant
        self._probe: Capture | None = None
        self._probe_timer = QTimer(self)
        self._probe_timer.setInterval(PROBE_INTERVAL_MS)
        self._probe_timer.timeout.connect(self._read_probe)
        self._tone: asyncio.Task[None] | None = None
        self.inputs: list[tuple[str, str]] = []
        self.outputs: list[tuple[str, str]] = []

    def refresh(self, rescan: bool = True, only_changes: bool = False) -> list:
        """Re-read the device list (``rescan`` re-initialises PortAudio for hot-plugged devices);
        returns the devices found. ``only_changes``: tell ``devices_changed`` only if the lists differ
        (the device watcher: an open picker is not rebuilt for nothing)."""
        if self.engine is None:
            found = []
        else:
            try:
                if rescan:
                    found = self.engine.refresh_devices()
                else:
                    from desktop_app.audio import devices

                    found = devices.list_devices(refresh=False)
            except (AudioDeviceError, OSError) as exc:
                log.warning("! device list: %r", exc)
                self._notify(exc.user_message if isinstance(exc, AudioDeviceError)
                             else "The audio devices could not be listed.")
                found = []
        inputs, outputs = device_choices(found, "input"), device_choices(found, "output")
        if not only_changes or (inputs, outputs) != (self.inputs, self.outputs):
            self.inputs, self.outputs = inputs, outputs
            self.devices_changed.emit(self.inputs, self.outputs)
        return found

    def switch(self, *, input_name: str | None = None, output_name: str | None = None) -> bool:
        """Move a running conversation to another device; False (and a notice) when it failed."""
        if self.engine is None or (self.engine.capture is None and self.engine.playback is None):
            return True  # nothing open: the choice applies at the next start
        from desktop_app.audio.engine import KEEP

        try:
            self.engine.switch_devices(KEEP if input_name is None else (input_name or None),
                                       KEEP if output_name is None else (output_name or None))
        except AudioDeviceError as exc:
            self._notify(exc.user_message)
            return False
        return True

    def set_probe(self, on: bool, input_name: str) -> None:
        """Start or stop the microphone test meter."""
        if self.engine is None:
            if on:
                self._notify(NO_DEVICES)
            return
        if on:
            self._suspend("microphone test", True)
            try:
                self._probe = self.engine.start_input_probe(input_name or None)
            except AudioDeviceError as exc:
                self._suspend("microphone test", False)
                self._notify(exc.user_message)
                return
            self._probe_timer.start()
        else:
            self._probe_timer.stop()
            self.engine.stop_input_probe()
            self._probe = None
            self._suspend("microphone test", False)
            self.probe_level.emit(-120.0)

    def _read_probe(self) -> None:
        if self._probe is not None:
            self.probe_level.emit(self._probe.level_dbfs)

    def play_tone(self, output_name: str) -> None:
        if self.engine is None:
            self._notify(NO_DEVICES)
            return
        if self._tone is not None and not self._tone.done():
            return
        self._tone = spawn(self._play(output_name or None), name="test tone")

    async def _play(self, output_name: str | None) -> None:
        if self.engine is None:
            return
        try:
            await self.engine.test_tone(output_name)
        except (AudioDeviceError, asyncio.TimeoutError) as exc:
            self._notify(exc.user_message if isinstance(exc, AudioDeviceError)
                         else "The test tone did not finish playing; check the speaker.")

    async def play_clip(self, pcm16: bytes, output_name: str) -> None:
        """Play a short PCM16 24 kHz clip (a voice preview) to its end."""
        if self.engine is None:
            self._notify(NO_DEVICES)
            return
        try:
            await self.engine.play_clip(pcm16, output_name or None)
        except (AudioDeviceError, asyncio.TimeoutError) as exc:
            self._notify(exc.user_message if isinstance(exc, AudioDeviceError)
                         else "The preview did not finish playing; check the speaker.")

    def stop(self) -> None:
        self._probe_timer.stop()
        if self._tone is not None and not self._tone.done():
            self._tone.cancel()
        if self.engine is not None and self._probe is not None:
            self.engine.stop_input_probe()
            self._probe = None
            self._suspend("microphone test", False)
