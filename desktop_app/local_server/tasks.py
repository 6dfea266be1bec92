"""The one place the local server starts background tasks (responses, speech, transcription events).

The project's task helper (log, tell the user, turn a crash into a visible state) does not exist in
this package's reach yet; every task start goes through :func:`start_task`, so switching to it is one
edit. Each task here handles its own failures: a response fails with ``response.done`` ``failed``, a
transcription with ``…transcription.failed``, a recognition future is awaited by both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def start_task(coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
    """Run ``coro`` as a task on the running loop."""
    return asyncio.get_running_loop().create_task(coro, name=name)
