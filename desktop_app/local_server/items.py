"""Conversation item commands as plain functions over the conversation: create (with
``previous_item_id`` placement), retrieve, delete, truncate. Each returns the events to send or the
:class:`~.schema.Problem` that refuses the command; the caller emits.

Truncation (§3.6 F, §7.10) accepts only assistant audio messages, clamps ``audio_end_ms`` to the
audio generated so far, cuts the stored audio there, and trims the stored transcript to the words
the user heard — a word counts as heard when at least half of it was played. An item whose pcm the
audio budget let go truncates the same way (its duration and word timings are kept); retrieving
such an item shows its transcript without ``audio``. :func:`truncate` is also what a session whose
server owns playback (WebRTC) applies itself when the user interrupts.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_app.audio.codecs import decode
from desktop_app.local_server.conversation import Conversation, StoredItem
from desktop_app.local_server.schema import Problem, invalid_value

Events = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Created:
    """A client-created item, now in the conversation; ``recognize``: it has audio but no transcript."""

    item: StoredItem
    events: Events
    recognize: bool


def _not_found(action: str, code: str, item_id: str) -> Problem:
    return Problem(code, f"Error {action} item: the item with id '{item_id}' does not exist.", "item_id")


def create_item(conversation: Conversation, event: dict[str, Any], *, new_id: Callable[[], str],
                input_format: str) -> Created | Problem:
    """``conversation.item.create``: inline ``input_audio`` is decoded from ``input_format`` and kept
    as pcm (never in the public item)."""
    item = copy.deepcopy(event["item"])
    previous = event.get("previous_item_id")
    if previous is not None and previous != "root" and previous not in conversation:
        return Problem("invalid_value", f"Invalid 'previous_item_id': the item with id '{previous}' does not exist.",
                       "previous_item_id")
    if item.get("type") == "mcp_approval_response":
        request = conversation.get(str(item.get("approval_request_id")))
        if request is None or request.public.get("type") != "mcp_approval_request":
            return Problem("invalid_value", "Invalid 'item.approval_request_id': no MCP approval request with id "
                           f"'{item.get('approval_request_id')}' exists.", "item.approval_request_id")
    item_id = item.get("id") or new_id()
    if item_id in conversation:
        return Problem("invalid_value", f"Invalid 'item.id': an item with id '{item_id}' already exists.", "item.id")
    problem, audio = _item_content(item, input_format)
    if problem is not None:
        return problem
    public = {"id": item_id, "object": "realtime.item", **{k: v for k, v in item.items() if k != "id"},
              "status": "completed"}
    if str(item.get("type", "")).startswith("mcp_"):  # the SDK's MCP items carry neither field
        public = {"id": item_id, **{k: v for k, v in item.items() if k != "id"}}
    stored = StoredItem(public=public, audio=bytearray(audio))
    before = conversation.insert(stored, previous)
    events: Events = [{"type": "conversation.item.added", "previous_item_id": before, "item": public},
                      {"type": "conversation.item.done", "previous_item_id": before, "item": public}]
    return Created(stored, events, recognize=bool(audio) and not _has_transcript(public))


def _has_transcript(public: dict[str, Any]) -> bool:
    return any(part.get("transcript") for part in public.get("content") or [])


def _item_content(item: dict[str, Any], input_format: str) -> tuple[Problem | None, bytes]:
    """Check what the schema cannot (who may create what); decode and strip inline audio."""
    if item.get("type") != "message":
        return None, b""
    audio = bytearray()
    for i, part in enumerate(item.get("content") or []):
        kind = part.get("type")
        if kind == "output_audio":
            return Problem("invalid_value", "Assistant audio content cannot be created by the client; "
                           "use 'output_text' instead.", f"item.content[{i}].type"), b""
        if kind == "input_audio" and "audio" in part:
            try:
                payload = base64.b64decode(part.pop("audio"), validate=True)
                audio.extend(decode(input_format, payload))
            except (binascii.Error, ValueError):
                return Problem("invalid_value", "Invalid 'audio': expected base64-encoded audio data.",
                               f"item.content[{i}].audio"), b""
            part.setdefault("transcript", None)
    return None, bytes(audio)


def retrieve_item(conversation: Conversation, event: dict[str, Any]) -> Events | Problem:
    """``conversation.item.retrieve``: the item with its audio as base64."""
    item = conversation.get(event["item_id"])
    if item is None:
        return _not_found("retrieving", "item_retrieve_invalid_item_id", event["item_id"])
    return [{"type": "conversation.item.retrieved", "item": item.retrieved()}]


def delete_item(conversation: Conversation, event: dict[str, Any]) -> Events | Problem:
    """``conversation.item.delete``."""
    if conversation.delete(event["item_id"]) is None:
        return _not_found("deleting", "item_delete_invalid_item_id", event["item_id"])
    return [{"type": "conversation.item.deleted", "item_id": event["item_id"]}]


def truncate_item(conversation: Conversation, event: dict[str, Any]) -> Events | Problem:
    """``conversation.item.truncate``: an assistant audio message cut at ``audio_end_ms`` (clamped)."""
    item = conversation.get(event["item_id"])
    if item is None:
        return _not_found("truncating", "item_truncate_invalid_item_id", event["item_id"])
    public = item.public
    content = public.get("content") or []
    audio = item.speaking or (content and content[0].get("type") == "output_audio")
    if public.get("role") != "assistant" or not audio:
        return Problem(None, "Only model output audio messages can be truncated", "item_id")
    if event["content_index"] != 0:
        return invalid_value("content_index", event["content_index"], [0])
    end_ms = truncate(item, int(event["audio_end_ms"]))
    return [{"type": "conversation.item.truncated", "item_id": item.id, "content_index": 0, "audio_end_ms": end_ms}]


def truncate(item: StoredItem, audio_end_ms: int) -> int:
    """Cut ``item`` at ``audio_end_ms`` (clamped to its audio) and keep only the words heard before
    it; returns where it was cut."""
    end_ms = min(audio_end_ms, int(item.audio_ms))
    item.cut_audio(end_ms)  # an item whose pcm was dropped keeps its duration and words: same clamp, same cut
    heard = [w for w in item.words if (w.start_ms + w.end_ms) / 2.0 <= end_ms]
    item.words = heard
    if item.public.get("content"):  # still being generated: the content part is written at its end
        item.public["content"][0]["transcript"] = " ".join(w.word for w in heard)
    return end_ms
