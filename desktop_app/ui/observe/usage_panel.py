"""Usage and spending: tokens split text/audio/cached, in/out, per response and per conversation;
GPT-Live's billed session time (per second; its backend's answers counted, unpriced);
cost from the model table (and the transcription model's own price, or "price unknown");
the server's rate limits with their reset times; and the spend limits with how close each is.

Refreshes once a second while shown. Editing a limit emits ``limits_changed`` with the new
:class:`SpendLimits` — the window saves it to the settings and gives it to the governor. While
``free()`` says so (the offline demo), tokens are counted but no cost is shown: nothing is spent.
:class:`SpendStopDialog` is the question the window asks when the governor says stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.observe.spend import Level, SpendGovernor, SpendLimits, SpendStatus
from desktop_app.observe.usage_meter import ResponseCost, UsageMeter
from desktop_app.realtime.usage import Usage
from desktop_app.ui.observe import format as fmt
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.dialect_notes import billed_time
from desktop_app.ui.widgets.parts import settings_form, text_label

POLL_MS = 1000
ANSWER_ROWS = 50
_ANSWER_COLUMNS = ("Time", "Status", "In", "Out", "Cost")
_ANSWER_TIPS = ("", "", "Input tokens: text / audio / cached", "Output tokens: text / audio", "")
_TOKEN_ROWS: tuple[tuple[str, Callable[[Usage], int]], ...] = (
    ("Text in", lambda u: u.input_text - u.cached_text),  # uncached: cached input has its own row
    ("Audio in", lambda u: u.input_audio - u.cached_audio),
    ("Cached in", lambda u: u.cached_tokens),
    ("Text out", lambda u: u.output_text),
    ("Audio out", lambda u: u.output_audio),
)


def _limit_box(parent: QWidget, maximum: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setRange(0.0, maximum)
    box.setDecimals(2)
    box.setSingleStep(1.0)
    box.setPrefix("$")
    box.setSpecialValueText("No limit")  # 0 shows as "No limit" and means None
    box.setKeyboardTracking(False)
    return box


class UsagePanel(QWidget):
    """Usage of the current conversation and spending against the limits."""

    limits_changed = Signal(object)  # SpendLimits

    def __init__(self, meter: UsageMeter, governor: SpendGovernor, theme: Theme, parent: QWidget | None = None,
                 *, clock: Callable[[], float] = time.time, free: Callable[[], bool] = lambda: False) -> None:
        super().__init__(parent)
        self.meter = meter
        self._free = free
        self.governor = governor
        self._theme = theme
        self._clock = clock
        self.cells: dict[tuple[str, str], QLabel] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 12, 14, 12)
        column.setSpacing(10)
        self.total = QLabel("", self)
        self.total.setProperty("role", "heading")
        self.model_line = text_label("", self, "muted", wrap=True)
        column.addWidget(self.total)
        column.addWidget(self.model_line)

        column.addWidget(text_label("TOKENS", self, "section"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(3)
        for col, title in enumerate(("", "Last answer", "Conversation")):
            grid.addWidget(text_label(title, self, "muted"), 0, col)
        names = [name for name, _ in _TOKEN_ROWS] + ["Transcription", "Session time", "Cost"]
        for row, name in enumerate(names, start=1):
            grid.addWidget(text_label(name, self, "muted"), row, 0)
            for col, which in enumerate(("last", "session"), start=1):
                cell = text_label("—", self, "value")
                cell.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                grid.addWidget(cell, row, col)
                self.cells[(name, which)] = cell
        column.addLayout(grid)

        column.addWidget(text_label("ANSWERS", self, "section"))
        self.answers = QTableWidget(0, len(_ANSWER_COLUMNS), self)
        self.answers.setHorizontalHeaderLabels(list(_ANSWER_COLUMNS))
        self.answers.verticalHeader().hide()
        self.answers.verticalHeader().setDefaultSectionSize(22)
        for col, tip in enumerate(_ANSWER_TIPS):
            header_item = self.answers.horizontalHeaderItem(col)
            if tip and header_item is not None:
                header_item.setToolTip(tip)
        self.answers.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.answers.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.answers.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.answers.setAccessibleName("Tokens and cost of each answer")
        self.answers.setMinimumHeight(110)
        column.addWidget(self.answers, 1)
        self._answers_shown: tuple[str, int, bool] = ("", -1, False)

        column.addWidget(text_label("RATE LIMITS", self, "section"))
        self.rate_limits = text_label("None reported yet.", self, "muted", wrap=True)
        column.addWidget(self.rate_limits)

        column.addWidget(text_label("SPENDING", self, "section"))
        self.session_bar = QProgressBar(self)
        self.day_bar = QProgressBar(self)
        for bar, name in ((self.session_bar, "This conversation"), (self.day_bar, "Today")):
            bar.setTextVisible(True)
            bar.setRange(0, 1000)
            bar.setAccessibleName(f"Spending: {name.lower()}")
            column.addWidget(text_label(name, self, "muted"))
            column.addWidget(bar)
        self.spend_note = text_label("", self, "hint", wrap=True)
        column.addWidget(self.spend_note)
        form = settings_form()
        self.session_limit = _limit_box(self, 10_000.0)
        self.day_limit = _limit_box(self, 100_000.0)
        self.session_limit.setAccessibleName("Conversation spending limit")
        self.day_limit.setAccessibleName("Daily spending limit")
        form.addRow("Limit per conversation", self.session_limit)
        form.addRow("Limit per day", self.day_limit)
        column.addLayout(form)
        self._show_limits(self.governor.status.limits)
        self.session_limit.valueChanged.connect(self._limits_edited)
        self.day_limit.valueChanged.connect(self._limits_edited)

    # --- refreshing only while shown -----------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        self._timer.stop()
        super().hideEvent(event)

    @property
    def polling(self) -> bool:
        return self._timer.isActive()

    def refresh(self) -> None:
        snap = self.meter.snapshot()
        last = snap.responses[-1] if snap.responses else None
        for name, pick in _TOKEN_ROWS:
            self._set((name, "last"), fmt.count(pick(last.usage)) if last else "—")
            self._set((name, "session"), fmt.count(pick(snap.session)))
        self._set(("Transcription", "last"), "")
        self._set(("Transcription", "session"), "included" if snap.per_second else _transcription(snap.session))
        self._set(("Session time", "last"), "")
        self._set(("Session time", "session"), billed_time(snap.session.live_seconds) if snap.per_second else "—")
        free = self._free()
        self._set(("Cost", "last"), "free" if free and last else fmt.usd(last.cost_usd) if last else "—")
        unknown = " + price unknown" if not snap.price_known else ""
        self._set(("Cost", "session"), "free (offline demo)" if free else fmt.usd(snap.total_usd) + unknown)
        asr = snap.transcription_model or "off"
        line = (f"{snap.model} · billed by the second · {snap.session.responses} backend answers" if snap.per_second
                else f"{snap.model} · transcription {asr} · {snap.session.responses} answers")
        self._text(self.model_line, line)
        self._show_answers(snap.responses)
        self._show_rate_limits()
        self._show_spending(self.governor.status)

    def _show_answers(self, responses: tuple[ResponseCost, ...]) -> None:
        free = self._free()
        key = (responses[-1].response_id if responses else "", len(responses), free)
        if key == self._answers_shown:
            return
        self._answers_shown = key
        shown = responses[-ANSWER_ROWS:][::-1]  # newest first
        self.answers.setRowCount(len(shown))
        for row, answer in enumerate(shown):
            u = answer.usage
            cells = (fmt.clock(answer.at), answer.status or "—",
                     f"{u.input_text - u.cached_text} / {u.input_audio - u.cached_audio} / {u.cached_tokens}",
                     f"{u.output_text} / {u.output_audio}", "free" if free else fmt.usd(answer.cost_usd))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.answers.setItem(row, col, item)

    def _show_rate_limits(self) -> None:
        now = self._clock()
        limits = self.meter.snapshot().rate_limits
        lines = [f"{r.name.capitalize()}: {fmt.count(r.remaining)} of {fmt.count(r.limit)} left, "
                 f"full again {'now' if r.resets_at <= now else 'in ' + fmt.seconds(max(1.0, r.resets_at - now))}"
                 for r in limits]
        self._text(self.rate_limits, "\n".join(lines) if lines else "None reported yet.")

    def _show_spending(self, status: SpendStatus) -> None:
        here = "Free (offline demo)" if self._free() else f"{fmt.usd(status.session_usd)} this conversation"
        self._text(self.total, f"{here} · {fmt.usd(status.day_usd)} today")
        for bar, spent, stop_at in ((self.session_bar, status.session_usd, status.session_stop_at),
                                    (self.day_bar, status.day_usd, status.day_stop_at)):
            if stop_at is None:
                bar.setValue(0)
                bar.setFormat(f"{fmt.usd(spent)} · no limit")
                level = Level.OK
            else:
                share = spent / stop_at if stop_at > 0 else 1.0
                bar.setValue(min(1000, int(share * 1000)))
                bar.setFormat(f"{fmt.usd(spent)} of {fmt.usd(stop_at)} ({share:.0%})")
                level = (Level.STOP if share >= 1 else Level.WARNING if share >= status.limits.warn_at
                         else Level.OK)
            colour = {Level.OK: self._theme.success, Level.WARNING: self._theme.warning,
                      Level.STOP: self._theme.danger}[level]
            t = self._theme
            sheet = (f"QProgressBar {{ border: 1px solid {t.border}; border-radius: 5px; background: {t.surface_alt};"
                     f" text-align: center; min-height: 18px; color: {t.text}; }}"
                     f"QProgressBar::chunk {{ background: {t.tint(colour, 0.55)}; border-radius: 4px; }}")
            if bar.styleSheet() != sheet:
                bar.setStyleSheet(sheet)
            bar.setProperty("level", level.value)
        self._text(self.spend_note, status.sentence)

    def _set(self, key: tuple[str, str], text: str) -> None:
        self._text(self.cells[key], text)

    @staticmethod
    def _text(label: QLabel, text: str) -> None:
        if label.text() != text:
            label.setText(text)

    # --- limits --------------------------------------------------------------------------------

    def _show_limits(self, limits: SpendLimits) -> None:
        for box, value in ((self.session_limit, limits.session_usd), (self.day_limit, limits.day_usd)):
            box.blockSignals(True)
            box.setValue(value or 0.0)
            box.blockSignals(False)

    def _limits_edited(self) -> None:
        old = self.governor.status.limits
        limits = SpendLimits(session_usd=self.session_limit.value() or None, day_usd=self.day_limit.value() or None,
                             warn_at=old.warn_at, grant=old.grant)
        self.limits_changed.emit(limits)


def _transcription(usage: Usage) -> str:
    parts = []
    tokens = usage.transcription_input_tokens + usage.transcription_output_tokens
    if tokens:
        parts.append(f"{fmt.count(tokens)} tokens")
    if usage.transcription_seconds:
        parts.append(f"{usage.transcription_seconds:.0f} s")
    return " · ".join(parts) or "—"


class SpendStopDialog(QDialog):
    """Asked when spending reaches a limit: the microphone is already off. "Continue" (accept) means
    ``governor.acknowledge()``; "End conversation" (reject) means close the session."""

    def __init__(self, status: SpendStatus, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Spending limit reached")
        self.setModal(True)
        column = QVBoxLayout(self)
        column.setContentsMargins(20, 18, 20, 14)
        sentence = QLabel(status.sentence, self)
        sentence.setWordWrap(True)
        sentence.setProperty("role", "heading")
        column.addWidget(sentence)
        hint = text_label("You can also change the limits under Usage.", self, "hint", wrap=True)
        column.addWidget(hint)
        buttons = QDialogButtonBox(self)
        self.continue_button = buttons.addButton(f"Continue for another {fmt.usd(status.grant_usd)}",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.end_button = buttons.addButton("End conversation", QDialogButtonBox.ButtonRole.RejectRole)
        self.continue_button.setProperty("role", "primary")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.end_button.setDefault(True)  # Enter never spends more by accident
