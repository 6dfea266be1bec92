"""The one place errors and warnings reach the person: a sentence, an action, and a close button.

Never a modal dialog, never a stack trace. The banner shows ``ViewState.notice``; the action
(retry, open settings, try the demo) and the dismissal go back as signals.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.controller.view_state import Notice
from desktop_app.ui import icons
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.parts import tool_button

ACTION_LABELS = {"retry": "Retry", "settings": "Session settings", "audio": "Audio settings",
                 "demo": "Try the offline demo", "key": "Enter key", "spend": "Continue…"}


class Banner(QFrame):
    """Signals: ``action_requested(action)``, ``dismissed``, ``reading(bool)`` while the pointer rests
    on it (the window pauses the notice's lifetime meanwhile)."""

    action_requested = Signal(str)
    dismissed = Signal()
    reading = Signal(bool)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.notice: Notice | None = None
        self._labels = dict(ACTION_LABELS)
        self.setAccessibleName("Message")
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 8, 8, 8)
        row.setSpacing(10)
        self.glyph = QLabel(self)
        row.addWidget(self.glyph, 0, Qt.AlignmentFlag.AlignTop)
        self.sentence = QLabel(self)
        self.sentence.setWordWrap(True)
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.sentence, 1)
        self.action = QPushButton(self)
        self.action.clicked.connect(lambda: self.notice and self.notice.action
                                    and self.action_requested.emit(self.notice.action))
        row.addWidget(self.action)
        self.close_button = tool_button(self, "close", theme.muted, "Dismiss", name="Dismiss message", flat=True)
        self.close_button.clicked.connect(self.dismissed)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def enterEvent(self, event: QEnterEvent) -> None:  # noqa: N802 (Qt naming)
        super().enterEvent(event)
        self.reading.emit(True)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        super().leaveEvent(event)
        self.reading.emit(False)

    def set_action_label(self, action: str, label: str) -> None:
        """Name an action after where it really leads (it can depend on the profile)."""
        self._labels[action] = label
        if self.notice is not None and self.notice.action == action:
            self.action.setText(label)

    def show_notice(self, notice: Notice | None) -> None:
        if notice == self.notice:
            return
        self.notice = notice
        if notice is None:
            self.hide()
            self.reading.emit(False)
            return
        t = self._theme
        color = t.state_color(notice.level)
        self.setStyleSheet(f"Banner {{ background: {t.tint(color, 0.12)}; border: 1px solid {t.tint(color, 0.45)};"
                           " border-radius: 10px; }")
        self.glyph.setPixmap(icons.icon("info" if notice.level == "info" else "alert", color).pixmap(QSize(20, 20)))
        self.sentence.setText(notice.sentence)
        label = self._labels.get(notice.action or "")
        self.action.setVisible(label is not None)
        if label:
            self.action.setText(label)
        self.show()
