"""The bar across the top: endpoint profile, key, connection state, time left, Connect/Disconnect."""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop_app.controller.states import Conn
from desktop_app.controller.view_state import ViewState
from desktop_app.realtime.models import cost_text
from desktop_app.ui import icons
from desktop_app.ui.theme import Theme, restyle
from desktop_app.ui.widgets import dialect_notes
from desktop_app.ui.widgets.parts import ElidedLabel, text_label, tool_button

#: Below this many seconds left the session clock turns amber.
CLOCK_WARN_S = 5 * 60


EDIT_ENDPOINTS = "Edit endpoints…"
#: Below this width the bar drops the app's name and the token count (kept in the state's tooltip).
COMPACT_BELOW = 820
PROFILE_TIP = "Where Parley connects (OpenAI, Azure, a custom server or the offline demo)"
PROFILE_LIVE_TIP = "Choosing another endpoint ends this conversation and connects there"
KEY_TIP = "API key for this profile…"
KEY_NOT_NEEDED_TIP = "The offline demo runs on this computer and needs no API key"


def connection_text(view: ViewState, profile: str | None = None) -> tuple[str, str]:
    """``(words, mood)`` for the state pill; mood is ok / warning / error / idle. A failure of
    another ``profile`` than the one chosen now is history: the chosen one is just not connected."""
    conn = view.connection
    if conn is Conn.FAILED and profile is not None and view.endpoint_label and view.endpoint_label != profile:
        return "Disconnected", "idle"
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
    ``key_requested``, ``panel_toggled(bool)`` and ``help_requested``; shows what :meth:`show_view` is given."""

    connect_requested = Signal()
    disconnect_requested = Signal()
    profile_chosen = Signal(str)
    endpoints_requested = Signal()
    key_requested = Signal()
    panel_toggled = Signal(bool)
    help_requested = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._view: ViewState | None = None
        self.setProperty("role", "bar")
        row = QHBoxLayout(self)
        self._row = row
        row.setContentsMargins(16, 10, 12, 10)
        row.setSpacing(10)
        logo = QLabel(self)
        logo.setPixmap(icons.app_icon().pixmap(QSize(26, 26)))
        title = QLabel("Parley", self)
        title.setStyleSheet("font-size: 13pt; font-weight: 700;")
        self.title = title
        row.addWidget(logo)
        row.addWidget(title)
        row.addSpacing(12)
        self.profile = QComboBox(self)
        self.profile.setAccessibleName("Endpoint profile")
        self.profile.setToolTip(PROFILE_TIP)
        self.profile.setMinimumWidth(130)
        self.profile.activated.connect(self._on_profile_activated)
        self._active_profile = ""
        self._free = False
        row.addWidget(self.profile)
        self.key = tool_button(self, "key", theme.text, KEY_TIP, name="API key")
        self.key.clicked.connect(self.key_requested)
        row.addWidget(self.key)
        row.addStretch(1)
        self.dot = QLabel("●", self)
        self.state = ElidedLabel("Disconnected", self)
        self.state.setAccessibleName("Connection state")
        self.state.keep_whole("Disconnected", "Connecting…", "Connected", bold=True)  # only failures elide
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
        self.help = tool_button(self, "keyboard", theme.text, "Keyboard shortcuts (F1)", name="Keyboard shortcuts")
        self.help.clicked.connect(self.help_requested)
        row.addWidget(self.help)
        self.compact = False
        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)
        self._clock_timer.timeout.connect(self._update_clock)
        self._mood = ""

    # --- narrow windows: the name and the usage step aside before anything overlaps -------------

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        hint = super().minimumSizeHint()
        hidden = 0 if self.compact else self._compact_saving()
        return QSize(hint.width() - hidden, hint.height())

    def _compact_saving(self) -> int:
        spacing = self._row.spacing()
        return sum(w.sizeHint().width() + spacing for w in (self.title, self.usage) if w.isVisibleTo(self))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        compact = event.size().width() < COMPACT_BELOW
        if compact != self.compact:
            self.compact = compact
            self.title.setVisible(not compact)
            self.usage.setVisible(not compact and bool(self.usage.text()))
            self.state.setToolTip(self._state_tip())
        super().resizeEvent(event)

    def _state_tip(self) -> str:
        usage = self.usage.text()
        return f"{self.state.full_text()}\n{usage}" if self.compact and usage else self.state.full_text()

    def set_profiles(self, names: list[str], active: str) -> None:
        self.profile.blockSignals(True)
        self.profile.clear()
        self.profile.addItems(names)
        self.profile.insertSeparator(len(names))
        self.profile.addItem(EDIT_ENDPOINTS)
        self.profile.setCurrentText(active)
        self._active_profile = active
        self.profile.blockSignals(False)
        self._refresh()

    def _on_profile_activated(self, _index: int) -> None:
        chosen = self.profile.currentText()
        if chosen == EDIT_ENDPOINTS:  # an action, not a profile: keep showing the active one
            self.profile.setCurrentText(self._active_profile)
            self.endpoints_requested.emit()
            return
        self._active_profile = chosen
        self.profile_chosen.emit(chosen)

    def set_key_enabled(self, enabled: bool) -> None:
        """False for the offline demo (no key to manage): disabled, and the tooltip says why."""
        self.key.setEnabled(enabled)
        self.key.setToolTip(KEY_TIP if enabled else KEY_NOT_NEEDED_TIP)

    def set_free(self, free: bool) -> None:
        """The endpoint costs nothing (the offline demo): tokens are counted, no price is shown."""
        if free != self._free:
            self._free = free
            self._refresh()

    def _refresh(self) -> None:
        view, self._view = self._view, None
        if view is not None:
            self.show_view(view)

    def show_view(self, view: ViewState) -> None:
        previous, self._view = self._view, view
        if previous is not None and (previous.connection, previous.connection_detail, previous.reconnect_attempt,
                                     previous.session_expires_at, previous.total_tokens, previous.usage_seconds) == (
                view.connection, view.connection_detail, view.reconnect_attempt, view.session_expires_at,
                view.total_tokens, view.usage_seconds):
            return
        words, mood = connection_text(view, self._active_profile)
        self.state.setText(words)
        if mood != self._mood:
            self._mood = mood
            restyle(self.dot, dot=mood)
            restyle(self.state, mood=mood)
        live = view.connection in (Conn.CONNECTING, Conn.CONNECTED, Conn.RECONNECTING)
        self.connect_button.setText("Disconnect" if live else "Connect")
        self.connect_button.setIcon(icons.icon("power", self._theme.text if live else self._theme.accent_text))
        restyle(self.connect_button, role="" if live else "primary")
        self.profile.setToolTip(PROFILE_LIVE_TIP if live else PROFILE_TIP)
        self._show_usage(view)
        self.usage.setVisible(not self.compact and bool(self.usage.text()))
        self.state.setToolTip(self._state_tip())
        if view.connection is Conn.CONNECTED and view.session_expires_at is not None:
            if not self._clock_timer.isActive():
                self._clock_timer.start()
        else:
            self._clock_timer.stop()
        self._update_clock()

    def _show_usage(self, view: ViewState) -> None:
        if view.traits.billed_per_second:  # GPT-Live: billed by the second of session
            used = dialect_notes.billed_time(view.usage_seconds) if view.usage_seconds else ""
            self.usage.setText(f"{used} · free" if used and self._free else
                               f"{used} · {cost_text(view.cost_usd)}" if used else "")
            self.usage.setToolTip("Session time billed so far (GPT-Live charges by the second, silence included) "
                                  "and its cost; a delegated task's tokens are billed apart")
        elif not view.total_tokens:
            self.usage.setText("")
        elif self._free:
            self.usage.setText(f"{view.total_tokens:,} tokens · free")
            self.usage.setToolTip("Tokens counted as the real service would; the offline demo costs nothing")
        else:
            self.usage.setText(f"{view.total_tokens:,} tokens · {cost_text(view.cost_usd)}")
            self.usage.setToolTip("Tokens used in this conversation and their estimated cost")

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
