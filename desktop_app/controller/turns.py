"""The turn keeper: whose turn it is, and every flag that decides it, in one object.

The turn itself is a table (:data:`~.states.TURN_TABLE`); what used to be loose flags beside it lives
here too: whether an answer was asked for and has not started (``awaiting_response``), whether the
user is speaking (shown in the view), how many answers have finished, and the ``idle`` event that
headless runs and tests wait on. :meth:`TurnKeeper.check_finished` ends a turn only when nothing is
left: no answer asked for or in progress, no tool running, no audio still playing.
"""

from __future__ import annotations

import asyncio

from desktop_app.controller.states import TURN_TABLE, Turn, TurnEvent, step
from desktop_app.controller.view import ViewModel
from desktop_app.log import get_logger

log = get_logger("controller")

#: The turns that end when the assistant is done (a running tool ends with TOOL_DONE first).
ANSWERING = (Turn.WAITING, Turn.ASSISTANT_SPEAKING)


class TurnKeeper:
    """Turn state and its flags; publishes ``turn`` and ``user_speaking`` into the view."""

    def __init__(self, view: ViewModel) -> None:
        self._view = view
        self.awaiting_response = False
        self.responses_finished = 0
        self.idle = asyncio.Event()  # set whenever a turn has fully finished

    @property
    def turn(self) -> Turn:
        return self._view.state.turn

    @property
    def user_speaking(self) -> bool:
        return self._view.state.user_speaking

    def step(self, event: TurnEvent) -> Turn:
        """Apply ``event``; unknown (state, event) pairs leave the turn as it is."""
        before = self.turn
        new, handled = step(TURN_TABLE, before, event)
        if handled and new is not before:
            log.debug("= turn %s -> %s (%s)", before.value, new.value, event.value)
            self._view.set(turn=new)
        if new in (Turn.LISTENING, Turn.IDLE) and event in (
                TurnEvent.RESPONSE_FINISHED_HF, TurnEvent.RESPONSE_FINISHED_PTT):
            self.responses_finished += 1
            self.idle.set()
        return new

    def speaking(self, on: bool) -> None:
        """The user started or stopped speaking (VAD, push-to-talk, a local onset)."""
        self._view.set(user_speaking=on)

    def ready(self, hands_free: bool) -> None:
        self.step(TurnEvent.READY_HANDS_FREE if hands_free else TurnEvent.READY_PTT)

    def asked(self) -> None:
        """An answer was asked for (commit + create, a typed message, a tool result)."""
        self.awaiting_response = True

    def answered(self) -> None:
        """The asked-for answer started, or will never come (refused, already running)."""
        self.awaiting_response = False

    def check_finished(self, *, busy: bool, hands_free: bool) -> None:
        """End the turn when the assistant is done: ``busy`` covers an answer in progress, tools
        running and audio still playing. A turn still being committed is not the assistant's yet."""
        if self.turn not in ANSWERING:
            return
        if self.awaiting_response or busy:
            return
        self.step(TurnEvent.RESPONSE_FINISHED_HF if hands_free else TurnEvent.RESPONSE_FINISHED_PTT)

    def disconnected(self) -> None:
        self._view.set(user_speaking=False)
        self.step(TurnEvent.DISCONNECTED)
