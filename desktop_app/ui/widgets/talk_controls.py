"""How a person talks: hands-free / push-to-talk, the big talk button, mute, interrupt, and a text box.

The talk button works with the mouse (it stays held while the pointer wanders off it) and with a
key: the main window forwards the configured push-to-talk key (Space by default) here whenever a
text field does not have the focus.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup, QFrame, QGridLayout, QHBoxLayout, QLineEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget,
)

from desktop_app.controller.states import Conn, Mic, Turn
from desktop_app.controller.view_state import ViewState
from desktop_app.ui import icons
from desktop_app.ui.keyboard import TAP_MS
from desktop_app.ui.theme import Theme, restyle
from desktop_app.ui.widgets import dialect_notes
from desktop_app.ui.widgets.parts import tool_button

HANDS_FREE, PUSH_TO_TALK = "hands_free", "push_to_talk"
#: How long "keep the key held" stays on the talk button after a tap.
TAP_HINT_MS = 2500
TALK_MIN_WIDTH = 170
#: Narrower than this beside the mode buttons, the talk button takes a row of its own.
TALK_ROW_WIDTH = 240


class TalkButton(QPushButton):
    """A large button that reports press and release; it stays down until the mouse button is let go.

    Losing the focus releases it (Qt emits ``released``); a release that went to another program (a
    screen-capture tool grabbing the pointer) shows as a mouse move with the button up:
    ``press_lost`` then ends the press."""

    press_lost = Signal()

    def hitButton(self, pos: QPoint) -> bool:  # noqa: N802 (Qt naming)
        return self.isDown() or super().hitButton(pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.isDown() and not event.buttons() & Qt.MouseButton.LeftButton:
            self.setDown(False)
            self.press_lost.emit()
            return
        super().mouseMoveEvent(event)

    # Its words change with the state and can be long ("Microphone muted — Ctrl+M to unmute"): they end
    # in "…" when the button is narrow (the whole sentence is the accessible description).
    _full = ""

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self._full = text
        self.setAccessibleDescription(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(TALK_MIN_WIDTH, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802
        hint = super().sizeHint()
        return QSize(max(TALK_MIN_WIDTH, self._text_room(self.fontMetrics().horizontalAdvance(self._full))),
                     hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _text_room(self, text_width: int) -> int:
        return text_width + self.iconSize().width() + 56  # icon, spacing and the style's padding

    def _elide(self) -> None:
        room = self.width() - self._text_room(0)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(room, 20))
        if shown != self.text():
            super().setText(shown)


class TalkControls(QFrame):
    """Signals: ``mode_changed(str)``, ``talk_pressed``, ``talk_released``, ``mute_toggled(bool)``,
    ``interrupt_requested``, ``text_submitted(str)``."""

    mode_changed = Signal(str)
    talk_pressed = Signal()
    talk_released = Signal()
    mute_toggled = Signal(bool)
    interrupt_requested = Signal()
    text_submitted = Signal(str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.mode = HANDS_FREE
        self.key_name = "Space"
        self.audio_ok = True
        self._connected = False
        self.setProperty("role", "card")
        column = QVBoxLayout(self)
        column.setContentsMargins(16, 14, 16, 14)
        column.setSpacing(12)

        row = QGridLayout()
        row.setHorizontalSpacing(10)
        row.setVerticalSpacing(10)
        self._row = row
        self.hands_free = QPushButton("Hands-free", self)
        self.push_to_talk = QPushButton("Push to talk", self)
        group = QButtonGroup(self)
        for button, pos, mode in ((self.hands_free, "first", HANDS_FREE), (self.push_to_talk, "last", PUSH_TO_TALK)):
            button.setCheckable(True)
            button.setProperty("role", "segment")
            button.setProperty("pos", pos)
            group.addButton(button)
            button.clicked.connect(lambda _c=False, m=mode: self._choose_mode(m))
        self.hands_free.setToolTip("Just talk: the server notices when you start and stop")
        self.push_to_talk.setToolTip("Hold the talk button (or the push-to-talk key) while you speak")
        self.hands_free.setChecked(True)
        for button in (self.hands_free, self.push_to_talk):  # never clipped ("ıds-f" at 760 px)
            button.setMinimumWidth(button.sizeHint().width())
        segment = QHBoxLayout()
        segment.setSpacing(0)
        segment.addWidget(self.hands_free)
        segment.addWidget(self.push_to_talk)
        self._segment = segment

        self.talk = TalkButton("Hold to talk", self)
        self.talk.setIcon(icons.icon("mic", theme.accent_text))
        self.talk.setIconSize(QSize(22, 22))
        self.talk.setMinimumHeight(48)
        self.talk.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.talk.setAccessibleName("Push to talk")
        self.talk.pressed.connect(self._mouse_pressed)
        self.talk.released.connect(self._mouse_released)
        self.talk.press_lost.connect(self.cancel_press)
        self.mouse_held = False
        self._pressed_at = 0.0
        self._ptt_note: str | None = None  # what push-to-talk means in this protocol, when it differs
        self._hint_timer = QTimer(self)
        self._hint_timer.setSingleShot(True)
        self._hint_timer.setInterval(TAP_HINT_MS)
        self._hint_timer.timeout.connect(self._update_talk_enabled)

        self.mute = tool_button(self, "mic", theme.text, "Mute the microphone (Ctrl+M)", name="Mute microphone",
                                icon_px=20, size=(44, 44))
        self.mute.setCheckable(True)
        self.mute.toggled.connect(self._on_mute)
        self._on_mute(False, emit=False)

        self.interrupt = tool_button(self, "stop", theme.danger, "Interrupt the assistant (Esc)", icon_px=20,
                                     size=(44, 44))
        self.interrupt.clicked.connect(self.interrupt_requested)
        self.stacked: bool | None = None
        self._arrange(stacked=False)
        column.addLayout(row)

        typing = QHBoxLayout()
        typing.setSpacing(8)
        self.text = QLineEdit(self)
        self.text.setPlaceholderText("Type a message instead of speaking…")
        self.text.setAccessibleName("Message")
        self.text.setClearButtonEnabled(True)
        self.text.setToolTip("Type a message instead of speaking (Ctrl+L); Enter sends it")
        self.text.returnPressed.connect(self._submit)
        self.send = tool_button(self, "send", theme.accent, "Send the message (Enter)", name="Send message",
                                size=(38, 36))
        self.send.clicked.connect(self._submit)
        typing.addWidget(self.text, 1)
        typing.addWidget(self.send)
        column.addLayout(typing)
        self._style_talk(held=False)

    # --- layout: one row when wide, the talk button on a row of its own when narrow ------------

    def _arrange(self, stacked: bool) -> None:
        if stacked == self.stacked:
            return
        self.stacked = stacked
        row = self._row
        for item in (self._segment, self.talk, self.mute, self.interrupt):
            if isinstance(item, QWidget):
                row.removeWidget(item)
            else:
                row.removeItem(item)
        row.addLayout(self._segment, 0, 0)
        if stacked:
            row.setColumnStretch(1, 1)
            row.addWidget(self.mute, 0, 2)
            row.addWidget(self.interrupt, 0, 3)
            row.addWidget(self.talk, 1, 0, 1, 4)
        else:
            row.setColumnStretch(1, 1)
            row.addWidget(self.talk, 0, 1)
            row.addWidget(self.mute, 0, 2)
            row.addWidget(self.interrupt, 0, 3)

    def _one_row_width(self) -> int:
        margins = self.contentsMargins()
        segment = self.hands_free.minimumWidth() + self.push_to_talk.minimumWidth()
        return (margins.left() + margins.right() + segment + TALK_ROW_WIDTH + self.mute.minimumWidth()
                + self.interrupt.minimumWidth() + 3 * self._row.horizontalSpacing())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        """The stacked arrangement's: the controls reflow instead of clipping."""
        margins = self.contentsMargins()
        segment = self.hands_free.minimumWidth() + self.push_to_talk.minimumWidth()
        width = margins.left() + margins.right() + max(
            segment + self.mute.minimumWidth() + self.interrupt.minimumWidth() + 3 * self._row.horizontalSpacing(),
            TALK_MIN_WIDTH)
        return QSize(width, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        self._arrange(stacked=event.size().width() < self._one_row_width())
        super().resizeEvent(event)

    # --- intents ------------------------------------------------------------------------------

    def _mouse_pressed(self) -> None:
        self.mouse_held = True
        self._pressed_at = time.monotonic()
        self.talk_pressed.emit()

    def _mouse_released(self) -> None:
        if self.mouse_held:
            self.mouse_held = False
            self.talk_released.emit()
            if 1000 * (time.monotonic() - self._pressed_at) < TAP_MS:
                self.show_tap_hint()

    def cancel_press(self) -> None:
        """End a mouse press that Qt will never report released (focus lost, release grabbed)."""
        if self.mouse_held:
            self.talk.setDown(False)
            self.mouse_held = False
            self.talk_released.emit()

    def show_tap_hint(self) -> None:
        """A press too short to hold any speech: say how push-to-talk works, on the button itself."""
        self._hint_timer.start()
        self._update_talk_enabled()

    def _choose_mode(self, mode: str) -> None:
        if mode != self.mode:
            self.set_mode(mode)
            self.mode_changed.emit(mode)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        (self.hands_free if mode == HANDS_FREE else self.push_to_talk).setChecked(True)
        self._update_talk_enabled()

    def set_hands_free_allowed(self, allowed: bool, why: str = "") -> None:
        if allowed == self.hands_free.isEnabled() and self.hands_free.toolTip() == (why or self.hands_free.toolTip()):
            return
        self.hands_free.setEnabled(allowed)
        self.hands_free.setToolTip(why or "Just talk: the server notices when you start and stop")

    def _on_mute(self, muted: bool, emit: bool = True) -> None:
        self.mute.setIcon(icons.icon("mic-off" if muted else "mic", self._theme.danger if muted else self._theme.text))
        self.mute.setToolTip("Unmute the microphone (Ctrl+M)" if muted else "Mute the microphone (Ctrl+M)")
        if emit:
            self.mute_toggled.emit(muted)

    def _submit(self) -> None:
        text = self.text.text().strip()
        if text and self._connected:
            self.text.clear()
            self.text_submitted.emit(text)

    def set_audio_ok(self, ok: bool) -> None:
        """False while the session runs without a microphone (talking is impossible, typing works)."""
        if ok != self.audio_ok:
            self.audio_ok = ok
            self._update_talk_enabled()

    def set_key_name(self, name: str) -> None:
        self.key_name = name
        self._update_talk_enabled()

    # --- view ---------------------------------------------------------------------------------

    def show_view(self, view: ViewState) -> None:
        self._connected = view.connection is Conn.CONNECTED
        if view.mic is Mic.HANDS_FREE and self.mode != HANDS_FREE:
            self.set_mode(HANDS_FREE)
        elif view.mic in (Mic.PTT_HELD, Mic.PTT_RELEASED) and self.mode != PUSH_TO_TALK:
            self.set_mode(PUSH_TO_TALK)
        muted = view.mic is Mic.MUTED
        if self.mute.isChecked() != muted:
            self.mute.blockSignals(True)
            self.mute.setChecked(muted)
            self.mute.blockSignals(False)
            self._on_mute(muted, emit=False)
        held = view.mic is Mic.PTT_HELD
        self._style_talk(held)
        self._update_talk_enabled(muted)
        busy = view.assistant_speaking or view.turn in (Turn.WAITING, Turn.ASSISTANT_SPEAKING, Turn.RUNNING_TOOL)
        self.interrupt.setEnabled(self._connected and busy)
        self._ptt_note = dialect_notes.push_to_talk(view.traits)
        self.interrupt.setToolTip(dialect_notes.interrupt(view.traits) or "Interrupt the assistant (Esc)")
        self.text.setEnabled(self._connected)
        self.send.setEnabled(self._connected)
        self.text.setPlaceholderText("Type a message instead of speaking…" if self._connected
                                     else "Connect to send a message")

    def _update_talk_enabled(self, muted: bool | None = None) -> None:
        muted = self.mute.isChecked() if muted is None else muted
        ptt = self.mode == PUSH_TO_TALK
        self.talk.setEnabled(ptt and self._connected and not muted and self.audio_ok)
        held = bool(self.talk.property("held"))
        quiet = ptt or not self._connected or not self.audio_ok
        restyle(self.talk, talk="held" if held else "ready" if quiet else "hands_free")
        if not self.audio_ok:
            text = "No microphone — type a message below"
        elif muted:
            text = "Microphone muted — Ctrl+M to unmute"
        elif not self._connected:
            text = "Connect to talk"
        elif not ptt:
            text = "Hands-free — just speak"
        elif self.talk.property("held"):
            text = "Listening… release to send"
        elif self._hint_timer.isActive():
            text = f"Keep {self.key_name} held while you speak"
        else:
            text = f"Hold to talk  ({self.key_name})"
        self.talk.setText(text)
        self.talk.setToolTip((self._ptt_note or f"Hold while you speak (or hold {self.key_name}); let go to send")
                             if ptt else "Hands-free: the server hears when you start and stop. "
                                         "Switch to Push to talk to hold a key instead.")

    def _style_talk(self, held: bool) -> None:
        if self.talk.property("held") == held and self.talk.property("talk") is not None:
            return
        self.talk.setProperty("held", held)
        self._update_talk_enabled()
