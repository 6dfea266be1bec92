"""The push-to-talk key: held anywhere in the window except while typing in a text field.

An application event filter sees the key before the focused widget does (a focused button would
otherwise "click" on Space). Auto-repeat is ignored, and losing the window's focus while the key is
down releases it, so the microphone can never stay open behind the person's back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox, QApplication, QKeySequenceEdit, QLineEdit, QPlainTextEdit, QTextEdit, QWidget,
)

TEXT_INPUTS = (QLineEdit, QPlainTextEdit, QTextEdit, QKeySequenceEdit, QAbstractSpinBox)


def key_from_name(name: str) -> int:
    """The Qt key code of a key sequence name such as ``Space`` or ``F8`` (Space if unreadable)."""
    sequence = QKeySequence(name)
    if sequence.isEmpty():
        return int(Qt.Key.Key_Space)
    return int(sequence[0].key())


class PushToTalkKey(QObject):
    """Calls ``press``/``release`` for the configured key while ``enabled()`` says PTT is usable."""

    def __init__(self, window: QWidget, press: Callable[[], None], release: Callable[[], None],
                 enabled: Callable[[], bool], key_name: str = "Space") -> None:
        super().__init__(window)
        self._window = window
        self._press = press
        self._release = release
        self._enabled = enabled
        self.key = key_from_name(key_name)
        self.held = False

    def set_key(self, name: str) -> None:
        self.release()
        self.key = key_from_name(name)

    def release(self) -> None:
        if self.held:
            self.held = False
            self._release()

    def _typing(self) -> bool:
        focus = QApplication.focusWidget()
        return isinstance(focus, TEXT_INPUTS)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        kind = event.type()
        if kind == QEvent.Type.ApplicationDeactivate:
            self.release()
            return False
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride):
            return False
        assert isinstance(event, QKeyEvent)
        if event.key() != self.key or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        window = watched.window() if isinstance(watched, QWidget) else None
        if window is not self._window or self._typing():
            return False
        if kind == QEvent.Type.ShortcutOverride:
            return False
        if event.isAutoRepeat():
            return True
        if kind == QEvent.Type.KeyPress:
            if not self.held and self._enabled():
                self.held = True
                self._press()
                return True
            return self.held
        if self.held:
            self.release()
            return True
        return False
