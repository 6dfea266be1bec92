"""The desktop services the built-in tools use, on Qt: clipboard text, the browser, opening a file.

They implement the tools package's protocols (``ClipboardReader``, ``UrlOpener``), so the tools
themselves never import Qt.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication


class QtClipboard:
    """``ClipboardReader`` over the application's clipboard."""

    def read_text(self) -> str | None:
        clipboard = QGuiApplication.clipboard()
        mime = clipboard.mimeData()
        if mime is None or not mime.hasText():
            return None
        return clipboard.text() or None


class QtUrlOpener:
    """``UrlOpener`` through the desktop's default browser."""

    def open_url(self, url: str) -> bool:
        return QDesktopServices.openUrl(QUrl(url, QUrl.ParsingMode.StrictMode))


def open_file(path: Path) -> bool:
    """Open ``path`` in the user's editor for its type (the tools file's "Edit…")."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
