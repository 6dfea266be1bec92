"""The input audio buffer of a session: append, commit, clear, turn detection and transcription.

Appended audio is decoded to pcm16 24 kHz and placed on the session-cumulative input timeline, which
counts the wire payload (48 bytes a millisecond for pcm, 8 for G.711; §5). The G.711 decoder's
8 → 24 kHz resampler holds its newest ~25 ms back, so at every commit or clear it is flushed into the
buffer (or dropped) and replaced: an item holds exactly the audio appended for it. With
``turn_detection`` set, every append feeds the :class:`~.vad.TurnDetector`; its onset becomes
``speech_started`` (and, with ``interrupt_response``, cancels the active response with
``turn_detected``), its end becomes ``speech_stopped`` → ``committed`` → item added/done → (with
``create_response``) a response (§3.6 B). ``idle_timeout_ms`` arms a timer when a response's audio
has finished playing (§3.6 G); the idle period starts there on the input timeline, and the timeout
commits the whole (silent) buffer. Without turn detection the client commits by hand (§3.6 C).

While turn detection hears nobody, the buffer keeps only the newest ``IDLE_KEEP_MS`` of pcm, so an
open microphone in an empty room costs bounded memory; the uncommitted segment's start is tracked
apart from the pcm kept, so a commit still counts all of it (the item records its true duration, as
the audio budget's ``dropped_ms`` does: usage and transcription bill the whole stretch).

Each committed item gets a transcript future from the speech pool; when the session asks for input
transcription, ``conversation.item.input_audio_transcription.delta``/``completed`` (or ``failed``)
follow asynchronously, like the real service's.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.audio.codecs import Decoder, bytes_per_ms
from desktop_app.local_server.config import response_settings
from desktop_app.local_server.conversation import StoredItem
from desktop_app.local_server.schema import Problem
from desktop_app.local_server.usage import audio_in_tokens, text_tokens
from desktop_app.local_server.vad import TurnDetector

if TYPE_CHECKING:
    from desktop_app.local_server.responses import ResponseRun

MIN_COMMIT_MS = 100.0
IDLE_KEEP_MS = 60_000  # while nobody speaks, the pcm kept (plus the prefix): a commit counts the rest
_TRIM_STEP_MS = 5_000.0  # trim in steps this big, not a little on every append


class InputAudioMixin:
    """Buffer, VAD and transcription handlers of :class:`~.session.Session`."""

    def _init_input(self) -> None:
        self.input_ms = 0.0  # session-cumulative input timeline
        self.buffer = bytearray()  # pcm16 24 kHz since the last commit (trimmed while idle with VAD)
        self.buffer_start_ms = 0.0  # timeline position of buffer[0]
        self.segment_start_ms = 0.0  # timeline position where the uncommitted audio starts (<= buffer_start_ms)
        self._idle_start_ms = 0.0  # timeline position where the current idle period began
        self._decoder = Decoder(self.config["audio"]["input"]["format"]["type"])
        self._pending_item_id: str | None = None
        self._speech_start_ms = 0.0
        self._transcriptions: set[asyncio.Task] = set()
        td = self.config["audio"]["input"]["turn_detection"]
        self.detector = TurnDetector(td) if td else None

    def _close_input(self) -> None:
        for task in list(self._transcriptions):
            task.cancel()
        for item in self.conversation:
            if item.transcript is not None and not item.transcript.done():
                item.transcript.cancel()

    def _input_config_changed(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        td = after["turn_detection"]
        if td is None:
            self.detector = None
            self._timer("idle", None, lambda: None)
        elif self.detector is None:
            self.detector = TurnDetector(td, start_ms=self.input_ms)
        elif td != before["turn_detection"]:
            self.detector.configure(td)
        if before["format"] != after["format"]:
            self._take_pcm(self._new_decoder(after["format"]["type"]))  # what the old format held back

    # --- client events ---------------------------------------------------------------------------

    def on_input_audio_buffer_append(self, event: dict) -> Problem | None:
        try:
            payload = base64.b64decode(event["audio"], validate=True)
        except (binascii.Error, ValueError):
            return Problem("invalid_value", "Invalid 'audio': expected base64-encoded audio data.", "audio")
        try:
            pcm_bytes = self._decoder.decode(payload)
        except ValueError as exc:
            return Problem("invalid_value", f"Invalid 'audio': {exc}.", "audio")
        self.input_ms += len(payload) / bytes_per_ms(self._decoder.format)
        self._take_pcm(pcm_bytes)
        return None

    @property
    def appended_ms(self) -> float:
        """Audio appended since the last commit or clear (counted from the wire payload, §4.4)."""
        return self.input_ms - self.segment_start_ms

    def on_input_audio_buffer_commit(self, event: dict) -> Problem | None:
        if self.appended_ms < MIN_COMMIT_MS - 1e-6 or not self.buffer:
            have = self.appended_ms if self.buffer else 0.0
            return Problem(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, "
                f"but buffer only has {have:.2f}ms of audio.",
                None,
            )
        self._commit_buffer(self._pending_item_id or self.ids.item())
        return None

    def on_input_audio_buffer_clear(self, event: dict) -> Problem | None:
        self._new_decoder()
        self._reset_buffer()
        self.emit({"type": "input_audio_buffer.cleared"})
        return None

    # --- decoding and turn detection --------------------------------------------------------------

    def _new_decoder(self, fmt: str | None = None) -> bytes:
        """Start a fresh decoder (of ``fmt``, or the same format); returns what the old one held back."""
        tail = self._decoder.flush()
        self._decoder = Decoder(fmt or self._decoder.format)
        return tail

    def _take_pcm(self, pcm_bytes: bytes) -> None:
        """Decoded audio into the buffer and through turn detection."""
        self.buffer.extend(pcm_bytes)
        if self.detector is not None:
            for vad_event in self.detector.feed(np.frombuffer(pcm_bytes, dtype=np.int16)):
                if vad_event.kind == "started":
                    self._speech_started(vad_event.at_ms)
                else:
                    self._speech_stopped(vad_event.at_ms)
            if not self.detector.speaking:
                self._trim_idle_buffer()

    def _commit_buffer(self, item_id: str) -> None:
        """Commit everything since the last commit (by hand or by the idle timeout) and start afresh."""
        self.buffer.extend(self._new_decoder())
        self._commit(bytes(self.buffer), item_id, not_kept_ms=self.buffer_start_ms - self.segment_start_ms)
        self._reset_buffer()

    def _reset_buffer(self) -> None:
        self.buffer.clear()
        self.buffer_start_ms = self.segment_start_ms = self.input_ms
        self._pending_item_id = None
        if self.detector is not None:
            self.detector.reset(self.input_ms)

    def _trim_idle_buffer(self) -> None:
        assert self.detector is not None
        keep = int((self.detector.prefix_ms + IDLE_KEEP_MS) * 48)
        keep -= keep % 2
        excess = len(self.buffer) - keep
        if excess >= _TRIM_STEP_MS * 48:
            del self.buffer[:excess]
            self.buffer_start_ms += excess / 48.0

    def _speech_started(self, audio_start_ms: float) -> None:
        start = max(audio_start_ms, self.buffer_start_ms)
        self._speech_start_ms = start
        self._pending_item_id = self.ids.item()
        self._timer("idle", None, lambda: None)
        self.emit({"type": "input_audio_buffer.speech_started", "audio_start_ms": int(start),
                   "item_id": self._pending_item_id})
        td = self.config["audio"]["input"]["turn_detection"]
        if td.get("interrupt_response", True) and self.active is not None:
            self.active.cancel("turn_detected")

    def _speech_stopped(self, audio_end_ms: float) -> None:
        item_id = self._pending_item_id or self.ids.item()
        self.emit({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": int(audio_end_ms), "item_id": item_id})
        lo = int((self._speech_start_ms - self.buffer_start_ms) * 48)
        hi = int((audio_end_ms - self.buffer_start_ms) * 48)
        lo, hi = max(0, lo - lo % 2), min(len(self.buffer), hi - hi % 2)
        self._commit(bytes(self.buffer[lo:hi]), item_id)
        del self.buffer[:hi]
        self.buffer_start_ms += hi / 48.0
        self.segment_start_ms = audio_end_ms
        self._pending_item_id = None
        td = self.config["audio"]["input"]["turn_detection"]
        if td.get("create_response", True) and self.kind == "realtime":
            self._auto_response()

    def _auto_response(self, *, idle: bool = False) -> None:
        if self.active is not None:
            self.error(self._already_active())
            return
        self.start_response(response_settings(self.config, None), idle=idle)

    def _arm_idle_timer(self, run: ResponseRun) -> None:
        td = self.config["audio"]["input"]["turn_detection"]
        idle_ms = td.get("idle_timeout_ms") if td and td.get("type") == "server_vad" else None
        if idle_ms is None or run.cancel_reason is not None:
            return
        playing_s = max(0.0, run.audio_end_at - asyncio.get_running_loop().time())
        self._timer("idle", playing_s, lambda: self._idle_begins(idle_ms))

    def _idle_begins(self, idle_ms: int) -> None:
        """The last response's audio has played: the idle period starts here on the input timeline."""
        self._idle_start_ms = self.input_ms
        self._timer("idle", idle_ms / 1000.0, self._idle_timeout)

    def _idle_timeout(self) -> None:
        if self.closed or self.active is not None or (self.detector is not None and self.detector.speaking):
            return
        item_id = self.ids.item()
        self.emit({"type": "input_audio_buffer.timeout_triggered", "audio_start_ms": int(self._idle_start_ms),
                   "audio_end_ms": int(self.input_ms), "item_id": item_id})
        self._commit_buffer(item_id)
        self._auto_response(idle=True)

    # --- commit and transcription ----------------------------------------------------------------

    def _commit(self, audio: bytes, item_id: str, not_kept_ms: float = 0.0) -> StoredItem:
        """A user audio item of ``audio``; ``not_kept_ms`` more came before it whose pcm was let go."""
        public = {"id": item_id, "object": "realtime.item", "type": "message", "role": "user",
                  "status": "completed", "content": [{"type": "input_audio", "transcript": None}]}
        item = StoredItem(public=public, audio=bytearray(audio))
        if not_kept_ms > 0:
            item.dropped_ms = len(audio) / 48.0 + not_kept_ms
        previous = self.conversation.insert(item)
        self.emit({"type": "input_audio_buffer.committed", "previous_item_id": previous, "item_id": item_id})
        self.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": public})
        self.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": public})
        if not_kept_ms > 0:
            self.log.info("= committed %s (%.0f ms, the newest %.0f ms of it kept)", item_id, item.audio_ms,
                          len(audio) / 48.0)
        else:
            self.log.info("= committed %s (%.0f ms)", item_id, item.audio_ms)
        self.recognize(item)
        self.limit_audio()
        if self.config["audio"]["input"].get("transcription"):
            task = asyncio.get_running_loop().create_task(self._transcription_events(item))
            self._transcriptions.add(task)
            task.add_done_callback(self._transcriptions.discard)
        return item

    def recognize(self, item: StoredItem) -> None:
        """Start recognizing ``item``'s audio in the pool; the brain and transcription await it."""
        pcm = np.frombuffer(bytes(item.audio), dtype=np.int16)
        item.transcript = asyncio.get_running_loop().create_task(self.pool.transcribe(pcm))

    async def _transcription_events(self, item: StoredItem) -> None:
        assert item.transcript is not None
        model = (self.config["audio"]["input"].get("transcription") or {}).get("model", "whisper-1")
        where = {"item_id": item.id, "content_index": 0}
        try:
            text = await asyncio.shield(item.transcript)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.log.warning("! transcription of %s failed: %s", item.id, exc)
            self.emit({"type": "conversation.item.input_audio_transcription.failed", **where, "error": {
                "type": "transcription_error", "code": "audio_unintelligible",
                "message": "Audio file might be corrupted or unsupported", "param": None}})
            return
        if self.faults.plan.delay_transcription:
            await self._after_current_response()
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
            self.emit({"type": "conversation.item.input_audio_transcription.delta", **where, "delta": delta})
        self.emit({"type": "conversation.item.input_audio_transcription.completed", **where,
                   "transcript": text, "usage": usage})
        content = item.public.get("content") or []
        if content and content[0].get("type") == "input_audio":
            content[0]["transcript"] = text

    async def _after_current_response(self) -> None:
        """Wait until the response answering this turn (if any) has sent ``response.done``."""
        await asyncio.sleep(0)
        run = self.active
        if run is not None and run.task is not None:
            await asyncio.wait({run.task})
