"""Pick what to capture: a region of the screen, or one window, from a frozen picture of the desktop.

The desktop is grabbed once (``QScreen.grabWindow(0)``) and shown full screen, dimmed. Drag to take a
region; click to take the window under the pointer (outlined as the pointer moves) — window outlines
come from :func:`x11_windows` where the X server can list them, and without them a click takes the
whole screen; Enter takes the whole screen; Esc cancels. Parley's own window is hidden during the
grab by the caller. On Wayland, Qt cannot grab other applications' windows: the grab is blank and
the caller says so instead of offering an empty picture.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from desktop_app.log import get_logger

log = get_logger("ui")

MIN_DRAG_PX = 6
_GEOMETRY = re.compile(r'^\s+(0x[0-9a-f]+) "(.*)": \(.*\)\s+(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)\s*$')


@dataclass(frozen=True, slots=True)
class WindowRect:
    """One top-level window on the desktop: its title and where it is (desktop coordinates)."""

    title: str
    rect: QRect


def x11_windows(timeout_s: float = 2.0) -> list[WindowRect]:
    """Top-level, titled windows from ``xwininfo -root -tree`` (X11 only), topmost first; [] elsewhere."""
    if QGuiApplication.platformName() != "xcb" or shutil.which("xwininfo") is None:
        return []
    try:
        out = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, timeout=timeout_s,
                             check=False).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("! screen capture: no window list (%s)", exc)
        return []
    return parse_xwininfo_tree(out)


def parse_xwininfo_tree(text: str) -> list[WindowRect]:
    """Titled windows among the root's direct children (five-space indent), in stacking order reversed."""
    found = []
    for line in text.splitlines():
        if not line.startswith("     0x") or line.startswith("      "):
            continue  # only the root's children: deeper lines are indented further
        match = _GEOMETRY.match(line)
        if match and match.group(2):
            width, height, x, y = (int(match.group(i)) for i in (3, 4, 5, 6))
            if width > 1 and height > 1:
                found.append(WindowRect(match.group(2), QRect(x, y, width, height)))
    return list(reversed(found))  # xwininfo lists bottom to top


class ScreenPicker(QWidget):
    """Full-screen chooser over ``desktop`` (a grab). Emits ``picked(QImage)`` or ``cancelled()``."""

    picked = Signal(QImage)
    cancelled = Signal()

    def __init__(self, desktop: QPixmap, windows: list[WindowRect] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        self.desktop = desktop
        self.windows = windows or []
        self._press: QPoint | None = None
        self._drag = QRect()
        self._hover: WindowRect | None = None
        self._done = False
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAccessibleName("Choose a region or a window to capture")
        self.resize(desktop.size() / max(desktop.devicePixelRatio(), 1.0))

    # --- the choice ----------------------------------------------------------------------------

    def selection(self) -> QRect:
        """What a release now would take: the dragged region, else the window under the pointer, else
        the whole screen (logical coordinates)."""
        if self._drag.width() >= MIN_DRAG_PX and self._drag.height() >= MIN_DRAG_PX:
            return self._drag
        if self._hover is not None:
            return self._hover.rect.intersected(self.rect())
        return self.rect()

    def take(self, area: QRect) -> None:
        """Emit the picture inside ``area`` (logical pixels) and close."""
        if self._done:
            return
        self._done = True
        ratio = self.desktop.devicePixelRatio()
        device = QRect(round(area.x() * ratio), round(area.y() * ratio),
                       round(area.width() * ratio), round(area.height() * ratio))
        self.picked.emit(self.desktop.copy(device).toImage())
        self.close()

    def cancel(self) -> None:
        if not self._done:
            self._done = True
            self.cancelled.emit()
        self.close()

    def window_at(self, point: QPoint) -> WindowRect | None:
        return next((w for w in self.windows if w.rect.contains(point)), None)

    # --- events ----------------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self._drag = QRect()
        elif event.button() == Qt.MouseButton.RightButton:
            self.cancel()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        point = event.position().toPoint()
        if self._press is not None:
            self._drag = _span(self._press, point)
        else:
            self._hover = self.window_at(point)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return
        point = event.position().toPoint()
        self._drag = _span(self._press, point)
        self._press = None
        if self._drag.width() < MIN_DRAG_PX or self._drag.height() < MIN_DRAG_PX:
            self._hover = self.window_at(point)
        self.take(self.selection())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.take(self.rect())
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 — a window closed by the system cancels
        if not self._done:
            self._done = True
            self.cancelled.emit()
        super().closeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.drawPixmap(self.rect(), self.desktop)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 110))
        area = self.selection() if (self._press is not None or self._hover is not None) else QRect()
        if not area.isNull():
            ratio = self.desktop.devicePixelRatio()
            source = QRect(round(area.x() * ratio), round(area.y() * ratio),
                           round(area.width() * ratio), round(area.height() * ratio))
            painter.drawPixmap(area, self.desktop, source)  # the chosen part undimmed
            painter.setPen(QPen(QColor("#4c8dff"), 2))
            painter.drawRect(area.adjusted(1, 1, -1, -1))
        painter.setPen(QColor("white"))
        painter.drawText(self.rect().adjusted(0, 16, 0, 0), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                         "Drag to capture a region · click a window · Enter: whole screen · Esc: cancel")
        painter.end()


def _span(a: QPoint, b: QPoint) -> QRect:
    """The rectangle dragged from ``a`` to ``b`` (exclusive of the end point: 100→300 is 200 wide)."""
    return QRect(min(a.x(), b.x()), min(a.y(), b.y()), abs(b.x() - a.x()), abs(b.y() - a.y()))


def grab_desktop() -> QPixmap | None:
    """The primary screen as a picture, or None where the platform cannot grab it (Wayland gives
    nothing or a blank picture for other applications' windows)."""
    screen = QGuiApplication.primaryScreen()
    if screen is None or QGuiApplication.platformName().startswith("wayland"):
        return None
    pixmap = screen.grabWindow(0)
    return None if pixmap.isNull() else pixmap
