"""Small builders the panels share, so spacing, labels and icon buttons look the same everywhere."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QFormLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from desktop_app.ui import icons


def panel_column(widget: QWidget) -> QVBoxLayout:
    """The vertical layout of a side-panel page (the same margins and rhythm on every tab)."""
    column = QVBoxLayout(widget)
    column.setContentsMargins(16, 14, 16, 14)
    column.setSpacing(12)
    return column


def settings_form() -> QFormLayout:
    """Label–field rows with the labels centred on their fields."""
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(10)
    return form


def text_label(text: str, parent: QWidget, role: str, *, wrap: bool = False) -> QLabel:
    """A label styled by ``role`` (section / hint / muted / value) in the theme's style sheet."""
    label = QLabel(text, parent)
    label.setProperty("role", role)
    label.setWordWrap(wrap)
    return label


def tool_button(parent: QWidget, glyph: str, color: str, tip: str, *, name: str | None = None,
                icon_px: int = 18, size: tuple[int, int] | None = None, flat: bool = False) -> QToolButton:
    """An icon button with a tooltip and an accessible name (the tooltip's words before any hint)."""
    button = QToolButton(parent)
    button.setIcon(icons.icon(glyph, color))
    button.setIconSize(QSize(icon_px, icon_px))
    if size is not None:
        button.setMinimumSize(*size)
    if flat:
        button.setProperty("role", "flat")
    button.setToolTip(tip)
    button.setAccessibleName(name or tip.split(" (")[0].rstrip("…"))
    return button


class ElidedLabel(QLabel):
    """One line that ends in "…" when it does not fit (never cut mid-word without a sign), with the
    whole text as its tooltip and accessible description. ``full_text()`` is what it was given."""

    def __init__(self, text: str = "", parent: QWidget | None = None, minimum_width: int = 48) -> None:
        super().__init__(parent)
        self._full = ""
        self._minimum_width = minimum_width
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming)
        self._full = text
        self.setToolTip(text)
        self.setAccessibleDescription(text)
        self.updateGeometry()
        self._elide()

    def full_text(self) -> str:
        return self._full

    def keep_whole(self, *texts: str, bold: bool = False) -> None:
        """Never elide ``texts`` (short states such as "Disconnected"): the minimum width fits them."""
        font = QFont(self.font())
        font.setBold(bold or font.bold())
        margins = self.contentsMargins()
        self._minimum_width = max(QFontMetrics(font).horizontalAdvance(t) for t in texts) + margins.left() \
            + margins.right() + 4
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802
        hint = super().sizeHint()
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right() + 2
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._minimum_width, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, self.contentsRect().width())
        if shown != super().text():
            super().setText(shown)
