"""Devices that come and go, in the window: the Audio tab's lists stay current without Refresh, the
streams follow the person's choice (fall back to the system default when the device in use goes,
come back when it returns, follow the default when that is the choice), and a Bluetooth headset's
microphone is flagged before it ruins the sound.

The decisions are :class:`~desktop_app.audio.device_follow.DeviceFollower`'s and
:func:`~desktop_app.audio.bluetooth.call_profile_warning`'s; this part only applies them through
:class:`~desktop_app.ui.audio_control.AudioControl` and says them in the banner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop_app.audio import sound_server
from desktop_app.audio.bluetooth import call_profile_warning
from desktop_app.audio.device_follow import DeviceFollower, Move
from desktop_app.audio.device_watch import DeviceWatch
from desktop_app.audio.devices import DeviceInfo, Kind, find_device
from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger
from desktop_app.tasks import spawn
from desktop_app.ui.audio_control import AudioControl
from desktop_app.ui.widgets.devices_panel import DevicesPanel

if TYPE_CHECKING:
    from desktop_app.audio.device_stream import DeviceStream
    from desktop_app.settings.schema import Settings

log = get_logger("ui")

Notify = Callable[[str, str], None]
#: After moving a stream on the sound server: when to look again that it stayed there.
ROUTING_CHECKS_S = (0.2, 0.3, 0.5, 1.0, 2.0)


class DeviceSync(QObject):
    """Watches the devices for the window (``start``/``stop``); see the module docstring.

    ``settings()`` gives the current settings, ``notify(sentence, level)`` the banner."""

    def __init__(self, audio: AudioControl, panel: DevicesPanel, settings: Callable[[], Settings],
                 notify: Notify, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.audio = audio
        self.panel = panel
        self._settings = settings
        self._notify = notify
        self.followers: dict[Kind, DeviceFollower] = {"input": DeviceFollower("input"),
                                                      "output": DeviceFollower("output")}
        self._watch: DeviceWatch | None = None
        self.warned_bluetooth = ""
        self.moves: list[Move] = []  # what was done, newest last (tests, the log)
        self.lists = 0  # device lists read because something changed

    def start(self) -> None:
        if self.audio.engine is None:
            return
        self._watch = DeviceWatch(asyncio.get_running_loop(), self.changed)
        self._watch.start()

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None

    def _stream(self, kind: Kind) -> DeviceStream | None:
        engine = self.audio.engine
        if engine is None:
            return None
        return engine.capture if kind == "input" else engine.playback

    def changed(self, failed: Kind | None = None) -> None:
        """The devices changed (or the ``failed`` side's stream died): re-list and follow."""
        found: list[DeviceInfo] = self.audio.refresh(rescan=False, only_changes=True)
        self.lists += 1
        settings = self._settings()
        for kind in ("input", "output"):
            chosen = settings.input_device if kind == "input" else settings.output_device
            stream = self._stream(kind)
            in_use = stream.device if stream is not None and (stream.running or kind == failed) else None
            move = self.followers[kind].update(chosen, in_use, found, failed=kind == failed)
            if move is not None:
                self._apply(kind, move)
        self._check_bluetooth(found, settings.input_device)

    def device_failed(self, error: AudioDeviceError) -> None:
        """A stream died (unplugged): follow the choice if it can, else say the engine's sentence."""
        failed: Kind | None = None
        for kind in ("input", "output"):
            stream = self._stream(kind)
            if stream is not None and stream.error is error:
                failed = kind
        before = len(self.moves)
        if failed is not None:
            self.changed(failed)
        if len(self.moves) == before:
            self._notify(error.user_message, "warning")

    def _apply(self, kind: Kind, move: Move) -> None:
        log.info("= devices: %s → %s (%s): %s", kind, move.target or "the default",
                 "reopen" if move.reopen else "server", move.sentence)
        self.moves.append(move)
        ok = True
        if move.reopen:
            target = move.target or ""
            ok = self.audio.switch(input_name=target) if kind == "input" else self.audio.switch(output_name=target)
        elif move.server_name:
            sound_server.move_own_streams(kind, move.server_name)
            # The server's own policy may be linking the same stream as the device reappears and can
            # win the race (seen on PipeWire: the stream ended on the default); check, move again.
            spawn(self._keep_routed(kind, move.server_name), name="device routing check", logger=log)
        if ok and move.sentence:
            self._notify(move.sentence, move.level)

    async def _keep_routed(self, kind: Kind, server_name: str) -> None:
        for delay in ROUTING_CHECKS_S:
            await asyncio.sleep(delay)
            if self._watch is None:
                return
            streams = sound_server.own_streams(kind)
            if all(name == server_name for _index, name in streams):
                return
            log.info("= devices: our %s stream is not on %s yet; moving it again", kind, server_name)
            sound_server.move_own_streams(kind, server_name)

    def check_bluetooth(self) -> None:
        """Look again now (the person chose another microphone)."""
        if self.audio.engine is not None:
            self._check_bluetooth(self.audio.refresh(rescan=False, only_changes=True), self._settings().input_device)

    def _check_bluetooth(self, found: list[DeviceInfo], chosen: str) -> None:
        mic = find_device(chosen, "input", found) if chosen else None
        if mic is None:
            mic = next((d for d in found if d.is_default_input), None)
        warning = call_profile_warning(mic, found) if mic is not None else None
        if warning is None or mic is None:
            if self.warned_bluetooth:
                self.warned_bluetooth = ""
                self.panel.offer_alternative("")
            return
        sentence, other = warning
        self.panel.offer_alternative(sentence, other.name if other else "", other.stable_id if other else "")
        if self.warned_bluetooth != mic.stable_id:  # once per headset, not at every device event
            self.warned_bluetooth = mic.stable_id
            self._notify(sentence, "warning")
