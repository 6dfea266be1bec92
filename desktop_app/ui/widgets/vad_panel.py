"""Turn detection, tuned live: server_vad / semantic_vad / off, its sliders and toggles, a reset,
and the microphone level plotted against the threshold.

Every move emits ``vad_changed`` with the changed fields at once (the controller shows them and
sends one debounced ``session.update`` once they settle). :meth:`show_view` puts the controls back
to what the view says — that is how a refused change rolls the slider back — without re-emitting,
and leaves a slider alone while the user is dragging it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QWidget,
)

from desktop_app.controller.view_state import VadView, ViewState
from desktop_app.realtime.session_config import EAGERNESS
from desktop_app.settings.schema import BY_NAME
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets import dialect_notes
from desktop_app.ui.widgets.level_plot import CAPTIONS, LevelPlot
from desktop_app.ui.widgets.parts import panel_column, text_label

TYPES = (("server_vad", "Server VAD"), ("semantic_vad", "Semantic"), ("off", "Off"))
IDLE_MIN_S = int((BY_NAME["vad_idle_timeout_ms"].minimum or 5000) // 1000)
IDLE_MAX_S = int((BY_NAME["vad_idle_timeout_ms"].maximum or 30000) // 1000)


def idle_to_position(idle_timeout_ms: int | None) -> int:
    """Slider position: 0 is off, then one step per second from the minimum."""
    if idle_timeout_ms is None:
        return 0
    return max(1, min(IDLE_MAX_S - IDLE_MIN_S + 1, round(idle_timeout_ms / 1000) - IDLE_MIN_S + 1))


def position_to_idle(position: int) -> int | None:
    return None if position <= 0 else (IDLE_MIN_S + position - 1) * 1000


class _Row:
    """A labelled slider with its value shown as text."""

    def __init__(self, panel: VadPanel, grid: QGridLayout, row: int, label: str, field: str,
                 lo: int, hi: int, step: int, to_view: Callable[[int], Any], from_view: Callable[[Any], int],
                 shown: Callable[[Any], str], tip: str) -> None:
        self.field, self.to_view, self.from_view, self.shown = field, to_view, from_view, shown
        self.label = QLabel(label, panel)
        self.label.setToolTip(tip)
        self.slider = QSlider(Qt.Orientation.Horizontal, panel)
        self.slider.setRange(lo, hi)
        self.slider.setSingleStep(step)
        self.slider.setPageStep(step * 5)
        self.slider.setToolTip(tip)
        self.slider.setAccessibleName(label)
        self.value = text_label("", panel, "value")
        self.value.setMinimumWidth(58)
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.slider, row, 1)
        grid.addWidget(self.value, row, 2)
        self.slider.valueChanged.connect(lambda pos: panel._moved(self, pos))

    def show(self, value: Any) -> None:
        self.value.setText(self.shown(value))
        position = self.from_view(value)
        if self.slider.value() != position and not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(position)
            self.slider.blockSignals(False)

    def set_visible(self, visible: bool) -> None:
        for widget in (self.label, self.slider, self.value):
            widget.setVisible(visible)


class VadPanel(QWidget):
    """Signals: ``vad_changed(dict)`` with VadView field changes, ``reset_requested``."""

    vad_changed = Signal(dict)
    reset_requested = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._vad = VadView()
        column = panel_column(self)
        self.intro = text_label("How the server decides your turn has ended. Changes apply live.", self, "hint",
                                wrap=True)
        column.addWidget(self.intro)
        self.dialect_note = text_label("", self, "hint", wrap=True)  # a protocol without these settings says so
        self.dialect_note.setVisible(False)
        column.addWidget(self.dialect_note)

        types = QHBoxLayout()
        types.setSpacing(0)
        self.type_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for index, (value, label) in enumerate(TYPES):
            button = QPushButton(label, self)
            button.setCheckable(True)
            button.setProperty("role", "segment")
            button.setProperty("pos", "first" if index == 0 else "last" if index == len(TYPES) - 1 else "mid")
            button.clicked.connect(lambda _c=False, v=value: self._emit(type=v))
            group.addButton(button)
            types.addWidget(button, 1)
            self.type_buttons[value] = button
        self.type_buttons["server_vad"].setToolTip("Detects speech by its sound; tune the sliders below")
        self.type_buttons["semantic_vad"].setToolTip("Lets the model judge when you have finished your thought")
        self.type_buttons["off"].setToolTip("No turn detection: use push-to-talk")
        column.addLayout(types)

        self.plot = LevelPlot(theme, self)
        column.addWidget(self.plot)
        self.plot_caption = text_label(CAPTIONS[self.plot.quantity], self, "hint", wrap=True)
        column.addWidget(self.plot_caption)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(10)
        grid.setColumnStretch(1, 1)
        pad, sil = BY_NAME["vad_prefix_padding_ms"], BY_NAME["vad_silence_duration_ms"]
        assert pad.minimum is not None and pad.maximum is not None and sil.minimum is not None \
            and sil.maximum is not None, "the VAD settings declare their bounds"
        self.threshold = _Row(self, grid, 0, "Threshold", "threshold", 0, 100, 1,
                              lambda p: round(p / 100, 2), lambda v: round(v * 100), lambda v: f"{v:.2f}",
                              "Speech probability needed to start a turn; raise it in a noisy room")
        self.prefix = _Row(self, grid, 1, "Prefix padding", "prefix_padding_ms", int(pad.minimum), int(pad.maximum),
                           10, int, int, lambda v: f"{v} ms", "Audio kept from just before speech was detected")
        self.silence = _Row(self, grid, 2, "Silence", "silence_duration_ms", int(sil.minimum), int(sil.maximum), 10,
                            int, int, lambda v: f"{v} ms", "How long a pause ends your turn")
        self.idle = _Row(self, grid, 3, "Idle timeout", "idle_timeout_ms", 0, IDLE_MAX_S - IDLE_MIN_S + 1, 1,
                         position_to_idle, idle_to_position, lambda v: "off" if v is None else f"{v // 1000} s",
                         "After an answer, prompt the assistant again when you stay silent this long")
        self.eagerness_label = QLabel("Eagerness", self)
        self.eagerness = QComboBox(self)
        self.eagerness.addItems(list(EAGERNESS))
        self.eagerness.setAccessibleName("Eagerness")
        self.eagerness.setToolTip("How quickly the model takes its turn (low waits longer)")
        self.eagerness.activated.connect(lambda _i: self._emit(eagerness=self.eagerness.currentText()))
        grid.addWidget(self.eagerness_label, 4, 0)
        grid.addWidget(self.eagerness, 4, 1, 1, 2)
        column.addLayout(grid)

        self.create_response = QCheckBox("Answer automatically when I stop talking", self)
        self.create_response.toggled.connect(lambda on: self._emit(create_response=on))
        self.interrupt_response = QCheckBox("Speaking over the assistant interrupts it", self)
        self.interrupt_response.toggled.connect(lambda on: self._emit(interrupt_response=on))
        column.addWidget(self.create_response)
        column.addWidget(self.interrupt_response)
        reset_row = QHBoxLayout()
        reset_row.addStretch(1)
        self.reset = QPushButton("Reset to defaults", self)
        self.reset.setToolTip("Put every turn-detection value back to its default")
        self.reset.clicked.connect(self.reset_requested)
        reset_row.addWidget(self.reset)
        column.addLayout(reset_row)
        column.addStretch(1)
        self._rows = (self.threshold, self.prefix, self.silence, self.idle)
        self._controls: tuple[QWidget, ...] = (*self.type_buttons.values(), self.eagerness, self.create_response,
                                               self.interrupt_response, self.reset,
                                               *(w for r in self._rows for w in (r.label, r.slider, r.value)))
        self._show_vad(self._vad, force=True)

    def _moved(self, row: _Row, position: int) -> None:
        value = row.to_view(position)
        row.value.setText(row.shown(value))
        if row is self.threshold:
            self.plot.set_threshold(value, self._vad.type == "server_vad")
        self._emit(**{row.field: value})

    def _emit(self, **changes: Any) -> None:
        if all(getattr(self._vad, k) == v for k, v in changes.items()):
            return
        self.vad_changed.emit(changes)

    def show_view(self, view: ViewState) -> None:
        if view.vad != self._vad:
            self._show_vad(view.vad)
        note = dialect_notes.vad(view.traits)
        if self.dialect_note.text() != (note or "") or self.dialect_note.isHidden() != (note is None):
            self.dialect_note.setText(note or "")
            self.dialect_note.setVisible(note is not None)
            self.intro.setVisible(note is None)
            for widget in self._controls:
                widget.setEnabled(note is None)

    def show_levels(self, mic_dbfs: float, speech_probability: float | None = None) -> None:
        """One point of the plot (the window's meter clock, 20 a second while it is on screen):
        ``speech_probability`` is the local estimate (0–1) when there is one; the plot then shows it
        against the threshold, otherwise the microphone level (and says so)."""
        self.plot.push(mic_dbfs, speech_probability)
        caption = CAPTIONS[self.plot.quantity]
        if self.plot_caption.text() != caption:  # the plot says what it shows
            self.plot_caption.setText(caption)

    def _show_vad(self, vad: VadView, force: bool = False) -> None:
        self._vad = vad
        for row in self._rows:
            row.show(getattr(vad, row.field))
        for value, button in self.type_buttons.items():
            button.setChecked(value == vad.type)
        self.eagerness.setCurrentText(vad.eagerness)
        for box, on in ((self.create_response, vad.create_response), (self.interrupt_response, vad.interrupt_response)):
            if box.isChecked() != on or force:
                box.blockSignals(True)
                box.setChecked(on)
                box.blockSignals(False)
        server, semantic = vad.type == "server_vad", vad.type == "semantic_vad"
        for row in self._rows:
            row.set_visible(server)
        self.eagerness_label.setVisible(semantic)
        self.eagerness.setVisible(semantic)
        live = not self.dialect_note.text()  # no note: the protocol has these settings
        self.create_response.setEnabled(vad.type != "off" and live)
        self.interrupt_response.setEnabled(vad.type != "off" and live)
        self.plot.set_threshold(vad.threshold, server)
