"""What leaves a session, whatever carries it: the :data:`Writer` seam, the :class:`Outbox` and named timers.

A session never touches its connection. Everything it sends is an *action* handed, in order, to
one :data:`Writer` callable that the transport provides: ``("text", json)`` — one event;
``("drop",)`` — cut the connection without a goodbye (a fault); ``("close", code, reason)`` — end
it. The WebSocket server queues them for its writer task (``server.py``); a WebRTC endpoint would
send the text on the ``oai-events`` data channel and hang up on a close. Both dialects use it: a
GPT-Live session builds its own :class:`Outbox` the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from desktop_app.local_server.conversation import Ids
from desktop_app.local_server.faults import SessionFaults
from desktop_app.logtext import summarize_frame

Writer = Callable[[tuple], None]
"""Receives ``("text", json)``, ``("drop",)`` or ``("close", code, reason)``, in order."""

Emit = Callable[[dict[str, Any]], None]
"""Sends one server event (a dict with ``type``; the outbox adds the ``event_id``)."""

Log = logging.Logger | logging.LoggerAdapter
LOG_LINE = 240  # characters of one logged frame (the connection number comes before it)


class Outbox:
    """Stamps each event with a fresh ``event_id`` (``type`` first), passes it through the fault
    injector and hands the resulting actions to the writer; sends nothing once closed."""

    def __init__(self, writer: Writer, faults: SessionFaults, ids: Ids, log: Log) -> None:
        self._writer = writer
        self._faults = faults
        self._ids = ids
        self._log = log
        self._debug = log.isEnabledFor(logging.DEBUG)
        self.closed = False

    def emit(self, event: dict[str, Any], *, stamped: bool = True) -> None:
        """Send one server event (``type`` first, then a fresh ``event_id``; ``stamped=False``: none,
        as GPT-Live's output audio deltas carry none)."""
        if self.closed:
            return
        rest = {k: v for k, v in event.items() if k != "type"}
        event = {"type": event["type"], "event_id": self._ids.event(), **rest} if stamped else {"type": event["type"], **rest}
        for action in self._faults.outgoing(event, self._ids.event):
            if self._debug and action[0] == "text":
                self._log.debug("> %s", summarize_frame(action[1], LOG_LINE))
            self._writer(action)

    def hang_up(self, code: int, reason: str) -> None:
        """End the connection with ``code``/``reason`` (after what was sent); send nothing more."""
        if not self.closed:
            self._writer(("close", code, reason))
        self.closed = True

    def close(self) -> None:
        """The connection is gone: send nothing more."""
        self.closed = True


class Timers:
    """Named one-shot timers on the running loop; setting a name again replaces its timer."""

    def __init__(self) -> None:
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._stopped = False

    def set(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        """Call ``callback`` after ``delay`` seconds (replacing the timer of that name)."""
        self.cancel(name)
        if not self._stopped:
            self._handles[name] = asyncio.get_running_loop().call_later(max(0.0, delay), callback)

    def cancel(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def stop(self) -> None:
        """Cancel every timer; none can be set afterwards."""
        self._stopped = True
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
