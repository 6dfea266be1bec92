"""What the history keeps of a conversation, and what it hands back.

The controller's transcript entries (``controller.view_state.TranscriptEntry``) are taken as
:class:`TranscriptLike` — any object with those attributes — so this package never imports the
controller that calls it. Field names match ``TranscriptEntry`` where they overlap, so a saved entry
becomes a transcript entry again with the same keywords.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol


class TranscriptLike(Protocol):
    """The attributes of a transcript entry the history saves."""

    @property
    def item_id(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def final(self) -> bool: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def heard(self) -> str | None: ...
    @property
    def tool_name(self) -> str | None: ...
    @property
    def tool_status(self) -> str | None: ...
    @property
    def echo(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class SavedEntry:
    """One line of a saved conversation. For an interrupted answer ``text`` is everything generated
    and ``heard`` what the user heard of it; ``tool_*`` describe a tool call."""

    item_id: str
    role: str
    text: str = ""
    final: bool = True
    truncated: bool = False
    heard: str | None = None
    tool_name: str | None = None
    tool_status: str | None = None
    echo: bool = False
    tool_arguments: str | None = None
    tool_output: str | None = None
    at: float = 0.0

    @classmethod
    def from_transcript(cls, entry: TranscriptLike, at: float = 0.0) -> SavedEntry:
        return cls(entry.item_id, entry.role, entry.text, entry.final, entry.truncated, entry.heard,
                   entry.tool_name, entry.tool_status, entry.echo, at=at)

    @property
    def heard_text(self) -> str:
        """What the user heard (all of it unless the answer was cut off)."""
        return self.heard if self.truncated and self.heard is not None else self.text

    @property
    def unheard_text(self) -> str:
        """The generated rest the user never heard ("" when nothing was cut off)."""
        if not self.truncated or self.heard is None:
            return ""
        return self.text[len(self.heard):] if self.text.startswith(self.heard) else ""

    def content_key(self) -> tuple[Any, ...]:
        """Everything but the time: two entries with equal keys need no second write."""
        return (self.role, self.text, self.final, self.truncated, self.heard, self.tool_name,
                self.tool_status, self.echo, self.tool_arguments, self.tool_output)


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One conversation in the list: enough to show, sort and search it."""

    id: str
    title: str
    started_at: float
    ended_at: float | None
    model: str
    voice: str
    entries: int
    cost_usd: float | None
    audio_bytes: int = 0
    continued_from: str | None = None
    endpoint: str = ""


@dataclass(frozen=True, slots=True)
class SavedTurn:
    """One turn's timings as saved (milliseconds; None where not measured)."""

    index: int
    at: float
    speech_to_first_byte_ms: float | None
    first_byte_to_playback_ms: float | None
    total_ms: float | None
    barge_in_to_silence_ms: float | None
    interrupted: bool


@dataclass(frozen=True, slots=True)
class SavedConversation:
    """A whole saved conversation, read back for viewing, exporting or continuing."""

    summary: ConversationSummary
    entries: tuple[SavedEntry, ...]
    turns: tuple[SavedTurn, ...] = ()
    usage: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A match: the conversation, and the entry (``item_id`` None: the title matched) with a
    ``snippet`` where ``[`` and ``]`` mark the matched words."""

    conversation_id: str
    title: str
    started_at: float
    item_id: str | None
    role: str | None
    snippet: str

    def as_dict(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "title": self.title,
                "date": dt.datetime.fromtimestamp(self.started_at).isoformat(timespec="minutes"),
                "role": self.role, "text": self.snippet}
