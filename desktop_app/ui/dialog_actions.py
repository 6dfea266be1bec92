"""The window's endpoint choice and the actions that open dialogs: endpoints, room tuning, the shortcuts
sheet (a mixin of MainWindow)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from desktop_app.log import get_logger
from desktop_app.settings.profiles import LocalProfile
from desktop_app.ui.audio_control import AudioControl
from desktop_app.ui.dialogs.endpoint_dialog import EndpointDialog
from desktop_app.ui.dialogs.shortcuts_sheet import ShortcutsSheet
from desktop_app.ui.keyboard import PushToTalkKey
from desktop_app.ui.notices import CONNECTION, NoticeKeeper
from desktop_app.ui.session import ConversationSession
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.devices_panel import DevicesPanel

log = get_logger("ui")


class DialogActions(QMainWindow):
    """Endpoint editor, audio mode and the calibration wizard; needs MainWindow's session and audio."""

    # The window's parts and methods (annotations only: a mixin must not shadow them).
    session: ConversationSession
    theme: Theme
    audio: AudioControl
    devices_panel: DevicesPanel
    notices: NoticeKeeper
    ptt_key: PushToTalkKey
    run: Callable[[Coroutine[Any, Any, Any]], asyncio.Future]
    _show_settings: Callable[[], None]
    show_first_run: Callable[[bool], None]

    def _choose_profile(self, name: str) -> None:
        if self.session.live and name != self.session.store.settings.active_profile:
            self.run(self._switch_live(name))  # the menu stays usable while connected: it moves there
            return
        self.session.choose_profile(name)
        self.notices.resolve(CONNECTION)  # another endpoint: the last one's failure is not its problem
        self._show_settings()
        self.show_first_run(self.session.needs_key() and not isinstance(self.session.profile, LocalProfile))

    async def _switch_live(self, name: str) -> None:
        """End this conversation and connect to endpoint ``name`` (when it can connect without asking)."""
        log.info("= switching endpoint to %s while connected", name)
        self.ptt_key.release()
        await self.session.disconnect()
        self._choose_profile(name)
        if not self.session.needs_key():
            await self.session.connect()

    def open_endpoint_dialog(self) -> EndpointDialog:
        dialog = EndpointDialog(self.session.store, self)
        dialog.accepted.connect(lambda: self._choose_profile(self.session.store.settings.active_profile))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.endpoint_dialog = dialog
        return dialog

    def open_shortcuts(self) -> ShortcutsSheet:
        """The keyboard shortcuts sheet (F1 or ?), for the talk key chosen now."""
        sheet = ShortcutsSheet(self.theme, self.session.store.settings.ptt_key, self)
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.open()
        self.shortcuts_sheet = sheet
        return sheet

    def _choose_audio_mode(self, mode: str) -> None:
        engine = self.audio.engine
        effective = engine.set_audio_mode(mode) if engine is not None else mode
        self.session.save_settings(audio_mode=mode)
        self.devices_panel.set_audio_mode(effective, getattr(engine, "aec_available", True))

    def open_calibration(self) -> None:
        """"Tune for this room": measure, propose, and apply on confirmation."""
        from desktop_app.ui.dialogs.calibration_wizard import CalibrationWizard

        if self.audio.engine is None:
            self.session.notify("Tuning needs a microphone and a speaker, and none was found.", "warning", "audio")
            return
        settings = self.session.store.settings
        dialog = CalibrationWizard(self.audio.engine, settings.input_device or None,
                                   settings.output_device or None, self)
        dialog.applied.connect(self._apply_calibration)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _apply_calibration(self, proposal) -> None:
        self._choose_audio_mode(proposal.audio_mode)
        self.session.save_settings(vad_threshold=proposal.vad_threshold,
                                   vad_silence_duration_ms=proposal.silence_duration_ms)
        self.session.controller.update_vad(threshold=proposal.vad_threshold,
                                           silence_duration_ms=proposal.silence_duration_ms)

