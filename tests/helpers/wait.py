"""One bounded wait on a condition for async tests (no fixed sleeps for synchronisation).

The default bound is generous (10 s): a wait returns as soon as its condition holds, so the bound
costs nothing on a quiet machine and keeps a loaded one (shared CI cores) from failing a good test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "the condition") -> None:
    """Poll ``predicate`` every 20 ms; fail with ``what`` named if it is not true within ``timeout``."""
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}") from None
