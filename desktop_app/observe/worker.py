"""A single background thread that runs jobs in the order they were handed in.

Disk work (the event log's spill file, the history database) must never stall the one Qt/asyncio
loop, so the loop only *hands over* a job and goes on. One thread keeps the jobs in order (a write
is never overtaken by a later read) and lets a SQLite connection live on one thread for its whole
life. The standard library's single-worker ``ThreadPoolExecutor`` is that thread; this wrapper adds
what Parley needs around it: an awaitable form, fire-and-forget jobs whose failure is logged and
reported instead of vanishing, and an orderly close that finishes what was queued.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

from desktop_app.log import get_logger

log = get_logger("app")

T = TypeVar("T")

ErrorSink = Callable[[str, BaseException], None]
"""Called (on the worker thread) with what failed and the exception, for a job nobody awaits."""


class WorkerClosed(RuntimeError):
    """A job was handed to a worker after :meth:`SerialWorker.close`."""


class SerialWorker:
    """Runs callables one at a time, in submission order, on one thread named ``name``."""

    def __init__(self, name: str, on_error: ErrorSink | None = None) -> None:
        self.name = name
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._on_error = on_error
        self._closed = False

    def submit(self, job: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Queue ``job``; its result or exception arrives in the returned future."""
        if self._closed:
            raise WorkerClosed(f"{self.name} is closed")
        return self._pool.submit(job)

    async def run(self, job: Callable[[], T]) -> T:
        """Queue ``job`` and await its result from the event loop (the loop keeps running)."""
        return await asyncio.wrap_future(self.submit(job))

    def fire(self, job: Callable[[], object], what: str) -> None:
        """Queue ``job`` with no one waiting: a failure is logged and sent to ``on_error``."""
        if self._closed:
            log.warning("! %s: dropped %s after close", self.name, what)
            return

        def guarded() -> None:
            try:
                job()
            except Exception as exc:
                log.error("! %s: %s failed: %r", self.name, what, exc, exc_info=True)
                if self._on_error is not None:
                    self._on_error(what, exc)

        self._pool.submit(guarded)

    async def drain(self) -> None:
        """Wait until every job queued before this call has run."""
        await self.run(lambda: None)

    def close(self) -> None:
        """Finish the queued jobs, then stop the thread (blocks until they are done)."""
        if not self._closed:
            self._closed = True
            self._pool.shutdown(wait=True)

    async def aclose(self) -> None:
        """:meth:`close` without blocking the loop while the last jobs finish."""
        await asyncio.to_thread(self.close)

    @property
    def closed(self) -> bool:
        return self._closed
