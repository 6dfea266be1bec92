"""Conversation item handlers: create (with ``previous_item_id`` placement), retrieve, truncate, delete.

Truncation (§3.6 F, §7.10) accepts only assistant audio messages, clamps ``audio_end_ms`` to the
audio generated so far, cuts the stored audio there, and trims the stored transcript to the words
the user heard — a word counts as heard when at least half of it was played. An item whose pcm the
audio budget let go truncates the same way (its duration and word timings are kept); retrieving
such an item shows its transcript without ``audio``.
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from desktop_app.audio.codecs import decode
from desktop_app.local_server.conversation import StoredItem
from desktop_app.local_server.schema import Problem, invalid_value


def _not_found(action: str, code: str, item_id: str) -> Problem:
    return Problem(code, f"Error {action} item: the item with id '{item_id}' does not exist.", "item_id")


class ItemsMixin:
    """Item handlers of :class:`~.session.Session`."""

    def on_conversation_item_create(self, event: dict) -> Problem | None:
        item = copy.deepcopy(event["item"])
        previous = event.get("previous_item_id")
        if previous is not None and previous != "root" and previous not in self.conversation:
            return Problem("invalid_value", f"Invalid 'previous_item_id': the item with id '{previous}' does not exist.",
                           "previous_item_id")
        item_id = item.get("id") or self.ids.item()
        if item_id in self.conversation:
            return Problem("invalid_value", f"Invalid 'item.id': an item with id '{item_id}' already exists.", "item.id")
        problem, audio = self._item_content(item, event)
        if problem is not None:
            return problem
        public = {"id": item_id, "object": "realtime.item", **{k: v for k, v in item.items() if k != "id"},
                  "status": "completed"}
        stored = StoredItem(public=public, audio=bytearray(audio))
        before = self.conversation.insert(stored, previous)
        self.emit({"type": "conversation.item.added", "previous_item_id": before, "item": public})
        self.emit({"type": "conversation.item.done", "previous_item_id": before, "item": public})
        if audio and not self._has_transcript(public):
            self.recognize(stored)
        self.limit_audio()
        return None

    @staticmethod
    def _has_transcript(public: dict[str, Any]) -> bool:
        return any(part.get("transcript") for part in public.get("content") or [])

    def _item_content(self, item: dict[str, Any], event: dict) -> tuple[Problem | None, bytes]:
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
                    fmt = self.config["audio"]["input"]["format"]["type"]
                    audio.extend(decode(fmt, payload))
                except (binascii.Error, ValueError):
                    return Problem("invalid_value", "Invalid 'audio': expected base64-encoded audio data.",
                                   f"item.content[{i}].audio"), b""
                part.setdefault("transcript", None)
        return None, bytes(audio)

    def on_conversation_item_retrieve(self, event: dict) -> Problem | None:
        item = self.conversation.get(event["item_id"])
        if item is None:
            return _not_found("retrieving", "item_retrieve_invalid_item_id", event["item_id"])
        self.emit({"type": "conversation.item.retrieved", "item": item.retrieved()})
        return None

    def on_conversation_item_delete(self, event: dict) -> Problem | None:
        if self.conversation.delete(event["item_id"]) is None:
            return _not_found("deleting", "item_delete_invalid_item_id", event["item_id"])
        self.emit({"type": "conversation.item.deleted", "item_id": event["item_id"]})
        return None

    def on_conversation_item_truncate(self, event: dict) -> Problem | None:
        item = self.conversation.get(event["item_id"])
        if item is None:
            return _not_found("truncating", "item_truncate_invalid_item_id", event["item_id"])
        public = item.public
        content = public.get("content") or []
        audio = item.speaking or (content and content[0].get("type") == "output_audio")
        if public.get("role") != "assistant" or not audio:
            return Problem(None, "Only model output audio messages can be truncated", "item_id")
        if event["content_index"] != 0:
            return invalid_value("content_index", event["content_index"], [0])
        end_ms = min(int(event["audio_end_ms"]), int(item.audio_ms))
        self._truncate(item, end_ms)
        self.emit({"type": "conversation.item.truncated", "item_id": item.id, "content_index": 0,
                   "audio_end_ms": end_ms})
        self.log.info("= truncated %s at %d ms", item.id, end_ms)
        return None

    @staticmethod
    def _truncate(item: StoredItem, end_ms: float) -> None:
        item.cut_audio(end_ms)  # an item whose pcm was dropped keeps its duration and words: same clamp, same cut
        heard = [w for w in item.words if (w.start_ms + w.end_ms) / 2.0 <= end_ms]
        item.words = heard
        if item.public.get("content"):  # still being generated: the content part is written at its end
            item.public["content"][0]["transcript"] = " ".join(w.word for w in heard)
