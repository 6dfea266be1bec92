"""The one way Parley starts long-lived background work, so that nothing dies quietly.

Every task the app keeps running (socket reader and writer, reconnect, tool runs, session refresh,
model warm-up, …) is started by :func:`spawn`. The helper

* keeps a strong reference until the task ends (the loop itself only keeps a weak one, so an
  unreferenced task can be collected mid-flight);
* logs a crash with its traceback (``!`` prefix) under the task's name;
* calls the owner's ``on_crash(exc)``, which turns the crash into a state change the user sees (a
  dead reader becomes a closed connection that reconnects, a failed tool run becomes a tool error).

A cancelled task is not a crash. :func:`install_loop_handler` covers the rest: an exception in a
plain loop callback (``call_soon``/``call_later``) reaches the log and the user's banner too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from desktop_app.log import get_logger

log = get_logger("tasks")

T = TypeVar("T")
CrashHandler = Callable[[BaseException], None]

_alive: set[asyncio.Task[Any]] = set()


def spawn(coro: Coroutine[Any, Any, T], *, name: str, on_crash: CrashHandler | None = None,
          logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None) -> asyncio.Task[T]:
    """Start ``coro`` as a task named ``name``; a crash is logged and handed to ``on_crash``."""
    task = asyncio.ensure_future(coro)
    task.set_name(name)
    _alive.add(task)
    task.add_done_callback(lambda done: _finished(done, on_crash, logger or log))
    return task


def _finished(task: asyncio.Task[Any], on_crash: CrashHandler | None,
              logger: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> None:
    _alive.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is None:
        return
    logger.error("! task %s crashed: %r", task.get_name(), exc, exc_info=exc)
    if on_crash is None:
        return
    try:
        on_crash(exc)
    except Exception:  # the crash handler itself failed: the log has both, nothing more to do
        logger.exception("! the crash handler of task %s failed", task.get_name())


Runner = Callable[[Coroutine[Any, Any, Any]], "asyncio.Future[Any]"]
"""How a widget starts its asynchronous work: the window passes its own (spawn, and a banner on a crash)."""


def runner(name: str, on_crash: CrashHandler | None = None) -> Runner:
    """A :data:`Runner` that starts every coroutine with :func:`spawn` under ``name``."""
    return lambda coro: spawn(coro, name=name, on_crash=on_crash)


def running(prefix: str = "") -> list[asyncio.Task[Any]]:
    """Tasks started by :func:`spawn` that have not ended (``prefix`` filters by name)."""
    return [task for task in _alive if not task.done() and task.get_name().startswith(prefix)]


UserNotice = Callable[[str], None]

INTERNAL_ERROR = "Something went wrong inside Parley; the details are in the log."


def install_loop_handler(loop: asyncio.AbstractEventLoop, tell_user: UserNotice | None = None) -> None:
    """Route exceptions from loop callbacks (and tasks nobody awaited) to the log and the user."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = context.get("message", "unhandled exception in the event loop")
        if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
            return
        log.error("! %s: %r", message, exc, exc_info=exc if isinstance(exc, BaseException) else None)
        if tell_user is not None and exc is not None:
            try:
                tell_user(INTERNAL_ERROR)
            except Exception:
                log.exception("! telling the user about a loop error failed")

    loop.set_exception_handler(handle)
