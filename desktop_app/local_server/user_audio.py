"""User audio becomes conversation items: the item of a committed segment, its recognition, and the
input transcription events (realtime-protocol.md §2.6).

Each user audio item gets a transcript future from the speech pool (:func:`recognize`); the brain
awaits it to know what was said, and, when the session asks for input transcription,
:func:`transcription_events` turns it into ``conversation.item.input_audio_transcription.delta`` /
``completed`` (or ``failed``), asynchronously like the real service's. Plain functions over an item,
an emitter and the pool: any session class can use them.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

import numpy as np

from desktop_app.local_server.conversation import Conversation, StoredItem
from desktop_app.local_server.input_audio import PCM_BYTES_PER_MS, Committed
from desktop_app.local_server.outbox import Emit, Log
from desktop_app.local_server.speech import SpeechPool
from desktop_app.local_server.tasks import start_task
from desktop_app.local_server.usage import audio_in_tokens, text_tokens


def audio_item(committed: Committed) -> StoredItem:
    """The user ``input_audio`` message of a committed segment (its true duration when not all of
    its pcm was kept)."""
    public = {"id": committed.item_id, "object": "realtime.item", "type": "message", "role": "user",
              "status": "completed", "content": [{"type": "input_audio", "transcript": None}]}
    item = StoredItem(public=public, audio=bytearray(committed.pcm))
    if committed.not_kept_ms > 0:
        item.dropped_ms = len(committed.pcm) / PCM_BYTES_PER_MS + committed.not_kept_ms
    return item


def commit_item(conversation: Conversation, committed: Committed, emit: Emit, log: Log) -> StoredItem:
    """Add the item of a committed segment at the end of the conversation and announce it
    (``input_audio_buffer.committed``, ``conversation.item.added``/``done``)."""
    item = audio_item(committed)
    previous = conversation.insert(item)
    emit({"type": "input_audio_buffer.committed", "previous_item_id": previous, "item_id": item.id})
    emit({"type": "conversation.item.added", "previous_item_id": previous, "item": item.public})
    emit({"type": "conversation.item.done", "previous_item_id": previous, "item": item.public})
    if committed.not_kept_ms > 0:
        log.info("= committed %s (%.0f ms, the newest %.0f ms of it kept)", item.id, item.audio_ms,
                 len(committed.pcm) / PCM_BYTES_PER_MS)
    else:
        log.info("= committed %s (%.0f ms)", item.id, item.audio_ms)
    return item


def recognize(item: StoredItem, speech: SpeechPool) -> None:
    """Start recognizing ``item``'s audio in the pool; the brain and transcription await it."""
    pcm = np.frombuffer(bytes(item.audio), dtype=np.int16)
    item.transcript = start_task(speech.transcribe(pcm), name=f"recognize {item.id}")


async def transcription_events(item: StoredItem, model: str, emit: Emit, log: Log,
                               delay: Callable[[], Awaitable[None]] | None = None) -> None:
    """Send the input transcription of ``item`` once recognized (after ``delay``, a fault): whisper-1
    as one delta, the gpt-4o transcribers word by word, then ``completed`` with usage."""
    assert item.transcript is not None
    where = {"item_id": item.id, "content_index": 0}
    try:
        text = await asyncio.shield(item.transcript)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 — any recognizer failure becomes transcription.failed
        log.warning("! transcription of %s failed: %s", item.id, exc)
        emit({"type": "conversation.item.input_audio_transcription.failed", **where, "error": {
            "type": "transcription_error", "code": "audio_unintelligible",
            "message": "Audio file might be corrupted or unsupported", "param": None}})
        return
    if delay is not None:
        await delay()
    usage: dict[str, object]
    if model == "whisper-1":
        deltas = [text] if text else []
        usage = {"type": "duration", "seconds": max(1, math.ceil(item.audio_ms / 1000.0))}
    else:
        words = text.split(" ") if text else []
        deltas = [w if i == 0 else " " + w for i, w in enumerate(words)]
        audio_tokens, out = audio_in_tokens(item.audio_ms), text_tokens(text)
        usage = {"type": "tokens", "input_tokens": audio_tokens, "output_tokens": out,
                 "total_tokens": audio_tokens + out,
                 "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens}}
    for delta in deltas:
        emit({"type": "conversation.item.input_audio_transcription.delta", **where, "delta": delta})
    emit({"type": "conversation.item.input_audio_transcription.completed", **where,
          "transcript": text, "usage": usage})
    content = item.public.get("content") or []
    if content and content[0].get("type") == "input_audio":
        content[0]["transcript"] = text


class Transcriptions:
    """The input transcription tasks of one session (each ends by itself; all stop at close)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, item: StoredItem, model: str, emit: Emit, log: Log,
              delay: Callable[[], Awaitable[None]] | None = None) -> None:
        """Send ``item``'s transcription events once it is recognized (see :func:`transcription_events`)."""
        task = start_task(transcription_events(item, model, emit, log, delay), name=f"transcription {item.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
