"""Calls per minute, per tool and overall: a model stuck in a loop cannot hammer a service or the user.

A sliding window of call times (the last 60 s) on an injected monotonic clock, so tests move time by
hand instead of sleeping.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0


class RateLimiter:
    """``try_acquire(tool, per_tool_limit)`` is None when the call may go ahead, else the refusal."""

    def __init__(self, overall_per_minute: int = 60, clock: Callable[[], float] = time.monotonic) -> None:
        self.overall_per_minute = overall_per_minute
        self._clock = clock
        self._all: deque[float] = deque()
        self._per_tool: dict[str, deque[float]] = {}

    def try_acquire(self, tool: str, per_tool_limit: int) -> str | None:
        """Record a call of ``tool`` if both limits allow it; else one sentence for the model."""
        now = self._clock()
        mine = self._per_tool.setdefault(tool, deque())
        for window in (self._all, mine):
            while window and now - window[0] >= WINDOW_S:
                window.popleft()
        if len(mine) >= per_tool_limit:
            wait = WINDOW_S - (now - mine[0])
            return (f"{tool} was called {len(mine)} times in the last minute, its limit; "
                    f"try again in {wait:.0f} s or do without it.")
        if len(self._all) >= self.overall_per_minute:
            wait = WINDOW_S - (now - self._all[0])
            return (f"Tools were called {len(self._all)} times in the last minute, the limit for all tools; "
                    f"try again in {wait:.0f} s.")
        mine.append(now)
        self._all.append(now)
        return None
