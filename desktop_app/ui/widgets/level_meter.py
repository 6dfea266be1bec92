"""A horizontal level meter (dBFS) with a peak marker, and a pill that lights while someone speaks.

The meter repaints only when its value moves by a visible amount, so a 20 Hz level stream costs a
few small repaints a second when the room is quiet.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from desktop_app.ui.theme import Theme, restyle

FLOOR_DB = -60.0
PEAK_HOLD_S = 1.2
PEAK_FALL_DB_PER_S = 20.0


def level_fraction(dbfs: float, floor: float = FLOOR_DB) -> float:
    """0 at ``floor`` dBFS (or below), 1 at 0 dBFS, linear in dB between."""
    if dbfs != dbfs:  # NaN
        return 0.0
    return max(0.0, min(1.0, (dbfs - floor) / -floor))


class LevelMeter(QWidget):
    """Shows one level in dBFS as a rounded bar in ``color``; ``set_level`` is cheap to call often."""

    def __init__(self, theme: Theme, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._color = QColor(color)
        self._fraction = 0.0
        self._peak = 0.0
        self._peak_at = 0.0
        self.level_dbfs = -120.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)
        self.setAccessibleName("level meter")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(140, 8)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(60, 8)

    def set_level(self, dbfs: float) -> None:
        self.level_dbfs = dbfs
        fraction = level_fraction(dbfs)
        now = time.monotonic()
        if fraction >= self._peak:
            self._peak, self._peak_at = fraction, now
        elif now - self._peak_at > PEAK_HOLD_S:
            fallen = self._peak - PEAK_FALL_DB_PER_S * (now - self._peak_at - PEAK_HOLD_S) / -FLOOR_DB
            self._peak = max(fraction, fallen)
        if abs(fraction - self._fraction) > 0.01 or fraction == 0.0 != self._fraction:
            self._fraction = fraction
            self.setAccessibleDescription(f"{dbfs:.0f} dBFS")
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = rect.height() / 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self._theme.surface_alt))
        painter.drawRoundedRect(rect, radius, radius)
        if self._fraction > 0:
            filled = QRectF(rect.left(), rect.top(), max(rect.height(), rect.width() * self._fraction), rect.height())
            painter.setBrush(self._color)
            painter.drawRoundedRect(filled, radius, radius)
        if self._peak > 0.02:
            x = rect.left() + rect.width() * self._peak
            painter.setBrush(self._color.darker(130))
            painter.drawRect(QRectF(min(x, rect.right() - 2), rect.top(), 2, rect.height()))
        painter.end()


class SpeakingPill(QLabel):
    """A small rounded label: dim when idle, filled with the ``kind``'s colour (user / assistant)
    while active."""

    def __init__(self, kind: str, idle_text: str, parent: QWidget | None = None) -> None:
        super().__init__(idle_text, parent)
        self._kind = kind
        self._idle_text = idle_text
        self.active = False
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._apply(False, idle_text)

    def set_active(self, active: bool, text: str | None = None) -> None:
        text = text if text is not None else self._idle_text
        if active == self.active and text == self.text():
            return
        self._apply(active, text)

    def _apply(self, active: bool, text: str) -> None:
        self.active = active
        self.setText(text)
        restyle(self, pill=self._kind if active else "idle")
