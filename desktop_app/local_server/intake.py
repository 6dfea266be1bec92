"""What a client message must pass before a handler sees it: text, size, JSON, rate, type and schema.

:func:`read_event` never raises on bad input: it returns the parsed event or a :class:`Refusal`
(the problem plus the client's ``event_id`` to echo), in the order the service checks
(realtime-protocol.md §3.1, §4.4, §7.3). :class:`Intake` puts it in front of a table of handlers,
one per client event type, and turns a handler's crash into one ``server_error``. The schema and
handler tables are parameters, so a second dialect (GPT-Live, with its own client events) reads
messages the same way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop_app.local_server.outbox import LOG_LINE, Log
from desktop_app.local_server.schema import Obj, Problem, invalid_value
from desktop_app.logtext import summarize_frame

Handler = Callable[[dict[str, Any]], Problem | None]
"""Handles one valid client event; returns the problem that refuses it, or None."""

Refuse = Callable[[Problem, Any, str], None]
"""Sends the ``error`` event: ``(problem, the client's event_id, error type)``."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A frame that cannot be handled: the ``error`` to send and the client ``event_id`` it answers."""

    problem: Problem
    event_id: Any = None


class RateBucket:
    """A token bucket of ``per_second`` client events with a burst allowance of two seconds' worth."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self._clock = clock
        self._tokens = 2.0 * per_second
        self._at = clock()

    def take(self) -> bool:
        """Spend one token; False when the bucket is empty (the event is refused)."""
        now = self._clock()
        self._tokens = min(2.0 * self.per_second, self._tokens + (now - self._at) * self.per_second)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


def read_event(frame: str, *, max_bytes: int, bucket: RateBucket,
               schemas: Mapping[str, Obj]) -> dict[str, Any] | Refusal:
    """The client event in ``frame`` (schema-checked, ``type`` one of ``schemas``), or why not."""
    if len(frame) > max_bytes:
        return Refusal(Problem("invalid_value", f"Event too large: {len(frame)} bytes; the maximum is {max_bytes} "
                               f"bytes ({max_bytes / 1048576:g} MiB).", None))
    try:
        event = json.loads(frame)
    except ValueError as exc:
        return Refusal(Problem("invalid_json", f"Invalid event: failed to parse JSON value: {exc}", None))
    if not isinstance(event, dict):
        return Refusal(Problem("invalid_event", "Invalid event: expected a JSON object.", None))
    event_id = event.get("event_id")
    if not bucket.take():
        return Refusal(Problem("rate_limit_exceeded", f"Too many events: at most {bucket.per_second:g} "
                               "client events per second are accepted in one session.", None), event_id)
    kind = event.get("type")
    if kind is None:
        return Refusal(Problem("invalid_event", "The 'type' field is missing.", "type"), event_id)
    schema = schemas.get(kind) if isinstance(kind, str) else None
    if schema is None:
        return Refusal(invalid_value("type", kind, list(schemas)), event_id)
    problem = schema.check(event, "")
    if problem is not None:
        return Refusal(problem, event_id)
    return event


class Intake:
    """Reads each client message and calls the handler of its type; every failure is refused once."""

    def __init__(self, handlers: Mapping[str, Handler], schemas: Mapping[str, Obj], refuse: Refuse, log: Log, *,
                 max_bytes: int, per_second: float) -> None:
        if set(handlers) != set(schemas):
            raise ValueError(f"handlers and schemas differ: {sorted(set(handlers) ^ set(schemas))}")
        self._handlers = handlers
        self._schemas = schemas
        self._refuse = refuse
        self._log = log
        self._debug = log.isEnabledFor(logging.DEBUG)
        self._max_bytes = max_bytes
        self._bucket = RateBucket(per_second)

    def receive(self, frame: str | bytes) -> None:
        """Handle one client message (never raises on bad input)."""
        if isinstance(frame, (bytes, bytearray, memoryview)):
            self._refuse(Problem("invalid_event", "Expected a text WebSocket message; binary frames are not supported.",
                                 None), None, "invalid_request_error")
            return
        if self._debug:
            self._log.debug("< %s", summarize_frame(frame, LOG_LINE))
        event = read_event(frame, max_bytes=self._max_bytes, bucket=self._bucket, schemas=self._schemas)
        if isinstance(event, Refusal):
            self._refuse(event.problem, event.event_id, "invalid_request_error")
            return
        kind = event["type"]
        try:
            problem = self._handlers[kind](event)
        except Exception as exc:  # noqa: BLE001 — a server bug must cost one event, not the session
            self._log.exception("! %s failed", kind)
            problem = Problem(None, f"The server had an error while processing {kind}: {exc}", None)
            self._refuse(problem, event.get("event_id"), "server_error")
            return
        if problem is not None:
            self._refuse(problem, event.get("event_id"), "invalid_request_error")
