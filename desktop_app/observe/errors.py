"""Errors grouped by code: how often, first and last time, and the last message.

Server ``error`` events are taken from the frame stream by the observatory; the controller adds the
errors only it sees (a lost connection, a device failure, a refused key) with :meth:`ErrorTracker.record`.
Messages are redacted as they come in, so the table can be copied into a bug report as it stands.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from desktop_app.log import redact

_MAX_MESSAGE = 500


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """Every error with one ``code`` from one ``source`` (``server`` / ``connection`` / ``local``)."""

    code: str
    source: str
    count: int
    first_at: float
    last_at: float
    last_message: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "source": self.source, "count": self.count, "first_at": self.first_at,
                "last_at": self.last_at, "last_message": self.last_message}


class ErrorTracker:
    """The error table of this app session (keeps the ``keep`` most recent codes)."""

    def __init__(self, *, clock: Callable[[], float] = time.time, keep: int = 200) -> None:
        self._clock = clock
        self._keep = keep
        self._groups: dict[tuple[str, str], ErrorGroup] = {}
        self.total = 0

    def record(self, code: str, message: str, *, source: str = "local", at: float | None = None) -> ErrorGroup:
        """Count one error. ``code`` is the server's code, a close code, or a local name."""
        now = self._clock() if at is None else at
        text = redact(message.strip())[:_MAX_MESSAGE]
        key = (code or "unknown", source)
        group = self._groups.pop(key, None)  # re-inserted last: the dict stays in recency order
        if group is None:
            group = ErrorGroup(key[0], source, 1, now, now, text)
        else:
            group = replace(group, count=group.count + 1, last_at=now, last_message=text)
        self._groups[key] = group
        self.total += 1
        while len(self._groups) > self._keep:
            del self._groups[next(iter(self._groups))]
        return group

    def record_event(self, event: dict[str, Any]) -> ErrorGroup:
        """Count a server ``error`` event (grouped by its ``code``, else its ``type``)."""
        error = event.get("error")
        error = error if isinstance(error, dict) else {}
        code = error.get("code") or error.get("type") or "error"
        message = error.get("message") or ""
        return self.record(str(code), str(message), source="server")

    def groups(self) -> tuple[ErrorGroup, ...]:
        """The groups, most recent first."""
        return tuple(reversed(self._groups.values()))

    def clear(self) -> None:
        self._groups.clear()
        self.total = 0
