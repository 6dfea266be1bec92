"""The window's actions that open dialogs: the endpoint editor, the audio mode and room tuning.

:class:`DialogActions` is a part the window owns (``window.dialogs``): it is given the window and
uses only its public members (session, audio, panels, ``choose_profile``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop_app.ui.dialogs.endpoint_dialog import EndpointDialog

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow


class DialogActions:
    """Endpoint editor, audio mode and the calibration wizard, for one window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.session = window.session
        self.audio = window.audio
        self.endpoint_dialog: EndpointDialog | None = None

    def open_endpoint_dialog(self) -> EndpointDialog:
        dialog = EndpointDialog(self.session.store, self.window)
        dialog.accepted.connect(lambda: self.window.choose_profile(self.session.store.settings.active_profile))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.endpoint_dialog = dialog
        return dialog

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
        box.buttonClicked.connect(lambda button: button is yes and self.session.clear_conversation())
        box.open()
        self.clear_box = box
        return box
