"""The view model: the one place the :class:`ViewState` snapshot is replaced and published.

Every part that changes what the window shows goes through :meth:`ViewModel.set`, which publishes a
new snapshot only when something changed. Notices (the banner) carry their *cause*, so the part that
knows the cause is gone clears exactly its own notice (:meth:`ViewModel.resolve`) — a banner never
outlives what it reports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from desktop_app.controller.view_state import Notice, ViewState
from desktop_app.log import get_logger

log = get_logger("controller")

ViewListener = Callable[[ViewState], None]


class ViewModel:
    """Holds the current snapshot and calls ``listener`` with each new one."""

    def __init__(self, initial: ViewState, listener: ViewListener) -> None:
        self.state = initial
        self.listener = listener
        self._watchers: list[Callable[[], None]] = []

    def set(self, **changes: Any) -> None:
        new = replace(self.state, **changes)
        if new != self.state:
            self.state = new
            # Publishing runs inside event handling: a broken listener or watcher (a window widget,
            # a monitor) is logged, never allowed to end the conversation's link.
            for tell in (lambda: self.listener(new), *tuple(self._watchers)):
                try:
                    tell()
                except Exception:  # see above
                    log.exception("! a view listener failed; the conversation goes on")

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait until ``predicate()`` holds, checked after every published change (no polling);
        False on timeout."""
        changed = asyncio.Event()
        stop = self.watch(changed.set)
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    changed.clear()
                    await changed.wait()
            return True
        except TimeoutError:
            return False
        finally:
            stop()

    def watch(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call ``wake()`` after every published change; returns the function that stops it."""
        self._watchers.append(wake)
        return lambda: self._watchers.remove(wake) if wake in self._watchers else None

    def notify(self, sentence: str, level: str = "error", action: str | None = None,
               cause: str | None = None) -> None:
        """Show one sentence in the banner (the log has the detail). ``cause`` names what it
        reports (``"connection"``, ``"push_to_talk"``, ``"audio"``, …) so it can be resolved."""
        log.info("= notice (%s%s): %s", level, f", {cause}" if cause else "", sentence)
        self.set(notice=Notice(sentence, level, action, cause))

    def resolve(self, *causes: str) -> None:
        """The cause is gone (the connection opened, a press was long enough): clear its notice."""
        notice = self.state.notice
        if notice is not None and notice.cause in causes:
            log.debug("= notice resolved (%s)", notice.cause)
            self.set(notice=None)

    def dismiss(self) -> None:
        """The user closed the banner."""
        self.set(notice=None)
