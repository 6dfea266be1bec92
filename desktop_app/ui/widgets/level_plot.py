"""A small rolling plot of the microphone level with the VAD threshold drawn across it.

Both share one 0–1 scale (the level as :func:`level_fraction` of dBFS), so moving the threshold
slider shows at once which recent sounds would have counted as loud enough. The server's VAD judges
a speech probability, not loudness, so the line is a guide for tuning, not the server's exact rule.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.level_meter import level_fraction

HISTORY = 150  # points: ~7.5 s at the controller's 20 Hz tick


class LevelPlot(QWidget):
    """``push(dbfs)`` adds a point; ``set_threshold(0..1)`` moves the line."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.levels: deque[float] = deque([0.0] * HISTORY, maxlen=HISTORY)
        self.threshold = 0.5
        self.threshold_visible = True
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(72)
        self.setAccessibleName("Microphone level history with the threshold line")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(280, 72)

    def push(self, dbfs: float) -> None:
        self.levels.append(level_fraction(dbfs))
        if self.isVisible():
            self.update()

    def set_threshold(self, value: float, visible: bool = True) -> None:
        if (value, visible) != (self.threshold, self.threshold_visible):
            self.threshold, self.threshold_visible = value, visible
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        t = self._theme
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(QColor(t.border), 1))
        painter.setBrush(QColor(t.surface_alt))
        painter.drawRoundedRect(rect, 8, 8)
        inner = rect.adjusted(6, 6, -6, -6)
        step = inner.width() / max(1, HISTORY - 1)
        path = QPainterPath(QPointF(inner.left(), inner.bottom()))
        for i, value in enumerate(self.levels):
            path.lineTo(inner.left() + i * step, inner.bottom() - value * inner.height())
        path.lineTo(inner.right(), inner.bottom())
        path.closeSubpath()
        fill = QColor(t.accent)
        fill.setAlphaF(0.28)
        painter.setPen(QPen(QColor(t.accent), 1.4))
        painter.setBrush(fill)
        painter.drawPath(path)
        if self.threshold_visible:
            y = inner.bottom() - self.threshold * inner.height()
            pen = QPen(QColor(t.warning), 1.6, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(inner.left(), y), QPointF(inner.right(), y))
            label = f"threshold {self.threshold:.2f}"
            width = painter.fontMetrics().horizontalAdvance(label) + 10
            top = y - 18 if y - 18 >= inner.top() else y + 3
            box = QRectF(inner.right() - width, top, width, 15)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(t.surface))
            painter.drawRoundedRect(box, 4, 4)
            painter.setPen(QColor(t.warning))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        painter.end()
