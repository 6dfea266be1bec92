"""The controller's periodic work while connected: one callback every :data:`TICK_S`.

Meters, the speaking indicator, the end of a turn and the planned refresh are judged on this tick
(20 Hz). It runs only while a session is open, so an idle app does no periodic work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from desktop_app.realtime.dialect import Dialect

#: Meters and speaking indicators refresh at this rate while connected.
TICK_S = 0.05


class Ticker:
    """Calls ``step(core)`` every :data:`TICK_S` from :meth:`start` while ``core()`` gives an open
    session, until :meth:`stop`; starting twice keeps one timer."""

    def __init__(self, core: Callable[[], Dialect | None], step: Callable[[Dialect], None],
                 interval: float = TICK_S) -> None:
        self._core = core
        self._step = step
        self._interval = interval
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self._interval, self._run)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _run(self) -> None:
        self._handle = None
        core = self._core()
        if core is None:
            return
        try:
            self._step(core)
        finally:
            # A step that raised ticks on (the loop's handler reports it): one failed tick must not
            # freeze the meters for the rest of the session.
            self.start()
