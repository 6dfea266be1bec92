"""A strip that shows the tools running now: name, elapsed time, and a Cancel button.

Fed by ``ToolBox(on_activity=strip.on_activity)``; Cancel calls the ``cancel(call_id)`` it is given
(``ToolBox.cancel``). It hides itself when nothing runs. Elapsed time is computed from the
ToolBox's own clock value (``started_at``) with the same clock, once a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.tools.toolbox import ToolActivity

PHASES = {"approval": "waiting for your permission", "running": "running"}


class ToolActivityStrip(QFrame):
    """One row per call awaiting approval or running."""

    def __init__(self, cancel: Callable[[str], object], parent: QWidget | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self._cancel = cancel
        self._clock = clock
        self._rows: dict[str, tuple[ToolActivity, QLabel, QPushButton, QWidget]] = {}
        self._column = QVBoxLayout(self)
        self._column.setContentsMargins(12, 6, 8, 6)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._refresh)
        self.setVisible(False)

    def on_activity(self, activity: ToolActivity) -> None:
        """The ToolBox's ``on_activity`` callback."""
        if activity.phase == "finished":
            row = self._rows.pop(activity.call_id, None)
            if row is not None:
                row[3].deleteLater()
        elif activity.call_id in self._rows:
            _, label, button, widget = self._rows[activity.call_id]
            self._rows[activity.call_id] = (activity, label, button, widget)
        else:
            widget = QWidget(self)
            line = QHBoxLayout(widget)
            line.setContentsMargins(0, 0, 0, 0)
            label = QLabel(widget)
            button = QPushButton("Cancel", widget)
            button.setAccessibleName(f"Cancel {activity.label}")
            button.clicked.connect(lambda _c=False, cid=activity.call_id: self._cancel(cid))
            line.addWidget(label, 1)
            line.addWidget(button)
            self._column.addWidget(widget)
            self._rows[activity.call_id] = (activity, label, button, widget)
        self._refresh()
        self.setVisible(bool(self._rows))
        if self._rows and not self._timer.isActive():
            self._timer.start()
        elif not self._rows:
            self._timer.stop()

    def texts(self) -> list[str]:
        """What the rows say (for tests and accessibility)."""
        return [row[1].text() for row in self._rows.values()]

    def _refresh(self) -> None:
        now = self._clock()
        for activity, label, _, _ in self._rows.values():
            elapsed = max(0, int(now - activity.started_at))
            label.setText(f"{activity.label}: {PHASES.get(activity.phase, activity.phase)} · {elapsed} s")
