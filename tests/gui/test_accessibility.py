"""Accessibility of the real window: every interactive control has a name a screen reader can say,
and the Tab key walks the window in reading order (header, conversation, talking, side panel)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QKeySequenceEdit, QLineEdit, QPlainTextEdit,
    QScrollBar, QStackedWidget, QTabBar, QTextEdit, QWidget,
)

from desktop_app.ui.desktop import DesktopShell
from tests.controller.peer import ScriptedPeer
from tests.gui.harness import Gui

pytestmark = pytest.mark.gui

INTERACTIVE = (QAbstractButton, QComboBox, QAbstractSlider, QAbstractSpinBox, QLineEdit, QPlainTextEdit, QTextEdit,
               QKeySequenceEdit, QTabBar)


def spoken_name(widget: QWidget) -> str:
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).strip() if interface is not None else ""


def reachable(widget: QWidget, root: QWidget) -> bool:
    """Shown now, or on a page of a stack (a tab) the person can switch to; not hidden for its state
    (the banner's action without a notice)."""
    w: QWidget | None = widget
    while w is not None and w is not root:
        parent = w.parentWidget()
        if w.isHidden() and not isinstance(parent, QStackedWidget):
            return False
        w = parent
    return True


def unnamed(root: QWidget) -> list[str]:
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not reachable(widget, root):
            continue
        if not isinstance(widget, INTERACTIVE) or isinstance(widget, QScrollBar):
            continue  # a scroll bar is announced by its orientation as part of the area it scrolls
        if isinstance(widget.parent(), (QAbstractSpinBox, QComboBox, QKeySequenceEdit, QLineEdit)):
            continue  # a spin box's or combo's own line edit, a line edit's clear button: named by their owner
        if not spoken_name(widget):
            chain = []
            w: QWidget | None = widget
            while w is not None and w is not root:
                chain.append(type(w).__name__ + (f"#{w.objectName()}" if w.objectName() else ""))
                w = w.parentWidget()
            found.append(" < ".join(chain[:4]) + f" (tooltip: {widget.toolTip()!r})")
    return found


async def test_every_interactive_control_has_a_screen_reader_name(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        shell = gui.window.findChild(DesktopShell)
        assert shell is not None
        await gui.connect()  # the connected window shows its full set of controls
        missing = unnamed(gui.window) + unnamed(shell.mini) + [f"tray menu: {a.text()!r}" for a in shell.tray.menu.actions()
                                                                if not a.isSeparator() and not a.text()]
        assert not missing, "controls a screen reader cannot name:\n" + "\n".join(missing)


def area_of(window, widget: QWidget) -> int:  # noqa: ANN001
    """0 header, 1 conversation, 2 talking, 3 side panel (-1: elsewhere)."""
    for index, part in enumerate((window.bar, window.stack, window.talk, window.side)):
        if widget is part or part.isAncestorOf(widget):
            return index
    return -1


async def test_tab_walks_the_window_in_reading_order(qloop, qtbot, tmp_path):
    async with ScriptedPeer() as peer, Gui(tmp_path, peer) as gui:
        await gui.connect()
        window = gui.window
        window.talk.push_to_talk.click()  # the talk button is enabled (and so reachable) in push-to-talk
        await gui.rendered()
        window.activateWindow()
        first = window.bar.connect_button
        first.setFocus()
        seen: list[QWidget] = [first]
        for _ in range(200):
            window.focusNextChild()
            widget = window.focusWidget()
            if widget is None or widget is first or widget in seen:
                break
            seen.append(widget)
        # The walk is a cycle: read it from the header's leftmost control.
        start = min(range(len(seen)), key=lambda i: (area_of(window, seen[i]), seen[i].mapTo(window, QPoint()).x()))
        seen = seen[start:] + seen[:start]
        areas = [area_of(window, w) for w in seen]
        assert -1 not in areas, [type(w).__name__ for w, a in zip(seen, areas) if a == -1]
        assert areas == sorted(areas), "\n".join(f"{a} {type(w).__name__}: {spoken_name(w)}" for w, a in zip(seen, areas))
        assert {0, 1, 2, 3} <= set(areas)  # every part is reachable by keyboard
        assert window.talk.talk in seen and window.talk.text in seen and window.tabs.tabBar() in seen
