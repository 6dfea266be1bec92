"""Fixtures for the history tests: a history in a temp folder, opened and closed within the test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop_app.history.service import History


@dataclass(frozen=True, slots=True)
class Entry:
    """Stands in for the controller's TranscriptEntry (the history takes any object shaped like it)."""

    item_id: str
    role: str
    text: str = ""
    final: bool = True
    truncated: bool = False
    heard: str | None = None
    tool_name: str | None = None
    tool_status: str | None = None
    echo: bool = False


async def open_history(path: Path, **kw) -> History:
    history = History(path, **kw)
    await history.open()
    return history
