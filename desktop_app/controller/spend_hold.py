"""The spending stop: at 100 % of a spending limit the conversation spends nothing more until the
user says go on.

While the stop holds:

* the microphone is muted (the window shows it) and suspended — nothing is appended, a half-spoken
  turn is dropped — and unmuting is refused with the reason; the answer already paid for plays on;
* a typed message is refused;
* an answer the server starts anyway (an idle timeout, a response queued before the stop) is
  cancelled at once, so a hands-free session left running never spends without bound;
* a session billed by the second (GPT-Live: silence and a muted microphone are billed too) is closed,
  and one opened meanwhile is closed again; when the user goes on, a new session opens with the
  conversation so far (the reconnector's rules).

The spend governor (``observe.spend``) decides; the window calls ``controller.spending.set(on, sentence)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop_app.controller.microphone import Microphone
from desktop_app.controller.reconnector import Reconnector
from desktop_app.controller.states import Conn
from desktop_app.controller.view import ViewModel
from desktop_app.errors import ParleyError
from desktop_app.log import get_logger
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.events import SessionCreated
from desktop_app.realtime.response_events import ResponseCreated
from desktop_app.tasks import spawn

log = get_logger("controller")

#: The notice cause (and banner action) of a spending stop.
SPEND = "spend"
REASON = "spending limit"
#: Said after the governor's sentence when the stop closes a session billed by the second.
CLOSED_WHILE_STOPPED = "GPT-Live bills every second a session is open, so it is closed until you continue."


class SpendHold:
    """Whether the spending limit holds the conversation, and carrying that out."""

    def __init__(self, mic: Microphone, view: ViewModel, core: Callable[[], Dialect | None],
                 flush: Callable[[], None], silence: Callable[[str], None], connection: Reconnector) -> None:
        self._connection = connection
        self._closed_session = False  # the stop closed a session billed by the second: reopen on going on
        self._mic = mic
        self._silence = silence  # the cancelled answer's audio still in flight is never played
        self._view = view
        self._core = core
        self._flush = flush
        self.active = False
        self.sentence = ""
        self._was_muted = False

    def set(self, on: bool, sentence: str = "") -> None:
        """Stop (``on``, with the sentence the banner shows) or go on as before the stop."""
        if on:
            self.sentence = sentence or self.sentence
            if self._per_second and CLOSED_WHILE_STOPPED not in self.sentence:
                self.sentence = f"{self.sentence} {CLOSED_WHILE_STOPPED}".strip()
            self.remind()
        if on == self.active:
            return
        self.active = on
        log.info("= spending %s", "stopped: microphone off until the user agrees" if on else "allowed again")
        if on:
            self._was_muted = self._mic.machine.muted
            self._mic.set_muted(True)
            self._mic.suspend(REASON, True, pause_playback=False)
            self._end_session()
        else:
            self._mic.suspend(REASON, False, pause_playback=False)
            if not self._was_muted:
                self._mic.set_muted(False)
            self._view.resolve(SPEND)
            if self._closed_session:
                self._closed_session = False
                log.info("= spending allowed again: a new session opens with the conversation so far")
                spawn(self._reopen(), name="spending.reopen")

    @property
    def _per_second(self) -> bool:
        return self._view.state.traits.billed_per_second

    def _end_session(self) -> None:
        """Close a session billed by the second (open, opening or reconnecting): no more seconds are spent."""
        if self._per_second and self._view.state.connection in (Conn.CONNECTING, Conn.CONNECTED, Conn.RECONNECTING):
            log.info("= spending stopped: the session billed by the second is closed")
            self._closed_session = True
            spawn(self._connection.close(), name="spending.close")

    async def _reopen(self) -> None:
        try:
            await self._connection.connect()
        except ParleyError:
            pass  # the connection has told the user already (its banner, its Retry)

    def refuses(self) -> bool:
        """True (and the reason shown again) while the stop holds: for an unmute or a message."""
        if self.active:
            self.remind()
        return self.active

    def remind(self) -> None:
        """Say why the microphone stays off (an unmute or a message while stopped)."""
        self._view.notify(self.sentence or "The spending limit is reached: the microphone is off.", "error",
                          SPEND, cause=SPEND)

    def events(self, events: list[Any]) -> None:
        """Cancel any answer the server starts while the stop holds (before the router sees it)."""
        if not self.active:
            return
        if self._per_second and any(type(event) is SessionCreated for event in events):
            self.remind()  # a session opened while stopped: it would bill every second
            self._end_session()
        core = self._core()
        if core is None or not core.traits.responses:
            return
        for event in events:
            if type(event) is ResponseCreated and core.response_pending:
                log.info("= response %s cancelled: the spending limit is reached", event.response_id)
                if event.response_id is not None:
                    self._silence(event.response_id)
                core.cancel_response()
                self._flush()
