"""The default conversation: items in order, with the audio and word timings behind them.

Items are placed by ``previous_item_id`` (``"root"`` = first, absent = last; §3.3). Each
:class:`StoredItem` keeps the public item (what events carry, never audio bytes) apart from the
server's private parts: the 24 kHz pcm16 audio, the word timings of generated speech (for truncation)
and, for user audio, the pending transcript.

Audio is the only part that grows with talk (48 kB a second), so a session keeps only its newest
items' pcm (:meth:`Conversation.limit_audio`, ``Options.audio_budget_s``). An item whose pcm was let
go still knows its duration: usage counts it as audio, truncation clamps to it and trims the
transcript by the word timings as before; only ``conversation.item.retrieve`` has no audio to show.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import random
import string
from dataclasses import dataclass, field
from collections.abc import Iterator
from typing import Any

from desktop_app.local_server.speech.tts import WordTiming

_ALPHABET = string.ascii_letters + string.digits


class Ids:
    """Ids in the service's formats: ``event_``/``item_``/``resp_``/``sess_``/``conv_`` + 21, ``call_`` + 16."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.SystemRandom()

    def make(self, prefix: str, length: int = 21) -> str:
        return prefix + "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    def event(self) -> str:
        return self.make("event_")

    def item(self) -> str:
        return self.make("item_")

    def response(self) -> str:
        return self.make("resp_")

    def call(self) -> str:
        return self.make("call_", 16)


@dataclass(eq=False)
class StoredItem:
    """One conversation item: the public dict plus audio, word timings and a transcript future."""

    public: dict[str, Any]
    audio: bytearray = field(default_factory=bytearray)  # pcm16 24 kHz, input or generated audio
    words: list[WordTiming] = field(default_factory=list)
    transcript: asyncio.Future[str] | None = None  # user audio: what the recognizer heard
    # Not all of the pcm is kept (the audio budget let it go, or a long idle stretch of input was
    # trimmed before its commit, so ``audio`` holds only the newest part): this is how long the item is.
    dropped_ms: float | None = None
    speaking: bool = False  # an assistant audio message still being generated (no content part yet)
    cut: bool = False  # truncated: audio and words generated after the cut are not kept

    @property
    def id(self) -> str:
        return self.public["id"]

    @property
    def audio_ms(self) -> float:
        """How long the item's audio is (or was, if its pcm was dropped)."""
        return len(self.audio) / 48.0 if self.dropped_ms is None else self.dropped_ms

    def add_audio(self, pcm: bytes) -> None:
        """Generated audio for this item (only counted once its pcm has been dropped; dropped once cut)."""
        if self.cut:
            return
        if self.dropped_ms is None:
            self.audio.extend(pcm)
        else:
            self.dropped_ms += len(pcm) / 48.0

    def cut_audio(self, end_ms: float) -> None:
        """Keep only the audio before ``end_ms`` (truncation); what is generated later is not kept."""
        self.cut = True
        if self.dropped_ms is None:
            keep = int(end_ms * 48)
            del self.audio[keep - keep % 2 :]
        else:
            self.dropped_ms = min(self.dropped_ms, float(end_ms))

    def drop_audio(self) -> int:
        """Let the pcm go, remembering its duration; returns the bytes freed."""
        freed = len(self.audio)
        if freed:
            self.dropped_ms = self.audio_ms
            self.audio = bytearray()
        return freed

    def text(self) -> str:
        """What this item says, for the brain and for usage (transcripts and text parts)."""
        parts = []
        for part in self.public.get("content") or []:
            parts.append(part.get("text") or part.get("transcript") or "")
        if self.public.get("type") == "function_call_output":
            parts.append(self.public.get("output", ""))
        if self.public.get("type") == "function_call":
            parts.append(self.public.get("arguments", ""))
        return " ".join(p for p in parts if p)

    def retrieved(self) -> dict[str, Any]:
        """The item as ``conversation.item.retrieved`` shows it: audio content carries base64 audio."""
        item = copy.deepcopy(self.public)
        for part in item.get("content") or []:
            if part.get("type") in ("input_audio", "output_audio") and self.audio:
                part["audio"] = base64.b64encode(bytes(self.audio)).decode("ascii")
        return item


class Conversation:
    """Ordered items of the default conversation."""

    def __init__(self, conversation_id: str) -> None:
        self.id = conversation_id
        self._items: list[StoredItem] = []
        self._by_id: dict[str, StoredItem] = {}

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    def __iter__(self) -> Iterator[StoredItem]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def get(self, item_id: str) -> StoredItem | None:
        return self._by_id.get(item_id)

    def last_id(self) -> str | None:
        return self._items[-1].id if self._items else None

    def insert(self, item: StoredItem, previous_item_id: str | None = None) -> str | None:
        """Add ``item`` after ``previous_item_id`` (``"root"`` = first, None = last); returns its predecessor.

        The caller has checked that ``previous_item_id`` exists.
        """
        if previous_item_id is None:
            index = len(self._items)
        elif previous_item_id == "root":
            index = 0
        else:
            index = self._items.index(self._by_id[previous_item_id]) + 1
        self._items.insert(index, item)
        self._by_id[item.id] = item
        return self._items[index - 1].id if index > 0 else None

    def previous_of(self, item_id: str) -> str | None:
        index = self._items.index(self._by_id[item_id])
        return self._items[index - 1].id if index > 0 else None

    def delete(self, item_id: str) -> StoredItem | None:
        item = self._by_id.pop(item_id, None)
        if item is not None:
            self._items.remove(item)
        return item

    @property
    def stored_audio_bytes(self) -> int:
        """The pcm held by all items."""
        return sum(len(item.audio) for item in self._items)

    def limit_audio(self, budget_s: float | None) -> list[StoredItem]:
        """Keep the pcm of the newest items (in conversation order) while it fits in ``budget_s`` seconds
        in all; drop it from the first item that does not fit and from every older one. Returns the
        items whose pcm was dropped now."""
        if budget_s is None:
            return []
        left = int(budget_s * 48000)
        dropped = []
        for item in reversed(self._items):
            if not item.audio:
                continue
            if len(item.audio) <= left:
                left -= len(item.audio)
                continue
            left = -1  # everything older goes too: the kept audio is the newest stretch of the talk
            item.drop_audio()
            dropped.append(item)
        return dropped

    def find_call(self, call_id: str) -> StoredItem | None:
        """The ``function_call`` item with this ``call_id``."""
        for item in reversed(self._items):
            if item.public.get("type") == "function_call" and item.public.get("call_id") == call_id:
                return item
        return None
