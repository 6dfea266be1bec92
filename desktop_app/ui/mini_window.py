"""The mini window: a small always-on-top window that can stand in for the main one during a
conversation — the state in words, the microphone and assistant levels, the last line each side
said, a talk button (held in push-to-talk; mute otherwise) and a way back to the full window.

It renders the same :class:`ViewState` as the main window and sends the same intents; it owns
nothing of the conversation.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QCloseEvent, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.controller.states import Conn, Mic
from desktop_app.controller.view_state import ViewState
from desktop_app.ui import icons
from desktop_app.ui.presence import last_lines, presence
from desktop_app.ui.theme import Theme, restyle
from desktop_app.ui.widgets.indicators import turn_text
from desktop_app.ui.widgets.level_meter import LevelMeter

WIDTH, HEIGHT = 340, 190


class MiniWindow(QWidget):
    """Signals: ``talk_pressed``, ``talk_released``, ``mute_toggled(bool)``, ``expand_requested``,
    ``closed``."""

    talk_pressed = Signal()
    talk_released = Signal()
    mute_toggled = Signal(bool)
    expand_requested = Signal()
    closed = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.setWindowTitle("Parley")
        self.setWindowIcon(icons.app_icon())
        self.setAccessibleName("Parley mini window")
        self.setMinimumWidth(260)
        self.resize(WIDTH, HEIGHT)
        self._push_to_talk = False
        self._you_text = self._assistant_text = ""
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 10, 12, 10)
        column.setSpacing(6)
        top = QHBoxLayout()
        self.state = QLabel("Not connected", self)
        self.state.setProperty("turn", "idle")
        self.state.setAccessibleName("Conversation state")
        top.addWidget(self.state, 1)
        self.expand = QPushButton(self)
        self.expand.setIcon(icons.icon("panel", theme.text))
        self.expand.setToolTip("Open the full window")
        self.expand.setAccessibleName("Open the full window")
        self.expand.clicked.connect(self.expand_requested)
        top.addWidget(self.expand)
        column.addLayout(top)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.addWidget(QLabel("You", self), 0, 0)
        self.mic_meter = LevelMeter(theme, theme.accent, self)
        self.mic_meter.setAccessibleName("Microphone level")
        grid.addWidget(self.mic_meter, 0, 1)
        grid.addWidget(QLabel("Assistant", self), 1, 0)
        self.out_meter = LevelMeter(theme, theme.assistant, self)
        self.out_meter.setAccessibleName("Assistant level")
        grid.addWidget(self.out_meter, 1, 1)
        grid.setColumnStretch(1, 1)
        column.addLayout(grid)
        self.you = QLabel("", self)
        self.you.setAccessibleName("What you said last")
        self.assistant = QLabel("", self)
        self.assistant.setAccessibleName("What the assistant said last")
        for line in (self.you, self.assistant):
            line.setTextFormat(Qt.TextFormat.PlainText)
            line.setProperty("role", "muted")
            column.addWidget(line)
        buttons = QHBoxLayout()
        self.talk = QPushButton("Hold to talk", self)
        self.talk.setProperty("talk", "idle")
        self.talk.setAccessibleName("Talk")
        self.talk.setMinimumHeight(38)
        self.talk.pressed.connect(self._pressed)
        self.talk.released.connect(self._released)
        buttons.addWidget(self.talk, 1)
        self.mute = QPushButton(self)
        self.mute.setCheckable(True)
        self.mute.setIcon(icons.icon("mic-off", theme.text))
        self.mute.setToolTip("Mute the microphone")
        self.mute.setAccessibleName("Mute microphone")
        self.mute.toggled.connect(self.mute_toggled)
        buttons.addWidget(self.mute)
        column.addLayout(buttons)
        self.setTabOrder(self.talk, self.mute)
        self.setTabOrder(self.mute, self.expand)

    def restore(self, geometry: bytes) -> None:
        if not geometry or not self.restoreGeometry(QByteArray(geometry)):
            self.resize(WIDTH, HEIGHT)

    def _pressed(self) -> None:
        if self._push_to_talk:
            self.talk_pressed.emit()

    def _released(self) -> None:
        if self._push_to_talk:
            self.talk_released.emit()

    def show_levels(self, mic_dbfs: float, out_dbfs: float) -> None:
        """The meters (the main window's meter clock, 20 a second while this window is on screen)."""
        self.mic_meter.set_level(mic_dbfs)
        self.out_meter.set_level(out_dbfs)

    def show_view(self, view: ViewState, push_to_talk: bool) -> None:
        self._push_to_talk = push_to_talk
        state = presence(view)
        self.state.setText(turn_text(view))
        restyle(self.state, turn={"you": "user", "speaking": "assistant", "thinking": "thinking",
                                  "listening": "listening"}.get(state, "idle"))
        self._you_text, self._assistant_text = last_lines(view)
        self._elide()
        connected = view.connection is Conn.CONNECTED
        muted = view.mic is Mic.MUTED
        held = view.mic is Mic.PTT_HELD
        self.talk.setEnabled(connected and push_to_talk and not muted)
        self.talk.setText("Talking…" if held else "Hold to talk" if push_to_talk else
                          "Muted" if muted else "Listening" if connected else "Not connected")
        restyle(self.talk, talk="held" if held else "hands_free" if not push_to_talk else "idle")
        self.mute.blockSignals(True)
        self.mute.setChecked(muted)
        self.mute.blockSignals(False)

    def _elide(self) -> None:
        metrics = QFontMetrics(self.you.font())
        room = max(60, self.width() - 30)
        left = Qt.TextElideMode.ElideLeft  # the newest words matter most
        self.you.setText(metrics.elidedText(f"You: {self._you_text}" if self._you_text else "", left, room))
        self.assistant.setText(metrics.elidedText(
            f"Assistant: {self._assistant_text}" if self._assistant_text else "", left, room))
        self.you.setToolTip(self._you_text)
        self.assistant.setToolTip(self._assistant_text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        self._elide()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        event.accept()
        self.closed.emit()
