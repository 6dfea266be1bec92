"""Which responses of one session are running: at most one in the default conversation, any number
out of band (``conversation: "none"``, §3.6 H), and the id of the last one finished.

The session starts runs here and hears back through its :class:`~.responses.RunContext`'s
``finished``; :meth:`Runs.finished` then says whether the default-conversation slot is free again.
"""

from __future__ import annotations

from typing import Any

from desktop_app.local_server.responses import ResponseRun, RunContext
from desktop_app.local_server.schema import Problem


class Runs:
    """The default-conversation response (``active``), the out-of-band ones, the last finished id."""

    def __init__(self, context: RunContext) -> None:
        self._context = context
        self.active: ResponseRun | None = None
        self.out_of_band: set[ResponseRun] = set()
        self.last_response_id: str | None = None

    def start(self, settings: dict[str, Any], *, idle: bool = False) -> ResponseRun:
        """Start a response (the caller has checked that no default-conversation one is running)."""
        run = ResponseRun(self._context, settings, idle=idle)
        if settings["conversation"] == "none":
            self.out_of_band.add(run)
        else:
            self.active = run
        run.start()
        return run

    def finished(self, run: ResponseRun) -> bool:
        """``run`` has sent ``response.done``; True when it was the default-conversation response."""
        self.last_response_id = run.id
        self.out_of_band.discard(run)
        if self.active is run:
            self.active = None
            return True
        return False

    def find(self, response_id: str | None) -> ResponseRun | None:
        """The running response of that id (None: the first running one)."""
        runs = [r for r in [self.active, *self.out_of_band] if r is not None and r.running]
        if response_id is None:
            return runs[0] if runs else None
        return next((r for r in runs if r.id == response_id), None)

    def already_active(self) -> Problem:
        """The error for a second default-conversation response."""
        assert self.active is not None
        return Problem("conversation_already_has_active_response",
                       f"Conversation already has an active response in progress: {self.active.id}. "
                       "Wait until the response is finished before creating a new one.", None)

    def abandon_all(self) -> None:
        """The connection is gone: stop every run without a word."""
        for run in [self.active, *self.out_of_band]:
            if run is not None:
                run.abandon()
