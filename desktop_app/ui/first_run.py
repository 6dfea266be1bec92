"""Shown instead of the conversation when no API key is stored: paste a key, or try the offline demo.

Choosing the demo connects at once to the embedded local server, so the very first start holds a
working conversation without an account.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.ui import icons
from desktop_app.ui.theme import Theme


class FirstRunPanel(QWidget):
    """Signals: ``key_requested`` (paste a key) and ``demo_requested`` (offline demo)."""

    key_requested = Signal()
    demo_requested = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        card = QFrame(self)
        card.setProperty("role", "card")
        card.setMaximumWidth(560)
        column = QVBoxLayout(card)
        column.setContentsMargins(32, 28, 32, 28)
        column.setSpacing(14)
        logo = QLabel(card)
        logo.setPixmap(icons.app_icon().pixmap(QSize(56, 56)))
        column.addWidget(logo, 0, Qt.AlignmentFlag.AlignHCenter)
        title = QLabel("Welcome to Parley", card)
        title.setStyleSheet("font-size: 17pt; font-weight: 700;")
        column.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        text = QLabel(
            "Talk with OpenAI's realtime voice models. To start, paste an OpenAI API key — it is kept "
            "in your system keyring — or try the offline demo, which runs a small assistant on this "
            "computer and needs no account.", card)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setProperty("role", "muted")
        column.addWidget(text)
        buttons = QHBoxLayout()
        buttons.setSpacing(12)
        self.key_button = QPushButton("Paste an API key…", card)
        self.key_button.setIcon(icons.icon("key", theme.accent_text))
        self.key_button.setProperty("role", "primary")
        self.key_button.setMinimumHeight(40)
        self.key_button.clicked.connect(self.key_requested)
        self.demo_button = QPushButton("Try the offline demo", card)
        self.demo_button.setIcon(icons.icon("sparkles", theme.text))
        self.demo_button.setMinimumHeight(40)
        self.demo_button.clicked.connect(self.demo_requested)
        buttons.addWidget(self.key_button, 1)
        buttons.addWidget(self.demo_button, 1)
        column.addLayout(buttons)
        hint = QLabel("You can switch between them any time from the profile menu at the top.", card)
        hint.setProperty("role", "hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(hint)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card, 4)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
