"""How the main window fits a narrow screen (a mixin of :class:`~desktop_app.ui.main_window.MainWindow`).

Nothing is ever clipped: the window's minimum is the narrowest its conversation column and header
can be (the header drops the app's name and the token count, the talk controls put the talk button
on a row of its own). The side panel needs 360 px more: when the window gets narrower than that
it steps aside by itself and comes back when there is room; asked for (F9, the panel button, a
banner's action) in a window too narrow for it, the window grows to fit it.
"""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from desktop_app.ui.widgets.connection_bar import ConnectionBar

SIDE_PANEL_WIDTH = 360
MIN_HEIGHT = 560


class NarrowLayout(QMainWindow):
    """Needs ``bar``, ``side`` and the ``_body``/``_left`` layouts built by the window."""

    bar: ConnectionBar
    side: QFrame
    tabs: QTabWidget
    _body: QHBoxLayout
    _left: QVBoxLayout
    _side_auto_hidden: bool = False

    def _widths(self) -> tuple[int, int]:
        """``(alone, with_side)``: the narrowest the window can be without and with the side panel."""
        margins = self._body.contentsMargins()
        column = self._left.minimumSize().width() + margins.left() + margins.right()
        alone = max(column, self.bar.minimumSizeHint().width())
        return alone, max(alone, column + self._body.spacing() + SIDE_PANEL_WIDTH)

    def show_side_panel(self, shown: bool) -> None:
        """Show or hide the side panel (F9, the panel button); the window grows to fit it if needed."""
        self._side_auto_hidden = False
        if shown and self.width() < self._widths()[1]:
            self.resize(self._widths()[1], self.height())
        self.side.setVisible(shown)
        self._check_panel_button(shown)

    def open_side_panel(self, page: QWidget) -> None:
        """Show the side panel at ``page`` (one of its tabs)."""
        self.show_side_panel(True)
        self.tabs.setCurrentWidget(page)

    def _check_panel_button(self, shown: bool) -> None:
        if self.bar.panel.isChecked() != shown:
            self.bar.panel.blockSignals(True)
            self.bar.panel.setChecked(shown)
            self.bar.panel.blockSignals(False)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt naming)
        super().resizeEvent(event)
        alone, with_side = self._widths()
        if self.minimumWidth() != alone:  # the header and the controls reflow, so their minimum moves
            self.setMinimumWidth(alone)
        width = event.size().width()
        if self.side.isVisible() and width < with_side:
            self._side_auto_hidden = True
            self.side.hide()
            self._check_panel_button(False)
        elif self._side_auto_hidden and width >= with_side:
            self._side_auto_hidden = False
            self.side.show()
            self._check_panel_button(True)
