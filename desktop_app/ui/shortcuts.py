"""Every keyboard shortcut of the main window, declared once: the window installs them from this
table and the shortcuts sheet (F1 or ?) lists them from it, so the two can never disagree.

The talk key is not a QShortcut (it is held, not pressed: :mod:`desktop_app.ui.keyboard`), but the
sheet lists it first, under whatever key the person chose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True, slots=True)
class Shortcut:
    """``keys`` (QKeySequence strings, the first is shown first) run the window's action ``action``."""

    keys: tuple[str, ...]
    what: str
    action: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut(("Esc",), "Interrupt the assistant", "interrupt"),
    Shortcut(("Ctrl+M",), "Mute or unmute the microphone", "mute"),
    Shortcut(("Ctrl+L",), "Type a message (Enter sends it)", "type"),
    Shortcut(("Ctrl+Shift+C",), "Copy the conversation", "copy"),
    Shortcut(("F9",), "Show or hide the side panel", "panel"),
    Shortcut(("Ctrl+Shift+E",), "Show or hide the event log", "event_log"),
    Shortcut(("Ctrl+Shift+I",), "Show or hide connection and usage", "monitor"),
    Shortcut(("Ctrl+Shift+H",), "Show or hide saved conversations", "history"),
    Shortcut(("F1", "?"), "Show these shortcuts", "help"),
    Shortcut(("Ctrl+Q",), "Quit Parley", "quit"),  # Ctrl is ⌘ on macOS
)


def key_text(keys: str) -> str:
    """How the platform writes ``keys`` (Ctrl on Linux and Windows, ⌘ on macOS)."""
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) or keys


def rows(talk_key: str) -> list[tuple[str, str]]:
    """``(keys, what)`` for the sheet: the talk key, the table, and Enter on a focused button."""
    listed = [(f"Hold {key_text(talk_key)}", "Talk (push-to-talk mode)")]
    listed += [(" or ".join(key_text(k) for k in s.keys), s.what) for s in SHORTCUTS]
    listed.append(("Enter", "Press the focused button (the talk key never does)"))
    return listed


def install(window: QWidget, actions: Mapping[str, Callable[[], object]]) -> list[QShortcut]:
    """One QShortcut per key of :data:`SHORTCUTS`, calling ``actions[shortcut.action]`` (an action the
    window does not offer — no history without a data folder — gets none)."""
    made = []
    for shortcut in SHORTCUTS:
        if shortcut.action not in actions:
            continue
        for keys in shortcut.keys:
            made_one = QShortcut(QKeySequence(keys), window)
            made_one.setContext(Qt.ShortcutContext.WindowShortcut)
            made_one.activated.connect(actions[shortcut.action])
            made.append(made_one)
    return made
