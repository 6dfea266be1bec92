"""The connection monitor panel: live numbers, two sparklines, the state history, the error table,
and "Copy diagnostics".

The connection rows follow the transport: a WebSocket shows its ping round trip and unanswered
pings; a WebRTC call shows the RTCP round trip, jitter, packet loss both ways and bitrate both ways
(from ``getStats()``), and no ping rows. Rows that do not apply are hidden, never left empty.

It redraws from :meth:`ConnectionMonitor.snapshot` twice a second while shown (nothing while hidden),
and changes a label's text only when it differs, so an idle panel repaints nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.observe.errors import ErrorTracker
from desktop_app.observe.monitor import ConnectionMonitor, LinkQuality, MonitorSnapshot
from desktop_app.ui.observe import format as fmt
from desktop_app.ui.observe.sparkline import Sparkline
from desktop_app.ui.theme import Theme, restyle
from desktop_app.ui.widgets.parts import text_label

POLL_MS = 500
SPARK_POINTS = 40
_PING = "Ping (last · median)"
_ROUND_TRIP = "Round trip (last · median)"  # WebRTC: RTCP's, not a ping
_MOOD = {"connected": "ok", "connecting": "warning", "reconnecting": "warning", "failed": "error"}


class MonitorPanel(QWidget):
    """Connection figures for one conversation. ``diagnostics`` builds the bug-report text;
    ``diagnostics_zip`` (optional) the zip that "Save diagnostics…" writes."""

    diagnostics_copied = Signal()

    def __init__(self, monitor: ConnectionMonitor, errors: ErrorTracker, theme: Theme,
                 diagnostics: Callable[[], str], diagnostics_zip: Callable[[], bytes] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.monitor = monitor
        self.errors = errors
        self._diagnostics = diagnostics
        self._diagnostics_zip = diagnostics_zip
        self._history_len = -1
        self._errors_total = -1
        self.values: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._build(theme)

    def _build(self, theme: Theme) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 12, 14, 12)
        column.setSpacing(10)
        head = QHBoxLayout()
        self.state = QLabel("", self)
        self.state.setProperty("mood", "idle")
        self.state_since = text_label("", self, "muted")
        head.addWidget(self.state)
        head.addWidget(self.state_since, 1)
        column.addLayout(head)

        column.addWidget(text_label("CONNECTION", self, "section"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        rows = (("ping", _PING), ("lost", "Pings unanswered"), ("jitter", "Jitter (received)"),
                ("loss", "Packet loss (in · out)"), ("bitrate", "Bitrate (in · out)"), ("sent", "Sent"),
                ("received", "Received"), ("reconnects", "Reconnects"), ("connected", "Connected for"),
                ("left", "Session time left"))
        for i, (key, label) in enumerate(rows):
            self._row(grid, i, key, label)
        self._show_link(None)
        column.addLayout(grid)
        self.ping_spark = Sparkline(theme, "Ping round trips", parent=self)
        column.addWidget(self.ping_spark)

        column.addWidget(text_label("TURNS (LAST · MEDIAN)", self, "section"))
        turns = QGridLayout()
        turns.setHorizontalSpacing(14)
        turns.setVerticalSpacing(4)
        for i, (key, label) in enumerate((("first_byte", "End of speech → first audio"),
                                          ("playback", "First audio → playing"),
                                          ("total", "Whole turn"), ("barge", "Barge-in → silence"),
                                          ("turns", "Turns"))):
            self._row(turns, i, key, label)
        column.addLayout(turns)
        self.turn_spark = Sparkline(theme, "End of speech to first audio, per turn", parent=self)
        column.addWidget(self.turn_spark)

        column.addWidget(text_label("STATE HISTORY", self, "section"))
        self.history = QListWidget(self)
        self.history.setAccessibleName("Connection state history")
        self.history.setMaximumHeight(110)
        column.addWidget(self.history)

        column.addWidget(text_label("ERRORS", self, "section"))
        self.error_table = QTableWidget(0, 5, self)
        self.error_table.setHorizontalHeaderLabels(["Code", "Count", "First", "Last", "Last message"])
        self.error_table.verticalHeader().hide()
        self.error_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.error_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.error_table.horizontalHeader()
        for i in range(4):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.error_table.setAccessibleName("Errors")
        self.error_table.setMinimumHeight(90)
        column.addWidget(self.error_table, 1)

        buttons = QHBoxLayout()
        self.copy_button = QPushButton("Copy diagnostics", self)
        self.copy_button.setToolTip("Versions, settings without secrets, the last events and the error table, "
                                    "redacted, for a bug report")
        self.save_button = QPushButton("Save diagnostics…", self)
        self.save_button.setVisible(self._diagnostics_zip is not None)
        self.notice = text_label("", self, "hint")
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.notice, 1)
        column.addLayout(buttons)
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.save_button.clicked.connect(self._choose_save)

    def _row(self, grid: QGridLayout, row: int, key: str, label: str) -> None:
        self.labels[key] = text_label(label, self, "muted")
        grid.addWidget(self.labels[key], row, 0)
        value = text_label("—", self, "value")
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(value, row, 1)
        self.values[key] = value

    # --- refreshing only while shown -----------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        self._timer.stop()
        super().hideEvent(event)

    @property
    def polling(self) -> bool:
        return self._timer.isActive()

    def refresh(self) -> None:
        """Draw the monitor as it is now."""
        snap = self.monitor.snapshot()
        self._show_state(snap)
        self._set("ping", f"{fmt.ms(snap.ping_last_ms)} · {fmt.ms(snap.ping_median_ms)}")
        self._set("lost", fmt.count(snap.pings_lost))
        self._show_link(snap.quality)
        self._set("sent", f"{fmt.size(snap.sent.bytes)} · {snap.sent.audio_s:.1f} s audio")
        self._set("received", f"{fmt.size(snap.received.bytes)} · {snap.received.audio_s:.1f} s audio")
        self._set("reconnects", fmt.count(snap.reconnects))
        self._set("connected", fmt.seconds(snap.connected_s))
        self._set("left", fmt.seconds(snap.time_left_s))
        last = snap.turns[-1] if snap.turns else None
        stats = snap.turn_stats
        pairs = (("first_byte", "speech_to_first_byte_ms"), ("playback", "first_byte_to_playback_ms"),
                 ("total", "total_ms"), ("barge", "barge_in_to_silence_ms"))
        for key, attr in pairs:
            self._set(key, f"{fmt.ms(getattr(last, attr) if last else None)} · {fmt.ms(getattr(stats, attr))}")
        self._set("turns", fmt.count(stats.count))
        self.ping_spark.set_values([p.rtt_ms for p in snap.pings][-SPARK_POINTS:])
        self.turn_spark.set_values([t.speech_to_first_byte_ms for t in snap.turns][-SPARK_POINTS:])
        if len(snap.history) != self._history_len or (snap.history and self.history.count() == 0):
            self._history_len = len(snap.history)
            self.history.clear()
            for change in reversed(snap.history[-50:]):
                detail = f" — {change.detail}" if change.detail else ""
                self.history.addItem(f"{fmt.clock(change.at)}  {change.state}{detail}")
        if self.errors.total != self._errors_total:
            self._errors_total = self.errors.total
            self._show_errors()

    def _show_link(self, link: LinkQuality | None) -> None:
        """The rows that apply to the transport in use (before any sample: a WebSocket's)."""
        media = link is not None and link.media
        label = _ROUND_TRIP if media else _PING
        if self.labels["ping"].text() != label:
            self.labels["ping"].setText(label)
        for key, shown in (("lost", not media), ("jitter", media), ("loss", media), ("bitrate", media)):
            if self.labels[key].isHidden() == shown:
                self.labels[key].setHidden(not shown)
                self.values[key].setHidden(not shown)
        if link is None or not media:
            return
        self._set("jitter", fmt.ms(link.jitter_ms))
        self._set("loss", f"{fmt.loss(link.loss_in_pct, link.packets_lost)} · "
                          f"{fmt.loss(link.loss_out_pct, link.packets_lost_sent)}")
        self._set("bitrate", f"{fmt.kbps(link.bitrate_in_kbps)} · {fmt.kbps(link.bitrate_out_kbps)}")

    def _show_state(self, snap: MonitorSnapshot) -> None:
        text = snap.state.replace("_", " ").capitalize()
        if self.state.text() != text:
            self.state.setText(text)
            restyle(self.state, mood=_MOOD.get(snap.state, "idle"))
        since = f"since {fmt.clock(snap.state_since)}" if snap.state_since else ""
        if self.state_since.text() != since:
            self.state_since.setText(since)

    def _set(self, key: str, text: str) -> None:
        label = self.values[key]
        if label.text() != text:
            label.setText(text)

    def _show_errors(self) -> None:
        groups = self.errors.groups()
        self.error_table.setRowCount(len(groups))
        for row, group in enumerate(groups):
            cells = (group.code, fmt.count(group.count), fmt.clock(group.first_at), fmt.clock(group.last_at),
                     group.last_message)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 4:
                    item.setToolTip(text)
                self.error_table.setItem(row, col, item)

    # --- diagnostics ---------------------------------------------------------------------------

    def copy_diagnostics(self) -> str:
        """Put the redacted diagnostic bundle on the clipboard; returns it."""
        text = self._diagnostics()
        QGuiApplication.clipboard().setText(text)
        self.notice.setText("Diagnostics copied — paste them into your bug report.")
        self.diagnostics_copied.emit()
        return text

    def _choose_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save diagnostics", "parley-diagnostics.zip", "Zip (*.zip)")
        if path and self._diagnostics_zip is not None:
            try:
                with open(path, "wb") as out:
                    out.write(self._diagnostics_zip())
            except OSError as exc:
                self.notice.setText(f"Could not save the diagnostics: {exc.strerror or exc}.")
                return
            self.notice.setText(f"Diagnostics saved to {path}.")
