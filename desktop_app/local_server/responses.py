"""One response: the event ladder of realtime-protocol.md §3.6 (B, D, E, F, H) with paced audio.

``response.created`` goes out at once; then the run waits for the user's transcript (speech
recognition runs in the worker pool), asks the brain for a reply, and streams it:

* audio mode — per sentence, synthesized in the pool (the next one while this one plays) at the
  ``audio.output.speed`` the response started with, sent as 20–100 ms ``response.output_audio.delta``
  chunks on a real-time clock (``pace`` > 1 is faster, 0 is unpaced), each preceded by the
  transcript deltas of the words that start inside it;
* text mode — one ``response.output_text.delta`` per word;
* a tool call — the function-call ladder (E), then ``response.done`` and a wait for the client.

Cancelling (``response.cancel``, barge-in, ``output_audio_buffer.clear``) closes every open part —
``*.done`` events, the item ``incomplete`` — then ``response.done`` ``cancelled`` with the usage so
far. Every response ends with ``response.done`` and then ``rate_limits.updated``.
"""

from __future__ import annotations

import asyncio
import base64
from typing import TYPE_CHECKING, Any

from desktop_app.audio.codecs import Encoder
from desktop_app.local_server import brain
from desktop_app.local_server.conversation import StoredItem
from desktop_app.local_server.speech.tts import WordTiming, sentences
from desktop_app.local_server.usage import Usage, audio_in_tokens, audio_out_tokens, text_tokens

if TYPE_CHECKING:
    from desktop_app.local_server.session import Session


class ResponseRun:
    """A response in flight; ``start()`` it, ``cancel(reason)`` it, ``await`` its ``task``."""

    def __init__(self, session: Session, settings: dict[str, Any], *, idle: bool = False) -> None:
        self.s = session
        self.settings = settings
        self.idle = idle
        self.id = session.ids.response()
        self.in_conversation = settings["conversation"] != "none"
        self.usage = Usage()
        self.output: list[dict[str, Any]] = []
        self.cancel_reason: str | None = None
        self.task: asyncio.Task | None = None
        self._open: StoredItem | None = None  # the message item being generated
        self._open_index = 0
        self._streamed_text = ""
        self._limited = False
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
            "conversation_id": self.s.conversation.id if self.in_conversation else None,
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
        self.s.emit({"type": "response.created", "response": self._response("in_progress", None, None)})
        self.task = asyncio.get_running_loop().create_task(self._run(context), name=f"response {self.id}")

    def cancel(self, reason: str) -> None:
        """Stop generating now: close the open parts and send ``response.done`` ``cancelled`` with
        ``reason`` before anything else the session sends (so a barge-in reads speech_started →
        closing events → response.done → speech_stopped, §3.6 F1)."""
        if self.task is None or self.task.done() or self.cancel_reason is not None:
            return
        self.cancel_reason = reason
        self.task.cancel()
        self._close_open_parts()
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
            plan = brain.think(
                history,
                instructions=self.settings["instructions"],
                tools=self.settings["tools"],
                tool_choice=self.settings["tool_choice"],
                idle=self.idle,
            )
            if isinstance(plan, brain.Call):
                self._function_call(plan)
            elif "audio" in self.settings["output_modalities"]:
                await self._audio_message(plan.text)
            else:
                await self._text_message(plan.text)
        except asyncio.CancelledError:
            if self.cancel_reason is None:  # cancelled from outside (loop shutdown): not ours to report
                raise
            return  # cancel() has already reported it
        except Exception as exc:  # a model failed: the response fails, the session goes on
            self.s.log.exception("! response %s failed", self.id)
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
        self.s.emit({"type": "response.done", "response": self._response(status, details, self.usage.as_dict())})
        self.s.rate_window.spend(self.usage.total)
        self.s.emit({"type": "rate_limits.updated", "rate_limits": self.s.rate_window.event_body()})
        self.s.response_finished(self)

    # --- context ---------------------------------------------------------------------------------

    def _context(self) -> list[StoredItem]:
        """The items this response sees: the conversation as it stands, or ``response.input``."""
        given = self.settings["input"]
        if given is None:
            return list(self.s.conversation)
        items: list[StoredItem] = []
        for entry in given:
            if entry.get("type") == "item_reference":
                ref = self.s.conversation.get(entry["id"])
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
                call = self.s.conversation.find_call(public.get("call_id", ""))
                name = call.public.get("name", "") if call is not None else ""
                history.append((f"function_call_output:{name}", public.get("output", "")))
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
        except Exception:  # the recognizer failed; transcription.failed already told the client
            return ""

    # --- output items ----------------------------------------------------------------------------

    def _add_item(self, public: dict[str, Any]) -> StoredItem:
        item = StoredItem(public=public)
        index = len(self.output)
        self.output.append(public)
        self.s.emit({"type": "response.output_item.added", "response_id": self.id, "output_index": index,
                     "item": public})
        if self.in_conversation:
            previous = self.s.conversation.insert(item)
            self.s.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": public})
        return item

    def _item_done(self, item: StoredItem, status: str) -> None:
        item.public["status"] = status
        if self.in_conversation:
            previous = self.s.conversation.previous_of(item.id) if item.id in self.s.conversation else None
            self.s.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": item.public})
        self.s.emit({"type": "response.output_item.done", "response_id": self.id,
                     "output_index": self.output.index(item.public), "item": item.public})

    def _function_call(self, call: brain.Call) -> None:
        public = {"id": self.s.ids.item(), "object": "realtime.item", "type": "function_call",
                  "status": "in_progress", "name": call.name, "call_id": self.s.ids.call(), "arguments": ""}
        item = self._add_item(public)
        where = {"response_id": self.id, "item_id": item.id, "output_index": self.output.index(public),
                 "call_id": public["call_id"]}
        half = len(call.arguments) // 2
        for piece in (call.arguments[:half], call.arguments[half:]):
            if piece:
                self.s.emit({"type": "response.function_call_arguments.delta", **where, "delta": piece})
        self.s.emit({"type": "response.function_call_arguments.done", **where, "name": call.name,
                     "arguments": call.arguments})
        public["arguments"] = call.arguments
        self.usage.output_text += text_tokens(call.arguments) + 1
        self._item_done(item, "completed")

    def _message_item(self, part_type: str) -> tuple[StoredItem, dict[str, Any]]:
        public = {"id": self.s.ids.item(), "object": "realtime.item", "type": "message", "role": "assistant",
                  "status": "in_progress", "content": []}
        item = self._add_item(public)
        self._open, self._open_index = item, self.output.index(public)
        where = {"response_id": self.id, "item_id": item.id, "output_index": self._open_index, "content_index": 0}
        empty = {"type": "audio", "transcript": ""} if part_type == "audio" else {"type": "text", "text": ""}
        self.s.emit({"type": "response.content_part.added", **where, "part": empty})
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
            self.s.emit({"type": "response.output_text.delta", **where, "delta": delta})
            await self.s.sleep_text_word()
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
            self.s.voice_locked = True
        encoder = Encoder(self.settings["format"]["type"])
        # A producer synthesizes every sentence back to back while the first ones play, so speech
        # is ready ahead of the pacing clock instead of one sentence at a time.
        ready: asyncio.Queue = asyncio.Queue()
        producer = asyncio.get_running_loop().create_task(self._synthesize_all(sentences(text) or [text], ready))
        clock = self.s.pacer()
        step = self.s.chunk_bytes
        stream = bytearray()  # synthesized, not yet sent; chunks run across sentence boundaries
        words: list[WordTiming] = []  # not yet sent, on the item's audio timeline
        queued_ms = 0.0
        last = False
        try:
            while not last:
                piece = await ready.get()
                if isinstance(piece, BaseException):
                    raise piece
                if piece is None:
                    last = True
                else:
                    pcm, timings = piece
                    words += [WordTiming(w.word, w.start_ms + queued_ms, w.end_ms + queued_ms) for w in timings]
                    stream.extend(pcm.tobytes())
                    queued_ms += len(pcm) / 24.0
                while len(stream) >= step or (last and stream):
                    chunk = bytes(stream[:step])
                    del stream[:step]
                    generated_ms += len(chunk) / 48.0
                    while words and (words[0].start_ms < generated_ms or not stream and last):
                        self._word(item, where, words.pop(0))
                    item.add_audio(chunk)
                    self.usage.output_audio = audio_out_tokens(generated_ms)
                    payload = encoder.encode(chunk) + (encoder.flush() if last and not stream else b"")
                    self.s.emit({"type": "response.output_audio.delta", **where,
                                 "delta": base64.b64encode(payload).decode("ascii")})
                    self.audio_end_at = await clock.sent(len(chunk) / 48.0)
                    if self._over_limit(0):
                        self._close_open_parts(status="incomplete")
                        return
            for word in words:  # a trailing word with no audio left after it
                self._word(item, where, word)
        finally:
            producer.cancel()
        self._close_open_parts(status="completed")

    async def _synthesize_all(self, pieces: list[str], ready: asyncio.Queue) -> None:
        try:
            for piece in pieces:
                ready.put_nowait(await self.s.pool.synthesize(piece, self.settings["voice"], self.settings["speed"]))
            ready.put_nowait(None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported by the streamer, which fails the response
            ready.put_nowait(exc)

    def _word(self, item: StoredItem, where: dict[str, Any], word: WordTiming) -> None:
        delta = word.word if not self._streamed_text else " " + word.word
        self._streamed_text += delta
        if not item.cut:
            item.words.append(word)
        self.usage.output_text += text_tokens(delta)
        self.s.emit({"type": "response.output_audio_transcript.delta", **where, "delta": delta})

    def _close_open_parts(self, status: str = "incomplete") -> None:
        """Send the ``*.done`` events of the message being generated (normal end or cancel)."""
        item, self._open = self._open, None
        if item is None:
            return
        where = {"response_id": self.id, "item_id": item.id, "output_index": self._open_index, "content_index": 0}
        text = self._streamed_text
        if "audio" in self.settings["output_modalities"]:
            self.s.emit({"type": "response.output_audio.done", **where})
            self.s.emit({"type": "response.output_audio_transcript.done", **where, "transcript": text})
            self.s.emit({"type": "response.content_part.done", **where, "part": {"type": "audio", "transcript": text}})
            heard = " ".join(w.word for w in item.words) if item.cut else text  # truncated while generated
            item.public["content"] = [{"type": "output_audio", "transcript": heard}]
            item.speaking = False
            if self.in_conversation:
                self.s.limit_audio()
        else:
            self.s.emit({"type": "response.output_text.done", **where, "text": text})
            self.s.emit({"type": "response.content_part.done", **where, "part": {"type": "text", "text": text}})
            item.public["content"] = [{"type": "output_text", "text": text}]
        self._item_done(item, status)

