"""Context appended to a GPT-Live session: acknowledged when the timeline reaches it (live-protocol.md §3).

``session.instructions/thinking/commentary.append`` are placed on the session timeline, which advances
only with input audio: the ``*.appended`` acknowledgement (with ``start_ms``/``end_ms`` and the
command's ``client_event_id``) is sent once the clock has passed the placement, so it stays pending
while no audio comes. :meth:`Appends.close` turns what is still pending into
``context_injection_incomplete`` errors when the session closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_app.local_server.outbox import Emit

#: Roughly how long the model takes to "read" appended context, per character, on the timeline.
MS_PER_CHAR = 2.0


@dataclass(frozen=True, slots=True)
class Pending:
    """One append waiting for the clock."""

    kind: str  # "instructions" | "thinking" | "commentary"
    client_event_id: str | None
    start_ms: int
    end_ms: int
    content: str
    delegation_id: str | None


class Appends:
    """The appends of one session not yet acknowledged; ``on_placed`` acts on each once it is."""

    def __init__(self, emit: Emit, on_placed: Callable[[Pending], None]) -> None:
        self._emit = emit
        self._on_placed = on_placed
        self._pending: list[Pending] = []

    def add(self, kind: str, event: dict[str, Any], now_ms: float) -> None:
        content = str(event.get("content", ""))
        start = int(now_ms)
        client_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        self._pending.append(Pending(kind, client_id, start, start + int(len(content) * MS_PER_CHAR), content,
                                     event.get("delegation_id")))

    def advance(self, now_ms: float) -> None:
        """The clock moved: acknowledge (and act on) every append it has passed."""
        while self._pending and self._pending[0].start_ms < now_ms:
            placed = self._pending.pop(0)
            ack: dict[str, Any] = {"type": f"session.{placed.kind}.appended", "start_ms": placed.start_ms,
                                   "end_ms": placed.end_ms}
            if placed.client_event_id is not None:
                ack["client_event_id"] = placed.client_event_id
            self._emit(ack)
            self._on_placed(placed)

    def close(self) -> list[Pending]:
        """The session closes: the appends never placed (the caller reports each as an error)."""
        pending, self._pending = self._pending, []
        return pending
