"""The Tools tab: built-in tools on/off and their permission, the user's tools file, MCP servers.

Every change goes to the :class:`~desktop_app.tools.registry.ToolRegistry` at once and, when a
settings store is given, into the settings file; ``tools_changed`` then tells the owner that
``session.tools``/``tool_choice`` may differ (the lead's wiring sends a ``session.update``).
"Edit…" opens ``tools.toml`` (created from a commented template), "Reload" reads it again; each
broken entry is listed with its file, line, field and reason, and the others load.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFrame, QGridLayout, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QMessageBox, QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from desktop_app.errors import CredentialError
from desktop_app.log import get_logger
from desktop_app.settings.store import SettingsStore
from desktop_app.settings.tools import McpServerConfig
from desktop_app.tools.registry import ToolRegistry
from desktop_app.tools.spec import Permission, ToolInfo
from desktop_app.tools.user_tools import UserTools, ensure_tools_file, load_user_tools
from desktop_app.ui.dialogs.mcp_server_dialog import McpServerDialog, SecretStore
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.parts import text_label
from desktop_app.ui.widgets.tool_providers import open_file as desktop_open_file

log = get_logger("ui")

PERMISSION_TEXT = ((Permission.ALLOW, "Allow"), (Permission.ASK, "Ask first"), (Permission.DENY, "Deny"))
CHOICES = (("auto", "Let the assistant decide"), ("none", "Never use tools"), ("required", "Always use a tool"))


class ToolsTab(QScrollArea):
    """Standalone; the window places it. ``tools_changed`` fires after every change that matters."""

    tools_changed = Signal()

    def __init__(self, theme: Theme, registry: ToolRegistry, store: SettingsStore | None = None, *,
                 tools_file: Path, secrets: SecretStore | None = None, user_tools: UserTools | None = None,
                 open_file: Callable[[Path], bool] = desktop_open_file, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.registry = registry
        self.store = store
        self.tools_file = tools_file
        self.secrets = secrets
        self._open_file = open_file
        self.user_tools = user_tools if user_tools is not None else UserTools(tools_file)  # as loaded at start
        self.permission_boxes: dict[str, QComboBox] = {}
        self.enabled_boxes: dict[str, QCheckBox] = {}
        self._mcp_note: str | None = None  # why the conversation's protocol leaves the MCP servers out
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the page fits the panel's width
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Tools")
        self.rebuild()

    # -- building --------------------------------------------------------------------------------

    def rebuild(self) -> None:
        """Lay the tab out again from the registry (after a reload or an MCP change)."""
        self.permission_boxes.clear()
        self.enabled_boxes.clear()
        page = QWidget(self)
        column = QVBoxLayout(page)
        column.setContentsMargins(12, 14, 12, 14)
        column.setSpacing(10)
        column.addWidget(text_label("The assistant can use these tools. Tools that change something ask you first; "
                                    "you always see the exact arguments.", page, "hint", wrap=True))
        column.addLayout(self._choice_row(page))
        infos = self.registry.infos()
        column.addWidget(text_label("BUILT-IN TOOLS", page, "section"))
        column.addWidget(self._tool_grid([i for i in infos if i.source == "built-in"], page))
        column.addWidget(text_label("YOUR TOOLS", page, "section"))
        column.addLayout(self._file_row(page))
        mine = [i for i in infos if i.source != "built-in"]
        if mine:
            column.addWidget(self._tool_grid(mine, page))
        self.problem_labels: list[QLabel] = []
        for problem in self.user_tools.all_problems:
            label = QLabel(str(problem), page)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setStyleSheet(f"color: {self.theme.danger};")
            self.problem_labels.append(label)
            column.addWidget(label)
        self.secret_buttons: dict[str, QPushButton] = {}
        for entry in self.user_tools.entries:
            for name in entry.secrets:
                if name not in self.secret_buttons:
                    column.addLayout(self._secret_row(name, entry.name, page))
        if not mine and not self.user_tools.all_problems:
            column.addWidget(text_label("No tools of your own yet: “Edit…” opens a file with two examples.",
                                        page, "hint", wrap=True))
        column.addWidget(text_label("MCP SERVERS", page, "section"))
        column.addWidget(self._mcp_box(page))
        column.addStretch(1)
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.setWidget(page)

    def _choice_row(self, page: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Tool use", page))
        self.choice = QComboBox(page)
        self.choice.setAccessibleName("Tool use")
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.choice.setMinimumContentsLength(12)
        for value, text in CHOICES:
            self.choice.addItem(text, value)
        for spec in self.registry.offered():
            self.choice.addItem(f"Always use “{spec.label}”", spec.name)
        index = self.choice.findData(self.registry.prefs.tool_choice)
        self.choice.setCurrentIndex(max(0, index))
        self.choice.currentIndexChanged.connect(lambda _i: self._set_choice(str(self.choice.currentData())))
        row.addWidget(self.choice, 1)
        return row

    def _tool_grid(self, infos: list[ToolInfo], page: QWidget) -> QWidget:
        box = QWidget(page)
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(0, 1)
        row = 0
        for info in infos:
            check = QCheckBox(info.label, box)
            check.setChecked(info.enabled)
            check.setToolTip(info.description)
            check.setAccessibleName(f"Use {info.label}")
            check.toggled.connect(lambda on, name=info.name: self._set_enabled(name, on))
            combo = QComboBox(box)
            combo.setFixedWidth(160)  # the same column in every section
            combo.setAccessibleName(f"Permission for {info.label}")
            for permission, text in PERMISSION_TEXT:
                combo.addItem(text + (" (default)" if permission is info.default_permission else ""), permission.value)
            combo.setCurrentIndex(combo.findData(info.permission.value))
            combo.currentIndexChanged.connect(lambda _i, name=info.name, c=combo: self._set_permission(name, c))
            # The name has a row of its own; the description wraps beside the permission, so the
            # tab fits the side panel whatever the names' lengths.
            grid.addWidget(check, row, 0, 1, 2)
            grid.addWidget(combo, row + 1, 1, Qt.AlignmentFlag.AlignTop)
            note = info.description if info.source == "built-in" else f"{info.description} (from {info.source})"
            if info.unavailable:
                note = f"Not available: {info.unavailable}."
            if info.problems:
                note = f"Misconfigured: {info.problems[0]}"
            detail = text_label(note, box, "hint", wrap=True)
            grid.addWidget(detail, row + 1, 0)
            if info.unavailable:
                check.setEnabled(False)
                combo.setEnabled(False)
            self.enabled_boxes[info.name] = check
            self.permission_boxes[info.name] = combo
            row += 2
        return box

    def _file_row(self, page: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        # A long path has no spaces to wrap at: break after each separator so the side panel stays narrow.
        path = text_label(str(self.tools_file).replace(os.sep, os.sep + "\u200b"), page, "value")
        path.setToolTip(str(self.tools_file))
        path.setWordWrap(True)
        self.edit_button = QPushButton("Edit…", page)
        self.edit_button.setToolTip("Open tools.toml in your editor (created with examples if it does not exist)")
        self.edit_button.clicked.connect(self.edit_file)
        self.reload_button = QPushButton("Reload", page)
        self.reload_button.setToolTip("Read tools.toml again after editing it")
        self.reload_button.clicked.connect(self.reload)
        row.addWidget(path, 1)
        row.addWidget(self.edit_button)
        row.addWidget(self.reload_button)
        return row

    def _secret_row(self, name: str, tool: str, page: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        stored = self.registry.secrets.get(name) is not None
        state = "is stored in the keyring" if stored else "is not set yet: the tool fails until it is"
        label = text_label(f"Secret “{name}” (used by {tool}) {state}.", page, "hint", wrap=True)
        if not stored:
            label.setStyleSheet(f"color: {self.theme.warning};")
        button = QPushButton("Replace…" if stored else "Set…", page)
        button.setAccessibleName(f"Set the secret {name}")
        button.setEnabled(self.secrets is not None)
        button.clicked.connect(lambda _c=False, n=name: self.ask_secret(n))
        self.secret_buttons[name] = button
        row.addWidget(label, 1)
        row.addWidget(button)
        return row

    def ask_secret(self, name: str) -> QInputDialog:
        """Ask for the value of the secret ``name`` (masked) and store it in the keyring."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Tool secret")
        dialog.setLabelText(f"Value of “{name}” (kept in the system keyring):")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.textValueSelected.connect(lambda value: self._store_secret(name, value))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _store_secret(self, name: str, value: str) -> None:
        if self.secrets is None or not value.strip():
            return
        try:
            self.secrets.set(name, value.strip())
        except CredentialError as exc:
            log.warning("! ui: secret %r not stored: %s", name, exc.detail or exc.user_message)
            QMessageBox.warning(self, "Tool secret", exc.user_message)
            return
        self.rebuild()
        self.tools_changed.emit()

    def _mcp_box(self, page: QWidget) -> QWidget:
        box = QWidget(page)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.mcp_dialect_note = text_label(self._mcp_note or "", box, "hint", wrap=True)
        self.mcp_dialect_note.setVisible(self._mcp_note is not None)
        column.addWidget(self.mcp_dialect_note)
        self.mcp_list = QListWidget(box)
        self.mcp_list.setAccessibleName("MCP servers")
        self.mcp_list.setFixedHeight(12 + 26 * max(1, min(4, len(self.registry.prefs.mcp_servers))))
        for server in self.registry.prefs.mcp_servers:
            approval = "asks first" if server.approval == "ask" else "never asks"
            state = "" if server.enabled else " · off"
            item = QListWidgetItem(f"{server.label} — {server.url} · {approval}{state}", self.mcp_list)
            item.setData(Qt.ItemDataRole.UserRole, server.label)
        self.mcp_list.itemDoubleClicked.connect(lambda _item: self.edit_server())
        column.addWidget(self.mcp_list)
        row = QHBoxLayout()
        for text, slot in (("Add…", self.add_server), ("Edit…", self.edit_server), ("Remove", self.remove_server)):
            button = QPushButton(text, box)
            button.setAccessibleName(f"{text.rstrip('…')} MCP server")
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        column.addLayout(row)
        _, problems = self.registry.session_tools()
        self.mcp_problems = [text_label(p, box, "hint", wrap=True) for p in problems]
        for label in self.mcp_problems:
            label.setStyleSheet(f"color: {self.theme.warning};")
            column.addWidget(label)
        if not self.registry.prefs.mcp_servers:
            column.addWidget(text_label("Remote MCP servers give the assistant more tools; the service calls them "
                                        "and you approve each call unless you trust the tool.", box, "hint", wrap=True))
        return box

    def show_dialect_note(self, note: str | None) -> None:
        """Say why the MCP servers are not used in this conversation (None: they are)."""
        if note == self._mcp_note:
            return
        self._mcp_note = note
        self.mcp_dialect_note.setText(note or "")
        self.mcp_dialect_note.setVisible(note is not None)

    # -- changes ---------------------------------------------------------------------------------

    def _store(self) -> None:
        if self.store is not None:
            self.store.update(**self.registry.prefs.settings_changes())
        self.tools_changed.emit()

    def _set_enabled(self, name: str, on: bool) -> None:
        self.registry.with_enabled(name, on)
        log.info("= ui: tool %s %s", name, "on" if on else "off")
        self._store()

    def _set_permission(self, name: str, combo: QComboBox) -> None:
        self.registry.with_permission(name, Permission(str(combo.currentData())))
        log.info("= ui: tool %s permission %s", name, combo.currentData())
        self._store()

    def _set_choice(self, choice: str) -> None:
        self.registry.set_prefs(replace(self.registry.prefs, tool_choice=choice))
        self._store()

    def set_permission_shown(self, name: str, permission: Permission) -> None:
        """Show a permission changed elsewhere (the prompt's "Always allow")."""
        combo = self.permission_boxes.get(name)
        if combo is not None:
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findData(permission.value))
            combo.blockSignals(False)

    def edit_file(self) -> Path:
        path = ensure_tools_file(self.tools_file.parent)
        if not self._open_file(path):
            log.warning("! ui: could not open %s in an editor", path)
        return path

    def reload(self) -> UserTools:
        reserved = frozenset(s.name for s in self.registry.specs if s.source == "built-in")
        self.user_tools = load_user_tools(self.tools_file, self.registry.secrets, reserved=reserved)
        for sentence in self.registry.set_user_tools(self.user_tools.specs):
            log.warning("! ui: user tool refused: %s", sentence)
        self.rebuild()
        self.tools_changed.emit()
        return self.user_tools

    def _selected_label(self) -> str | None:
        item = self.mcp_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def add_server(self) -> McpServerDialog:
        return self._open_server_dialog(None)

    def edit_server(self) -> McpServerDialog | None:
        label = self._selected_label()
        server = next((s for s in self.registry.prefs.mcp_servers if s.label == label), None)
        return self._open_server_dialog(server) if server is not None else None

    def remove_server(self) -> None:
        label = self._selected_label()
        if label is None:
            return
        self.registry.with_mcp_servers([s for s in self.registry.prefs.mcp_servers if s.label != label])
        self._store()
        self.rebuild()

    def _open_server_dialog(self, current: McpServerConfig | None) -> McpServerDialog:
        taken = frozenset(s.label for s in self.registry.prefs.mcp_servers if s is not current)
        dialog = McpServerDialog(self.secrets, current, taken, self)
        dialog.accepted.connect(lambda: self._server_saved(current, dialog))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _server_saved(self, old: McpServerConfig | None, dialog: McpServerDialog) -> None:
        if dialog.server is None:
            return
        servers = list(self.registry.prefs.mcp_servers)
        if old is not None and old in servers:
            servers[servers.index(old)] = dialog.server
        else:
            servers.append(dialog.server)
        self.registry.with_mcp_servers(servers)
        self._store()
        self.rebuild()
