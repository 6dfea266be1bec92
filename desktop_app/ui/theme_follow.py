"""Light or dark, live: when the desktop switches its colour scheme while Parley runs, the
application's palette and style sheet change and the window is rebuilt in the new colours.

Widgets take their :class:`~desktop_app.ui.theme.Theme` when they are made (icons are tinted, some
style sheets carry colours), so a new scheme means a new window: the old one lets go of its hooks
(``MainWindow.retire``) and the new one renders the same conversation at once — the session, the
streams and the connection are untouched, and the window keeps its place, its visibility and the
mini window. A theme forced by the caller (tests, screenshots) does not follow the system.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication

from desktop_app.log import get_logger
from desktop_app.ui import theme as themes
from desktop_app.ui.desktop import DesktopShell
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.theme import Theme

log = get_logger("ui")


class ThemeFollower(QObject):
    """Holds the current window (``window``); ``window_replaced(window)`` after a rebuild."""

    window_replaced = Signal(object)

    def __init__(self, app: QApplication, make_window: Callable[[Theme], MainWindow], window: MainWindow,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._make_window = make_window
        self.window = window
        app.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    def _scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        dark = scheme == Qt.ColorScheme.Dark if scheme != Qt.ColorScheme.Unknown else \
            themes.system_prefers_dark(self._app)
        if dark != self.window.theme.dark:
            self.retheme(dark)

    def retheme(self, dark: bool) -> MainWindow:
        """Apply the scheme and rebuild the window in it; returns the new window."""
        old = self.window
        shell = old.findChild(DesktopShell)
        mini = shell is not None and shell.mini.isVisible()
        visible = old.isVisible()
        theme = themes.apply(self._app, dark)
        old.retire()
        new = self._make_window(theme)
        self.window = new
        if visible:
            new.show()
        if mini:
            new_shell = new.findChild(DesktopShell)
            if new_shell is not None:
                new_shell.show_mini()
        old.deleteLater()
        log.info("= colour scheme changed: the window is now %s", "dark" if dark else "light")
        self.window_replaced.emit(new)
        return new

    def stop(self) -> None:
        self._app.styleHints().colorSchemeChanged.disconnect(self._scheme_changed)
