"""Add or edit one remote MCP server: address, token (into the keyring), allowed tools, approval.

The form is validated by :class:`~desktop_app.settings.tools.McpServerConfig` itself; a problem is
shown in one sentence under the form and nothing is saved. A token typed here goes straight to the
keyring under the token name; the field is never filled back in.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget,
)

from desktop_app.errors import CredentialError
from desktop_app.settings.tools import McpServerConfig

APPROVALS = (("ask", "Ask me before each call (tools I trust run at once)"), ("never", "Never ask"))


class SecretStore(Protocol):
    """Where tokens go: :class:`desktop_app.tools.secrets.ToolSecrets` (or memory in tests)."""

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class McpServerDialog(QDialog):
    """After ``accept()``, :attr:`server` is the validated configuration."""

    def __init__(self, secrets: SecretStore | None, server: McpServerConfig | None = None,
                 taken_labels: frozenset[str] = frozenset(), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MCP server")
        self.setMinimumWidth(540)
        self.secrets = secrets
        self.taken = taken_labels
        self.server: McpServerConfig | None = server
        form = QFormLayout()
        self.label = QLineEdit(self)
        self.label.setPlaceholderText("docs (letters, digits, _ or -)")
        self.url = QLineEdit(self)
        self.url.setPlaceholderText("https://mcp.example.com/mcp")
        self.description = QLineEdit(self)
        self.token_name = QLineEdit(self)
        self.token_name.setPlaceholderText("none")
        self.token = QLineEdit(self)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName("Token")
        self.auth_header = QLineEdit(self)
        self.auth_header.setPlaceholderText("empty: sent as an OAuth bearer token")
        self.allowed = QLineEdit(self)
        self.allowed.setPlaceholderText("all the server's tools")
        self.approval = QComboBox(self)
        for value, text in APPROVALS:
            self.approval.addItem(text, value)
        self.trusted = QLineEdit(self)
        self.trusted.setPlaceholderText("none")
        self.enabled = QCheckBox("Offer this server to the assistant", self)
        self.enabled.setChecked(True)
        for caption, widget in (("Label", self.label), ("Server URL", self.url), ("Description", self.description),
                                ("Token name", self.token_name), ("Token", self.token),
                                ("Token header", self.auth_header), ("Allowed tools", self.allowed),
                                ("Approval", self.approval), ("Trusted tools", self.trusted), ("", self.enabled)):
            form.addRow(caption, widget)
        self.problem = QLabel("", self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #dc2626;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        column.addLayout(form)
        column.addWidget(self.problem)
        column.addWidget(buttons)
        if server is not None:
            self._show(server)
        self._token_hint()
        self.token_name.textChanged.connect(self._token_hint)

    def _show(self, server: McpServerConfig) -> None:
        self.label.setText(server.label)
        self.url.setText(server.url)
        self.description.setText(server.description)
        self.token_name.setText(server.token_name)
        self.auth_header.setText(server.auth_header)
        self.allowed.setText(", ".join(server.allowed_tools))
        self.approval.setCurrentIndex(max(0, self.approval.findData(server.approval)))
        self.trusted.setText(", ".join(server.trusted_tools))
        self.enabled.setChecked(server.enabled)

    def _token_hint(self) -> None:
        name = self.token_name.text().strip()
        stored = bool(name) and self.secrets is not None and self.secrets.get(name) is not None
        self.token.setEnabled(bool(name))
        self.token.setPlaceholderText("stored in the keyring; type to replace" if stored
                                      else "paste to store it in the keyring" if name else "give the token a name first")

    def build(self) -> McpServerConfig:
        """The server the form describes; ``ValueError`` with the reason when it is not valid."""
        label = self.label.text().strip()
        if label in self.taken:
            raise ValueError(f"Another MCP server is already labelled “{label}”.")
        return McpServerConfig(
            label=label, url=self.url.text().strip(), description=self.description.text().strip(),
            token_name=self.token_name.text().strip(), auth_header=self.auth_header.text().strip(),
            allowed_tools=tuple(_names(self.allowed.text())), approval=str(self.approval.currentData()),
            trusted_tools=tuple(_names(self.trusted.text())), enabled=self.enabled.isChecked(),
        )

    def save(self) -> None:
        try:
            server = self.build()
            token = self.token.text().strip()
            if token:
                if self.secrets is None:
                    raise ValueError("Tokens cannot be stored in this mode.")
                self.secrets.set(server.token_name, token)
        except ValueError as exc:
            self.problem.setText(str(exc)[:1].upper() + str(exc)[1:])
            return
        except CredentialError as exc:
            self.problem.setText(exc.user_message)
            return
        self.token.clear()
        self.server = server
        self.accept()
