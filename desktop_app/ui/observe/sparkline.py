"""A small line of recent values (ping round trips, turn latencies), with the newest one labelled.

``None`` values are gaps (a lost ping). The scale runs from 0 to the largest value shown, so a
spike is obvious and a flat line reads as "steady".
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_app.ui.theme import Theme


class Sparkline(QWidget):
    """``set_values(values)`` redraws; ``unit`` follows the newest value's label."""

    def __init__(self, theme: Theme, name: str, unit: str = "ms", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.unit = unit
        self.values: tuple[float | None, ...] = ()
        self.setAccessibleName(name)
        self.setToolTip(name)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(40)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, 40)

    def set_values(self, values: Sequence[float | None]) -> None:
        values = tuple(values)
        if values != self.values:
            self.values = values
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        t = self._theme
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(QColor(t.border), 1))
        painter.setBrush(QColor(t.surface_alt))
        painter.drawRoundedRect(rect, 6, 6)
        present = [v for v in self.values if v is not None]
        label = "—" if not self.values or self.values[-1] is None else f"{self.values[-1]:.0f} {self.unit}"
        painter.setPen(QColor(t.muted))
        text_rect = rect.adjusted(6, 2, -6, -2)
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), label)
        if len(self.values) < 2 or not present:
            return
        inner = rect.adjusted(6, 14, -6, -5)
        top = max(present) or 1.0
        step = inner.width() / (len(self.values) - 1)
        path = QPainterPath()
        drawing = False
        for i, value in enumerate(self.values):
            if value is None:
                drawing = False
                continue
            point = QPointF(inner.left() + i * step, inner.bottom() - (value / top) * inner.height())
            if drawing:
                path.lineTo(point)
            else:
                path.moveTo(point)
                drawing = True
        painter.setPen(QPen(QColor(t.accent), 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        if self.values[-1] is not None:
            last = QPointF(inner.right(), inner.bottom() - (self.values[-1] / top) * inner.height())
            painter.setBrush(QColor(t.accent))
            painter.drawEllipse(last, 2.5, 2.5)
