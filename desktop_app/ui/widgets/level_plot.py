"""A small rolling plot of the microphone with the VAD threshold drawn across it.

The line and the curve are the same quantity: the curve is the local speech probability
(:mod:`desktop_app.audio.speech_prob`, Silero VAD on what the microphone sends), the line the server
VAD's threshold on that probability, so where the curve crosses the line a server VAD at that
threshold hears speech, and moving the slider shows at once which recent sounds would have counted.
When no probability is available (no speech model, no devices) the curve is the microphone level
instead, the line is not drawn (a level is not a probability), and the plot says which it shows.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_app.ui.theme import Theme
from desktop_app.ui.widgets.level_meter import level_fraction

HISTORY = 150  # points: 7.5 s at the meter clock's 20 Hz (ui/meter_clock.py)
#: Points per repaint while the curve moves: 10 pictures a second (an antialiased path of 150
#: points, ~0.7 ms a picture, was 12 % of the loop's time during a conversation at 20).
POINTS_PER_PAINT = 2
SPEECH, LEVEL = "speech probability", "microphone level"
CAPTIONS = {SPEECH: "Speech probability, estimated here; the server VAD compares its own estimate with "
                    "the threshold line.",
            LEVEL: "Microphone level. The server VAD judges speech probability, which cannot be estimated "
                   "here, so no threshold line is drawn."}
SPEECH_TIP = ("How likely the microphone holds speech (0–1), estimated here with Silero VAD; a server VAD "
              "hears speech where its own estimate rises above the threshold line")
LEVEL_TIP = ("The microphone's level (loudness). The server VAD judges a speech probability, which Parley cannot "
             "estimate here, so no threshold line is drawn")


class LevelPlot(QWidget):
    """``push(dbfs, probability)`` adds a point (the probability when there is one, else the level);
    ``set_threshold(0..1)`` moves the line; :attr:`quantity` is what the curve shows."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.levels: deque[float] = deque([0.0] * HISTORY, maxlen=HISTORY)
        self._same = HISTORY  # the newest points that are all equal: the whole curve equal = no new picture
        self._unpainted = 0  # points pushed since the last repaint was asked for
        self.threshold = 0.5
        self.threshold_visible = True
        self.quantity = LEVEL
        self.setToolTip(LEVEL_TIP)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(72)
        self.setAccessibleName("Speech probability history with the threshold line")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(280, 72)

    def push(self, dbfs: float, probability: float | None = None) -> None:
        quantity = LEVEL if probability is None else SPEECH
        if quantity != self.quantity:  # never one curve made of two quantities
            self.quantity = quantity
            self.levels.extend([0.0] * HISTORY)
            self._same = 0
            self.setAccessibleName(f"{quantity.capitalize()} history"
                                   + (" with the threshold line" if quantity == SPEECH else ""))
            self.setToolTip(SPEECH_TIP if quantity == SPEECH else LEVEL_TIP)
        # At the plot's resolution (about a pixel of its height): a silent room's probability, which
        # wanders between 0.002 and 0.004, is then the flat line it looks like, and is not repainted.
        value = round(64 * (level_fraction(dbfs) if probability is None else max(0.0, min(1.0, probability)))) / 64
        self._same = self._same + 1 if value == self.levels[-1] else 1
        self.levels.append(value)
        # A flat curve (a silent room) scrolls into the same picture: repaint only what changes, and
        # a moving curve every POINTS_PER_PAINT points (always the point that makes it flat).
        if self._same <= HISTORY and self.isVisible():
            self._unpainted += 1
            if self._unpainted >= POINTS_PER_PAINT or self._same == HISTORY:
                self._unpainted = 0
                self.update()

    @property
    def line_shown(self) -> bool:
        """The threshold line is drawn: server VAD, and the curve is the probability it judges."""
        return self.threshold_visible and self.quantity == SPEECH

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
        if self.line_shown:
            y = inner.bottom() - self.threshold * inner.height()
            pen = QPen(QColor(t.warning), 1.6, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(inner.left(), y), QPointF(inner.right(), y))
            label = f"threshold {self.threshold:.2f}"
            width = painter.fontMetrics().horizontalAdvance(label) + 10
            top = y - 18 if y - 18 >= inner.top() else y + 3
            box = QRectF(inner.left() + 2, top, width, 15)  # left: the newest points are on the right
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(t.surface))
            painter.drawRoundedRect(box, 4, 4)
            painter.setPen(QColor(t.warning))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        painter.end()
