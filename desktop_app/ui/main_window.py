"""The main window. (The full conversation UI arrives with the main-window issue.)"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMainWindow

from desktop_app import __version__


class MainWindow(QMainWindow):
    """Top-level window; closing it (or Ctrl+Q) asks the app to quit through ``on_quit``."""

    def __init__(self, on_quit: Callable[[], None]) -> None:
        super().__init__()
        self._on_quit = on_quit
        self.setWindowTitle("Parley")
        self.setMinimumSize(720, 520)
        label = QLabel(f"Parley {__version__}", self)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(label)
        QShortcut(QKeySequence.StandardKey.Quit, self, activated=self.close)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        event.accept()
        self._on_quit()

    async def shutdown(self) -> None:
        """Release everything the window holds (session, streams, settings) before the loop stops."""
        self.close()
