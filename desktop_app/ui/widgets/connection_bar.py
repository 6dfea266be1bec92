"""The bar across the top: endpoint profile, key, connection state, time left, Connect/Disconnect."""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.controller.states import Conn
from desktop_app.controller.view_state import ViewState
from desktop_app.ui import icons
from desktop_app.ui.theme import Theme, restyle
from desktop_app.ui.widgets.parts import text_label, tool_button

#: Below this many seconds left the session clock turns amber.
CLOCK_WARN_S = 5 * 60


EDIT_ENDPOINTS = "Edit endpoints…"


def connection_text(view: ViewState) -> tuple[str, str]:
    """``(words, mood)`` for the state pill; mood is ok / warning / error / idle."""
    conn = view.connection
    if conn is Conn.CONNECTED:
        return "Connected", "ok"
    if conn is Conn.CONNECTING:
        return "Connecting…", "warning"
    if conn is Conn.RECONNECTING:
        attempt = max(1, view.reconnect_attempt)
        return f"Reconnecting {attempt}/{view.reconnect_limit}…", "warning"
    if conn is Conn.FAILED:
        reason = view.connection_detail or "the connection failed"
        return f"Failed: {reason}", "error"
    return "Disconnected", "idle"


def time_left_text(expires_at: float | None, now: float) -> str:
    """``"58 min left"``; under ten minutes ``"4:05 left"``; empty when unknown."""
    if expires_at is None:
        return ""
    left = max(0, int(expires_at - now))
    if left >= 600:
        return f"{left // 60} min left"
    return f"{left // 60}:{left % 60:02d} left"


class ConnectionBar(QFrame):
    """Emits ``connect_requested``/``disconnect_requested``, ``profile_chosen(name)``,
    ``key_requested`` and ``panel_toggled(bool)``; shows what :meth:`show_view` is given."""

    connect_requested = Signal()
    disconnect_requested = Signal()
    profile_chosen = Signal(str)
    endpoints_requested = Signal()
    key_requested = Signal()
    panel_toggled = Signal(bool)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._view: ViewState | None = None
        self.setProperty("role", "bar")
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 10, 12, 10)
        row.setSpacing(10)
        logo = QLabel(self)
        logo.setPixmap(icons.app_icon().pixmap(QSize(26, 26)))
        title = QLabel("Parley", self)
        title.setStyleSheet("font-size: 13pt; font-weight: 700;")
        row.addWidget(logo)
        row.addWidget(title)
        row.addSpacing(12)
        self.profile = QComboBox(self)
        self.profile.setAccessibleName("Endpoint profile")
        self.profile.setToolTip("Where Parley connects (OpenAI, Azure, a custom server or the offline demo)")
        self.profile.setMinimumWidth(170)
        self.profile.activated.connect(self._on_profile_activated)
        self._active_profile = ""
        row.addWidget(self.profile)
        self.key = tool_button(self, "key", theme.text, "API key for this profile…", name="API key")
        self.key.clicked.connect(self.key_requested)
        row.addWidget(self.key)
        row.addStretch(1)
        self.dot = QLabel("●", self)
        self.state = QLabel("Disconnected", self)
        self.state.setAccessibleName("Connection state")
        self.state.setMaximumWidth(420)
        self.clock = text_label("", self, "muted")
        self.clock.setToolTip("Time left before the server's 60-minute session limit "
                              "(Parley starts a fresh session shortly before it)")
        self.usage = text_label("", self, "muted")
        self.usage.setToolTip("Tokens used in this conversation and their estimated cost")
        for widget in (self.dot, self.state, self.clock, self.usage):
            row.addWidget(widget)
        row.addSpacing(8)
        self.connect_button = QPushButton("Connect", self)
        self.connect_button.setIcon(icons.icon("power", theme.accent_text))
        self.connect_button.setProperty("role", "primary")
        self.connect_button.setMinimumWidth(118)
        self.connect_button.clicked.connect(self._on_connect_clicked)
        row.addWidget(self.connect_button)
        self.panel = tool_button(self, "sliders", theme.text, "Show or hide the settings panel (F9)",
                                 name="Settings panel")
        self.panel.setCheckable(True)
        self.panel.setChecked(True)
        self.panel.toggled.connect(self.panel_toggled)
        row.addWidget(self.panel)
        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)
        self._clock_timer.timeout.connect(self._update_clock)
        self._mood = ""

    def set_profiles(self, names: list[str], active: str) -> None:
        self.profile.blockSignals(True)
        self.profile.clear()
        self.profile.addItems(names)
        self.profile.insertSeparator(len(names))
        self.profile.addItem(EDIT_ENDPOINTS)
        self.profile.setCurrentText(active)
        self._active_profile = active
        self.profile.blockSignals(False)

    def _on_profile_activated(self, _index: int) -> None:
        chosen = self.profile.currentText()
        if chosen == EDIT_ENDPOINTS:  # an action, not a profile: keep showing the active one
            self.profile.setCurrentText(self._active_profile)
            self.endpoints_requested.emit()
            return
        self._active_profile = chosen
        self.profile_chosen.emit(chosen)

    def set_key_enabled(self, enabled: bool) -> None:
        self.key.setEnabled(enabled)

    def show_view(self, view: ViewState) -> None:
        previous, self._view = self._view, view
        if previous is not None and (previous.connection, previous.connection_detail, previous.reconnect_attempt,
                                     previous.session_expires_at, previous.total_tokens) == (
                view.connection, view.connection_detail, view.reconnect_attempt, view.session_expires_at,
                view.total_tokens):
            return
        words, mood = connection_text(view)
        self.state.setText(words)
        self.state.setToolTip(words)
        if mood != self._mood:
            self._mood = mood
            restyle(self.dot, dot=mood)
            restyle(self.state, mood=mood)
        live = view.connection in (Conn.CONNECTING, Conn.CONNECTED, Conn.RECONNECTING)
        self.connect_button.setText("Disconnect" if live else "Connect")
        self.connect_button.setIcon(icons.icon("power", self._theme.text if live else self._theme.accent_text))
        restyle(self.connect_button, role="" if live else "primary")
        self.profile.setEnabled(not live)
        self.usage.setText(f"{view.total_tokens:,} tokens · ${view.cost_usd:.2f}" if view.total_tokens else "")
        if view.connection is Conn.CONNECTED and view.session_expires_at is not None:
            if not self._clock_timer.isActive():
                self._clock_timer.start()
        else:
            self._clock_timer.stop()
        self._update_clock()

    def _update_clock(self) -> None:
        view = self._view
        if view is None or view.connection is not Conn.CONNECTED:
            self.clock.setText("")
            return
        now = time.time()
        self.clock.setText(time_left_text(view.session_expires_at, now))
        warn = view.session_expires_at is not None and view.session_expires_at - now < CLOCK_WARN_S
        restyle(self.clock, clock="warn" if warn else "")

    def _on_connect_clicked(self) -> None:
        view = self._view
        live = view is not None and view.connection in (Conn.CONNECTING, Conn.CONNECTED, Conn.RECONNECTING)
        (self.disconnect_requested if live else self.connect_requested).emit()
