"""The tray icon: Parley's state at a glance (listening, speaking, muted, offline) and a menu with
the talk mode, mute, connect/disconnect, show and quit.

The icon is the app icon with a coloured badge drawn on it per state (a pixmap per state, made once).
Without a system tray (some desktops, a bare X server) :meth:`Tray.available` is False and closing
the window quits as before; the menu still exists, so it can be shown and tested.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from desktop_app.controller.states import Conn
from desktop_app.controller.view_state import ViewState
from desktop_app.ui import icons
from desktop_app.ui.presence import IDLE, LISTENING, MUTED, OFFLINE, SPEAKING, THINKING, presence, tooltip
from desktop_app.ui.theme import Theme

#: Badge colour and glyph per state (theme colour names).
BADGES = {LISTENING: ("success", "mic"), "you": ("accent", "mic"), SPEAKING: ("assistant", "waves"),
          THINKING: ("warning", "sparkles"), MUTED: ("danger", "mic-off"), IDLE: ("muted", "hand"),
          OFFLINE: ("muted", "power")}
ICON_PX = 64


def state_icon(theme: Theme, state: str) -> QIcon:
    """The app icon with the state's badge in the lower right corner."""
    color_name, glyph = BADGES[state]
    color = {"success": theme.success, "accent": theme.accent, "assistant": theme.assistant,
             "warning": theme.warning, "danger": theme.danger, "muted": theme.muted}[color_name]
    pixmap = QPixmap(ICON_PX, ICON_PX)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.drawPixmap(0, 0, icons.app_icon().pixmap(ICON_PX, ICON_PX))
    badge = QRectF(ICON_PX * 0.48, ICON_PX * 0.48, ICON_PX * 0.5, ICON_PX * 0.5)
    painter.setPen(QColor("#ffffff"))
    painter.setBrush(QColor(color))
    painter.drawEllipse(badge.center(), badge.width() / 2, badge.height() / 2)
    inner = icons.icon(glyph, "#ffffff").pixmap(int(badge.width() * 0.62), int(badge.height() * 0.62))
    painter.drawPixmap(QPointF(badge.center().x() - inner.width() / 2, badge.center().y() - inner.height() / 2), inner)
    painter.end()
    return QIcon(pixmap)


class Tray(QObject):
    """Signals: ``show_requested``, ``mini_requested``, ``quit_requested``, ``connect_requested``,
    ``disconnect_requested``, ``mode_chosen(str)``, ``mute_toggled(bool)``."""

    show_requested = Signal()
    mini_requested = Signal()
    quit_requested = Signal()
    connect_requested = Signal()
    disconnect_requested = Signal()
    mode_chosen = Signal(str)
    mute_toggled = Signal(bool)

    def __init__(self, theme: Theme, parent: QWidget | None = None,
                 tray_available: Callable[[], bool] | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._tray_available = tray_available or QSystemTrayIcon.isSystemTrayAvailable
        self._icons = {state: state_icon(theme, state) for state in BADGES}
        self.state = OFFLINE
        self.menu = QMenu(parent)
        self.menu.setAccessibleName("Parley")
        self.status = self.menu.addAction("Not connected")
        self.status.setEnabled(False)
        self.menu.addSeparator()
        self.connection = self.menu.addAction("Connect")
        self.connection.triggered.connect(self._connection_clicked)
        self.mute = self.menu.addAction("Mute microphone")
        self.mute.setCheckable(True)
        self.mute.toggled.connect(self.mute_toggled)
        modes = QActionGroup(self.menu)
        self.hands_free = self._mode_action("Hands-free", "hands_free", modes)
        self.push_to_talk = self._mode_action("Push to talk", "push_to_talk", modes)
        self.menu.addSeparator()
        self.menu.addAction("Show Parley").triggered.connect(self.show_requested)
        self.menu.addAction("Mini window").triggered.connect(self.mini_requested)
        self.menu.addSeparator()
        self.menu.addAction("Quit Parley").triggered.connect(self.quit_requested)
        self.icon = QSystemTrayIcon(self._icons[OFFLINE], self)
        self.icon.setToolTip(tooltip(OFFLINE))
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self._connected = False
        self.told: list[str] = []  # balloons shown, oldest first

    def _mode_action(self, text: str, mode: str, group: QActionGroup) -> QAction:
        action = self.menu.addAction(text)
        action.setCheckable(True)
        group.addAction(action)
        action.triggered.connect(lambda: self.mode_chosen.emit(mode))
        return action

    def available(self) -> bool:
        """A system tray is there to put the icon in (else closing the window must quit)."""
        return self._tray_available()

    def show(self) -> None:
        if self.available():
            self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def _connection_clicked(self) -> None:
        (self.disconnect_requested if self._connected else self.connect_requested).emit()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_requested.emit()

    def show_view(self, view: ViewState, mode: str) -> None:
        """Icon, tooltip and menu for ``view`` (``mode``: the talk mode chosen)."""
        state = presence(view)
        if state != self.state:
            self.state = state
            self.icon.setIcon(self._icons[state])
        self.icon.setToolTip(tooltip(state))
        self.status.setText(tooltip(state).removeprefix("Parley — ").capitalize())
        self._connected = view.connection in (Conn.CONNECTED, Conn.CONNECTING, Conn.RECONNECTING)
        self.connection.setText("Disconnect" if self._connected else "Connect")
        self.mute.blockSignals(True)
        self.mute.setChecked(state == MUTED)
        self.mute.blockSignals(False)
        (self.push_to_talk if mode == "push_to_talk" else self.hands_free).setChecked(True)

    def tell(self, title: str, sentence: str) -> None:
        """A balloon from the tray (the close-to-tray notice)."""
        self.told.append(sentence)
        if self.available():
            self.icon.showMessage(title, sentence, self._icons[self.state], 8000)
