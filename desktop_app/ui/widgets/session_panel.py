"""Session settings: model, voice (with a preview when the offline demo can speak it), instructions,
input transcription model, audio format and the push-to-talk key.

The voice is fixed by the server once the assistant has spoken; the picker is then disabled with a
sentence saying so. Model, transcription and format take effect on the next connection.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QKeySequenceEdit, QPlainTextEdit, QPushButton, QWidget

from desktop_app.controller.states import Conn
from desktop_app.controller.view_state import ViewState
from desktop_app.realtime.session_config import FORMAT_TYPES, VOICES
from desktop_app.settings.schema import MODEL_CHOICES, TRANSCRIPTION_CHOICES
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.parts import panel_column, settings_form, text_label, tool_button

FORMAT_LABELS = {"audio/pcm": "PCM 16-bit, 24 kHz", "audio/pcmu": "G.711 µ-law", "audio/pcma": "G.711 A-law"}
DEMO_INSTRUCTIONS = ("The offline demo follows only simple instructions such as “be brief” or “answer in one "
                     "sentence”; everything else takes effect with OpenAI and other endpoints.")
VOICE_LOCKED = "The voice is fixed once the assistant has spoken; a new voice applies to the next conversation."


class SessionPanel(QWidget):
    """Signals carry the chosen value: ``model_chosen``, ``voice_chosen``, ``preview_requested``,
    ``instructions_applied``, ``transcription_chosen``, ``format_chosen``, ``ptt_key_chosen``."""

    model_chosen = Signal(str)
    voice_chosen = Signal(str)
    preview_requested = Signal(str)
    instructions_applied = Signal(str)
    transcription_chosen = Signal(str)
    format_chosen = Signal(str)
    ptt_key_chosen = Signal(str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._instructions = ""
        column = panel_column(self)
        form = settings_form()

        self.model = QComboBox(self)
        self.model.addItems(list(MODEL_CHOICES))
        self.model.setAccessibleName("Model")
        self.model.activated.connect(lambda _i: self.model_chosen.emit(self.model.currentText()))
        form.addRow("Model", self.model)

        voice_row = QHBoxLayout()
        self.voice = QComboBox(self)
        self.voice.addItems(list(VOICES))
        self.voice.setAccessibleName("Voice")
        self.voice.activated.connect(lambda _i: self.voice_chosen.emit(self.voice.currentText()))
        self.preview = tool_button(self, "play", theme.text, "Hear this voice (offline demo)", name="Preview voice")
        self.preview.clicked.connect(lambda: self.preview_requested.emit(self.voice.currentText()))
        voice_row.addWidget(self.voice, 1)
        voice_row.addWidget(self.preview)
        form.addRow("Voice", voice_row)
        self.voice_note = text_label(VOICE_LOCKED, self, "hint", wrap=True)
        self.voice_note.hide()
        form.addRow("", self.voice_note)

        self.transcription = QComboBox(self)
        self.transcription.addItems(list(TRANSCRIPTION_CHOICES))
        self.transcription.setAccessibleName("Transcription model")
        self.transcription.setToolTip("The model that writes down what you say (off: no user transcript)")
        self.transcription.activated.connect(
            lambda _i: self.transcription_chosen.emit(self.transcription.currentText()))
        form.addRow("Transcription", self.transcription)

        self.audio_format = QComboBox(self)
        for value in FORMAT_TYPES:
            self.audio_format.addItem(FORMAT_LABELS.get(value, value), value)
        self.audio_format.setAccessibleName("Audio format")
        self.audio_format.setToolTip("Audio encoding on the wire; G.711 uses less bandwidth at phone quality")
        self.audio_format.activated.connect(lambda _i: self.format_chosen.emit(self.audio_format.currentData()))
        form.addRow("Audio format", self.audio_format)

        self.ptt_key = QKeySequenceEdit(self)
        self.ptt_key.setMaximumSequenceLength(1)
        self.ptt_key.setAccessibleName("Push-to-talk key")
        self.ptt_key.setToolTip("The key to hold while speaking in push-to-talk mode")
        self.ptt_key.editingFinished.connect(self._key_done)
        form.addRow("Talk key", self.ptt_key)
        column.addLayout(form)
        self.next_note = text_label("Model, transcription and audio format apply when you next connect.", self,
                                    "hint", wrap=True)
        self.next_note.hide()
        column.addWidget(self.next_note)

        column.addWidget(text_label("INSTRUCTIONS", self, "section"))
        self.instructions = QPlainTextEdit(self)
        self.instructions.setAccessibleName("Instructions")
        self.instructions.setPlaceholderText("How the assistant should behave…")
        self.instructions.setMinimumHeight(110)
        self.instructions.textChanged.connect(self._instructions_edited)
        column.addWidget(self.instructions, 1)
        self.demo_note = text_label(DEMO_INSTRUCTIONS, self, "hint", wrap=True)
        self.demo_note.hide()
        column.addWidget(self.demo_note)
        apply_row = QHBoxLayout()
        apply_row.addStretch(1)
        self.apply_instructions = QPushButton("Apply instructions", self)
        self.apply_instructions.setEnabled(False)
        self.apply_instructions.clicked.connect(
            lambda: self.instructions_applied.emit(self.instructions.toPlainText()))
        apply_row.addWidget(self.apply_instructions)
        column.addLayout(apply_row)
        self.set_preview_available(False)

    def set_settings(self, settings) -> None:  # noqa: ANN001 — desktop_app.settings.schema.Settings
        for combo, value in ((self.model, settings.model), (self.voice, settings.voice),
                             (self.transcription, settings.input_transcription_model)):
            combo.setCurrentText(value)
        self.audio_format.setCurrentIndex(max(0, self.audio_format.findData(settings.input_audio_format)))
        self.ptt_key.setKeySequence(QKeySequence(settings.ptt_key))
        self._set_instructions(settings.instructions)

    def set_demo(self, demo: bool) -> None:
        """The offline demo is the endpoint: say what it does with custom instructions."""
        self.demo_note.setVisible(demo)

    def set_preview_available(self, available: bool) -> None:
        if self.preview.toolTip() and self.preview.isEnabled() == available:
            return
        self.preview.setEnabled(available)
        self.preview.setToolTip("Hear this voice (offline demo)" if available
                                else "A voice preview needs the offline demo's speech synthesiser")

    def show_view(self, view: ViewState) -> None:
        if self.voice.currentText() != view.voice and view.voice:
            self.voice.setCurrentText(view.voice)
        self.voice.setEnabled(not view.voice_locked)
        self.voice.setToolTip(VOICE_LOCKED if view.voice_locked else "The assistant's voice")
        self.voice_note.setVisible(view.voice_locked)
        if view.model and self.model.currentText() != view.model and view.connection is Conn.CONNECTED:
            self.model.setCurrentText(view.model)
        self.next_note.setVisible(view.connection is Conn.CONNECTED)
        if view.instructions != self._instructions and not self.instructions.hasFocus():
            self._set_instructions(view.instructions)

    def _set_instructions(self, text: str) -> None:
        self._instructions = text
        self.instructions.blockSignals(True)
        self.instructions.setPlainText(text)
        self.instructions.blockSignals(False)
        self.apply_instructions.setEnabled(False)

    def _instructions_edited(self) -> None:
        self.apply_instructions.setEnabled(self.instructions.toPlainText() != self._instructions)

    def _key_done(self) -> None:
        sequence = self.ptt_key.keySequence()
        if not sequence.isEmpty():
            self.ptt_key_chosen.emit(sequence.toString())
