"""Response bookkeeping: at most one default-conversation response at a time (§3.6 E, §4.4).

The server refuses a second ``response.create`` while a default-conversation response is active
(``conversation_already_has_active_response``). The tracker therefore *queues* such requests and
releases one, as a frame to send, when ``response.done`` ends the active response. A create sent
but not yet answered by ``response.created`` counts as active, so two quick requests cannot race.

Server VAD can start a response on its own, so a create we sent can still collide. The error
echoes our ``event_id``; the tracker puts that request back at the head of the queue.

Out-of-band responses (``conversation: "none"``) run in parallel and are never queued.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from typing import Any

from .commands import ClientEvent
from .events import ErrorInfo
from .logfmt import logger as default_logger
from .response_events import ResponseCreated, ResponseDone
from .usage import Usage

_RECENT = 16  # sent creates remembered for error recovery


class ResponseTracker:
    """Tracks the active default response, queued ``response.create`` frames, and usage."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or default_logger
        self.active_id: str | None = None
        self.usage = Usage()
        self.last_usage = Usage()
        self._in_flight: deque[str] = deque()  # event ids of default creates sent, not yet created
        self._queue: deque[ClientEvent] = deque()
        self._recent: OrderedDict[str, ClientEvent] = OrderedDict()
        self._out_of_band: set[str] = set()

    @property
    def busy(self) -> bool:
        """True while a default response is active or requested."""
        return self.active_id is not None or bool(self._in_flight)

    @property
    def queued(self) -> tuple[ClientEvent, ...]:
        """``response.create`` frames waiting for the active response to finish."""
        return tuple(self._queue)

    def request(self, frame: ClientEvent) -> list[ClientEvent]:
        """Frames to send now for this ``response.create``: itself, or nothing if it was queued."""
        if _is_out_of_band(frame):
            return [frame]
        if self.busy:
            self._log.info("= response.create queued behind %s", self.active_id or "a pending create")
            self._queue.append(frame)
            return []
        self._sent(frame)
        return [frame]

    def clear_queue(self) -> int:
        """Drop queued creates (the user cancelled); returns how many were dropped."""
        dropped = len(self._queue)
        self._queue.clear()
        return dropped

    def on_created(self, event: ResponseCreated) -> None:
        response_id = event.response_id
        if event.out_of_band:
            if response_id:
                self._out_of_band.add(response_id)
            return
        self.active_id = response_id
        if self._in_flight:
            self._in_flight.popleft()
        self._log.info("= response %s active", response_id)

    def on_done(self, event: ResponseDone) -> list[ClientEvent]:
        """Count usage; when the active response ends, release the next queued create."""
        usage = Usage.from_response(event.response.get("usage"))
        self.last_usage = usage
        self.usage = self.usage + usage
        response_id = event.response_id
        if response_id in self._out_of_band:
            self._out_of_band.discard(response_id)
            return []
        if event.out_of_band:
            return []
        if response_id == self.active_id or self.active_id is None:
            # A done without a created we saw (e.g. created before a reconnect) also frees the slot.
            self.active_id = None
            self._log.info("= response %s done (%s)", response_id, event.status)
        return self._release()

    def on_error(self, error: ErrorInfo) -> list[ClientEvent]:
        """React to an ``error`` caused by one of our creates; returns frames to send now."""
        frame = self._recent.get(error.event_id or "")
        if frame is None:
            return []
        if error.event_id is not None and error.event_id in self._in_flight:
            self._in_flight.remove(error.event_id)
        if error.code == "conversation_already_has_active_response":
            # The server started a response on its own (VAD); ours waits for it to finish.
            self._log.info("= response.create %s re-queued behind the active response", error.event_id)
            self._queue.appendleft(frame)
            self._recent.pop(error.event_id or "", None)
            return []
        return self._release()

    def on_closed(self) -> None:
        """The connection is gone: nothing is active or waiting any more."""
        self.active_id = None
        self._in_flight.clear()
        self._queue.clear()
        self._out_of_band.clear()

    def _release(self) -> list[ClientEvent]:
        if self.busy or not self._queue:
            return []
        frame = self._queue.popleft()
        self._sent(frame)
        self._log.info("= queued response.create %s released", frame.get("event_id"))
        return [frame]

    def _sent(self, frame: ClientEvent) -> None:
        event_id = frame.get("event_id", "")
        self._in_flight.append(event_id)
        self._recent[event_id] = frame
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)


def _is_out_of_band(frame: ClientEvent) -> bool:
    response: Any = frame.get("response")
    return isinstance(response, dict) and response.get("conversation") == "none"
