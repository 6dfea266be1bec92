"""Searching saved conversations, through a :class:`HistorySearch` the history feature provides.

The history store (``desktop_app/history/``) implements the protocol; until one is given the tool
is declared but not available, so the model is not told about it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from desktop_app.tools.spec import CallContext, ToolSpec

MAX_SNIPPET = 400


@dataclass(frozen=True, slots=True)
class HistoryHit:
    """One matching turn of a saved conversation."""

    conversation_id: str
    title: str
    started_at: datetime
    role: str  # "user" | "assistant"
    text: str


class HistorySearch(Protocol):
    """Full-text search over saved conversations, newest first."""

    async def search(self, query: str, limit: int) -> Sequence[HistoryHit]:
        """At most ``limit`` turns matching ``query``."""
        ...


def make_history_tool(history: HistorySearch | None) -> ToolSpec:
    async def search_conversations(args: Mapping[str, Any], ctx: CallContext) -> dict[str, Any]:
        assert history is not None  # not offered without one
        hits = await history.search(args["query"], int(args.get("limit", 5)))
        return {"query": args["query"], "matches": [
            {"conversation": hit.title, "conversation_id": hit.conversation_id,
             "when": hit.started_at.isoformat(timespec="minutes"), "speaker": hit.role,
             "text": hit.text if len(hit.text) <= MAX_SNIPPET else hit.text[: MAX_SNIPPET - 1] + "…"}
            for hit in hits
        ]}

    return ToolSpec(
        name="search_conversations", title="Search past conversations", run=search_conversations,
        unavailable="" if history is not None else "saved conversations are not available",
        description="Search the user's earlier conversations with you for words or a topic, when they refer "
                    "to something discussed before.",
        parameters={"type": "object", "properties": {
            "query": {"type": "string", "minLength": 1, "maxLength": 200},
            "limit": {"type": "integer", "minimum": 1, "maximum": 20},
        }, "required": ["query"]},
    )
