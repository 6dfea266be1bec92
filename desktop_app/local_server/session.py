"""One Realtime GA session, whatever carries it: client events in, server events and audio out.

:meth:`Session.receive` never raises on bad input: every refused message becomes one ``error`` event
with the client's ``event_id`` echoed, and the session goes on (§3.1, §7.3; :mod:`.intake`). The
session wires parts that each own their state — :class:`~.outbox.Outbox`, :class:`~.outbox.Timers`,
:class:`~.input_audio.InputBuffer` (sans I/O), :class:`~.conversation.Conversation`,
:class:`~.audio_out.AudioOut`, :class:`~.runs.Runs` — and keeps the session object and the voice lock.

Transport seams (docs/architecture.md, "The local server"): ``writer`` takes every outgoing action;
:meth:`Session.receive` one client event's text (WebSocket frame or data-channel message);
:meth:`Session.feed_pcm` input audio as decoded pcm16 24 kHz (a WebRTC track); ``audio_out`` builds
where responses' audio goes (deltas by default; a server that owns playback reports what was heard).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import random
from typing import Any

from desktop_app.local_server.audio_out import AudioOut, AudioOutFactory, EventAudioOut, Heard, Pacer
from desktop_app.local_server.client_events import CLIENT_EVENTS
from desktop_app.local_server.config import default_session, merge_update, response_request, response_settings
from desktop_app.local_server.conversation import Conversation, Ids
from desktop_app.local_server.faults import SessionFaults
from desktop_app.local_server.input_audio import BufferEvent, Committed, InputBuffer, SpeechStarted
from desktop_app.local_server.intake import Handler, Intake
from desktop_app.local_server.mcp_hub import McpHub
from desktop_app.local_server.items import create_item, delete_item, retrieve_item, truncate, truncate_item
from desktop_app.local_server.options import Options
from desktop_app.local_server.outbox import Emit, Log, Outbox, Timers, Writer
from desktop_app.local_server.responses import ResponseRun, RunContext
from desktop_app.local_server.runs import Runs
from desktop_app.local_server.schema import Problem
from desktop_app.local_server.speech import SpeechPool
from desktop_app.local_server.usage import RateWindow
from desktop_app.local_server.user_audio import Transcriptions, commit_item, recognize

__all__ = ["Session", "Writer"]


class Session:
    """The state of one Realtime session: session config, conversation, input buffer, responses."""

    def __init__(
        self,
        *,
        model: str,
        kind: str,
        options: Options,
        pool: SpeechPool,
        writer: Writer,
        faults: SessionFaults,
        log: Log,
        rng: random.Random | None = None,
        pacing_delays: list[float] | None = None,
        audio_out: AudioOutFactory | None = None,
    ) -> None:
        self.ids = Ids(rng)
        self.kind = kind
        self.options = options
        self.pool = pool
        self.log = log
        self.faults = faults
        self._debug = log.isEnabledFor(logging.DEBUG)
        self.closed = False
        self._pacing_delays = pacing_delays
        self._out = Outbox(writer, faults, self.ids, log)
        self._timers = Timers()
        # The session's real lifetime (``--session-limit``, or a shorter ``expire_after`` fault), which
        # ``expires_at`` advertises.
        self.limit_s = options.session_limit_s
        if faults.plan.expire_after is not None:
            self.limit_s = min(self.limit_s, faults.plan.expire_after)
        self.config = default_session(model, self.ids.make("sess_"), kind, lifetime_s=self.limit_s)
        self.conversation = Conversation(self.ids.make("conv_"))
        self.rate_window = RateWindow()
        self.voice_locked = False
        audio_in = self.config["audio"]["input"]
        self.input = InputBuffer(audio_in["format"]["type"], audio_in["turn_detection"], self.ids.item)
        self.audio_out: AudioOut = (audio_out or self._event_audio_out)(self.emit)
        self._transcriptions = Transcriptions()
        self.mcp = McpHub(self.emit, self.conversation, self.ids, log)  # the session's MCP servers
        self._run_context = RunContext(
            emit=self.emit, conversation=self.conversation, ids=self.ids, speech=pool, audio_out=self.audio_out,
            log=log, chunk_bytes=options.chunk_ms * 48,
            text_word_s=options.text_word_ms / 1000.0 / options.pace if options.pace > 0 else 0.0,
            lock_voice=self._lock_voice, limit_audio=self.limit_audio, finished=self._response_finished,
            mcp=self.mcp)
        self.runs = Runs(self._run_context)
        handlers: dict[str, Handler] = {
            "session.update": self.on_session_update,
            "input_audio_buffer.append": self.on_input_audio_buffer_append,
            "input_audio_buffer.commit": self.on_input_audio_buffer_commit,
            "input_audio_buffer.clear": self.on_input_audio_buffer_clear,
            "conversation.item.create": self.on_conversation_item_create,
            "conversation.item.retrieve": self.on_conversation_item_retrieve,
            "conversation.item.truncate": self.on_conversation_item_truncate,
            "conversation.item.delete": self.on_conversation_item_delete,
            "response.create": self.on_response_create,
            "response.cancel": self.on_response_cancel,
            "output_audio_buffer.clear": self.on_output_audio_buffer_clear,
        }
        self._intake = Intake(handlers, CLIENT_EVENTS, self.error, log, max_bytes=options.max_frame_bytes,
                              per_second=options.events_per_second)

    def _event_audio_out(self, emit: Emit) -> AudioOut:
        """The WebSocket's output audio: deltas paced against ``Options.pace`` (and the pacing faults)."""
        return EventAudioOut(emit, lambda: Pacer(self.options.pace, self.faults, self._pacing_delays))

    # --- output ----------------------------------------------------------------------------------

    def emit(self, event: dict[str, Any]) -> None:
        """Send one server event (``type`` first, then a fresh ``event_id``)."""
        if not self.closed:
            self._out.emit(event)

    def _emit_all(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.emit(event)

    def error(self, problem: Problem, event_id: Any = None, error_type: str = "invalid_request_error") -> None:
        """Send an ``error`` event; ``event_id`` is the failed client event's own id (or null)."""
        self.log.info("! %s: %s", problem.code, problem.message)
        self.emit({"type": "error", "error": {
            "type": error_type, "code": problem.code, "message": problem.message, "param": problem.param,
            "event_id": event_id if isinstance(event_id, str) else None}})

    def limit_audio(self) -> None:
        """Hold the conversation's pcm to ``Options.audio_budget_s`` (after it gained audio)."""
        dropped = self.conversation.limit_audio(self.options.audio_budget_s)
        if dropped and self._debug:
            self.log.debug("= let go of the audio of %d older item(s) (%.0f s): budget %g s", len(dropped),
                           sum(item.audio_ms for item in dropped) / 1000.0, self.options.audio_budget_s)

    def _lock_voice(self) -> None:
        self.voice_locked = True

    # --- lifecycle -------------------------------------------------------------------------------

    def open(self) -> None:
        """Send ``session.created`` and start the session timers."""
        self.emit({"type": "session.created", "session": self.config})
        self._timers.set("expiry", self.limit_s, self._expire)

    def start(self, initial: dict[str, Any] | None = None) -> Problem | None:
        """:meth:`open` with a config applied first (a WebRTC offer's ``session`` part, schema-checked),
        so ``session.created`` shows it. A refused config is returned; the defaults then stand."""
        result = merge_update(self.config, initial, voice_locked=False, kind=self.kind) if initial else None
        if result is not None and not isinstance(result, Problem):
            self.config = result
            audio_in = result["audio"]["input"]
            self.input.configure(audio_in["turn_detection"], audio_in["format"]["type"])  # nothing buffered yet
        self.open()
        return result if isinstance(result, Problem) else None

    def _expire(self) -> None:
        minutes = self.limit_s / 60.0
        self.error(Problem("session_expired", f"Your session hit the maximum duration of {minutes:g} minutes.", None))
        self._out.hang_up(1001, "invalid_request_error.session_expired")
        self.close()

    def close(self) -> None:
        """The connection is gone (or going): stop every task and timer, send nothing more."""
        if self.closed:
            return
        self.closed = True
        self._out.close()
        self._timers.stop()
        self.runs.abandon_all()
        self.mcp.close()
        self._transcriptions.cancel_all()
        for item in self.conversation:
            if item.transcript is not None and not item.transcript.done():
                item.transcript.cancel()

    # --- input -----------------------------------------------------------------------------------

    def receive(self, frame: str | bytes) -> None:
        """Handle one client message; every failure becomes an ``error`` event."""
        if not self.closed:
            self._intake.receive(frame)

    def feed_pcm(self, pcm: bytes) -> None:
        """Input audio as decoded pcm16 24 kHz mono, straight into the input buffer: the seam for a
        transport that carries audio as media (a WebRTC track's decoded frames), not as
        ``input_audio_buffer.append`` events. Turn detection, commits and responses follow as for
        appended audio. Raises ValueError on an odd byte count (a transport bug, not client input)."""
        if not self.closed:
            self._buffer_events(self.input.append_pcm(pcm))

    # --- session.update --------------------------------------------------------------------------

    def on_session_update(self, event: dict[str, Any]) -> Problem | None:
        result = merge_update(self.config, event["session"], voice_locked=self.voice_locked, kind=self.kind)
        if isinstance(result, Problem):
            return result
        self.config = result
        audio_in = result["audio"]["input"]
        if audio_in["turn_detection"] is None:
            self._timers.cancel("idle")
        self._buffer_events(self.input.configure(audio_in["turn_detection"], audio_in["format"]["type"]))
        self.emit({"type": "session.updated", "session": self.config})
        self.mcp.configure(self.config["tools"])
        self.log.info("= session updated")
        return None

    # --- the input buffer ------------------------------------------------------------------------

    def on_input_audio_buffer_append(self, event: dict[str, Any]) -> Problem | None:
        try:
            payload = base64.b64decode(event["audio"], validate=True)
        except (binascii.Error, ValueError):
            return Problem("invalid_value", "Invalid 'audio': expected base64-encoded audio data.", "audio")
        try:
            happened = self.input.append(payload)
        except ValueError as exc:
            return Problem("invalid_value", f"Invalid 'audio': {exc}.", "audio")
        self._buffer_events(happened)
        return None

    def on_input_audio_buffer_commit(self, event: dict[str, Any]) -> Problem | None:
        happened = self.input.commit()
        if isinstance(happened, Problem):
            return happened
        self._buffer_events(happened)
        return None

    def on_input_audio_buffer_clear(self, event: dict[str, Any]) -> Problem | None:
        self._buffer_events(self.input.clear())
        return None

    def _buffer_events(self, happened: list[BufferEvent]) -> None:
        """Act on what the input buffer reports, in order."""
        td = self.config["audio"]["input"]["turn_detection"] or {}
        for what in happened:
            if isinstance(what, Committed):
                self._commit(what)
                if what.cause == "timeout":
                    self._auto_response(idle=True)
                elif what.cause == "speech" and td.get("create_response", True) and self.kind == "realtime":
                    self._auto_response()
                continue
            if isinstance(what, SpeechStarted):
                self._timers.cancel("idle")
            self.emit(what.wire())
            if isinstance(what, SpeechStarted) and td.get("interrupt_response", True):
                if self.runs.active is not None:
                    self.runs.active.cancel("turn_detected")
                heard = self._cut_playback()
                if heard is not None:
                    self.emit({"type": "output_audio_buffer.cleared", "response_id": heard.response_id})

    def _commit(self, committed: Committed) -> None:
        """A committed segment becomes a user audio item: events, recognition, transcription."""
        item = commit_item(self.conversation, committed, self.emit, self.log)
        recognize(item, self.pool)
        self.limit_audio()
        transcription = self.config["audio"]["input"].get("transcription")
        if transcription:
            delay = self._after_current_response if self.faults.plan.delay_transcription else None
            self._transcriptions.start(item, transcription.get("model", "whisper-1"), self.emit, self.log, delay)

    async def _after_current_response(self) -> None:
        """Wait until the response answering this turn (if any) has sent ``response.done``."""
        await asyncio.sleep(0)
        run = self.runs.active
        if run is not None and run.task is not None:
            await asyncio.wait({run.task})

    def _auto_response(self, *, idle: bool = False) -> None:
        if self.runs.active is not None:
            self.error(self.runs.already_active())
            return
        self.start_response(response_settings(self.config, None), idle=idle)

    def _arm_idle_timer(self, run: ResponseRun) -> None:
        """§3.6 G: the idle period starts when the answer's audio has played, and lasts ``idle_timeout_ms``."""
        td = self.config["audio"]["input"]["turn_detection"]
        idle_ms = td.get("idle_timeout_ms") if td and td.get("type") == "server_vad" else None
        if idle_ms is None or run.cancel_reason is not None:
            return
        playing_s = max(0.0, run.audio_end_at - asyncio.get_running_loop().time())
        self._timers.set("idle", playing_s, lambda: self._idle_begins(idle_ms))

    def _idle_begins(self, idle_ms: int) -> None:
        self.input.idle_begins()
        self._timers.set("idle", idle_ms / 1000.0, self._idle_timeout)

    def _idle_timeout(self) -> None:
        if self.closed or self.runs.active is not None or self.input.speaking:
            return
        self._buffer_events(self.input.timeout())

    # --- conversation items ----------------------------------------------------------------------

    def on_conversation_item_create(self, event: dict[str, Any]) -> Problem | None:
        created = create_item(self.conversation, event, new_id=self.ids.item,
                                    input_format=self.config["audio"]["input"]["format"]["type"])
        if isinstance(created, Problem):
            return created
        self._emit_all(created.events)
        if created.recognize:
            recognize(created.item, self.pool)
        self.limit_audio()
        return None

    def on_conversation_item_retrieve(self, event: dict[str, Any]) -> Problem | None:
        return self._emit_or_refuse(retrieve_item(self.conversation, event))

    def on_conversation_item_delete(self, event: dict[str, Any]) -> Problem | None:
        return self._emit_or_refuse(delete_item(self.conversation, event))

    def on_conversation_item_truncate(self, event: dict[str, Any]) -> Problem | None:
        truncated = truncate_item(self.conversation, event)
        if isinstance(truncated, Problem):
            return truncated
        self._emit_all(truncated)
        self.log.info("= truncated %s at %d ms", event["item_id"], truncated[0]["audio_end_ms"])
        return None

    def _emit_or_refuse(self, result: list[dict[str, Any]] | Problem) -> Problem | None:
        if isinstance(result, Problem):
            return result
        self._emit_all(result)
        return None

    def _cut_playback(self) -> Heard | None:
        """Drop output audio not yet played; when the server owns playback (WebRTC), truncate the
        sounding item to what was heard, as a client would over a WebSocket."""
        heard = self.audio_out.clear()
        if heard is None:
            return None
        item = self.conversation.get(heard.item_id)
        if item is not None:
            end_ms = truncate(item, heard.audio_end_ms)
            self.emit({"type": "conversation.item.truncated", "item_id": item.id, "content_index": 0,
                       "audio_end_ms": end_ms})
        return heard

    # --- responses -------------------------------------------------------------------------------

    @property
    def active(self) -> ResponseRun | None:
        """The default-conversation response in progress."""
        return self.runs.active

    def on_response_create(self, event: dict[str, Any]) -> Problem | None:
        if self.kind != "realtime":
            return Problem("invalid_value", "Responses are not available in a transcription session.", "type")
        settings = response_request(self.config, event.get("response") or {}, conversation_id=self.conversation.id,
                                    voice_locked=self.voice_locked)
        if isinstance(settings, Problem):
            return settings
        if settings["conversation"] != "none" and self.runs.active is not None:
            return self.runs.already_active()
        if self.faults.refuse_response():
            return Problem("rate_limit_exceeded", "Rate limit reached for tokens per min. Please try again shortly.", None)
        self.start_response(settings)
        return None

    def start_response(self, settings: dict[str, Any], *, idle: bool = False) -> None:
        """Start a response (the caller has checked that no default-conversation one is running)."""
        self.runs.start(settings, idle=idle)
        if settings["conversation"] != "none":
            self._timers.cancel("idle")

    def _response_finished(self, run: ResponseRun) -> None:
        """Right after a run's ``response.done``: the rate window, and the run is no longer active."""
        self.rate_window.spend(run.usage.total)
        self.emit({"type": "rate_limits.updated", "rate_limits": self.rate_window.event_body()})
        if self.runs.finished(run):
            self._arm_idle_timer(run)

    def on_response_cancel(self, event: dict[str, Any]) -> Problem | None:
        run = self.runs.find(event.get("response_id"))
        if run is None:
            return Problem("response_cancel_not_active", "Cancellation failed: no active response found", None)
        run.cancel("client_cancelled")
        return None

    def on_output_audio_buffer_clear(self, event: dict[str, Any]) -> Problem | None:
        run = self.runs.find(None)
        if run is not None:
            run.cancel("client_cancelled")
        self._cut_playback()
        response_id = run.id if run is not None else self.runs.last_response_id
        self.emit({"type": "output_audio_buffer.cleared", "response_id": response_id or ""})
        return None
