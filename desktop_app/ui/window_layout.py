"""How the main window fits a narrow screen: a part the window owns (``window.fit``).

Nothing is ever clipped: the window's minimum is the narrowest its conversation column and header
can be (the header drops the app's name and the token count, the talk controls put the talk button
on a row of its own). The side panel needs 360 px more: when the window gets narrower than that
it steps aside by itself and comes back when there is room; asked for (F9, the panel button, a
banner's action) in a window too narrow for it, the window grows to fit it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from desktop_app.ui.widgets.connection_bar import ConnectionBar

SIDE_PANEL_WIDTH = 360
MIN_HEIGHT = 560


class SidePanelFit:
    """The side panel's place in a window of any width. The window calls :meth:`resized` from its
    ``resizeEvent``."""

    def __init__(self, window: QMainWindow, bar: ConnectionBar, side: QFrame, tabs: QTabWidget,
                 body: QHBoxLayout, left: QVBoxLayout) -> None:
        self.window = window
        self.bar = bar
        self.side = side
        self.tabs = tabs
        self._body = body
        self._left = left
        self._auto_hidden = False

    def widths(self) -> tuple[int, int]:
        """``(alone, with_side)``: the narrowest the window can be without and with the side panel."""
        margins = self._body.contentsMargins()
        column = self._left.minimumSize().width() + margins.left() + margins.right()
        alone = max(column, self.bar.minimumSizeHint().width())
        return alone, max(alone, column + self._body.spacing() + SIDE_PANEL_WIDTH)

    def show_side_panel(self, shown: bool) -> None:
        """Show or hide the side panel (F9, the panel button); the window grows to fit it if needed."""
        self._auto_hidden = False
        with_side = self.widths()[1]
        if shown and self.window.width() < with_side:
            self.window.resize(with_side, self.window.height())
        self.side.setVisible(shown)
        self._check_panel_button(shown)

    def open_side_panel(self, page: QWidget) -> None:
        """Show the side panel at ``page`` (one of its tabs)."""
        self.show_side_panel(True)
        self.tabs.setCurrentWidget(page)

    def toggle(self) -> None:
        self.show_side_panel(not self.side.isVisible())

    def _check_panel_button(self, shown: bool) -> None:
        if self.bar.panel.isChecked() != shown:
            self.bar.panel.blockSignals(True)
            self.bar.panel.setChecked(shown)
            self.bar.panel.blockSignals(False)

    def resized(self, width: int) -> None:
        """The window is ``width`` wide now: reflow the minimum, step the panel aside or back."""
        alone, with_side = self.widths()
        if self.window.minimumWidth() != alone:  # the header and the controls reflow, so their minimum moves
            self.window.setMinimumWidth(alone)
        if self.side.isVisible() and width < with_side:
            self._auto_hidden = True
            self.side.hide()
            self._check_panel_button(False)
        elif self._auto_hidden and width >= with_side:
            self._auto_hidden = False
            self.side.show()
            self._check_panel_button(True)
