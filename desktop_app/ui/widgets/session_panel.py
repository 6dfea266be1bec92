"""Session settings: model (any id, its price or "price unknown", a refreshable list), voice (with a
preview when the offline demo can speak it), instructions, input transcription and its options,
reasoning effort, noise reduction, speaking speed, images for the conversation, audio format and the
push-to-talk key.

When each change applies follows the lock rules (``realtime.session_locks``): the voice is fixed once
the assistant has spoken (the picker is then disabled with a sentence saying so); a speed change waits
for the end of the answer being spoken; model, transcription and format take effect on the next
connection; reasoning effort and noise reduction apply at once. The page scrolls: it is longer than
the side panel is tall.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QFrame, QHBoxLayout, QKeySequenceEdit, QPlainTextEdit, QPushButton, QScrollArea,
    QVBoxLayout, QWidget,
)

from desktop_app.controller.states import Conn, Turn
from desktop_app.controller.view_state import ViewState
from desktop_app.realtime.session_config import FORMAT_TYPES, VOICES
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.parts import panel_column, settings_form, text_label, tool_button
from desktop_app.ui.widgets import dialect_notes
from desktop_app.ui.widgets.session_options import TRANSCRIPTION_TIP, AnswerOptions, ModelPicker, TranscriptionPicker

FORMAT_LABELS = {"audio/pcm": "PCM 16-bit, 24 kHz", "audio/pcmu": "G.711 µ-law", "audio/pcma": "G.711 A-law"}
DEMO_INSTRUCTIONS = ("The offline demo follows only simple instructions such as “be brief” or “answer in one "
                     "sentence”; everything else takes effect with OpenAI and other endpoints.")
VOICE_LOCKED = "The voice is fixed once the assistant has spoken; a new voice applies to the next conversation."
NEXT_CONNECTION = "Model, transcription and audio format apply when you next connect."
IMAGE_HINT = "Paste (Ctrl+V) or drop a picture on the conversation, or use a button; you see it before it is sent."


class SessionPanel(QWidget):
    """Signals carry the chosen value: ``model_chosen``, ``models_refresh_requested``, ``voice_chosen``,
    ``preview_requested``, ``instructions_applied``, ``transcription_chosen``,
    ``transcription_options_chosen`` (a dict of setting names), ``reasoning_chosen``,
    ``noise_reduction_chosen``, ``speed_chosen``, ``format_chosen``, ``ptt_key_chosen``, and
    ``image_paste_requested`` / ``image_file_requested`` / ``screenshot_requested``."""

    model_chosen = Signal(str)
    models_refresh_requested = Signal()
    voice_chosen = Signal(str)
    preview_requested = Signal(str)
    instructions_applied = Signal(str)
    transcription_chosen = Signal(str)
    transcription_options_chosen = Signal(dict)
    reasoning_chosen = Signal(object)  # str | None (None: the model's default)
    noise_reduction_chosen = Signal(object)  # str | None (None: off)
    speed_chosen = Signal(float)
    format_chosen = Signal(str)
    ptt_key_chosen = Signal(str)
    image_paste_requested = Signal()
    image_file_requested = Signal()
    screenshot_requested = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._instructions = ""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fields shrink instead
        page = QWidget(scroll)
        scroll.setWidget(page)
        outer.addWidget(scroll)
        column = panel_column(page)
        form = settings_form()

        self.model_picker = ModelPicker(theme, page)
        self.model = self.model_picker.combo
        self.model_picker.model_chosen.connect(self._model_chosen)
        self.model_picker.refresh_requested.connect(self.models_refresh_requested.emit)
        form.addRow("Model", self.model_picker)
        form.addRow("", self.model_picker.price)

        voice_row = QHBoxLayout()
        self.voice = QComboBox(page)
        self.voice.addItems(list(VOICES))
        self.voice.setAccessibleName("Voice")
        self.voice.activated.connect(lambda _i: self.voice_chosen.emit(self.voice.currentText()))
        self.preview = tool_button(page, "play", theme.text, "Hear this voice (offline demo)", name="Preview voice")
        self.preview.clicked.connect(lambda: self.preview_requested.emit(self.voice.currentText()))
        voice_row.addWidget(self.voice, 1)
        voice_row.addWidget(self.preview)
        form.addRow("Voice", voice_row)
        self.voice_note = text_label(VOICE_LOCKED, page, "hint", wrap=True)
        self.voice_note.hide()
        form.addRow("", self.voice_note)

        self.audio_format = QComboBox(page)
        for value in FORMAT_TYPES:
            self.audio_format.addItem(FORMAT_LABELS.get(value, value), value)
        self.audio_format.setAccessibleName("Audio format")
        self.audio_format.setToolTip("Audio encoding on the wire; G.711 uses less bandwidth at phone quality")
        self.audio_format.activated.connect(lambda _i: self.format_chosen.emit(self.audio_format.currentData()))
        form.addRow("Audio format", self.audio_format)

        self.ptt_key = QKeySequenceEdit(page)
        self.ptt_key.setMaximumSequenceLength(1)
        self.ptt_key.setAccessibleName("Push-to-talk key")
        self.ptt_key.setToolTip("The key to hold while speaking in push-to-talk mode")
        self.ptt_key.editingFinished.connect(self._key_done)
        form.addRow("Talk key", self.ptt_key)
        column.addLayout(form)
        self.next_note = text_label(NEXT_CONNECTION, page, "hint", wrap=True)
        self.next_note.hide()
        column.addWidget(self.next_note)

        column.addWidget(text_label("ANSWERS", page, "section"))
        self.answers = AnswerOptions(theme, page)
        self.answers.reasoning_chosen.connect(self.reasoning_chosen.emit)
        self.answers.noise_reduction_chosen.connect(self.noise_reduction_chosen.emit)
        self.answers.speed_chosen.connect(self.speed_chosen.emit)
        column.addWidget(self.answers)

        column.addWidget(text_label("YOUR TRANSCRIPT", page, "section"))
        self.transcription_picker = TranscriptionPicker(theme, page)
        self.transcription = self.transcription_picker.combo
        self.transcription_picker.transcription_chosen.connect(self.transcription_chosen.emit)
        self.transcription_picker.options_chosen.connect(self.transcription_options_chosen.emit)
        column.addWidget(self.transcription_picker)

        column.addWidget(text_label("IMAGES", page, "section"))
        image_row = QHBoxLayout()
        self.paste_image = QPushButton("Paste", page)
        self.paste_image.setToolTip("Send the picture on the clipboard (you see it first)")
        self.paste_image.clicked.connect(self.image_paste_requested.emit)
        self.file_image = QPushButton("File…", page)
        self.file_image.setToolTip("Send an image file (PNG, JPEG …)")
        self.file_image.clicked.connect(self.image_file_requested.emit)
        self.screenshot = QPushButton("Screenshot…", page)
        self.screenshot.setToolTip("Capture a region or a window of your screen and send it")
        self.screenshot.clicked.connect(self.screenshot_requested.emit)
        for button in (self.paste_image, self.file_image, self.screenshot):
            image_row.addWidget(button)
        column.addLayout(image_row)
        self.images_note = text_label("", page, "hint", wrap=True)  # a protocol that takes no pictures says so
        self.images_note.setVisible(False)
        column.addWidget(self.images_note)
        self.image_note = text_label(IMAGE_HINT, page, "hint", wrap=True)
        column.addWidget(self.image_note)

        column.addWidget(text_label("INSTRUCTIONS", page, "section"))
        self.instructions = QPlainTextEdit(page)
        self.instructions.setAccessibleName("Instructions")
        self.instructions.setPlaceholderText("How the assistant should behave…")
        self.instructions.setMinimumHeight(110)
        self.instructions.textChanged.connect(self._instructions_edited)
        column.addWidget(self.instructions, 1)
        self.demo_note = text_label(DEMO_INSTRUCTIONS, page, "hint", wrap=True)
        self.demo_note.hide()
        column.addWidget(self.demo_note)
        apply_row = QHBoxLayout()
        apply_row.addStretch(1)
        self.apply_instructions = QPushButton("Apply instructions", page)
        self.apply_instructions.setEnabled(False)
        self.apply_instructions.clicked.connect(
            lambda: self.instructions_applied.emit(self.instructions.toPlainText()))
        apply_row.addWidget(self.apply_instructions)
        column.addLayout(apply_row)
        self.set_preview_available(False)
        self.set_images_available(False)
        for combo in page.findChildren(QComboBox):  # long ids must not widen the side panel
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        _align_labels(form, self.answers.form, self.transcription_picker.form)

    def set_settings(self, settings: Any) -> None:  # desktop_app.settings.schema.Settings
        self.model_picker.set_model(settings.model)
        self.voice.setCurrentText(settings.voice)
        self.transcription_picker.set_settings(settings)
        self.answers.set_settings(settings)
        self.audio_format.setCurrentIndex(max(0, self.audio_format.findData(settings.input_audio_format)))
        self.ptt_key.setKeySequence(QKeySequence(settings.ptt_key))
        self._set_instructions(settings.instructions)

    def set_model_choices(self, realtime: Sequence[str], transcription: Sequence[str]) -> None:
        """The lists after a refresh (``ModelList.realtime_choices()`` / ``transcription_choices()``)."""
        self.model_picker.set_choices(realtime)
        self.transcription_picker.set_choices(transcription)

    def set_demo(self, demo: bool) -> None:
        """The offline demo is the endpoint: say what it does with custom instructions."""
        self.demo_note.setVisible(demo)

    def set_preview_available(self, available: bool) -> None:
        if self.preview.toolTip() and self.preview.isEnabled() == available:
            return
        self.preview.setEnabled(available)
        self.preview.setToolTip("Hear this voice (offline demo)" if available
                                else "A voice preview needs the offline demo's speech synthesiser")

    def set_images_available(self, available: bool) -> None:
        """Images go into a conversation: the buttons work while connected."""
        for button in (self.paste_image, self.file_image, self.screenshot):
            button.setEnabled(available)

    def show_view(self, view: ViewState) -> None:
        if self.voice.currentText() != view.voice and view.voice:
            self.voice.setCurrentText(view.voice)
        self.voice.setEnabled(not view.voice_locked)
        self.voice.setToolTip(VOICE_LOCKED if view.voice_locked else "The assistant's voice")
        self.voice_note.setVisible(view.voice_locked)
        connected = view.connection is Conn.CONNECTED
        if view.model and self.model.currentText() != view.model and connected:
            self.model_picker.set_model(view.model)
        self.next_note.setVisible(connected)
        self.set_images_available(connected and view.traits.images)
        pictures = dialect_notes.images(view.traits)
        self.images_note.setText(pictures or "")
        self.images_note.setVisible(pictures is not None)
        self.answers.set_dialect_note(dialect_notes.answer_options(view.traits))
        self.transcription.setToolTip(dialect_notes.transcription(view.traits) or TRANSCRIPTION_TIP)
        self.answers.set_answering(view.turn is Turn.ASSISTANT_SPEAKING or view.assistant_speaking)
        if view.instructions != self._instructions and not self.instructions.hasFocus():
            self._set_instructions(view.instructions)

    def _model_chosen(self, model_id: str) -> None:
        self.answers.set_model(model_id)
        self.model_chosen.emit(model_id)

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


def _align_labels(*forms: QFormLayout) -> None:
    """One label column for the page's several forms, so their fields line up."""
    labels: list[QWidget] = []
    for form in forms:
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            label = item.widget() if item is not None else None
            if label is not None:
                labels.append(label)
    width = max((label.sizeHint().width() for label in labels), default=0)
    for label in labels:
        label.setMinimumWidth(width)
