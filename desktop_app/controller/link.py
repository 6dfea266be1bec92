"""One live connection: a :class:`~desktop_app.transport.base.Transport` and its sans-I/O
:class:`~desktop_app.realtime.dialect.Dialect` core.

The link owns two tasks, both started through :func:`desktop_app.tasks.spawn`. The reader feeds
every frame to the core and hands the typed events to the controller; the writer sends the core's
frames strictly in order. Actions call :meth:`flush` after using the core, so a frame never waits
for a timer: when nothing is queued or being written, :meth:`flush` hands the frame to the transport
itself (``send_nowait``: the microphone's 50 appends a second then cost no task switch each), and
only what must wait goes through the writer. When the transport closes, the core is told
(``receive_closed``) and its close event reaches the controller like any other event.

If either task dies of an exception (a bug in an event handler, a transport failure nobody
foresaw), the link is dead: the transport is closed, the core gets a 1011 close, and the controller
hears ``on_dead`` — the connection then reconnects like after any drop. It never shows "Connected"
over a dead link.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from desktop_app.errors import ConnectionLost
from desktop_app.log import get_logger
from desktop_app.realtime.dialect import Dialect
from desktop_app.realtime.events import ServerEvent
from desktop_app.tasks import spawn
from desktop_app.transport.base import Transport

log = get_logger("controller")

#: The close code a dead reader/writer reports: the client hit an internal error.
DEAD_LINK_CODE = 1011
#: How long a polite close waits for the server to end the session (guides wait up to 15 s; a person closing
#: the window should not).
SESSION_CLOSE_WAIT_S = 5.0


class Link:
    """Reader and writer tasks around one transport; the controller owns the protocol decisions."""

    def __init__(
        self,
        transport: Transport,
        core: Dialect,
        on_events: Callable[[list[ServerEvent]], None],
        on_dead: Callable[[BaseException], None],
    ) -> None:
        self.transport = transport
        self.core = core
        self._on_events = on_events
        self._on_dead = on_dead
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._writing = False  # the writer holds a frame it has not finished sending
        self.finished = asyncio.Event()
        self.dead = False
        self._reader = spawn(self._read(), name="link.reader", on_crash=self._died)
        self._writer = spawn(self._write(), name="link.writer", on_crash=self._died)

    def flush(self) -> None:
        """Send whatever the core has to send: at once while the writer has nothing in hand, else
        queued behind what it has (order is kept either way)."""
        for frame in self.core.frames_to_send():
            if self._writing or not self._outbox.empty() or self.dead or not self._send_now(frame):
                self._outbox.put_nowait(frame)

    def _send_now(self, frame: str) -> bool:
        try:
            return self.transport.send_nowait(frame)
        except Exception as exc:  # what would have killed the writer task kills the link, as it would have
            log.exception("! sending a frame failed")
            self._died(exc)
            return True  # nothing to queue behind a dead link

    async def drain(self) -> None:
        """Wait until every queued frame has been handed to the transport."""
        await self._outbox.join()

    async def close(self, code: int = 1000) -> None:
        """Send what is queued, close politely, and wait for both tasks to end. A dialect that ends its
        session by asking (GPT-Live's ``session.close``) gets the answer and the server's close first."""
        if not self._writer.done() and not self.finished.is_set() and self.core.close_session():
            self.flush()
            try:
                await asyncio.wait_for(self.finished.wait(), SESSION_CLOSE_WAIT_S)
            except asyncio.TimeoutError:
                log.warning("! no session.closed within %.0f s: closing without it", SESSION_CLOSE_WAIT_S)
        if not self._writer.done():
            self._outbox.put_nowait(None)
            try:
                await asyncio.wait_for(asyncio.shield(self._writer), 2.0)
            except asyncio.TimeoutError:
                self._writer.cancel()
        try:
            await asyncio.wait_for(self.transport.close(code), 5.0)
        except (asyncio.TimeoutError, OSError) as exc:
            log.warning("! close did not finish cleanly: %r", exc)
        if not self._reader.done():
            await asyncio.wait({self._reader}, timeout=5.0)

    def abort(self) -> None:
        """Stop both tasks at once (used when the loop is going away)."""
        self._reader.cancel()
        self._writer.cancel()

    async def _read(self) -> None:
        try:
            while True:
                text = await self.transport.recv()
                if text is None:
                    self.core.receive_closed(self.transport.close_code or 1006, self.transport.close_reason)
                    self._deliver()
                    return
                self.core.receive_message(text)
                self._deliver()
        finally:
            self.finished.set()
            if not self._writer.done():
                self._outbox.put_nowait(None)

    def _deliver(self) -> None:
        events = self.core.events_received()
        if events:
            self._on_events(events)
        self.flush()

    async def _write(self) -> None:
        while True:
            frame = await self._outbox.get()
            self._writing = True
            try:
                if frame is None:
                    return
                if self.transport.is_open:
                    await self.transport.send(frame)
            except ConnectionLost:
                log.info("= writer stopped: connection lost")
            finally:
                self._writing = False
                self._outbox.task_done()

    def _died(self, exc: BaseException) -> None:
        """A task crashed: end the connection for real and let the controller reconnect."""
        if self.dead:
            return
        self.dead = True
        self.abort()
        self.finished.set()
        spawn(self.transport.close(DEAD_LINK_CODE, "client error"), name="link.close")
        self.core.receive_closed(DEAD_LINK_CODE, f"client error: {type(exc).__name__}")
        self._on_dead(exc)
