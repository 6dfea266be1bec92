"""The spending stop: at 100 % of a spending limit the conversation spends nothing more until the
user says go on.

While the stop holds:

* the microphone is muted (the window shows it) and suspended — nothing is appended, a half-spoken
  turn is dropped — and unmuting is refused with the reason; the answer already paid for plays on;
* a typed message is refused;
* an answer the server starts anyway (an idle timeout, a response queued before the stop) is
  cancelled at once, so a hands-free session left running never spends without bound.

The spend governor (``observe.spend``) decides; the window calls ``controller.spending.set(on, sentence)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop_app.controller.microphone import Microphone
from desktop_app.controller.view import ViewModel
from desktop_app.log import get_logger
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.response_events import ResponseCreated

log = get_logger("controller")

#: The notice cause (and banner action) of a spending stop.
SPEND = "spend"
REASON = "spending limit"


class SpendHold:
    """Whether the spending limit holds the conversation, and carrying that out."""

    def __init__(self, mic: Microphone, view: ViewModel, core: Callable[[], Dialect | None],
                 flush: Callable[[], None], silence: Callable[[str], None]) -> None:
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
            self.remind()
        if on == self.active:
            return
        self.active = on
        log.info("= spending %s", "stopped: microphone off until the user agrees" if on else "allowed again")
        if on:
            self._was_muted = self._mic.machine.muted
            self._mic.set_muted(True)
            self._mic.suspend(REASON, True, pause_playback=False)
        else:
            self._mic.suspend(REASON, False, pause_playback=False)
            if not self._was_muted:
                self._mic.set_muted(False)
            self._view.resolve(SPEND)

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
