"""The controller's clock: 20 Hz while something is going on, once a second once it has settled.

What the tick watches — playback starting and ending, the end of a turn, a local onset the server
never confirmed, a deferred session change, the planned refresh before the session's time limit —
only moves while a turn is in progress, audio plays or an answer, a tool or a verdict is pending.
Connected and settled (listening, nothing of that), the tick has only the refresh to look for, so it
sleeps for :data:`IDLE_TICK_S` (issue #23: idle means idle). Anything that may unsettle it — a server
event, an intent, a local onset: whatever the controller publishes — calls :meth:`Ticker.wake`, which
brings the next tick forward to :data:`TICK_S`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

#: The tick's period while a turn is in progress, audio plays or something is pending.
TICK_S = 0.05
#: The tick's period once settled: only the planned session refresh (minutes ahead) is looked for.
IDLE_TICK_S = 1.0


class Ticker:
    """Calls ``tick()`` on the loop: again after :data:`TICK_S` while it returns False (busy), after
    :data:`IDLE_TICK_S` once it returns True (settled); ``None`` stops the clock (no connection)."""

    def __init__(self, tick: Callable[[], bool | None]) -> None:
        self._tick = tick
        self._handle: asyncio.Handle | None = None  # qasync's call_later gives a plain Handle
        self._due = 0.0  # loop time of the next tick
        self.ticks = 0

    @property
    def running(self) -> bool:
        return self._handle is not None

    @property
    def settled(self) -> bool:
        """The clock runs slowly: the last tick found nothing going on."""
        return self._handle is not None and self._due - asyncio.get_running_loop().time() > TICK_S

    def start(self) -> None:
        """Tick within :data:`TICK_S` from now on (a session started)."""
        self._schedule(TICK_S)

    def wake(self) -> None:
        """Something happened: a sleeping clock ticks within :data:`TICK_S`; a stopped one stays stopped."""
        if self._handle is not None:
            self._schedule(TICK_S)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _schedule(self, delay: float) -> None:
        loop, handle = asyncio.get_running_loop(), self._handle
        due = loop.time() + delay
        if handle is not None:
            if self._due <= due:
                return  # due soon enough already
            handle.cancel()
        self._handle, self._due = loop.call_later(delay, self._run), due

    def _run(self) -> None:
        self._handle = None
        self.ticks += 1
        settled: bool | None = False
        try:
            settled = self._tick()
        finally:
            if settled is not None:
                self._schedule(IDLE_TICK_S if settled else TICK_S)
