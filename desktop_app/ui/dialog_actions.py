"""The window's actions that open dialogs for endpoints and room tuning (a mixin of MainWindow)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop_app.ui.dialogs.endpoint_dialog import EndpointDialog


class DialogActions:
    """Endpoint editor, audio mode and the calibration wizard; needs MainWindow's session and audio."""

    def open_endpoint_dialog(self) -> EndpointDialog:
        dialog = EndpointDialog(self.session.store, self)
        dialog.accepted.connect(lambda: self._choose_profile(self.session.store.settings.active_profile))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.endpoint_dialog = dialog
        return dialog

    def _choose_audio_mode(self, mode: str) -> None:
        engine = self.audio.engine
        effective = engine.set_audio_mode(mode) if engine is not None else mode
        self.session.save_settings(audio_mode=mode)
        self.devices_panel.set_audio_mode(effective, engine.aec_available if engine is not None else True)

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
        # The wizard's sentence and tones must not reach the assistant, nor its answers the room.
        self.session.suspend("room calibration", True)
        dialog.finished.connect(lambda _result: self.session.suspend("room calibration", False))
        dialog.open()

    def _apply_calibration(self, proposal) -> None:
        self._choose_audio_mode(proposal.audio_mode)
        self.session.save_settings(vad_threshold=proposal.vad_threshold,
                                   vad_silence_duration_ms=proposal.silence_duration_ms)
        self.session.apply_calibration(threshold=proposal.vad_threshold,
                                       silence_duration_ms=proposal.silence_duration_ms)

