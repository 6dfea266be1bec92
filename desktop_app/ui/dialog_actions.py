"""The window's endpoint choice and the actions that open dialogs: endpoints, room tuning, the shortcuts
sheet, a new conversation.

:class:`DialogActions` is a part the window owns (``window.dialogs``): it is given the window and
uses its public members (session, audio, panels, notices, ``run``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop_app.controller.states import Conn
from desktop_app.log import get_logger
from desktop_app.settings.profiles import LocalProfile
from desktop_app.ui.dialogs.endpoint_dialog import EndpointDialog
from desktop_app.ui.dialogs.key_dialog import KeyDialog
from desktop_app.ui.dialogs.shortcuts_sheet import ShortcutsSheet
from desktop_app.ui.notices import CONNECTION

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

log = get_logger("ui")


class DialogActions:
    """Endpoint choice and editor, audio mode, room tuning, shortcuts, new conversation — for one window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.session = window.session
        self.audio = window.audio
        self.endpoint_dialog: EndpointDialog | None = None
        self.shortcuts_sheet: ShortcutsSheet | None = None
        self.clear_box: QMessageBox | None = None
        self.key_dialog: KeyDialog | None = None

    # --- the endpoint ---------------------------------------------------------------------------
    def choose_profile(self, name: str) -> None:
        window = self.window
        if self.session.live and name != self.session.store.settings.active_profile:
            window.run(self._switch_live(name))  # the menu stays usable while connected: it moves there
            return
        self.session.choose_profile(name)
        window.notices.resolve(CONNECTION)  # another endpoint: the last one's failure is not its problem
        window.show_settings()
        window.show_first_run(self.session.needs_key() and not isinstance(self.session.profile, LocalProfile))

    async def _switch_live(self, name: str) -> None:
        """End this conversation and connect to endpoint ``name`` (when it can connect without asking)."""
        log.info("= switching endpoint to %s while connected", name)
        self.window.ptt_key.release()
        await self.session.close_conversation()
        self.choose_profile(name)
        if not self.session.needs_key():
            await self.session.open_conversation()

    def open_endpoint_dialog(self) -> EndpointDialog:
        dialog = EndpointDialog(self.session.store, self.window)
        dialog.accepted.connect(lambda: self.choose_profile(self.session.store.settings.active_profile))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.endpoint_dialog = dialog
        return dialog

    def open_shortcuts(self) -> ShortcutsSheet:
        """The keyboard shortcuts sheet (F1 or ?), for the talk key chosen now."""
        sheet = ShortcutsSheet(self.window.theme, self.session.store.settings.ptt_key, self.window)
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.open()
        self.shortcuts_sheet = sheet
        return sheet

    def open_key_dialog(self) -> KeyDialog:
        profile = self.session.profile
        dialog = KeyDialog(self.window.theme, self.session.keys, profile, self.session.test_key, self.window)
        dialog.key_changed.connect(self._key_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.key_dialog = dialog
        return dialog

    def _key_changed(self, _profile: str) -> None:
        has_key = not self.session.needs_key()
        self.window.show_first_run(not has_key and not isinstance(self.session.profile, LocalProfile))
        if has_key and self.session.view.connection not in (Conn.CONNECTING, Conn.CONNECTED, Conn.RECONNECTING):
            self.session.dismiss_notice()
            self.window.run(self.session.open_conversation())

    # --- audio ----------------------------------------------------------------------------------
    def choose_audio_mode(self, mode: str) -> None:
        engine = self.audio.engine
        effective = engine.set_audio_mode(mode) if engine is not None else mode
        self.session.save_settings(audio_mode=mode)
        self.window.devices_panel.set_audio_mode(effective, engine.aec_available if engine is not None else True)

    def open_calibration(self) -> None:
        """"Tune for this room": measure, propose, and apply on confirmation."""
        from desktop_app.ui.dialogs.calibration_wizard import CalibrationWizard

        if self.audio.engine is None:
            self.session.notify("Tuning needs a microphone and a speaker, and none was found.", "warning", "audio")
            return
        settings = self.session.store.settings
        dialog = CalibrationWizard(self.audio.engine, settings.input_device or None,
                                   settings.output_device or None, self.window)
        dialog.applied.connect(self._apply_calibration)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # The wizard's sentence and tones must not reach the assistant, nor its answers the room.
        self.session.suspend("room calibration", True)
        dialog.finished.connect(lambda _result: self.session.suspend("room calibration", False))
        dialog.open()

    def _apply_calibration(self, proposal: Any) -> None:
        self.choose_audio_mode(proposal.audio_mode)
        self.session.save_settings(vad_threshold=proposal.vad_threshold,
                                   vad_silence_duration_ms=proposal.silence_duration_ms)
        self.session.apply_calibration(threshold=proposal.vad_threshold,
                                       silence_duration_ms=proposal.silence_duration_ms)

    # --- the conversation -----------------------------------------------------------------------
    def ask_new_conversation(self) -> QMessageBox:
        """The trash button: confirm, then start a new conversation (nothing said so far is sent
        to the model again). Non-modal, so the conversation keeps running while it is open."""
        box = QMessageBox(QMessageBox.Icon.Question, "New conversation",
                          "Start a new conversation? The assistant forgets what was said so far.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self.window)
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText("New conversation")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        def clicked(button: object) -> None:
            if button is yes:
                self.session.clear_conversation()

        box.buttonClicked.connect(clicked)
        box.open()
        self.clear_box = box
        return box
