"""The Session tab's issue #20 controls, each a small widget the :class:`SessionPanel` lays out:

* :class:`ModelPicker` — any model id (typed or from the refreshed list), its label and price or
  "price unknown", and a refresh button;
* :class:`TranscriptionPicker` — the ASR model (retiring ones carry their shutdown date) and the
  options the chosen model takes: languages and keywords (gpt-transcribe / gpt-live-transcribe),
  delay (gpt-realtime-whisper);
* :class:`AnswerOptions` — reasoning effort (only for models that take it), noise reduction and
  speaking speed, with the lock rule of each said where it matters.

They emit what the user chose and never write settings themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QSlider, QWidget

from desktop_app.realtime.models import (
    DEFAULT_TRANSCRIPTION_MODEL,
    is_valid_model_id,
    model_label,
    price_summary,
    takes_reasoning,
    transcription_label,
    transcription_options,
    transcription_shutdown,
)
from desktop_app.realtime.session_config import NOISE_REDUCTION, REASONING_EFFORTS, FieldLock, lock_of
from desktop_app.realtime.transcription import LANGUAGE_CODE, TRANSCRIPTION_DELAYS
from desktop_app.settings.schema import MODEL_CHOICES, OFF, TRANSCRIPTION_CHOICES
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.parts import settings_form, text_label, tool_button

NOISE_LABELS = {None: "Off", "near_field": "Near field (headset)", "far_field": "Far field (laptop, room)"}
SPEED_STEPS = 0.05
SPEED_SETTLE_MS = 250
SPEED_HELD = "The new speed applies from the next answer."


TRANSCRIPTION_TIP = "The model that writes down what you say (off: no user transcript)"

def _words(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


class ModelPicker(QWidget):
    """Editable model box: pick a listed id or type any id. ``model_chosen(id)``, ``refresh_requested()``."""

    model_chosen = Signal(str)
    refresh_requested = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setAccessibleName("Model")
        self.combo.setToolTip("A listed model, or type any model id (a new model's price is unknown)")
        self.combo.activated.connect(lambda _i: self._chosen(self.combo.currentText()))
        line = self.combo.lineEdit()
        assert line is not None  # an editable combo always has one
        line.editingFinished.connect(lambda: self._chosen(self.combo.currentText()))
        self.refresh = tool_button(self, "refresh", theme.text, "Refresh the model list from the endpoint",
                                   name="Refresh models")
        self.refresh.clicked.connect(self.refresh_requested.emit)
        row.addWidget(self.combo, 1)
        row.addWidget(self.refresh)
        self.price = text_label("", self, "hint", wrap=True)
        self.set_choices(MODEL_CHOICES)

    def set_choices(self, ids: Sequence[str]) -> None:
        current = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        for model_id in ids:
            self.combo.addItem(model_id)
            self.combo.setItemData(self.combo.count() - 1, f"{model_label(model_id)} — {price_summary(model_id)}",
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.setCurrentText(current)
        self.combo.blockSignals(False)

    def set_model(self, model_id: str) -> None:
        if self.combo.currentText() != model_id:
            self.combo.setCurrentText(model_id)
        self._describe(model_id)

    def set_refresh_available(self, available: bool, why: str = "") -> None:
        self.refresh.setEnabled(available)
        self.refresh.setToolTip("Refresh the model list from the endpoint" if available
                                else why or "This endpoint has no model list to read")

    def _describe(self, model_id: str) -> None:
        if not is_valid_model_id(model_id):
            self.price.setText(f"<span style='color:{self._theme.danger}'>Not a model id: use letters, "
                               "digits and . _ : / -</span>")
            return
        self.price.setText(f"{model_label(model_id)} · {price_summary(model_id)}")

    def _chosen(self, text: str) -> None:
        model_id = text.strip()
        self._describe(model_id)
        if is_valid_model_id(model_id):
            self.model_chosen.emit(model_id)


class TranscriptionPicker(QWidget):
    """ASR model and its options. ``transcription_chosen(id or "off")``,
    ``options_chosen(dict)`` with setting names as keys (``transcription_languages`` …)."""

    transcription_chosen = Signal(str)
    options_chosen = Signal(dict)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        form = settings_form()
        self.setLayout(form)
        form.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.combo.setAccessibleName("Transcription model")
        self.combo.setToolTip(TRANSCRIPTION_TIP)
        self.combo.activated.connect(lambda _i: self._model_chosen())
        form.addRow("Transcription", self.combo)
        self.retiring = text_label("", self, "hint", wrap=True)
        form.addRow("", self.retiring)
        self.languages = QLineEdit(self)
        self.languages.setPlaceholderText("e.g. en, de (empty: detect)")
        self.languages.setAccessibleName("Transcription languages")
        self.languages.setToolTip("The languages you speak, as ISO-639-1 codes separated by commas")
        self.languages.editingFinished.connect(self._languages_done)
        form.addRow("Languages", self.languages)
        self.keywords = QLineEdit(self)
        self.keywords.setPlaceholderText("Names and terms to expect, comma separated")
        self.keywords.setAccessibleName("Transcription keywords")
        self.keywords.editingFinished.connect(
            lambda: self.options_chosen.emit({"transcription_keywords": _words(self.keywords.text())}))
        form.addRow("Keywords", self.keywords)
        self.delay = QComboBox(self)
        self.delay.addItem("Model default", None)
        for value in TRANSCRIPTION_DELAYS:
            self.delay.addItem(value.capitalize() if value != "xhigh" else "Extra high", value)
        self.delay.setAccessibleName("Transcription delay")
        self.delay.setToolTip("How long gpt-realtime-whisper waits before writing: more is more accurate")
        self.delay.activated.connect(lambda _i: self.options_chosen.emit({"transcription_delay": self.delay.currentData()}))
        form.addRow("Delay", self.delay)
        self.problem = text_label("", self, "hint", wrap=True)
        form.addRow("", self.problem)
        self.form = form
        self.set_choices(TRANSCRIPTION_CHOICES[1:])

    def set_choices(self, ids: Sequence[str]) -> None:
        current = self.combo.currentData()
        self.combo.clear()
        self.combo.addItem("Off", OFF)
        for model_id in ids:
            self.combo.addItem(transcription_label(model_id), model_id)
        if current is not None:
            self._select(current)

    def set_settings(self, settings: Any) -> None:
        self._select(settings.input_transcription_model)
        self.languages.setText(", ".join(settings.transcription_languages))
        self.keywords.setText(", ".join(settings.transcription_keywords))
        self.delay.setCurrentIndex(max(0, self.delay.findData(settings.transcription_delay)))
        self._show_options(settings.input_transcription_model)

    def _select(self, model_id: str) -> None:
        index = self.combo.findData(model_id)
        if index < 0:  # a model id from settings that the list does not have (typed or refreshed earlier)
            self.combo.addItem(transcription_label(model_id), model_id)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(index)

    def _model_chosen(self) -> None:
        model_id = self.combo.currentData()
        self._show_options(model_id)
        self.transcription_chosen.emit(model_id)

    def _show_options(self, model_id: str) -> None:
        takes = frozenset() if model_id == OFF else transcription_options(model_id)
        for widget, name in ((self.languages, "languages"), (self.keywords, "keywords"), (self.delay, "delay")):
            shown = name in takes or (name == "languages" and "language" in takes)
            self.form.setRowVisible(widget, shown)
        self.languages.setPlaceholderText("e.g. en, de (empty: detect)" if "languages" in takes
                                          else "one code, e.g. en (empty: detect)")
        shutdown = transcription_shutdown(model_id)
        self.retiring.setText(f"<span style='color:{self._theme.warning}'>{model_id} shuts down on {shutdown}; "
                              f"{DEFAULT_TRANSCRIPTION_MODEL} replaces it.</span>" if shutdown else "")
        self.form.setRowVisible(self.retiring, bool(shutdown))

    def _languages_done(self) -> None:
        codes = _words(self.languages.text())
        bad = [code for code in codes if not LANGUAGE_CODE.fullmatch(code)]
        if bad:
            self.problem.setText(f"<span style='color:{self._theme.danger}'>{bad[0]} is not a language code "
                                 "such as en or pt-BR.</span>")
            return
        self.problem.setText("")
        self.options_chosen.emit({"transcription_languages": codes})


class AnswerOptions(QWidget):
    """Reasoning effort, noise reduction and speed. ``reasoning_chosen(str | None)``,
    ``noise_reduction_chosen(str | None)``, ``speed_chosen(float)`` (once the slider settles)."""

    reasoning_chosen = Signal(object)
    noise_reduction_chosen = Signal(object)
    speed_chosen = Signal(float)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = settings_form()
        self.setLayout(form)
        form.setContentsMargins(0, 0, 0, 0)
        self.reasoning = QComboBox(self)
        self.reasoning.addItem("Model default", None)
        for effort in REASONING_EFFORTS:
            self.reasoning.addItem(effort.capitalize() if effort != "xhigh" else "Extra high", effort)
        self.reasoning.setAccessibleName("Reasoning effort")
        self.reasoning.activated.connect(lambda _i: self.reasoning_chosen.emit(self.reasoning.currentData()))
        form.addRow("Reasoning", self.reasoning)
        self.noise = QComboBox(self)
        for value in (None, *NOISE_REDUCTION):
            self.noise.addItem(NOISE_LABELS[value], value)
        self.noise.setAccessibleName("Noise reduction")
        self.noise.setToolTip("The server filters your microphone before turn detection and the model hear it")
        self.noise.activated.connect(lambda _i: self.noise_reduction_chosen.emit(self.noise.currentData()))
        form.addRow("Noise reduction", self.noise)
        speed_row = QHBoxLayout()
        self.speed = QSlider(Qt.Orientation.Horizontal, self)
        self.speed.setRange(5, 30)  # × 0.05: 0.25 … 1.5
        self.speed.setPageStep(2)
        self.speed.setAccessibleName("Speaking speed")
        self.speed.setToolTip("How fast the assistant speaks; a change applies from the next answer")
        self.speed_value = QLabel("1.00×", self)
        self.speed_value.setProperty("role", "value")
        self.speed_value.setMinimumWidth(44)
        speed_row.addWidget(self.speed, 1)
        speed_row.addWidget(self.speed_value)
        form.addRow("Speed", speed_row)
        self.note = text_label("", self, "hint", wrap=True)
        form.addRow("", self.note)
        self.dialect_note = text_label("", self, "hint", wrap=True)  # a protocol without these options says so
        self.dialect_note.setVisible(False)
        form.addRow("", self.dialect_note)
        self.form = form
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SPEED_SETTLE_MS)
        self._settle.timeout.connect(lambda: self.speed_chosen.emit(self.speed_value_now()))
        self.speed.valueChanged.connect(self._speed_moved)
        self._answering = False

    def speed_value_now(self) -> float:
        return round(self.speed.value() * SPEED_STEPS, 2)

    def set_settings(self, settings: Any) -> None:
        self.reasoning.setCurrentIndex(max(0, self.reasoning.findData(settings.reasoning_effort)))
        self.noise.setCurrentIndex(max(0, self.noise.findData(settings.noise_reduction)))
        self.speed.blockSignals(True)
        self.speed.setValue(round(settings.speed / SPEED_STEPS))
        self.speed.blockSignals(False)
        self.speed_value.setText(f"{settings.speed:.2f}×")
        self.set_model(settings.model)

    def set_model(self, model_id: str) -> None:
        """Reasoning effort only where the model may take it (unknown models: the user decides)."""
        takes = takes_reasoning(model_id)
        self.reasoning.setEnabled(takes is not False)
        self.reasoning.setToolTip(
            f"{model_id} does not reason: it has no effort to set" if takes is False
            else "How hard the model thinks before answering (more: better answers, later and dearer)"
            if takes else f"Parley does not know whether {model_id} takes a reasoning effort; the server will say")

    def set_dialect_note(self, note: str | None) -> None:
        """``note``: these options have no meaning in the conversation's protocol (disabled, saying why)."""
        if self.dialect_note.text() == (note or ""):
            return
        self.dialect_note.setText(note or "")
        self.dialect_note.setVisible(note is not None)
        for widget in (self.noise, self.speed):
            widget.setEnabled(note is None)
        if note is not None:
            self.reasoning.setEnabled(False)

    def set_answering(self, answering: bool) -> None:
        """While an answer plays, a speed change waits for the next one (§2.7): say so when it happens."""
        self._answering = answering
        if not answering:
            self.note.setText("")

    def _speed_moved(self, _value: int) -> None:
        self.speed_value.setText(f"{self.speed_value_now():.2f}×")
        self._settle.start()
        if self._answering and lock_of("speed") is FieldLock.BETWEEN_RESPONSES:
            self.note.setText(SPEED_HELD)
