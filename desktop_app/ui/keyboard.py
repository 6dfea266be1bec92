"""The push-to-talk key: held anywhere in the window except while typing in a text field.

An application event filter sees the key before the focused widget does. The talk key belongs to
talking everywhere in the window: in push-to-talk it presses and releases, and in any other state
(hands-free, disconnected, muted) it does nothing at all — it never falls through to the focused
button, which would otherwise "click" on Space (a focused Disconnect button ended the session).
Keyboard users activate the focused button with Enter or Return instead.

Auto-repeat is ignored. Losing the focus while the key is down (another window, a screen-capture
tool grabbing the keyboard) releases it, so the microphone never stays open behind the person's
back; after such a release the key is ignored until it is really let go, so the auto-repeat that
resumes when the focus comes back is not taken as a second press (it cancelled the answer to the
first).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractSpinBox, QApplication, QKeySequenceEdit, QLineEdit, QPlainTextEdit, QTextEdit,
    QWidget,
)

from desktop_app.log import get_logger

log = get_logger("ui")

TEXT_INPUTS = (QLineEdit, QPlainTextEdit, QTextEdit, QKeySequenceEdit, QAbstractSpinBox)
ACTIVATE_KEYS = (int(Qt.Key.Key_Return), int(Qt.Key.Key_Enter))
#: A press released sooner than this is a tap, not speech: the window says "hold it" (no banner).
TAP_MS = 150.0


def key_from_name(name: str) -> int:
    """The Qt key code of a key sequence name such as ``Space`` or ``F8`` (Space if unreadable)."""
    sequence = QKeySequence(name)
    if sequence.isEmpty():
        return int(Qt.Key.Key_Space)
    return int(sequence[0].key())  # type: ignore[index]  # QKeySequence.__getitem__ exists; the stubs omit it


class PushToTalkKey(QObject):
    """Calls ``press``/``release`` for the configured key while ``enabled()`` says PTT is usable.

    Signals: ``focus_lost`` when the window stops receiving keys (the mouse-held talk button must end
    too), ``tapped`` when a press was released within :data:`TAP_MS`.
    """

    focus_lost = Signal()
    tapped = Signal()

    def __init__(self, window: QWidget, press: Callable[[], None], release: Callable[[], None],
                 enabled: Callable[[], bool], key_name: str = "Space") -> None:
        super().__init__(window)
        self._window = window
        self._press = press
        self._release = release
        self._enabled = enabled
        self.key = key_from_name(key_name)
        self.held = False
        self._pressed_at = 0.0
        self.awaiting_key_up = False  # released for the person (focus lost): ignore until really let go

    def set_key(self, name: str) -> None:
        self.release()
        self.key = key_from_name(name)

    def release(self) -> None:
        """End a press now (key up, mode change, disconnect, shutdown)."""
        if self.held:
            self.held = False
            self._release()

    def _lose_focus(self, why: str) -> None:
        if self.held:
            log.info("= push-to-talk released: %s while the key was down", why)
            self.awaiting_key_up = True
            self.release()
        self.focus_lost.emit()

    def _typing(self, watched: QObject) -> bool:
        return isinstance(watched, TEXT_INPUTS) or isinstance(QApplication.focusWidget(), TEXT_INPUTS)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        kind = event.type()
        if kind == QEvent.Type.ApplicationDeactivate:
            self._lose_focus("the application lost the focus")
            return False
        if kind == QEvent.Type.WindowDeactivate and watched is self._window:
            self._lose_focus("the window lost the focus")
            return False
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride):
            return False
        assert isinstance(event, QKeyEvent)
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        window = watched.window() if isinstance(watched, QWidget) else None
        if window is not self._window:
            return False
        if event.key() in ACTIVATE_KEYS and kind == QEvent.Type.KeyPress and self.key == int(Qt.Key.Key_Space):
            return self._activate_focused_button(watched)
        if event.key() != self.key:
            return False
        if kind == QEvent.Type.KeyRelease and not event.isAutoRepeat() and (self.held or self.awaiting_key_up):
            # Always end a press, also when the focus moved into a text field meanwhile.
            self.awaiting_key_up = False
            if self.held:
                held_ms = 1000 * (time.monotonic() - self._pressed_at)
                self.release()
                if held_ms < TAP_MS:
                    self.tapped.emit()
            return True
        if self._typing(watched) or kind == QEvent.Type.ShortcutOverride:
            return False
        if kind == QEvent.Type.KeyPress and not event.isAutoRepeat() and not self.awaiting_key_up \
                and not self.held and self._enabled():
            self.held = True
            self._pressed_at = time.monotonic()
            self._press()
        return True  # the talk key never reaches a button, whatever the mode

    def _activate_focused_button(self, watched: QObject) -> bool:
        """Enter/Return press the focused button (Space is the talk key in this window)."""
        if isinstance(watched, QAbstractButton) and watched is QApplication.focusWidget() and watched.isEnabled():
            watched.animateClick()
            return True
        return False
