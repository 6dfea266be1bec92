"""The event log window: every frame, filterable, with a collapsible JSON view of the one selected.

The view reads :class:`~desktop_app.observe.event_log.EventLog` on a 150 ms timer that runs only
while the view is shown and not paused: appending a frame never touches a widget. "Follow" keeps the
newest row in view; scrolling up or selecting a row stops following, the button brings it back.
The table keeps at most the log's in-memory ring; "Export…" writes the whole session (the spill
file included) as JSONL in the headless ``--events`` format.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.observe.event_log import EventFilter, EventLog, EventRecord
from desktop_app.tasks import Runner, runner
from desktop_app.ui.observe.json_tree import show_json
from desktop_app.ui.theme import Theme

POLL_MS = 150
COLUMNS = ("Time", "", "Type", "Summary")
ALL_TYPES = "All types"
DIRECTIONS = (("Both directions", None), ("Sent ▲", "sent"), ("Received ▼", "received"))
_Index = QModelIndex | QPersistentModelIndex


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list):
        return f"[{len(value)}]"
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:40] + "…"


def summary_of(record: EventRecord) -> str:
    """One line for the table: audio as item/bytes/ms, a few events in words, others as their
    fields (the type and event id have their own column and the JSON view)."""
    if record.audio_bytes:
        item = f"{record.item_id} · " if record.item_id else ""
        return f"{item}{record.audio_bytes:,} bytes · {record.audio_ms:.0f} ms"
    try:
        event = record.event()
    except ValueError:
        return record.event_json[:160]
    if not isinstance(event, dict):
        return record.event_json[:160]
    if record.type == "error" and isinstance(event.get("error"), dict):
        error = event["error"]
        return f"{error.get('code') or error.get('type')}: {error.get('message', '')}"
    if record.type == "response.done" and isinstance(event.get("response"), dict):
        response = event["response"]
        usage = response.get("usage") if isinstance(response.get("usage"), dict) else {}
        tokens = f" · {usage.get('total_tokens', 0):,} tokens ({usage.get('input_tokens', 0):,} in, " \
                 f"{usage.get('output_tokens', 0):,} out)" if usage else ""
        return f"{response.get('id', '')} · {response.get('status', '')}{tokens}"
    if isinstance(event.get("delta"), str):
        return f"{event.get('item_id', '')} · {json.dumps(event['delta'], ensure_ascii=False)}"
    parts = [f"{key}: {_short(value)}" for key, value in event.items()
             if key not in ("type", "event_id") and value is not None]
    text = " · ".join(parts)
    return text if len(text) <= 160 else text[:160] + "…"


class EventTableModel(QAbstractTableModel):
    """The rows shown: records in order, appended as they come, trimmed from the top."""

    def __init__(self, theme: Theme, limit: int) -> None:
        super().__init__()
        self._theme = theme
        self.limit = limit
        self.rows: list[EventRecord] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        record = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return dt.datetime.fromtimestamp(record.t).strftime("%H:%M:%S.%f")[:-3]
            if column == 1:
                return "▲" if record.direction == "sent" else "▼"
            return record.type if column == 2 else summary_of(record)
        if role == Qt.ItemDataRole.ForegroundRole and column in (1, 2):
            if record.type == "error":
                return QColor(self._theme.danger)
            return QColor(self._theme.accent if record.direction == "sent" else self._theme.assistant)
        if role == Qt.ItemDataRole.ToolTipRole and column == 1:
            return record.direction
        return None

    def reset_rows(self, records: list[EventRecord]) -> None:
        self.beginResetModel()
        self.rows = records[-self.limit:]
        self.endResetModel()

    def append(self, records: list[EventRecord]) -> None:
        if not records:
            return
        start = len(self.rows)
        self.beginInsertRows(QModelIndex(), start, start + len(records) - 1)
        self.rows.extend(records)
        self.endInsertRows()
        excess = len(self.rows) - self.limit
        if excess > 0:
            self.beginRemoveRows(QModelIndex(), 0, excess - 1)
            del self.rows[:excess]
            self.endRemoveRows()


class EventLogView(QWidget):
    """Filter bar, the table, and the selected event's JSON; ``exported`` reports a finished export."""

    exported = Signal(str)  # a sentence: where and how many

    def __init__(self, log: EventLog, theme: Theme, parent: QWidget | None = None, *,
                 run: Runner | None = None) -> None:
        super().__init__(parent)
        self.log = log
        self._run = run or runner("event log")
        self._filter = EventFilter()
        self._seen_seq = 0
        self._types_known: set[str] = set()
        self.model = EventTableModel(theme, limit=log.capacity)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._build()

    # --- layout --------------------------------------------------------------------------------

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.type_box = QComboBox(self)
        self.type_box.addItem(ALL_TYPES)
        self.type_box.setAccessibleName("Event type")
        self.type_box.setMinimumContentsLength(22)
        self.direction_box = QComboBox(self)
        for label, _ in DIRECTIONS:
            self.direction_box.addItem(label)
        self.direction_box.setAccessibleName("Direction")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter text…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Filter text")
        self.pause = QPushButton("Pause", self)
        self.pause.setCheckable(True)
        self.pause.setToolTip("Stop adding new events to the view (they are still logged)")
        self.follow = QPushButton("Follow", self)
        self.follow.setCheckable(True)
        self.follow.setChecked(True)
        self.follow.setToolTip("Keep the newest event in view")
        self.copy = QPushButton("Copy event", self)
        self.copy.setEnabled(False)
        self.export = QPushButton("Export…", self)
        self.export.setToolTip("Save the whole session's events as JSONL (audio summarised, secrets redacted)")
        bar.addWidget(self.type_box)
        bar.addWidget(self.direction_box)
        bar.addWidget(self.search, 1)
        for button in (self.pause, self.follow, self.copy, self.export):
            bar.addWidget(button)
        column.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTableView(split)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(2, 260)
        header.setStretchLastSection(True)
        self.table.setAccessibleName("Events")
        self.detail = QTreeWidget(split)
        self.detail.setHeaderLabels(["Field", "Value"])
        self.detail.setAccessibleName("Selected event")
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        column.addWidget(split, 1)
        self.status = QLabel("", self)
        self.status.setProperty("role", "hint")
        column.addWidget(self.status)

        self.type_box.currentIndexChanged.connect(self._filters_changed)
        self.direction_box.currentIndexChanged.connect(self._filters_changed)
        self.search.textChanged.connect(self._filters_changed)
        self.pause.toggled.connect(self._paused)
        self.follow.toggled.connect(self._follow_toggled)
        self.copy.clicked.connect(self.copy_selected)
        self.export.clicked.connect(self._choose_export)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)

    # --- polling only while shown --------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.poll()
        if not self.pause.isChecked():
            self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        self._timer.stop()
        super().hideEvent(event)

    @property
    def polling(self) -> bool:
        return self._timer.isActive()

    def poll(self) -> None:
        """Take the records logged since the last look into the table."""
        if self.pause.isChecked():
            return
        if self._seen_seq < self.log.first_seq_in_memory - 1:
            self._seen_seq = self.log.first_seq_in_memory - 1  # rows that left the ring are gone
        new = self.log.since(self._seen_seq, self._filter)
        self._seen_seq = self.log.last_seq
        self.model.append(new)
        self._refresh_types()
        self._update_status()
        if new and self.follow.isChecked():
            self.table.scrollToBottom()

    def _refresh_types(self) -> None:
        types = self.log.types()
        if types.keys() - self._types_known:
            self._types_known = set(types)
            current = self.type_box.currentText()
            self.type_box.blockSignals(True)
            self.type_box.clear()
            self.type_box.addItem(ALL_TYPES)
            self.type_box.addItems(sorted(types))
            self.type_box.setCurrentText(current)
            self.type_box.blockSignals(False)

    def _update_status(self) -> None:
        shown, total = len(self.model.rows), self.log.last_seq
        kept = len(self.log)
        older = f"; the oldest {total - kept:,} are on disk and in the export" if total > kept else ""
        self.status.setText(f"{shown:,} shown of {total:,} events{older}")

    # --- user actions --------------------------------------------------------------------------

    def set_filter(self, filt: EventFilter) -> None:
        self._filter = filt
        self.model.reset_rows(self.log.records(filt))
        self._seen_seq = self.log.last_seq
        self._update_status()
        if self.follow.isChecked():
            self.table.scrollToBottom()

    def _filters_changed(self) -> None:
        kind = self.type_box.currentText()
        self.set_filter(EventFilter(
            types=frozenset() if kind == ALL_TYPES or not kind else frozenset({kind}),
            direction=DIRECTIONS[max(0, self.direction_box.currentIndex())][1],
            text=self.search.text().strip()))

    def _paused(self, paused: bool) -> None:
        if paused:
            self._timer.stop()
        elif self.isVisible():
            self.poll()
            self._timer.start()

    def _follow_toggled(self, on: bool) -> None:
        if on:
            self.table.scrollToBottom()

    def _scrolled(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        if value < bar.maximum() - 2 and self.follow.isChecked() and bar.isSliderDown():
            self.follow.setChecked(False)  # the user scrolled up to read: stop jumping to the end

    def selected_record(self) -> EventRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _selected(self) -> None:
        record = self.selected_record()
        self.copy.setEnabled(record is not None)
        if record is None:
            self.detail.clear()
            return
        if self.follow.isChecked():
            self.follow.setChecked(False)  # keep the chosen row where it is
        show_json(self.detail, {"t": record.t, "dir": record.direction, "event": record.event()})

    def copy_selected(self) -> str:
        """Copy the selected event (pretty JSON, as exported); returns the copied text."""
        record = self.selected_record()
        if record is None:
            return ""
        text = json.dumps({"t": record.t, "dir": record.direction, "event": record.event()}, indent=2,
                          ensure_ascii=False)
        QGuiApplication.clipboard().setText(text)
        self.status.setText("Copied the event to the clipboard.")
        return text

    def _choose_export(self) -> None:
        name = dt.datetime.now().strftime("parley-events-%Y%m%d-%H%M%S.jsonl")
        path, _ = QFileDialog.getSaveFileName(self, "Export events", str(Path.home() / name),
                                              "JSON Lines (*.jsonl)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> Any:
        """Export the whole session to ``path`` in the background; ``exported`` says when done."""

        async def export() -> None:
            try:
                count = await self.log.export(path)
            except OSError as exc:
                self.status.setText(f"Could not export the events: {exc.strerror or exc}.")
                return
            sentence = f"Exported {count:,} events to {path}."
            self.status.setText(sentence)
            self.exported.emit(sentence)

        return self._run(export())


class EventLogDock(QDockWidget):
    """The event log as a dock the window shows from a menu or shortcut (hidden by default)."""

    def __init__(self, log: EventLog, theme: Theme, parent: QWidget | None = None, *,
                 run: Runner | None = None) -> None:
        super().__init__("Event log", parent)
        self.setObjectName("eventLogDock")
        self.view = EventLogView(log, theme, self, run=run)
        self.setWidget(self.view)
        self.hide()
