"""The conversation as the client knows it: items in server order, with their transcripts.

Fed every parsed server event by the connection (:meth:`Conversation.apply`); read by the controller
through :attr:`Conversation.items` and :meth:`Conversation.get`. Items are frozen snapshots; each
change replaces the item, so a snapshot handed to the UI never changes under it.

Ordering honours ``previous_item_id``: ``"root"`` puts an item first, a known id puts it right after
that item, and null or an unknown id appends (the server drops old items with ``truncation: auto``,
so an unknown predecessor is normal). An item keeps its first position.

Response output items are first seen in ``response.output_item.added``, usually just before
``conversation.item.added``. Until the conversation event arrives they are *detached*: deltas still
accumulate on them, and an out-of-band response's items (which never join) stay detached.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from . import commands
from .events import (
    ConversationItemAdded,
    ConversationItemCreated,
    ConversationItemDeleted,
    ConversationItemDone,
    ConversationItemRetrieved,
    ConversationItemTruncated,
    InputAudioCommitted,
    InputTranscriptionCompleted,
    InputTranscriptionDelta,
    InputTranscriptionFailed,
    ServerEvent,
)
from .response_events import (
    ContentPartAdded,
    FunctionCallArgumentsDelta,
    FunctionCallArgumentsDone,
    McpCallArgumentsDelta,
    McpCallArgumentsDone,
    McpCallCompleted,
    McpCallFailed,
    McpCallInProgress,
    OutputAudioTranscriptDelta,
    OutputAudioTranscriptDone,
    OutputItemAdded,
    OutputItemDone,
    OutputTextDelta,
    OutputTextDone,
)

Origin = Literal["client", "input_audio", "response"]
_MAX_DETACHED = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One conversation item as last reported, plus what the deltas built up.

    ``transcript`` is the spoken words: for a user audio item the ASR result (interim until
    ``transcript_final``), for an assistant audio item the output transcript. ``text`` holds typed
    text (``input_text``/``output_text``). ``truncated``/``audio_end_ms`` record a truncation; the
    transcript is kept locally even though the server drops it from the model's context.
    """

    id: str
    type: str = ""  # "" until the item's own event arrives (placeholder from a commit)
    role: str | None = None
    status: str | None = None
    origin: Origin = "client"
    response_id: str | None = None
    has_audio: bool = False
    text: str = ""
    transcript: str = ""
    transcript_final: bool = False
    transcript_error: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str = ""
    output: str | None = None
    truncated: bool = False
    audio_end_ms: int | None = None
    done: bool = False
    # MCP items (server-side tools): which server, the approval they answer, how a call failed.
    server_label: str | None = None
    approval_request_id: str | None = None
    approve: bool | None = None
    error: str | None = None

    @property
    def display_text(self) -> str:
        """What a transcript view shows: the spoken transcript, else the typed text."""
        return self.transcript or self.text


class Conversation:
    """Ordered items of the default conversation, updated from server events only."""

    def __init__(self) -> None:
        self._order: list[str] = []
        self._items: dict[str, Item] = {}
        self._detached: OrderedDict[str, Item] = OrderedDict()
        self._committed: set[str] = set()

    @property
    def items(self) -> tuple[Item, ...]:
        """The items in conversation order."""
        return tuple(self._items[i] for i in self._order)

    @property
    def ids(self) -> tuple[str, ...]:
        """The item ids in conversation order."""
        return tuple(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def get(self, item_id: str) -> Item | None:
        """An item by id, including a detached response item; None if unknown."""
        return self._items.get(item_id) or self._detached.get(item_id)

    def replay_items(self, heard: Mapping[str, str] | None = None,
                     skip: Collection[str] = ()) -> list[dict[str, Any]]:
        """User/assistant messages as text items, to carry the conversation into a new session.

        ``heard`` replaces an item's text (an interrupted answer: only what the user heard);
        items in ``skip`` (echo) are left out."""
        heard = heard or {}
        out = []
        for item in self.items:
            if item.id in skip:
                continue
            words = heard.get(item.id, item.display_text)
            if item.type == "message" and words and item.role in ("user", "assistant"):
                make = commands.user_text_item if item.role == "user" else commands.assistant_text_item
                out.append(make(words))
        return out

    # --- updating ---------------------------------------------------------------------------

    def apply(self, event: ServerEvent) -> bool:
        """Update from one server event; True when the conversation visibly changed."""
        handler = _HANDLERS.get(type(event))
        return bool(handler(self, event)) if handler else False

    def _update(self, item_id: str, **changes: Any) -> bool:
        if item_id in self._items:
            self._items[item_id] = replace(self._items[item_id], **changes)
        elif item_id in self._detached:
            self._detached[item_id] = replace(self._detached[item_id], **changes)
        else:
            return False
        return True

    def _ensure(self, item_id: str, previous_item_id: str | None = None, **defaults: Any) -> Item:
        """The item in the conversation, creating a placeholder or attaching a detached one."""
        if item_id not in self._items:
            base = self._detached.pop(item_id, None) or Item(id=item_id, **defaults)
            self._items[item_id] = base
            self._place(item_id, previous_item_id)
        return self._items[item_id]

    def _place(self, item_id: str, previous_item_id: str | None) -> None:
        if previous_item_id == "root":
            self._order.insert(0, item_id)
        elif previous_item_id is not None and previous_item_id in self._items and previous_item_id in self._order:
            self._order.insert(self._order.index(previous_item_id) + 1, item_id)
        else:
            self._order.append(item_id)

    def _on_item(self, event: ConversationItemAdded | ConversationItemDone | ConversationItemCreated) -> bool:
        item_id = event.item_id
        if item_id is None:
            return False
        origin: Origin = "input_audio" if item_id in self._committed else "client"
        if event.item.get("status") == "in_progress":  # only model output starts unfinished
            origin = "response"
        current = self._ensure(item_id, event.previous_item_id, origin=origin)
        changes = _fields_from_item(event.item, current)
        if not isinstance(event, ConversationItemAdded):
            changes["done"] = True
        self._items[item_id] = replace(current, **changes)
        return True

    def _on_retrieved(self, event: ConversationItemRetrieved) -> bool:
        item_id = event.item_id
        current = self.get(item_id) if item_id else None
        return current is not None and self._update(current.id, **_fields_from_item(event.item, current))

    def _on_output_item(self, event: OutputItemAdded | OutputItemDone) -> bool:
        item_id = event.item.get("id")
        if not isinstance(item_id, str):
            return False
        current = self.get(item_id)
        if current is None:
            current = Item(id=item_id, origin="response", response_id=event.response_id)
            self._detached[item_id] = current
            while len(self._detached) > _MAX_DETACHED:
                self._detached.popitem(last=False)
        changes = _fields_from_item(event.item, current)
        changes.update(origin="response", response_id=event.response_id)
        return self._update(item_id, **changes)

    def _on_committed(self, event: InputAudioCommitted) -> bool:
        self._committed.add(event.item_id)
        self._ensure(event.item_id, event.previous_item_id, type="message", role="user",
                     origin="input_audio", has_audio=True)
        return self._update(event.item_id, origin="input_audio")

    def _on_truncated(self, event: ConversationItemTruncated) -> bool:
        return self._update(event.item_id, truncated=True, audio_end_ms=event.audio_end_ms)

    def _on_deleted(self, event: ConversationItemDeleted) -> bool:
        self._committed.discard(event.item_id)
        if self._items.pop(event.item_id, None) is None:
            return False
        self._order.remove(event.item_id)
        return True

    # User transcription can arrive before the item events (it runs independently, §2.6).
    def _on_input_delta(self, event: InputTranscriptionDelta) -> bool:
        item = self.get(event.item_id) or self._ensure(event.item_id, type="message", role="user", has_audio=True)
        if item.transcript_final or not event.delta:
            return False
        return self._update(event.item_id, transcript=item.transcript + event.delta)

    def _on_input_completed(self, event: InputTranscriptionCompleted) -> bool:
        if self.get(event.item_id) is None:
            self._ensure(event.item_id, type="message", role="user", has_audio=True)
        return self._update(event.item_id, transcript=event.transcript, transcript_final=True, transcript_error=None)

    def _on_input_failed(self, event: InputTranscriptionFailed) -> bool:
        if self.get(event.item_id) is None:
            self._ensure(event.item_id, type="message", role="user", has_audio=True)
        return self._update(event.item_id, transcript_error=event.error.message or str(event.error))

    def _on_part_added(self, event: ContentPartAdded) -> bool:
        return event.part.get("type") == "audio" and self._update(event.item_id, has_audio=True)

    def _on_text_delta(self, event: OutputTextDelta) -> bool:
        item = self.get(event.item_id)
        return item is not None and self._update(event.item_id, text=item.text + event.delta)

    def _on_text_done(self, event: OutputTextDone) -> bool:
        return self._update(event.item_id, text=event.text)

    def _on_transcript_delta(self, event: OutputAudioTranscriptDelta) -> bool:
        item = self.get(event.item_id)
        return item is not None and self._update(event.item_id, transcript=item.transcript + event.delta)

    def _on_transcript_done(self, event: OutputAudioTranscriptDone) -> bool:
        return self._update(event.item_id, transcript=event.transcript, transcript_final=True)

    def _on_args_delta(self, event: FunctionCallArgumentsDelta) -> bool:
        item = self.get(event.item_id)
        return item is not None and self._update(event.item_id, arguments=item.arguments + event.delta,
                                                 call_id=event.call_id)

    def _on_args_done(self, event: FunctionCallArgumentsDone) -> bool:
        return self._update(event.item_id, arguments=event.arguments, call_id=event.call_id, name=event.name)

    def _on_mcp_args_delta(self, event: McpCallArgumentsDelta) -> bool:
        item = self.get(event.item_id)
        return item is not None and self._update(event.item_id, arguments=item.arguments + event.delta)

    def _on_mcp_args_done(self, event: McpCallArgumentsDone) -> bool:
        return self._update(event.item_id, arguments=event.arguments)

    def _on_mcp_call(self, event: McpCallInProgress | McpCallCompleted | McpCallFailed) -> bool:
        status = {"response.mcp_call.in_progress": "in_progress", "response.mcp_call.completed": "completed"}
        return self._update(event.item_id, status=status.get(event.type, "failed"))


_HANDLERS: dict[type, Any] = {
    ConversationItemAdded: Conversation._on_item,
    ConversationItemDone: Conversation._on_item,
    ConversationItemCreated: Conversation._on_item,
    ConversationItemRetrieved: Conversation._on_retrieved,
    ConversationItemTruncated: Conversation._on_truncated,
    ConversationItemDeleted: Conversation._on_deleted,
    InputAudioCommitted: Conversation._on_committed,
    InputTranscriptionDelta: Conversation._on_input_delta,
    InputTranscriptionCompleted: Conversation._on_input_completed,
    InputTranscriptionFailed: Conversation._on_input_failed,
    OutputItemAdded: Conversation._on_output_item,
    OutputItemDone: Conversation._on_output_item,
    ContentPartAdded: Conversation._on_part_added,
    OutputTextDelta: Conversation._on_text_delta,
    OutputTextDone: Conversation._on_text_done,
    OutputAudioTranscriptDelta: Conversation._on_transcript_delta,
    OutputAudioTranscriptDone: Conversation._on_transcript_done,
    FunctionCallArgumentsDelta: Conversation._on_args_delta,
    FunctionCallArgumentsDone: Conversation._on_args_done,
    McpCallArgumentsDelta: Conversation._on_mcp_args_delta,
    McpCallArgumentsDone: Conversation._on_mcp_args_done,
    McpCallInProgress: Conversation._on_mcp_call,
    McpCallCompleted: Conversation._on_mcp_call,
    McpCallFailed: Conversation._on_mcp_call,
}


def _fields_from_item(item: dict[str, Any], current: Item) -> dict[str, Any]:
    """Item fields from a server item dict. Empty values never erase what deltas built up: an
    ``added`` item has empty content, and a user ``input_audio`` part has ``transcript: null``."""
    changes: dict[str, Any] = {}
    for key in ("type", "role", "status", "call_id", "name", "server_label", "approval_request_id"):
        value = item.get(key)
        if isinstance(value, str) and value:
            changes[key] = value
    if isinstance(item.get("arguments"), str) and item["arguments"]:
        changes["arguments"] = item["arguments"]
    if isinstance(item.get("output"), str):
        changes["output"] = item["output"]
    if isinstance(item.get("approve"), bool):
        changes["approve"] = item["approve"]
    error = item.get("error")
    if isinstance(error, dict):  # an MCP call's protocol, execution or HTTP error
        changes["error"] = str(error.get("message") or error.get("type") or "failed")
    texts, transcripts = [], []
    for part in item.get("content") or ():
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("input_audio", "output_audio", "audio"):
            changes["has_audio"] = True
        if isinstance(part.get("text"), str) and part["text"]:
            texts.append(part["text"])
        if isinstance(part.get("transcript"), str) and part["transcript"]:
            transcripts.append(part["transcript"])
    if texts:
        changes["text"] = "".join(texts)
    # A user audio item's words come from the ASR events, never from the item (always null there).
    if transcripts and not (current.transcript_final and current.role == "user"):
        changes["transcript"] = "".join(transcripts)
        if item.get("status") == "completed":
            changes["transcript_final"] = True
    return changes
