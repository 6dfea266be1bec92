"""Reconnect delays: a pure generator, kept apart from the I/O that uses it (websockets' habit)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator


def backoff(
    initial: float = 0.5,
    factor: float = 2.0,
    cap: float = 8.0,
    tries: int = 5,
    jitter: float = 0.2,
    rng: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Yield ``tries`` delays: ``initial × factor**n`` capped at ``cap``, each ±``jitter`` (a fraction).

    Jitter spreads reconnects of many clients after a shared outage; it never pushes a delay past the cap.
    """
    delay = initial
    for _ in range(tries):
        spread = 1.0 + jitter * (2.0 * rng() - 1.0)
        yield min(cap, max(0.0, delay * spread))
        delay = min(cap, delay * factor)
