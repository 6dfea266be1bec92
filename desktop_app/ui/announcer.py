"""Says the conversation's state to screen readers: "Listening", "You are speaking", "The assistant
is speaking", "Microphone muted", "Disconnected" — once per change, through Qt's accessibility
announcement event (AT-SPI on Linux, UI Automation on Windows, NSAccessibility on macOS), from the
turn label so the reader knows where it comes from. The label's accessible name carries the state
too, for a reader that is asked rather than told.
"""

from __future__ import annotations

from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QWidget

from desktop_app.controller.view_state import ViewState
from desktop_app.log import get_logger
from desktop_app.ui.presence import ANNOUNCEMENTS, presence

log = get_logger("ui")


class Announcer:
    """Announce ``presence(view)`` changes from ``source`` (the turn label)."""

    def __init__(self, source: QWidget) -> None:
        self.source = source
        self.state = ""
        self.said: list[str] = []  # every announcement, oldest first (tests; the log has them too)

    def show_view(self, view: ViewState) -> None:
        state = presence(view)
        if state == self.state:
            return
        first = not self.state
        self.state = state
        sentence = ANNOUNCEMENTS.get(state, "")
        self.source.setAccessibleDescription(sentence)
        if not sentence or first:
            return  # nothing worth interrupting the reader for (and nothing at start-up)
        self.said.append(sentence)
        log.debug("= announced: %s", sentence)
        event = QAccessibleAnnouncementEvent(self.source, sentence)
        QAccessible.updateAccessibility(event)
