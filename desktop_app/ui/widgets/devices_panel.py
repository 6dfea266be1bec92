"""Microphone and speaker pickers with refresh, a microphone test meter and a speaker test tone.

Devices are offered by their stable id (host API + name, see ``desktop_app.audio.devices``) so a
choice survives replugging; the empty id means "the system default".
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.ui import icons
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.level_meter import LevelMeter
from desktop_app.ui.widgets.parts import panel_column, settings_form, text_label, tool_button

DEFAULT_LABEL = "System default"


AUDIO_MODES = [("Speakers — echo cancellation", "speakers"), ("Headset — no echo", "headset"),
               ("Ducking — quiet mic while the assistant talks", "ducking")]


class DevicesPanel(QWidget):
    """Signals: ``input_chosen(id)``, ``output_chosen(id)``, ``refresh_requested``,
    ``mic_test_toggled(bool)``, ``tone_requested``."""

    input_chosen = Signal(str)
    output_chosen = Signal(str)
    refresh_requested = Signal()
    mic_test_toggled = Signal(bool)
    tone_requested = Signal()
    mode_chosen = Signal(str)
    tune_requested = Signal()
    alternative_chosen = Signal(str)  # the better microphone offered by offer_alternative()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = panel_column(self)
        form = settings_form()
        self.inputs = QComboBox(self)
        self.inputs.setAccessibleName("Microphone")
        self.inputs.activated.connect(lambda _i: self.input_chosen.emit(self.inputs.currentData() or ""))
        self.outputs = QComboBox(self)
        self.outputs.setAccessibleName("Speaker")
        self.outputs.activated.connect(lambda _i: self.output_chosen.emit(self.outputs.currentData() or ""))
        for combo in (self.inputs, self.outputs):
            combo.setMinimumContentsLength(18)
        form.addRow("Microphone", self.inputs)
        form.addRow("Speaker", self.outputs)
        column.addLayout(form)
        refresh_row = QHBoxLayout()
        self.status = text_label("", self, "hint", wrap=True)
        refresh_row.addWidget(self.status, 1)
        self.refresh = tool_button(self, "refresh", theme.text, "Look for newly plugged-in devices",
                                   name="Refresh devices")
        self.refresh.clicked.connect(self.refresh_requested)
        refresh_row.addWidget(self.refresh)
        column.addLayout(refresh_row)
        self.alternative = QPushButton("", self)  # "Use the laptop microphone instead" (a Bluetooth headset)
        self.alternative.hide()
        self.alternative.clicked.connect(lambda: self.alternative_chosen.emit(self.alternative.property("device")))
        column.addWidget(self.alternative)

        column.addWidget(text_label("TEST", self, "section"))
        mic_row = QHBoxLayout()
        self.mic_test = QPushButton("Test microphone", self)
        self.mic_test.setIcon(icons.icon("mic", theme.text))
        self.mic_test.setCheckable(True)
        self.mic_test.setToolTip("Show the chosen microphone's level (nothing is sent)")
        self.mic_test.toggled.connect(self.mic_test_toggled)
        self.meter = LevelMeter(theme, theme.accent, self)
        self.meter.setAccessibleName("Microphone test level")
        mic_row.addWidget(self.mic_test)
        mic_row.addWidget(self.meter, 1)
        column.addLayout(mic_row)
        self.tone = QPushButton("Play test tone", self)
        self.tone.setIcon(icons.icon("volume", theme.text))
        self.tone.setToolTip("Play a one-second 440 Hz tone on the chosen speaker")
        self.tone.clicked.connect(self.tone_requested)
        tone_row = QHBoxLayout()
        tone_row.addWidget(self.tone)
        tone_row.addStretch(1)
        column.addLayout(tone_row)
        # Echo handling: speakers need the canceller; a headset needs none; ducking is the fallback.
        self.mode = QComboBox(self)
        self.mode.setAccessibleName("Audio mode")
        for label, mode in AUDIO_MODES:
            self.mode.addItem(label, mode)
        self.mode.activated.connect(lambda _i: self.mode_chosen.emit(self.mode.currentData()))
        self.mode_note = QLabel("", self)
        self.mode_note.setWordWrap(True)
        self.tune = QPushButton("Tune for this room…", self)
        self.tune.setToolTip("Measure the echo, delay, noise and your voice, and propose the best settings")
        self.tune.clicked.connect(self.tune_requested)
        column.addWidget(QLabel("Audio mode", self))
        column.addWidget(self.mode)
        column.addWidget(self.mode_note)
        tune_row = QHBoxLayout()
        tune_row.addWidget(self.tune)
        tune_row.addStretch(1)
        column.addLayout(tune_row)
        column.addStretch(1)

    def set_devices(self, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]],
                    chosen_input: str, chosen_output: str) -> None:
        """``inputs``/``outputs`` are ``(label, stable id)`` pairs; the default entry is added here."""
        for combo, items, chosen in ((self.inputs, inputs, chosen_input), (self.outputs, outputs, chosen_output)):
            combo.clear()
            combo.addItem(DEFAULT_LABEL, "")
            for label, device_id in items:
                combo.addItem(label, device_id)
            index = combo.findData(chosen)
            if index < 0 and chosen:  # remembered but not plugged in now
                combo.addItem(f"{chosen.split(':', 1)[-1]} (not connected)", chosen)
                index = combo.count() - 1
            combo.setCurrentIndex(max(0, index))
        usable = bool(inputs) or bool(outputs)
        self.status.setText("" if usable else "No audio devices were found. Text chat still works.")
        self.mic_test.setEnabled(bool(inputs))
        self.tone.setEnabled(bool(outputs))

    def set_probe_level(self, dbfs: float) -> None:
        self.meter.set_level(dbfs)

    def set_audio_mode(self, mode: str, aec_available: bool = True) -> None:
        self.mode.setCurrentIndex(max(self.mode.findData(mode), 0))
        self.mode_note.setText("" if aec_available else
                               "Echo cancellation could not load here; speakers use ducking instead.")

    def set_status(self, sentence: str) -> None:
        self.status.setText(sentence)

    def offer_alternative(self, sentence: str, label: str = "", device_id: str = "") -> None:
        """Say ``sentence`` under the pickers and offer ``label`` as the microphone ('' hides both)."""
        self.status.setText(sentence)
        self.alternative.setVisible(bool(label))
        self.alternative.setText(f"Use “{label}” instead")
        self.alternative.setAccessibleName(f"Use {label} as the microphone")
        self.alternative.setProperty("device", device_id)
