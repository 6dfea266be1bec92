"""Full-text search over saved conversations, for the "search saved conversations" tool.

:meth:`HistorySearch.search` is synchronous, as a tool handler calls it, and safe from any thread:
each call opens its own read-only connection (WAL lets it read while the writer thread writes), so
it never waits on the writer's queue. An FTS5 query over the index takes milliseconds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from desktop_app.history import db
from desktop_app.history.schema import connect
from desktop_app.log import get_logger

log = get_logger("tools")

MAX_LIMIT = 50


class HistorySearch:
    """Searches the history database at ``path`` (None: history is off or in memory — no results)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def search(self, query: str, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` matches, best first: ``{"conversation_id", "title", "date", "role", "text"}``,
        where ``text`` is a snippet with the matched words in ``[`` ``]``. Never raises for bad input:
        an empty or unusable query, or no history, gives ``[]``."""
        limit = max(0, min(int(limit), MAX_LIMIT))
        if self.path is None or not self.path.exists() or limit == 0:
            return []
        try:
            conn = connect(self.path, read_only=True)
        except sqlite3.Error as exc:
            log.warning("! history search: cannot open %s: %r", self.path, exc)
            return []
        try:
            return [hit.as_dict() for hit in db.search(conn, query, limit)]
        except sqlite3.Error as exc:
            log.warning("! history search for %r failed: %r", query, exc)
            return []
        finally:
            conn.close()
