"""One live connection: a :class:`RealtimeSocket` and its sans-I/O :class:`RealtimeConnection`.

The link owns two tasks. The reader feeds every frame to the core and hands the typed events to the
controller; the writer sends the core's frames strictly in order. Actions call :meth:`flush` after
using the core, so a frame never waits for a timer. When the socket closes, the core is told
(``receive_closed``) and its close event reaches the controller like any other event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from desktop_app.errors import ConnectionLost
from desktop_app.log import get_logger
from desktop_app.realtime.connection import RealtimeConnection
from desktop_app.realtime.events import ServerEvent
from desktop_app.transport import RealtimeSocket

log = get_logger("controller")


class Link:
    """Reader and writer tasks around one socket; the controller owns the protocol decisions."""

    def __init__(
        self,
        sock: RealtimeSocket,
        conn: RealtimeConnection,
        on_events: Callable[[list[ServerEvent]], None],
    ) -> None:
        self.sock = sock
        self.conn = conn
        self._on_events = on_events
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())
        self._writer = asyncio.ensure_future(self._write())
        self.finished = asyncio.Event()

    def flush(self) -> None:
        """Queue whatever the core has to send."""
        for frame in self.conn.frames_to_send():
            self._outbox.put_nowait(frame)

    async def drain(self) -> None:
        """Wait until every queued frame has been handed to the socket."""
        await self._outbox.join()

    async def close(self, code: int = 1000) -> None:
        """Send what is queued, close politely, and wait for both tasks to end."""
        if not self._writer.done():
            self._outbox.put_nowait(None)
            try:
                await asyncio.wait_for(asyncio.shield(self._writer), 2.0)
            except asyncio.TimeoutError:
                self._writer.cancel()
        try:
            await asyncio.wait_for(self.sock.close(code), 5.0)
        except (asyncio.TimeoutError, OSError) as exc:
            log.warning("! close did not finish cleanly: %r", exc)
        await asyncio.wait_for(asyncio.shield(self._reader), 5.0)

    def abort(self) -> None:
        """Stop both tasks at once (used when the loop is going away)."""
        self._reader.cancel()
        self._writer.cancel()

    async def _read(self) -> None:
        try:
            while True:
                text = await self.sock.recv()
                if text is None:
                    self.conn.receive_closed(self.sock.close_code or 1006, self.sock.close_reason)
                    self._deliver()
                    return
                self.conn.receive_message(text)
                self._deliver()
        finally:
            self.finished.set()
            if not self._writer.done():
                self._outbox.put_nowait(None)

    def _deliver(self) -> None:
        events = self.conn.events_received()
        if events:
            self._on_events(events)
        self.flush()

    async def _write(self) -> None:
        while True:
            frame = await self._outbox.get()
            try:
                if frame is None:
                    return
                if self.sock.is_open:
                    await self.sock.send(frame)
            except ConnectionLost:
                log.info("= writer stopped: connection lost")
            finally:
                self._outbox.task_done()
