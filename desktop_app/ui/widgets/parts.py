"""Small builders the panels share, so spacing, labels and icon buttons look the same everywhere."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QToolButton, QVBoxLayout, QWidget

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
