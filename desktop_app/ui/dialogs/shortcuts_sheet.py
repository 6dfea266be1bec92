"""The keyboard shortcuts sheet (F1 or ?): every shortcut of the window in one short list."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.ui.shortcuts import rows
from desktop_app.ui.theme import Theme


class ShortcutsSheet(QDialog):
    """Lists :func:`desktop_app.ui.shortcuts.rows` for the chosen talk key; ``entries`` holds them."""

    def __init__(self, theme: Theme, talk_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        column = QVBoxLayout(self)
        column.setContentsMargins(22, 20, 22, 18)
        column.setSpacing(14)
        title = QLabel("Keyboard shortcuts", self)
        title.setStyleSheet("font-size: 13pt; font-weight: 700;")
        column.addWidget(title)
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(8)
        self.entries = rows(talk_key)
        key_style = (f"background: {theme.surface_alt}; border: 1px solid {theme.border}; border-radius: 5px;"
                     " padding: 2px 8px; font-weight: 600;")
        for line, (keys, what) in enumerate(self.entries):
            key = QLabel(keys, self)
            key.setStyleSheet(key_style)
            grid.addWidget(key, line, 0, Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(QLabel(what, self), line, 1)
        grid.setColumnStretch(1, 1)
        column.addLayout(grid)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        close = QPushButton("Close", self)
        close.setProperty("role", "primary")
        close.setDefault(True)
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        column.addLayout(buttons)
