"""The history sidebar: saved conversations by date, full-text search, and what to do with one —
open it read-only, continue it, rename, export (Markdown or JSON), delete.

All database work is awaited through the window's runner; the list reloads when the history says it
changed (only while shown — a hidden sidebar reloads when it is shown again). "Continue" is the
window's to carry out (``continue_requested`` with the conversation's id): it starts a new session
with ``await history.replay_items(id)`` replayed as context.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.history.records import ConversationSummary, SearchHit
from desktop_app.history.service import History
from desktop_app.tasks import Runner, runner
from desktop_app.ui.observe import format as fmt
from desktop_app.ui.observe.conversation_viewer import ConversationViewer
from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.parts import text_label

ID_ROLE = Qt.ItemDataRole.UserRole
SEARCH_DELAY_MS = 250
LIST_LIMIT = 500


def day_label(t: float, today: dt.date | None = None) -> str:
    """``Today``, ``Yesterday``, a weekday within the week, else the date."""
    day = dt.datetime.fromtimestamp(t).date()
    today = today or dt.date.today()
    delta = (today - day).days
    if delta == 0:
        return "Today"
    if delta == 1:
        return "Yesterday"
    if 1 < delta < 7:
        return day.strftime("%A")
    return day.strftime("%d %B %Y").lstrip("0")


def conversation_label(summary: ConversationSummary) -> str:
    title = summary.title or "Untitled conversation"
    return f"{title}\n{dt.datetime.fromtimestamp(summary.started_at).strftime('%H:%M')} · {summary.entries} lines" + (
        f" · {fmt.usd(summary.cost_usd)}" if summary.cost_usd is not None else "")


class HistorySidebar(QWidget):
    """Saved conversations; ``continue_requested(id)`` asks the window to continue one."""

    continue_requested = Signal(str)
    loaded = Signal()  # the list (or search results) finished loading — for tests and screenshots

    def __init__(self, history: History, theme: Theme, parent: QWidget | None = None, *,
                 run: Runner | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self._theme = theme
        self._run = run or runner("history")
        self._dirty = True
        self.viewers: list[ConversationViewer] = []
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self._unsubscribe = history.subscribe(self._history_changed)
        self.destroyed.connect(lambda: self._unsubscribe())
        self._build()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(10, 10, 10, 10)
        column.setSpacing(8)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search conversations…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search conversations")
        column.addWidget(self.search)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        self.tree.setAccessibleName("Saved conversations")
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        column.addWidget(self.tree, 1)
        actions = QHBoxLayout()
        self.open_button = QPushButton("Open", self)
        self.continue_button = QPushButton("Continue", self)
        self.continue_button.setToolTip("Start a new conversation with this one as its context")
        self.more_button = QPushButton("More…", self)
        for button in (self.open_button, self.continue_button, self.more_button):
            actions.addWidget(button)
        column.addLayout(actions)
        self.status = text_label("", self, "hint", wrap=True)
        column.addWidget(self.status)

        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.tree.itemDoubleClicked.connect(lambda item, _c: self._open_item(item))
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.open_button.clicked.connect(lambda: self._with_selected(self.open_conversation))
        self.continue_button.clicked.connect(lambda: self._with_selected(self.continue_requested.emit))
        self.more_button.clicked.connect(lambda: self._context_menu(self.more_button.rect().bottomLeft(),
                                                                    self.more_button))
        self._selection_changed()

    # --- loading -------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._dirty:
            self.reload()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        super().hideEvent(event)

    def _history_changed(self) -> None:
        self._dirty = True
        if self.isVisible():
            self._search_timer.start()  # coalesces a burst of saves into one reload

    def reload(self) -> Any:
        """Reload the list (or the search results); returns the task (None once the app's loop has
        stopped: a change noticed while shutting down waits for the next showing)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._dirty = True
            return None
        self._dirty = False
        query = self.search.text().strip()
        return self._run(self._search(query) if query else self._list())

    async def _list(self) -> None:
        summaries = await self.history.conversations(LIST_LIMIT)
        self._fill_by_date(summaries)
        self.status.setText("" if summaries else "Conversations you have are kept here.")
        self.loaded.emit()

    async def _search(self, query: str) -> None:
        hits = await self.history.search(query, 100)
        self._fill_hits(hits)
        count = len({h.conversation_id for h in hits})
        self.status.setText(f"{count} conversation{'s' if count != 1 else ''} found." if hits
                            else f"Nothing found for “{query}”.")
        self.loaded.emit()

    def _fill_by_date(self, summaries: list[ConversationSummary]) -> None:
        selected = self.selected_id()
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for summary in summaries:
            label = day_label(summary.started_at)
            group = groups.get(label)
            if group is None:
                group = groups[label] = self._group(label)
            item = QTreeWidgetItem(group, [conversation_label(summary)])
            item.setData(0, ID_ROLE, summary.id)
            item.setToolTip(0, summary.title)
            if summary.id == selected:
                item.setSelected(True)
        self.tree.expandAll()

    def _fill_hits(self, hits: list[SearchHit]) -> None:
        self.tree.clear()
        by_conversation: dict[str, QTreeWidgetItem] = {}
        for hit in hits:
            parent = by_conversation.get(hit.conversation_id)
            if parent is None:
                when = dt.datetime.fromtimestamp(hit.started_at).strftime("%d %b %Y, %H:%M").lstrip("0")
                parent = QTreeWidgetItem(self.tree, [f"{hit.title or 'Untitled conversation'}\n{when}"])
                parent.setData(0, ID_ROLE, hit.conversation_id)
                by_conversation[hit.conversation_id] = parent
            if hit.item_id is not None:
                who = "You" if hit.role == "user" else "Assistant" if hit.role == "assistant" else hit.role or ""
                child = QTreeWidgetItem(parent, [f"{who}: {hit.snippet}"])
                child.setData(0, ID_ROLE, hit.conversation_id)
                child.setToolTip(0, hit.snippet)
        self.tree.expandAll()

    def _group(self, label: str) -> QTreeWidgetItem:
        group = QTreeWidgetItem(self.tree, [label])
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        return group

    # --- the selected conversation -------------------------------------------------------------

    def selected_id(self) -> str | None:
        items = self.tree.selectedItems()
        value = items[0].data(0, ID_ROLE) if items else None
        return value if isinstance(value, str) else None

    def select(self, conversation_id: str) -> bool:
        """Select the first row of ``conversation_id``; False if it is not in the list."""
        for item in self._items():
            if item.data(0, ID_ROLE) == conversation_id:
                self.tree.setCurrentItem(item)
                return True
        return False

    def _items(self) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []

        def walk(item: QTreeWidgetItem) -> None:
            for i in range(item.childCount()):
                child = item.child(i)
                if child is not None:
                    found.append(child)
                    walk(child)

        walk(self.tree.invisibleRootItem())
        return found

    def _selection_changed(self) -> None:
        has = self.selected_id() is not None
        for button in (self.open_button, self.continue_button, self.more_button):
            button.setEnabled(has)

    def _with_selected(self, action: Any) -> None:
        conversation_id = self.selected_id()
        if conversation_id is not None:
            action(conversation_id)

    def _open_item(self, item: QTreeWidgetItem) -> None:
        conversation_id = item.data(0, ID_ROLE)
        if isinstance(conversation_id, str):
            self.open_conversation(conversation_id)

    def _context_menu(self, pos: QPoint, source: QWidget | None = None) -> None:
        conversation_id = self.selected_id()
        if conversation_id is None:
            return
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.open_conversation(conversation_id))
        menu.addAction("Continue", lambda: self.continue_requested.emit(conversation_id))
        menu.addAction("Rename…", lambda: self._ask_rename(conversation_id))
        menu.addAction("Export…", lambda: self._ask_export(conversation_id))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self._ask_delete(conversation_id))
        widget = source or self.tree.viewport()
        menu.popup(widget.mapToGlobal(pos))

    # --- actions -------------------------------------------------------------------------------

    def open_conversation(self, conversation_id: str) -> Any:
        """Show the conversation read-only in a viewer window; returns the task."""

        async def open_it() -> None:
            saved = await self.history.load(conversation_id)
            if saved is None:
                self.status.setText("That conversation no longer exists.")
                return
            viewer = ConversationViewer(saved, self._theme, self)
            viewer.continue_requested.connect(self.continue_requested)
            viewer.export_requested.connect(self._ask_export)
            viewer.finished.connect(lambda _r: self.viewers.remove(viewer) if viewer in self.viewers else None)
            self.viewers.append(viewer)
            viewer.show()

        return self._run(open_it())

    def rename(self, conversation_id: str, title: str) -> Any:
        async def rename_it() -> None:
            done = await self.history.rename(conversation_id, title)
            await self._reload_now()
            self.status.setText("Renamed." if done else "That conversation no longer exists.")

        return self._run(rename_it())

    def delete(self, conversation_id: str) -> Any:
        async def delete_it() -> None:
            done = await self.history.delete(conversation_id)
            await self._reload_now()
            self.status.setText("Deleted." if done else "That conversation no longer exists.")

        return self._run(delete_it())

    def export(self, conversation_id: str, path: Path) -> Any:
        """Export as Markdown, or JSON when ``path`` ends in ``.json``."""
        fmt_name: Literal["markdown", "json"] = "json" if path.suffix.lower() == ".json" else "markdown"

        async def export_it() -> None:
            try:
                done = await self.history.export(conversation_id, path, fmt_name)
            except OSError as exc:
                self.status.setText(f"Could not export: {exc.strerror or exc}.")
                return
            self.status.setText(f"Exported to {path}." if done else "That conversation no longer exists.")

        return self._run(export_it())

    async def _reload_now(self) -> None:
        query = self.search.text().strip()
        await (self._search(query) if query else self._list())

    def _ask_rename(self, conversation_id: str) -> None:
        current = next((item.toolTip(0) for item in self._items() if item.data(0, ID_ROLE) == conversation_id), "")
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename conversation")
        dialog.setLabelText("Name:")
        dialog.setTextValue(current)
        dialog.textValueSelected.connect(lambda text: text.strip() and self.rename(conversation_id, text))
        dialog.open()

    def _ask_delete(self, conversation_id: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, "Delete conversation",
                          "Delete this conversation and everything saved with it? This cannot be undone.",
                          QMessageBox.StandardButton.Cancel, self)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(lambda button: button is delete and self.delete(conversation_id))
        box.open()

    def _ask_export(self, conversation_id: str) -> None:
        path, chosen = QFileDialog.getSaveFileName(self, "Export conversation", str(Path.home() / "conversation.md"),
                                                   "Markdown (*.md);;JSON (*.json)")
        if path:
            target = Path(path)
            if not target.suffix:
                target = target.with_suffix(".json" if "json" in chosen.lower() else ".md")
            self.export(conversation_id, target)
