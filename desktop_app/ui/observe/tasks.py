"""Where these widgets start their asynchronous work (history reads, exports).

The window passes its own runner (``MainWindow.run``: keeps a reference, logs a failure and tells the
user); widgets built without one use :func:`run_logged`, which does the same minus the banner. Every
task start in ``ui/observe`` goes through a :data:`Runner`, so switching to the project's task
helper is one change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from desktop_app.log import get_logger

log = get_logger("ui")

Runner = Callable[[Coroutine[Any, Any, Any]], "asyncio.Future[Any]"]

_running: set[asyncio.Future[Any]] = set()


def run_logged(coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any]:
    """Run ``coro`` on the loop, keeping a reference until it ends; a failure is logged, never lost."""
    task = asyncio.ensure_future(coro)
    _running.add(task)
    task.add_done_callback(_done)
    return task


def _done(task: asyncio.Future[Any]) -> None:
    _running.discard(task)
    if not task.cancelled() and task.exception() is not None:
        exc = task.exception()
        log.error("! %r", exc, exc_info=exc)
