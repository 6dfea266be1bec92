"""The scripted GA server's protocol, sans I/O (see ``scripted_server.py`` for what it does and
why): :class:`ScriptedSession` takes a client frame and its arrival time and returns the events to
send now; :meth:`ScriptedSession.next_chunk` gives the active response's next deltas; everything
worth timing is appended to :attr:`ScriptedSession.marks`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop_app.local_server.config import default_session, merge_update
from desktop_app.local_server.conversation import Ids
from desktop_app.local_server.schema import Problem
from desktop_app.local_server.usage import (
    Usage,
    audio_in_tokens,
    audio_out_tokens,
    text_tokens,
)

RATE = 24000
THRESHOLD = 0.01
SILENCE_MS = 500
PREFIX_MS = 300
CHUNK_MS = 50

Mark = dict[str, Any]


@dataclass
class Answer:
    """The spoken answer every response plays: pcm16 samples and its transcript."""

    pcm: np.ndarray
    text: str

    @property
    def seconds(self) -> float:
        return len(self.pcm) / RATE


@dataclass
class Response:
    """One response in flight: its ids, the chunks still to send, and whether it is over."""

    id: str
    item_id: str
    answer: Answer
    chunk: int
    words: list[str]
    sent_chunks: int = 0
    words_sent: int = 0
    over: bool = False
    usage: Usage = field(default_factory=Usage)

    @property
    def chunks(self) -> int:
        return -(-len(self.answer.pcm) // self.chunk)

    def where(self) -> dict[str, Any]:
        return {"response_id": self.id, "item_id": self.item_id, "output_index": 0, "content_index": 0}

    def transcript(self) -> str:
        return " ".join(self.words[: self.words_sent])


class ScriptedSession:
    """One connection's protocol: :meth:`receive` takes a client frame and its arrival time and
    returns the events to send now; :meth:`next_chunk` gives the active response's next deltas.
    Everything worth timing is appended to :attr:`marks`."""

    def __init__(self, answer: Answer, questions: list[str], model: str, *, threshold: float = THRESHOLD,
                 silence_ms: int = SILENCE_MS, chunk_ms: int = CHUNK_MS, conn: int = 0) -> None:
        self.answer = answer
        self.questions = questions
        self.threshold = threshold
        self.silence = RATE * silence_ms // 1000
        self.chunk = RATE * chunk_ms // 1000
        self.conn = conn
        self.ids = Ids()
        self.session = default_session(model, self.ids.make("sess_"))
        self.marks: list[Mark] = []
        self.position = 0  # input samples received since the connection opened
        self.buffer = 0  # input samples in the buffer since the last commit or clear
        self.speaking = False
        self.last_loud = 0
        self.user_item: str | None = None
        self.previous: str | None = None
        self.turns = 0
        self.active: Response | None = None
        self.voice_locked = False
        self.appends = 0
        self.append_samples = 0
        self._handlers: dict[str, Callable[[dict[str, Any], float], list[dict[str, Any]]]] = {
            "session.update": self._on_session_update,
            "input_audio_buffer.append": self._on_input_audio_buffer_append,
            "input_audio_buffer.commit": self._on_input_audio_buffer_commit,
            "input_audio_buffer.clear": self._on_input_audio_buffer_clear,
            "response.create": self._on_response_create,
            "response.cancel": self._on_response_cancel,
            "conversation.item.create": self._on_conversation_item_create,
            "conversation.item.truncate": self._on_conversation_item_truncate,
            "conversation.item.delete": self._on_conversation_item_delete,
        }

    # --- helpers -------------------------------------------------------------------------------

    def mark(self, t: float, ev: str, **extra: Any) -> None:
        self.marks.append({"t": t, "conn": self.conn, "ev": ev, **extra})

    def _event(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"event_id": self.ids.make("event_"), **body}

    def _error(self, code: str | None, message: str, event_id: Any = None, param: str | None = None) -> dict[str, Any]:
        return self._event({"type": "error", "error": {"type": "invalid_request_error", "code": code,
                                                       "message": message, "param": param, "event_id": event_id}})

    @property
    def turn_detection(self) -> dict[str, Any] | None:
        td: dict[str, Any] | None = self.session["audio"]["input"]["turn_detection"]
        return td

    def opened(self, t: float) -> list[dict[str, Any]]:
        self.mark(t, "open")
        return [self._event({"type": "session.created", "session": self.session})]

    # --- client events -------------------------------------------------------------------------

    def receive(self, text: str, t: float) -> list[dict[str, Any]]:
        """The events answering one client frame received at monotonic ``t``."""
        try:
            event = json.loads(text)
            kind = event["type"]
        except (ValueError, KeyError, TypeError):
            return [self._error("invalid_json", "The client frame is not a JSON event.")]
        handler = self._handlers.get(kind)
        if handler is None:
            return [self._error("invalid_value", f"Unsupported event type {kind!r} in this scripted server.",
                                event.get("event_id"), "type")]
        return handler(event, t)

    def _on_session_update(self, event: dict[str, Any], t: float) -> list[dict[str, Any]]:
        new = merge_update(self.session, event.get("session") or {}, voice_locked=self.voice_locked, kind="realtime")
        if isinstance(new, Problem):
            return [self._error(new.code, new.message, event.get("event_id"), new.param)]
        self.session = new
        td = self.turn_detection
        self.mark(t, "session.update", turn_detection=None if td is None else td.get("type"),
                  transcription=self.session["audio"]["input"]["transcription"] is not None)
        return [self._event({"type": "session.updated", "session": self.session})]

    def _on_input_audio_buffer_append(self, event: dict[str, Any], t: float) -> list[dict[str, Any]]:
        try:
            raw = base64.b64decode(event["audio"], validate=True)
        except (KeyError, binascii.Error, TypeError):
            return [self._error("invalid_value", "audio must be base64 pcm16.", event.get("event_id"), "audio")]
        x = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")
        start = self.position
        self.position += len(x)
        self.buffer += len(x)
        self.appends += 1
        self.append_samples += len(x)
        loud = np.flatnonzero(np.abs(x.astype(np.int32)) >= self.threshold * 32768)
        out: list[dict[str, Any]] = []
        if len(loud):
            if not self.speaking:
                out += self._onset(start + int(loud[0]), t)
            self.last_loud = start + int(loud[-1])
        elif self.speaking and self.position - self.last_loud >= self.silence:
            out += self._end_of_speech(t)
        return out

    def _onset(self, at: int, t: float) -> list[dict[str, Any]]:
        self.speaking = True
        self.mark(t, "onset", audio_ms=at * 1000 / RATE, vad=self.turn_detection is not None)
        td = self.turn_detection
        if td is None:
            return []
        self.user_item = self.ids.item()
        out = [self._event({"type": "input_audio_buffer.speech_started", "item_id": self.user_item,
                            "audio_start_ms": max(0, at * 1000 // RATE - PREFIX_MS)})]
        if self.active is not None and td.get("interrupt_response", True):
            out += self.cancel(t, "turn_detected")
        return out

    def _end_of_speech(self, t: float) -> list[dict[str, Any]]:
        self.speaking = False
        self.mark(t, "speech_end", audio_ms=self.last_loud * 1000 / RATE)
        td = self.turn_detection
        if td is None:
            return []
        item = self.user_item or self.ids.item()
        out = [self._event({"type": "input_audio_buffer.speech_stopped", "item_id": item,
                            "audio_end_ms": min(self.position, self.last_loud + self.silence) * 1000 // RATE})]
        out += self._commit(item, t)
        if td.get("create_response", True) and self.active is None:
            out += self.start_response(t)
        return out

    def _commit(self, item_id: str, t: float) -> list[dict[str, Any]]:
        public = {"id": item_id, "object": "realtime.item", "type": "message", "role": "user",
                  "status": "completed", "content": [{"type": "input_audio", "transcript": None}]}
        previous, self.previous = self.previous, item_id
        audio_ms = self.buffer * 1000 / RATE
        self.buffer = 0
        self.user_item = None
        question = self.questions[self.turns % len(self.questions)] if self.questions else ""
        self.turns += 1
        self.mark(t, "commit", item_id=item_id)
        out = [self._event({"type": "input_audio_buffer.committed", "previous_item_id": previous, "item_id": item_id}),
               self._event({"type": "conversation.item.added", "previous_item_id": previous, "item": public}),
               self._event({"type": "conversation.item.done", "previous_item_id": previous, "item": public})]
        if self.session["audio"]["input"]["transcription"] is not None:
            where = {"item_id": item_id, "content_index": 0}
            tokens = audio_in_tokens(audio_ms)
            usage = {"type": "tokens", "input_tokens": tokens, "output_tokens": text_tokens(question),
                     "total_tokens": tokens + text_tokens(question),
                     "input_token_details": {"text_tokens": 0, "audio_tokens": tokens}}
            out += [self._event({"type": "conversation.item.input_audio_transcription.delta", **where, "delta": question}),
                    self._event({"type": "conversation.item.input_audio_transcription.completed", **where,
                                 "transcript": question, "usage": usage})]
        return out

    def _on_input_audio_buffer_commit(self, event: dict[str, Any], t: float) -> list[dict[str, Any]]:
        if self.buffer == 0:
            return [self._error("input_audio_buffer_commit_empty", "Error committing input audio buffer: "
                                "the buffer is empty.", event.get("event_id"))]
        if self.speaking:
            self.speaking = False
            self.mark(t, "speech_end", audio_ms=self.last_loud * 1000 / RATE)
        return self._commit(self.ids.item(), t)

    def _on_input_audio_buffer_clear(self, event: dict[str, Any], t: float) -> list[dict[str, Any]]:
        self.buffer = 0
        self.speaking = False
        return [self._event({"type": "input_audio_buffer.cleared"})]

    def _on_response_create(self, event: dict[str, Any], t: float) -> list[dict[str, Any]]:
        if self.active is not None:
            return [self._error("conversation_already_has_active_response", "Conversation already has an "
                                f"active response in progress: {self.active.id}.", event.get("event_id"))]
        return self.start_response(t)

    def _on_response_cancel(self, event: dict[str, Any], t: float) -> list[dict[str, Any]]:
        if self.active is None:
            return [self._error("response_cancel_not_active", "Cancellation failed: no active response found.",
                                event.get("event_id"))]
        return self.cancel(t, "client_cancelled")

    def _on_conversation_item_create(self, event: dict[str, Any], t: float) -> list[dict[str, Any]]:
        item = dict(event.get("item") or {})
        item.setdefault("id", self.ids.item())
        item.setdefault("object", "realtime.item")
        item.setdefault("status", "completed")
        previous, self.previous = self.previous, item["id"]
        return [self._event({"type": "conversation.item.added", "previous_item_id": previous, "item": item}),
                self._event({"type": "conversation.item.done", "previous_item_id": previous, "item": item})]

    def _on_conversation_item_truncate(self, event: dict[str, Any], t: float) -> list[dict[str, Any]]:
        self.mark(t, "truncate", audio_end_ms=event.get("audio_end_ms"))
        return [self._event({"type": "conversation.item.truncated", "item_id": event.get("item_id"),
                             "content_index": event.get("content_index", 0), "audio_end_ms": event.get("audio_end_ms", 0)})]

    def _on_conversation_item_delete(self, event: dict[str, Any], t: float) -> list[dict[str, Any]]:
        return [self._event({"type": "conversation.item.deleted", "item_id": event.get("item_id")})]

    # --- responses -----------------------------------------------------------------------------

    def _response_body(self, r: Response, status: str, details: dict[str, Any] | None, usage: dict | None,
                       output: list[dict[str, Any]]) -> dict[str, Any]:
        out = self.session["audio"]["output"]
        return {"object": "realtime.response", "id": r.id, "status": status, "status_details": details,
                "output": output, "conversation_id": "conv_" + self.session["id"][5:], "output_modalities": ["audio"],
                "max_output_tokens": "inf", "audio": {"output": {"format": out["format"], "voice": out["voice"]}},
                "usage": usage, "metadata": None}

    def _item(self, r: Response, status: str) -> dict[str, Any]:
        content = [] if status == "in_progress" else [{"type": "output_audio", "transcript": r.transcript()}]
        return {"id": r.item_id, "object": "realtime.item", "type": "message", "role": "assistant",
                "status": status, "content": content}

    def start_response(self, t: float) -> list[dict[str, Any]]:
        r = Response(self.ids.response(), self.ids.item(), self.answer, self.chunk, self.answer.text.split())
        r.usage.input_audio = audio_in_tokens(self.position * 1000 / RATE)
        self.active = r
        self.voice_locked = True
        self.mark(t, "response", response_id=r.id)
        previous, self.previous = self.previous, r.item_id
        item = self._item(r, "in_progress")
        return [self._event({"type": "response.created", "response": self._response_body(r, "in_progress", None, None, [])}),
                self._event({"type": "response.output_item.added", "response_id": r.id, "output_index": 0, "item": item}),
                self._event({"type": "conversation.item.added", "previous_item_id": previous, "item": item}),
                self._event({"type": "response.content_part.added", **r.where(), "part": {"type": "audio", "transcript": ""}})]

    def next_chunk(self) -> list[dict[str, Any]]:
        """The active response's next transcript words and audio delta; its closing events after
        the last one; nothing once it is over."""
        r = self.active
        if r is None or r.over:
            return []
        k = r.sent_chunks
        pcm = r.answer.pcm[k * r.chunk : (k + 1) * r.chunk]
        r.sent_chunks += 1
        out = []
        due = min(len(r.words), -(-len(r.words) * r.sent_chunks // r.chunks))  # words spread evenly
        while r.words_sent < due:
            out.append(self._event({"type": "response.output_audio_transcript.delta", **r.where(),
                                    "delta": ("" if r.words_sent == 0 else " ") + r.words[r.words_sent]}))
            r.words_sent += 1
        out.append(self._event({"type": "response.output_audio.delta", **r.where(),
                                "delta": base64.b64encode(pcm.astype("<i2").tobytes()).decode("ascii")}))
        r.usage.output_audio = audio_out_tokens(r.sent_chunks * r.chunk * 1000 / RATE)
        if r.sent_chunks >= r.chunks:
            r.usage.output_text = text_tokens(r.transcript())
            out += self._close(r, "completed", None)
        return out

    def cancel(self, t: float, reason: str) -> list[dict[str, Any]]:
        r = self.active
        if r is None:
            return []
        self.mark(t, "cancel", response_id=r.id, reason=reason, sent_ms=r.sent_chunks * r.chunk * 1000 / RATE)
        return self._close(r, "cancelled", {"type": "cancelled", "reason": reason})

    def _close(self, r: Response, status: str, details: dict[str, Any] | None) -> list[dict[str, Any]]:
        r.over = True
        self.active = None
        text = r.transcript()
        item = self._item(r, "completed" if status == "completed" else "incomplete")
        usage = r.usage.as_dict()
        return [self._event({"type": "response.output_audio.done", **r.where()}),
                self._event({"type": "response.output_audio_transcript.done", **r.where(), "transcript": text}),
                self._event({"type": "response.content_part.done", **r.where(), "part": {"type": "audio", "transcript": text}}),
                self._event({"type": "conversation.item.done", "previous_item_id": None, "item": item}),
                self._event({"type": "response.output_item.done", "response_id": r.id, "output_index": 0, "item": item}),
                self._event({"type": "response.done", "response": self._response_body(r, status, details, usage, [item])}),
                self._event({"type": "rate_limits.updated", "rate_limits": [
                    {"name": "tokens", "limit": 40000, "remaining": 40000 - r.usage.total, "reset_seconds": 60.0}]})]
