"""One response: the event ladder of realtime-protocol.md §3.6 (B, D, E, F, H) with paced audio.

``response.created`` goes out at once; then the run waits for the user's transcript (speech
recognition runs in the worker pool), asks the brain for a reply, and streams it:

* audio mode — per sentence, synthesized in the pool (the next one while this one plays) at the
  ``audio.output.speed`` the response started with, sent as 20–100 ms ``response.output_audio.delta``
  chunks on a real-time clock (``pace`` > 1 is faster, 0 is unpaced), each preceded by the
  transcript deltas of the words that start inside it;
* text mode — one ``response.output_text.delta`` per word;
* tool calls — the function-call ladder (E) once per call (two requests, two calls), then
  ``response.done`` and a wait for the client; an MCP tool (:mod:`.tool_calls`) — an approval request
  item, or the ``mcp_call`` run on the server and then the spoken answer.

Cancelling (``response.cancel``, barge-in, ``output_audio_buffer.clear``) closes every open part —
``*.done`` events, the item ``incomplete`` — then ``response.done`` ``cancelled`` with the usage so
far. Every response ends with ``response.done``; its session then sends ``rate_limits.updated``.

A run never sees its session: it gets a :class:`RunContext` — the emitter, the conversation, ids,
the speech pool, the audio sink and the few session effects it may cause — so what it can touch is
declared in one place, and any session class (another transport, another dialect) can run one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from desktop_app.local_server.audio_out import AudioOut, AudioPart
from desktop_app.local_server.brain import AskMcp, Call, Calls, UseMcp, think
from desktop_app.local_server.brain_tools import speak_mcp
from desktop_app.local_server.conversation import Conversation, Ids, StoredItem
from desktop_app.local_server.mcp_hub import McpHub
from desktop_app.local_server.outbox import Emit, Log
from desktop_app.local_server.speaking import spoken_chunks
from desktop_app.local_server.speech import SpeechPool
from desktop_app.local_server.speech.tts import WordTiming
from desktop_app.local_server.tasks import start_task
from desktop_app.local_server.tool_calls import approval_request, mcp_call
from desktop_app.local_server.usage import (
    Usage,
    audio_in_tokens,
    audio_out_tokens,
    text_tokens,
)


@dataclass(frozen=True)
class RunContext:
    """Everything a :class:`ResponseRun` may use of its session."""

    emit: Emit
    conversation: Conversation
    ids: Ids
    speech: SpeechPool
    audio_out: AudioOut
    log: Log
    chunk_bytes: int  # pcm per audio chunk (``Options.chunk_ms``)
    text_word_s: float  # the pause after each text delta (0: unpaced)
    lock_voice: Callable[[], None]  # the conversation now holds assistant audio (§2.7)
    limit_audio: Callable[[], None]  # the conversation gained audio: hold it to the budget
    finished: Callable[[ResponseRun], None]  # called right after the run's ``response.done``
    mcp: McpHub | None = None  # the session's MCP servers (None: MCP tools are not served)


class ResponseRun:
    """A response in flight; ``start()`` it, ``cancel(reason)`` it, ``await`` its ``task``."""

    def __init__(self, context: RunContext, settings: dict[str, Any], *, idle: bool = False) -> None:
        self.ctx = context
        self.settings = settings
        self.idle = idle
        self.id = context.ids.response()
        self.in_conversation = settings["conversation"] != "none"
        self.usage = Usage()
        self.output: list[dict[str, Any]] = []
        self.cancel_reason: str | None = None
        self.task: asyncio.Task[None] | None = None
        self._open: StoredItem | None = None  # the message item being generated
        self._open_index = 0
        self._streamed_text = ""
        self._limited = False
        self.open_calls: list[Callable[[], None]] = []  # MCP calls waiting for their server: closed on cancel
        self.audio_end_at = 0.0  # loop time when the client will have played everything sent

    # --- lifecycle -------------------------------------------------------------------------------

    def _response(self, status: str, details: dict | None, usage: dict | None) -> dict[str, Any]:
        fmt, voice = self.settings["format"], self.settings["voice"]
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": status,
            "status_details": details,
            "output": self.output,
            "conversation_id": self.ctx.conversation.id if self.in_conversation else None,
            "output_modalities": self.settings["output_modalities"],
            "max_output_tokens": self.settings["max_output_tokens"],
            "audio": {"output": {"format": fmt, "voice": voice}},
            "usage": usage,
            "metadata": self.settings["metadata"],
        }

    def start(self) -> None:
        """Count the input (so a response cancelled at once still reports it), send
        ``response.created`` and begin generating."""
        context = self._context()
        self._count_input(context)
        self.ctx.emit({"type": "response.created", "response": self._response("in_progress", None, None)})
        self.task = start_task(self._run(context), name=f"response {self.id}")

    def cancel(self, reason: str) -> None:
        """Stop generating now: close the open parts and send ``response.done`` ``cancelled`` with
        ``reason`` before anything else the session sends (so a barge-in reads speech_started →
        closing events → response.done → speech_stopped, §3.6 F1)."""
        if self.task is None or self.task.done() or self.cancel_reason is not None:
            return
        self.cancel_reason = reason
        self.task.cancel()
        self._close_open_parts()
        for close in self.open_calls:
            close()
        self._finish("cancelled", {"type": "cancelled", "reason": reason})

    def abandon(self) -> None:
        """The connection is gone: stop without sending anything."""
        self.cancel_reason = self.cancel_reason or "abandoned"
        if self.task is not None:
            self.task.cancel()

    @property
    def running(self) -> bool:
        """Still generating (not finished, not cancelled)."""
        return self.cancel_reason is None and self.task is not None and not self.task.done()

    async def _run(self, context: list[StoredItem]) -> None:
        try:
            history = await self._history(context)
            plan = think(
                history,
                instructions=self.settings["instructions"],
                tools=self.settings["tools"],
                tool_choice=self.settings["tool_choice"],
                idle=self.idle,
                mcp_tools=self.ctx.mcp.tools_for(self.settings["tools"]) if self.ctx.mcp is not None else None,
            )
            if isinstance(plan, (Call, Calls)):
                for call in plan.calls if isinstance(plan, Calls) else (plan,):
                    self._function_call(call)
            elif isinstance(plan, AskMcp):
                approval_request(self, plan)
            else:
                text = plan.text if not isinstance(plan, UseMcp) else speak_mcp(
                    plan.server_label, plan.name, *await mcp_call(self, plan))
                if "audio" in self.settings["output_modalities"]:
                    await self._audio_message(text)
                else:
                    await self._text_message(text)
        except asyncio.CancelledError:
            if self.cancel_reason is None:  # cancelled from outside (loop shutdown): not ours to report
                raise
            return  # cancel() has already reported it
        except Exception as exc:  # a model failed: the response fails, the session goes on
            self.ctx.log.exception("! response %s failed", self.id)
            self._close_open_parts()
            self.usage = Usage()
            error = {"type": "server_error", "code": None, "message": f"The server had an error: {exc}"}
            self._finish("failed", {"type": "failed", "error": error})
            return
        if self._limited:
            self._finish("incomplete", {"type": "incomplete", "reason": "max_output_tokens"})
        else:
            self._finish("completed", None)

    def _finish(self, status: str, details: dict | None) -> None:
        self.ctx.emit({"type": "response.done", "response": self._response(status, details, self.usage.as_dict())})
        self.ctx.finished(self)

    # --- context ---------------------------------------------------------------------------------

    def _context(self) -> list[StoredItem]:
        """The items this response sees: the conversation as it stands, or ``response.input``."""
        given = self.settings["input"]
        if given is None:
            return list(self.ctx.conversation)
        items: list[StoredItem] = []
        for entry in given:
            if entry.get("type") == "item_reference":
                ref = self.ctx.conversation.get(entry["id"])
                if ref is not None:
                    items.append(ref)
            else:
                items.append(StoredItem(public=entry))
        return items

    def _count_input(self, context: list[StoredItem]) -> None:
        """Input usage: the instructions and every item of the context (§4.6), audio by its duration."""
        self.usage.input_text = text_tokens(self.settings["instructions"])
        self.usage.input_audio = 0
        for item in context:
            if item.audio_ms > 0:  # also an item whose pcm the audio budget dropped: the model heard it
                self.usage.input_audio += audio_in_tokens(item.audio_ms)
            else:
                self.usage.input_text += text_tokens(item.text())

    async def _history(self, context: list[StoredItem]) -> list[tuple[str, str]]:
        """The context as (kind, text) pairs for the brain (user audio as the recognizer heard it)."""
        history: list[tuple[str, str]] = []
        for item in context:
            public = item.public
            kind = public.get("type")
            if kind == "message":
                history.append((public.get("role", "user"), await self._heard(item)))
            elif kind == "function_call":
                history.append((f"function_call:{public.get('name', '')}", public.get("arguments", "")))
            elif kind == "function_call_output":
                call = self.ctx.conversation.find_call(public.get("call_id", ""))
                name = call.public.get("name", "") if call is not None else ""
                history.append((f"function_call_output:{name}", public.get("output", "")))
            elif kind in ("mcp_approval_request", "mcp_approval_response", "mcp_call"):
                history.append((kind, json.dumps(public)))
        return history

    @staticmethod
    async def _heard(item: StoredItem) -> str:
        """A message's text; for user audio, what the recognizer heard ("" if it failed)."""
        if item.transcript is None:
            return item.text()
        try:
            return await asyncio.shield(item.transcript)
        except asyncio.CancelledError:
            if item.transcript.cancelled():
                return ""
            raise
        except Exception:  # noqa: BLE001 — the recognizer failed; transcription.failed already told the client
            return ""

    # --- output items ----------------------------------------------------------------------------

    def _add_item(self, public: dict[str, Any]) -> StoredItem:
        item = StoredItem(public=public)
        index = len(self.output)
        self.output.append(public)
        self.ctx.emit({"type": "response.output_item.added", "response_id": self.id, "output_index": index,
                     "item": public})
        if self.in_conversation:
            previous = self.ctx.conversation.insert(item)
            self.ctx.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": public})
        return item

    def _item_done(self, item: StoredItem, status: str) -> None:
        item.public["status"] = status
        if self.in_conversation:
            previous = self.ctx.conversation.previous_of(item.id) if item.id in self.ctx.conversation else None
            self.ctx.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": item.public})
        self.ctx.emit({"type": "response.output_item.done", "response_id": self.id,
                     "output_index": self.output.index(item.public), "item": item.public})

    def _function_call(self, call: Call) -> None:
        public = {"id": self.ctx.ids.item(), "object": "realtime.item", "type": "function_call",
                  "status": "in_progress", "name": call.name, "call_id": self.ctx.ids.call(), "arguments": ""}
        item = self._add_item(public)
        where = {"response_id": self.id, "item_id": item.id, "output_index": self.output.index(public),
                 "call_id": public["call_id"]}
        half = len(call.arguments) // 2
        for piece in (call.arguments[:half], call.arguments[half:]):
            if piece:
                self.ctx.emit({"type": "response.function_call_arguments.delta", **where, "delta": piece})
        self.ctx.emit({"type": "response.function_call_arguments.done", **where, "name": call.name,
                     "arguments": call.arguments})
        public["arguments"] = call.arguments
        self.usage.output_text += text_tokens(call.arguments) + 1
        self._item_done(item, "completed")

    def _message_item(self, part_type: str) -> tuple[StoredItem, dict[str, Any]]:
        public = {"id": self.ctx.ids.item(), "object": "realtime.item", "type": "message", "role": "assistant",
                  "status": "in_progress", "content": []}
        item = self._add_item(public)
        self._open, self._open_index = item, self.output.index(public)
        where = {"response_id": self.id, "item_id": item.id, "output_index": self._open_index, "content_index": 0}
        empty = {"type": "audio", "transcript": ""} if part_type == "audio" else {"type": "text", "text": ""}
        self.ctx.emit({"type": "response.content_part.added", **where, "part": empty})
        return item, where

    async def _text_message(self, text: str) -> None:
        item, where = self._message_item("text")
        words = text.split(" ")
        for i, word in enumerate(words):
            delta = word if i == 0 else " " + word
            if self._over_limit(text_tokens(delta)):
                break
            self._streamed_text += delta
            self.usage.output_text += text_tokens(delta)
            self.ctx.emit({"type": "response.output_text.delta", **where, "delta": delta})
            await asyncio.sleep(self.ctx.text_word_s)
        self._close_open_parts(status="incomplete" if self._limited else "completed")

    def _over_limit(self, more: int) -> bool:
        limit = self.settings["max_output_tokens"]
        if limit != "inf" and self.usage.output_tokens + more > int(limit):
            self._limited = True
        return self._limited

    async def _audio_message(self, text: str) -> None:
        item, where = self._message_item("audio")
        item.speaking = True
        generated_ms = 0.0  # what was generated, for usage: a truncated item keeps only what was heard
        if self.in_conversation:
            self.ctx.lock_voice()
        part = AudioPart(self.id, item.id, where["output_index"], 0, self.settings["format"])
        out = self.ctx.audio_out.open(part)
        voice, speed = self.settings["voice"], self.settings["speed"]
        speech = spoken_chunks(self.ctx.speech, text, voice, speed, self.ctx.chunk_bytes)
        async with aclosing(speech) as chunks:
            async for chunk in chunks:
                for word in chunk.words:
                    self._word(item, where, word)
                if not chunk.pcm:
                    continue
                generated_ms += len(chunk.pcm) / 48.0
                item.add_audio(chunk.pcm)
                self.usage.output_audio = audio_out_tokens(generated_ms)
                self.audio_end_at = await out.write(chunk.pcm, final=chunk.final)
                if self._over_limit(0):
                    self._close_open_parts(status="incomplete")
                    return
        self._close_open_parts(status="completed")

    def _word(self, item: StoredItem, where: dict[str, Any], word: WordTiming) -> None:
        delta = word.word if not self._streamed_text else " " + word.word
        self._streamed_text += delta
        if not item.cut:
            item.words.append(word)
        self.usage.output_text += text_tokens(delta)
        self.ctx.emit({"type": "response.output_audio_transcript.delta", **where, "delta": delta})

    def _close_open_parts(self, status: str = "incomplete") -> None:
        """Send the ``*.done`` events of the message being generated (normal end or cancel)."""
        item, self._open = self._open, None
        if item is None:
            return
        where = {"response_id": self.id, "item_id": item.id, "output_index": self._open_index, "content_index": 0}
        text = self._streamed_text
        if "audio" in self.settings["output_modalities"]:
            self.ctx.emit({"type": "response.output_audio.done", **where})
            self.ctx.emit({"type": "response.output_audio_transcript.done", **where, "transcript": text})
            self.ctx.emit({"type": "response.content_part.done", **where, "part": {"type": "audio", "transcript": text}})
            heard = " ".join(w.word for w in item.words) if item.cut else text  # truncated while generated
            item.public["content"] = [{"type": "output_audio", "transcript": heard}]
            item.speaking = False
            if self.in_conversation:
                self.ctx.limit_audio()
        else:
            self.ctx.emit({"type": "response.output_text.done", **where, "text": text})
            self.ctx.emit({"type": "response.content_part.done", **where, "part": {"type": "text", "text": text}})
            item.public["content"] = [{"type": "output_text", "text": text}]
        self._item_done(item, status)

