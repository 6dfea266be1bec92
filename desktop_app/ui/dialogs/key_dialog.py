"""Enter, test, replace or delete the API key of one profile.

Keys go to the OS keyring through :class:`~desktop_app.settings.secrets.KeyStore` (service
``parley``). When no safe keyring exists the dialog says so in one sentence and offers to hold the
key for this session only; nothing is ever written to a plain file. The current key is only ever
shown masked (``sk-…wxyz``). "Test connection" opens a session with the typed key through the
``tester`` it is given and reports one sentence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from desktop_app.errors import CredentialError
from desktop_app.log import get_logger
from desktop_app.settings.profiles import Profile, mask_key
from desktop_app.settings.secrets import KeyStore
from desktop_app.tasks import spawn
from desktop_app.ui import icons
from desktop_app.ui.theme import Theme

log = get_logger("ui")

Tester = Callable[[Profile, str], Awaitable[str | None]]
"""``await tester(profile, key)``: None when a session opened, else one sentence why not."""

SOURCE_TEXT = {
    "session": "A key is held for this session only: {masked}.",
    "environment": "The key comes from the {env} environment variable: {masked}.",
    "keyring": "A key is stored in the system keyring: {masked}.",
}


class KeyDialog(QDialog):
    """Emits ``key_changed(profile name)`` after a key was saved, held or deleted."""

    key_changed = Signal(str)

    def __init__(self, theme: Theme, keys: KeyStore, profile: Profile, tester: Tester | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._keys = keys
        self._profile = profile
        self._tester = tester
        self._task: asyncio.Task[None] | None = None
        self.setWindowTitle(f"API key — {profile.name}")
        self.setMinimumWidth(500)
        column = QVBoxLayout(self)
        column.setContentsMargins(22, 20, 22, 18)
        column.setSpacing(12)
        title = QLabel(f"API key for “{profile.name}”", self)
        title.setStyleSheet("font-size: 13pt; font-weight: 700;")
        column.addWidget(title)
        self.current = QLabel(self)
        self.current.setWordWrap(True)
        self.current.setProperty("role", "muted")
        column.addWidget(self.current)
        status = keys.backend_status()
        self.backend_note = QLabel(status.sentence, self)
        self.backend_note.setWordWrap(True)
        self.backend_note.setVisible(not status.usable)
        self.backend_note.setStyleSheet(f"color: {theme.warning};")
        column.addWidget(self.backend_note)

        self.key = QLineEdit(self)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("Paste your key (sk-…)")
        self.key.setAccessibleName("API key")
        self.key.textChanged.connect(self._update_buttons)
        self.reveal = QAction(icons.icon("eye", theme.muted), "Show the key", self)
        self.reveal.setCheckable(True)
        self.reveal.toggled.connect(lambda on: self.key.setEchoMode(
            QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password))
        self.key.addAction(self.reveal, QLineEdit.ActionPosition.TrailingPosition)
        column.addWidget(self.key)
        self.session_only = QCheckBox("Use this key for this session only (not saved)", self)
        self.session_only.setChecked(not status.usable)
        self.session_only.setEnabled(status.usable)
        column.addWidget(self.session_only)
        self.outcome = QLabel("", self)
        self.outcome.setWordWrap(True)
        column.addWidget(self.outcome)

        buttons = QHBoxLayout()
        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self._start_test)
        self.test_button.setVisible(tester is not None)
        self.delete_button = QPushButton("Delete key", self)
        self.delete_button.setProperty("role", "danger")
        self.delete_button.clicked.connect(self._delete)
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        self.save_button = QPushButton("Save", self)
        self.save_button.setProperty("role", "primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save_button)
        column.addLayout(buttons)
        self._show_current()
        self._update_buttons()

    def _show_current(self) -> None:
        try:
            source = self._keys.source(self._profile)
            key = self._keys.get_key(self._profile) if source else None
        except CredentialError as exc:
            source, key = None, None
            self._say(exc.user_message, "error")
        if source is None:
            self.current.setText("No key is stored for this profile yet.")
        else:
            self.current.setText(SOURCE_TEXT[source].format(masked=mask_key(key), env=self._profile.key_env_var))
        self.save_button.setText("Replace" if source in ("keyring", "session") else "Save")
        self.delete_button.setEnabled(source in ("keyring", "session"))

    def _update_buttons(self) -> None:
        typed = bool(self.key.text().strip())
        self.save_button.setEnabled(typed)
        self.test_button.setEnabled(typed and (self._task is None or self._task.done()))

    def _crashed(self, exc: BaseException) -> None:
        """The test failed unexpectedly (already logged): say so; the buttons work again."""
        self._say("The test could not finish; the details are in the log.", "error")
        self._update_buttons()

    def _say(self, sentence: str, level: str) -> None:
        self.outcome.setText(sentence)
        self.outcome.setStyleSheet(f"color: {self._theme.state_color(level)};")

    def _save(self) -> None:
        key = self.key.text()
        try:
            if self.session_only.isChecked() or self._profile.temporary:  # a --url profile: never stored
                self._keys.set_session_key(self._profile, key)
            else:
                self._keys.set_key(self._profile, key)
        except CredentialError as exc:
            self._say(exc.user_message, "error")
            if not self._keys.backend_status().usable:
                self.session_only.setChecked(True)
            return
        self.key.clear()
        self.key_changed.emit(self._profile.name)
        self.accept()

    def _delete(self) -> None:
        try:
            self._keys.delete_key(self._profile)
        except CredentialError as exc:
            self._say(exc.user_message, "error")
            return
        self._show_current()
        self._say("The key was deleted.", "info")
        self.key_changed.emit(self._profile.name)

    def _start_test(self) -> None:
        if self._tester is None:
            return
        self._say("Connecting…", "idle")
        self._task = spawn(self._test(self.key.text().strip()), name="key test", on_crash=self._crashed)
        self._update_buttons()

    async def _test(self, key: str) -> None:
        tester = self._tester
        if tester is None:
            return
        try:
            problem = await tester(self._profile, key)
        finally:
            self._update_buttons()
        if problem is None:
            self._say("The key works: a session opened.", "ok")
        else:
            self._say(problem, "error")

    def done(self, result: int) -> None:
        """Closing in any way (Esc, the window's close) also cancels a key test in flight."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        super().done(result)
