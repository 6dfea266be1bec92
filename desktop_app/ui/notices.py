"""How long a banner stays, and when its cause is gone.

A notice names its cause (``Notice.cause``); where the controller has not named one yet it is read
from the kind of notice: an error offering to retry or to fix the key or endpoint is about the
connection, one offering audio settings is about the devices, and a warning with nothing to do is
about what just happened in the conversation. :class:`NoticeKeeper` watches the views the window
renders and dismisses the notice on show when

* its lifetime is over (warnings and information; the countdown pauses while the pointer rests
  on the banner, so nobody loses a sentence they are reading), or
* its cause is gone: a connection notice once a new connection succeeds or another endpoint is
  chosen; a device notice once a device switch worked; a conversation notice once the next turn
  reached the assistant (the "too short" warning outlived many good turns).

Errors have no lifetime: they stay until their cause is gone or the person dismisses them.
Anything that knows a cause ended (the controller, the window) calls :meth:`NoticeKeeper.resolve`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from desktop_app.controller.states import Conn, Turn
from desktop_app.controller.view_state import Notice, ViewState

CONNECTION, AUDIO, TURN = "connection", "audio", "turn"
#: The controller's own causes that are about what just happened in the conversation.
_TURN_CAUSES = frozenset({TURN, "push_to_talk", "server", "response", "protocol", "tools", "settings"})
#: Seconds a notice stays by level when it does not say (errors: until their cause is gone).
LIFETIME_S = {"info": 6.0, "warning": 12.0}
#: A warning that offers an action (open the audio settings …) stays longer: there is something to do.
ACTION_LIFETIME_S = 30.0
_ANSWERED = (Turn.WAITING, Turn.ASSISTANT_SPEAKING, Turn.RUNNING_TOOL)


def cause_of(notice: Notice) -> str | None:
    """The notice's cause: its own, or the one its level and action imply."""
    if notice.cause is not None:
        return TURN if notice.cause in _TURN_CAUSES else notice.cause
    if notice.action == "audio":
        return AUDIO
    if notice.action in ("retry", "settings", "key", "demo") and notice.level == "error":
        return CONNECTION
    if notice.action is None and notice.level in ("warning", "info"):
        return TURN
    return None


def lifetime_s(notice: Notice) -> float | None:
    """Seconds the notice stays on show, or None when it stays until its cause is gone."""
    if notice.lifetime_s is not None:
        return notice.lifetime_s if notice.lifetime_s > 0 else None
    if notice.level == "error":
        return None
    if notice.action is not None:
        return ACTION_LIFETIME_S
    return LIFETIME_S.get(notice.level, LIFETIME_S["warning"])


class NoticeKeeper(QObject):
    """Dismisses the notice on show when its time is up or its cause is gone.

    ``dismiss(notice)`` must clear exactly that notice (and nothing newer); ``observe(view)`` is
    called with every rendered view, ``pause(bool)`` while the person reads the banner.
    """

    def __init__(self, dismiss: Callable[[Notice], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dismiss = dismiss
        self.notice: Notice | None = None
        self._left_connected = False  # the connection was down at some point since the notice came
        self._turn_began = False  # the person started a turn since the notice came
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expired)
        self._remaining_ms = -1
        self._paused = False

    def observe(self, view: ViewState) -> None:
        notice = view.notice
        if notice != self.notice:
            self._start(notice, view)
            return
        if notice is None:
            return
        cause = cause_of(notice)
        if cause == CONNECTION:
            if view.connection is not Conn.CONNECTED:
                self._left_connected = True
            elif self._left_connected:
                self.resolve(CONNECTION)
        elif cause == TURN:
            if view.turn in (Turn.USER_SPEAKING, Turn.COMMITTING) or view.user_speaking:
                self._turn_began = True
            elif self._turn_began and view.turn in _ANSWERED:
                self.resolve(TURN)

    def _start(self, notice: Notice | None, view: ViewState) -> None:
        self.notice = notice
        self._timer.stop()
        self._remaining_ms = -1
        self._left_connected = view.connection is not Conn.CONNECTED
        self._turn_began = False
        seconds = None if notice is None else lifetime_s(notice)
        if seconds is not None:
            self._remaining_ms = int(seconds * 1000)
            if not self._paused:
                self._timer.start(self._remaining_ms)

    def resolve(self, cause: str) -> None:
        """The cause ``cause`` is gone: its notice goes."""
        notice = self.notice
        if notice is not None and cause_of(notice) == cause:
            self._clear(notice)

    def pause(self, paused: bool) -> None:
        """Hold the countdown while the person reads (pointer over the banner)."""
        if paused == self._paused:
            return
        self._paused = paused
        if paused and self._timer.isActive():
            self._remaining_ms = self._timer.remainingTime()
            self._timer.stop()
        elif not paused and self._remaining_ms >= 0 and self.notice is not None:
            self._timer.start(max(self._remaining_ms, 1500))  # a moment to move on after reading

    def _expired(self) -> None:
        if self.notice is not None:
            self._clear(self.notice)

    def _clear(self, notice: Notice) -> None:
        self._timer.stop()
        self._remaining_ms = -1
        self.notice = None
        self._dismiss(notice)
