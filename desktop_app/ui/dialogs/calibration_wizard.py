"""The "Tune for this room" wizard: measure the speaker→microphone path and apply what it suggests.

Three pages in one dialog. *Intro* says what will happen (a few seconds of sweep and noise on the
chosen speaker, then one sentence from the user). *Measuring* shows progress and, when its turn
comes, the sentence to say. *Results* shows the numbers — output→input delay, echo return loss
before and after the canceller, noise floor, speaking level — a before/after level plot, what a
headset or a Bluetooth hands-free device means, and the proposed audio mode, VAD threshold and
silence duration. "Apply" gives the engine the delay and echo figures and the mode, and emits
``applied(proposal)`` so the settings can keep the rest.

The measurement itself is :mod:`desktop_app.audio.calibration` (its own streams on the chosen
devices); while it runs the conversation's microphone is muted so no sweep reaches the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QDialog, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QStackedWidget, QVBoxLayout, QWidget,
)

from desktop_app.audio import devices
from desktop_app.audio.calibration import Measurement, Proposal, RoomProbe, analyse, is_bluetooth_hfp, propose
from desktop_app.audio.engine import AudioEngine
from desktop_app.errors import AudioDeviceError
from desktop_app.log import get_logger
from desktop_app.tasks import spawn

log = get_logger("ui")

SENTENCE = "The quick brown fox jumps over the lazy dog, and then it takes a nap."
MODE_TEXT = {"speakers": "Speakers — echo cancellation on", "headset": "Headset — echo cancellation off",
             "ducking": "Ducking — microphone gated while the assistant talks"}
ProbeFactory = Callable[[str | None, str | None], RoomProbe]


class LevelPlot(QWidget):
    """Microphone level before (raw echo) and after the canceller, over the test signal."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(360, 150)
        self.series: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.zeros(0),) * 3

    def set_series(self, t: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        self.series = (t, before, after)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001 — Qt's name
        t, before, after = self.series
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        painter.fillRect(0, 0, w, h, self.palette().base())
        lo, hi = -100.0, 0.0
        grid = QPen(QColor(128, 128, 128, 70))
        painter.setPen(grid)
        for db in range(-100, 1, 20):
            y = h - (db - lo) / (hi - lo) * h
            painter.drawLine(0, int(y), w, int(y))
            painter.drawText(4, int(y) - 2, f"{db}")
        if len(t) > 1:
            for values, color, name in ((before, QColor("#d9822b"), "before"), (after, QColor("#2b8ad9"), "after")):
                points = QPolygonF([QPointF(x / t[-1] * (w - 1), h - (min(max(v, lo), hi) - lo) / (hi - lo) * h)
                                    for x, v in zip(t, values, strict=True)])
                painter.setPen(QPen(color, 1.6))
                painter.drawPolyline(points)
                painter.drawText(w - 60, 16 if name == "before" else 32, name)
        painter.end()


class CalibrationWizard(QDialog):
    """``CalibrationWizard(engine, input_name, output_name)``; emits ``applied(Proposal)`` on Apply."""

    applied = Signal(object)

    def __init__(self, engine: AudioEngine, input_name: str | None, output_name: str | None,
                 parent: QWidget | None = None, *, probe_factory: ProbeFactory | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.input_name, self.output_name = input_name or None, output_name or None
        self._probe_factory = probe_factory or (lambda i, o: RoomProbe(i, o))
        self._task: asyncio.Task[None] | None = None
        self.measurement: Measurement | None = None
        self.proposal: Proposal | None = None
        self.setWindowTitle("Tune for this room")
        self.setMinimumWidth(520)
        column = QVBoxLayout(self)
        column.setContentsMargins(22, 20, 22, 18)
        self.pages = QStackedWidget(self)
        column.addWidget(self.pages)
        self.pages.addWidget(self._intro_page())
        self.pages.addWidget(self._measuring_page())
        self.pages.addWidget(self._results_page())
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel", self)
        self.start_button = QPushButton("Start", self)
        self.apply_button = QPushButton("Apply", self)
        self.start_button.setDefault(True)
        for button in (self.cancel_button, self.start_button, self.apply_button):
            buttons.addWidget(button)
        column.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.start_button.clicked.connect(self.start)
        self.apply_button.clicked.connect(self.apply)
        self._show(0)

    # --- pages -----------------------------------------------------------------------------------

    def _intro_page(self) -> QWidget:
        page = QWidget(self)
        lay = QVBoxLayout(page)
        title = QLabel("Tune Parley for this room", page)
        title.setStyleSheet("font-size: 13pt; font-weight: 700;")
        text = QLabel(
            f"Parley will play a short sweep and some noise on <b>{self.output_name or 'the default speaker'}</b> "
            f"while it listens on <b>{self.input_name or 'the default microphone'}</b>, then ask you to say one "
            "sentence. It measures how the speaker reaches the microphone and proposes the audio mode and the "
            "voice detection settings. Set the volume as you will use it. It takes about ten seconds.", page)
        text.setWordWrap(True)
        self.error = QLabel("", page)
        self.error.setWordWrap(True)
        lay.addWidget(title)
        lay.addWidget(text)
        lay.addWidget(self.error)
        lay.addStretch(1)
        return page

    def _measuring_page(self) -> QWidget:
        page = QWidget(self)
        lay = QVBoxLayout(page)
        self.status = QLabel("", page)
        self.progress = QProgressBar(page)
        self.progress.setRange(0, 100)
        self.prompt = QLabel("", page)
        self.prompt.setWordWrap(True)
        self.prompt.setStyleSheet("font-size: 13pt;")
        lay.addWidget(self.status)
        lay.addWidget(self.progress)
        lay.addWidget(self.prompt)
        lay.addStretch(1)
        return page

    def _results_page(self) -> QWidget:
        page = QWidget(self)
        lay = QVBoxLayout(page)
        self.figures = QGridLayout()
        self.values: dict[str, QLabel] = {}
        for row, (key, name) in enumerate((
            ("delay", "Speaker → microphone delay"), ("erl", "Echo return loss (before)"),
            ("erle", "Removed by the canceller (after)"), ("noise", "Noise floor"), ("speech", "Your voice"),
            ("mode", "Audio mode"), ("vad", "VAD threshold"), ("silence", "Silence that ends your turn"),
        )):
            self.figures.addWidget(QLabel(name, page), row, 0)
            self.values[key] = QLabel("", page)
            self.values[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.figures.addWidget(self.values[key], row, 1)
        lay.addLayout(self.figures)
        self.plot = LevelPlot(page)
        lay.addWidget(self.plot)
        self.notes = QLabel("", page)
        self.notes.setWordWrap(True)
        lay.addWidget(self.notes)
        return page

    def _show(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.start_button.setVisible(index != 1)
        self.start_button.setText("Start" if index == 0 else "Measure again")
        self.apply_button.setVisible(index == 2 and self.proposal is not None)

    # --- measuring -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._show(1)
        self.prompt.setText("")
        self.error.setText("")
        self._task = spawn(self._measure(), name="room calibration", on_crash=self._crashed)

    def _crashed(self, exc: BaseException) -> None:
        """The measurement failed unexpectedly (already logged): say so, and offer to start again."""
        self.error.setText("The measurement stopped unexpectedly; the details are in the log. Try again.")
        self._show(0)

    async def _measure(self) -> None:
        was_muted = self.engine.muted
        self.engine.mute(True)  # the conversation must not hear (or send) the sweep
        probe = self._probe_factory(self.input_name, self.output_name)
        try:
            rec = await probe.run(self._ask_to_speak, self._progress)
        except (AudioDeviceError, RuntimeError) as exc:
            log.warning("! calibration failed: %s", exc)
            self.error.setText(f"The measurement failed: {exc}")
            self._show(0)
            return
        finally:
            self.engine.mute(was_muted)
        device = None
        try:
            device, _ = devices.resolve_device(self.input_name, "input")
        except (AudioDeviceError, OSError, ValueError):
            pass
        self.measurement = analyse(rec, is_bluetooth_hfp(device, rec.input_rate))
        self.proposal = propose(self.measurement, self.engine.aec_available)
        self._fill(self.measurement, self.proposal)
        self._show(2)

    async def _ask_to_speak(self) -> None:
        self.prompt.setText(f"Now please say, in your normal voice:\n\n“{SENTENCE}”")

    def _progress(self, what: str, fraction: float) -> None:
        self.status.setText(what)
        self.progress.setValue(int(100 * fraction))

    def _fill(self, m: Measurement, p: Proposal) -> None:
        def db(v: float | None, unit: str = "dB") -> str:
            return "—" if v is None else f"{v:.1f} {unit}"

        self.values["delay"].setText("no echo path" if m.delay_ms is None else f"{m.delay_ms:.1f} ms")
        self.values["erl"].setText(db(m.erl_db))
        self.values["erle"].setText(db(m.erle_db))
        self.values["noise"].setText(db(m.noise_floor_dbfs, "dBFS"))
        self.values["speech"].setText("not heard" if m.speech_dbfs is None else db(m.speech_dbfs, "dBFS"))
        self.values["mode"].setText(MODE_TEXT[p.audio_mode])
        self.values["vad"].setText(f"{p.vad_threshold:.2f}")
        self.values["silence"].setText(f"{p.silence_duration_ms} ms")
        self.plot.set_series(*m.plot)
        self.notes.setText("\n".join(p.notes))

    # --- applying --------------------------------------------------------------------------------

    def apply(self) -> None:
        """Hand the engine the delay, echo loss and mode; emit ``applied`` for the settings."""
        p = self.proposal
        if p is None:
            return
        self.engine.apply_calibration(p.delay_ms, p.erl_db)
        self.engine.set_audio_mode(p.audio_mode)
        self.applied.emit(p)
        self.accept()

    def reject(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        super().reject()
