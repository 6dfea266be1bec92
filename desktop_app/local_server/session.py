"""One connection's protocol state machine: frames in, events out.

:meth:`Session.receive` takes each client frame (text or bytes) and never raises on bad input: a
binary frame, bad JSON, an unknown type or field, a missing ``session.type``, an out-of-range value
each become one ``error`` event with the client's ``event_id`` echoed, and the session goes on
(realtime-protocol.md §3.1, §7.3). Valid events are dispatched to handlers here (session, responses),
in :mod:`.input_audio` (buffer, VAD, commit, transcription) and in :mod:`.items` (conversation items).

Events leave through :meth:`emit`, which stamps an ``event_id`` and hands the frame (through the
fault injector) to the connection's writer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from desktop_app.local_server.client_events import CLIENT_EVENTS
from desktop_app.local_server.config import (
    default_session,
    merge_update,
    modalities_problem,
    response_settings,
    voice_lock_problem,
)
from desktop_app.local_server.conversation import Conversation, Ids
from desktop_app.local_server.faults import SessionFaults
from desktop_app.local_server.input_audio import InputAudioMixin
from desktop_app.local_server.items import ItemsMixin
from desktop_app.local_server.options import Options
from desktop_app.local_server.responses import ResponseRun
from desktop_app.local_server.schema import Problem, invalid_value
from desktop_app.local_server.speech import SpeechPool
from desktop_app.local_server.usage import RateWindow
from desktop_app.logtext import summarize_frame

LOG_LINE = 240  # characters of one logged frame (the connection number comes before it)

Writer = Callable[[tuple], None]
"""Receives ``("text", json)``, ``("drop",)`` or ``("close", code, reason)``, in order."""


class Pacer:
    """The real-time clock one audio stream is sent against (``pace``; bursty/slow faults)."""

    def __init__(self, pace: float, faults: SessionFaults, delays: list[float] | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._sent_ms = 0.0
        self._pace = pace
        self._faults = faults
        self._burst_left = faults.burst()
        self._delays = delays

    async def sent(self, ms: float) -> float:
        """Account ``ms`` of audio just sent; wait until the next chunk is due. Returns the loop time
        at which the client will have played everything sent so far."""
        self._sent_ms += ms
        if self._pace <= 0:
            await asyncio.sleep(0)
            return self._loop.time()
        due = self._t0 + self._sent_ms / 1000.0 * self._faults.slowdown / self._pace
        self._burst_left -= 1
        if self._burst_left > 0:
            return due
        self._burst_left = self._faults.burst()
        wait = due - self._loop.time()
        await asyncio.sleep(max(0.0, wait))
        if self._delays is not None and wait >= 0:
            self._delays.append(max(0.0, self._loop.time() - due))
        return due


class Session(InputAudioMixin, ItemsMixin):
    """The state of one connection: session config, conversation, input buffer, responses."""

    def __init__(
        self,
        *,
        model: str,
        kind: str,
        options: Options,
        pool: SpeechPool,
        writer: Writer,
        faults: SessionFaults,
        log: logging.Logger | logging.LoggerAdapter,
        rng: random.Random | None = None,
        pacing_delays: list[float] | None = None,
    ) -> None:
        self.ids = Ids(rng)
        self.kind = kind
        self.options = options
        self.pool = pool
        self.log = log
        self.faults = faults
        self._writer = writer
        self._debug = log.isEnabledFor(logging.DEBUG)
        # The session's real lifetime (``--session-limit``, or a shorter ``expire_after`` fault), which
        # ``expires_at`` advertises.
        self.limit_s = options.session_limit_s
        if faults.plan.expire_after is not None:
            self.limit_s = min(self.limit_s, faults.plan.expire_after)
        self.config = default_session(model, self.ids.make("sess_"), kind, lifetime_s=self.limit_s)
        self.conversation = Conversation(self.ids.make("conv_"))
        self.rate_window = RateWindow()
        self.voice_locked = False
        self.active: ResponseRun | None = None  # the default-conversation response
        self.out_of_band: set[ResponseRun] = set()
        self.last_response_id: str | None = None
        self._pacing_delays = pacing_delays
        self._bucket = 2.0 * options.events_per_second
        self._bucket_at = time.monotonic()
        self.closed = False
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._init_input()

    # --- output ----------------------------------------------------------------------------------

    def emit(self, event: dict[str, Any]) -> None:
        """Send one server event (``type`` first, then a fresh ``event_id``)."""
        if self.closed:
            return
        event = {"type": event["type"], "event_id": self.ids.event(), **{k: v for k, v in event.items() if k != "type"}}
        for action in self.faults.outgoing(event, self.ids.event):
            if self._debug and action[0] == "text":
                self.log.debug("> %s", summarize_frame(action[1], LOG_LINE))
            self._writer(action)

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

    def pacer(self) -> Pacer:
        return Pacer(self.options.pace, self.faults, self._pacing_delays)

    @property
    def chunk_bytes(self) -> int:
        return self.options.chunk_ms * 48

    async def sleep_text_word(self) -> None:
        pace = self.options.pace
        await asyncio.sleep(self.options.text_word_ms / 1000.0 / pace if pace > 0 else 0)

    # --- lifecycle -------------------------------------------------------------------------------

    def open(self) -> None:
        """Send ``session.created`` and start the session timers."""
        self.emit({"type": "session.created", "session": self.config})
        self._timer("expiry", self.limit_s, self._expire)

    def _expire(self) -> None:
        minutes = self.limit_s / 60.0
        self.error(Problem("session_expired", f"Your session hit the maximum duration of {minutes:g} minutes.", None))
        self._writer(("close", 1001, "invalid_request_error.session_expired"))
        self.close()

    def close(self) -> None:
        """The connection is gone (or going): stop every task and timer, send nothing more."""
        if self.closed:
            return
        self.closed = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for run in [self.active, *self.out_of_band]:
            if run is not None:
                run.abandon()
        self._close_input()

    def _timer(self, name: str, delay: float | None, callback: Callable[[], None]) -> None:
        old = self._timers.pop(name, None)
        if old is not None:
            old.cancel()
        if delay is not None and not self.closed:
            self._timers[name] = asyncio.get_running_loop().call_later(max(0.0, delay), callback)

    # --- input -----------------------------------------------------------------------------------

    def _rate_ok(self) -> bool:
        now = time.monotonic()
        rate = self.options.events_per_second
        self._bucket = min(2.0 * rate, self._bucket + (now - self._bucket_at) * rate)
        self._bucket_at = now
        if self._bucket < 1.0:
            return False
        self._bucket -= 1.0
        return True

    def receive(self, frame: str | bytes) -> None:
        """Handle one client frame; every failure becomes an ``error`` event."""
        if self.closed:
            return
        if isinstance(frame, (bytes, bytearray, memoryview)):
            self.error(Problem("invalid_event", "Expected a text WebSocket message; binary frames are not supported.", None))
            return
        if self._debug:
            self.log.debug("< %s", summarize_frame(frame, LOG_LINE))
        if len(frame) > self.options.max_frame_bytes:
            limit = self.options.max_frame_bytes
            self.error(Problem("invalid_value", f"Event too large: {len(frame)} bytes; the maximum is {limit} bytes "
                               f"({limit / 1048576:g} MiB).", None))
            return
        try:
            event = json.loads(frame)
        except ValueError as exc:
            self.error(Problem("invalid_json", f"Invalid event: failed to parse JSON value: {exc}", None))
            return
        if not isinstance(event, dict):
            self.error(Problem("invalid_event", "Invalid event: expected a JSON object.", None))
            return
        event_id = event.get("event_id")
        if not self._rate_ok():
            self.error(Problem("rate_limit_exceeded", f"Too many events: at most {self.options.events_per_second:g} "
                               "client events per second are accepted in one session.", None), event_id)
            return
        kind = event.get("type")
        if kind is None:
            self.error(Problem("invalid_event", "The 'type' field is missing.", "type"), event_id)
            return
        schema = CLIENT_EVENTS.get(kind) if isinstance(kind, str) else None
        if schema is None:
            self.error(invalid_value("type", kind, list(CLIENT_EVENTS)), event_id)
            return
        problem = schema.check(event, "")
        if problem is not None:
            self.error(problem, event_id)
            return
        handler = getattr(self, "on_" + kind.replace(".", "_"))
        try:
            problem = handler(event)
        except Exception as exc:  # a server bug must cost one event, not the session
            self.log.exception("! %s failed", kind)
            problem = Problem(None, f"The server had an error while processing {kind}: {exc}", None)
            self.error(problem, event_id, error_type="server_error")
            return
        if problem is not None:
            self.error(problem, event_id)

    # --- session.update --------------------------------------------------------------------------

    def on_session_update(self, event: dict) -> Problem | None:
        result = merge_update(self.config, event["session"], voice_locked=self.voice_locked, kind=self.kind)
        if isinstance(result, Problem):
            return result
        before = self.config["audio"]["input"]
        self.config = result
        self._input_config_changed(before, result["audio"]["input"])
        self.emit({"type": "session.updated", "session": self.config})
        self.log.info("= session updated")
        return None

    # --- responses -------------------------------------------------------------------------------

    def on_response_create(self, event: dict) -> Problem | None:
        if self.kind != "realtime":
            return Problem("invalid_value", "Responses are not available in a transcription session.", "type")
        overrides = event.get("response") or {}
        refused = modalities_problem(overrides, "response.output_modalities")
        if refused is not None:
            return refused
        conversation = overrides.get("conversation", "auto")
        if conversation not in ("auto", "none", self.conversation.id):
            return Problem("invalid_value", f"Invalid value: '{conversation}'. Conversation not found.",
                           "response.conversation")
        settings = response_settings(self.config, {**overrides, "conversation": "none" if conversation == "none" else "auto"})
        voice = ((overrides.get("audio") or {}).get("output") or {}).get("voice")
        current = self.config["audio"]["output"]["voice"]
        if voice is not None and voice != current and self.voice_locked and conversation != "none":
            return voice_lock_problem("response.audio.output.voice")
        if settings["conversation"] != "none" and self.active is not None:
            return self._already_active()
        if self.faults.refuse_response():
            return Problem("rate_limit_exceeded", "Rate limit reached for tokens per min. Please try again shortly.", None)
        self.start_response(settings)
        return None

    def _already_active(self) -> Problem:
        assert self.active is not None
        return Problem("conversation_already_has_active_response",
                       f"Conversation already has an active response in progress: {self.active.id}. "
                       "Wait until the response is finished before creating a new one.", None)

    def start_response(self, settings: dict[str, Any], *, idle: bool = False) -> None:
        """Start a response (the caller has checked that no default-conversation one is running)."""
        run = ResponseRun(self, settings, idle=idle)
        if settings["conversation"] == "none":
            self.out_of_band.add(run)
        else:
            self.active = run
            self._timer("idle", None, lambda: None)
        run.start()

    def response_finished(self, run: ResponseRun) -> None:
        """Called by a run after its ``response.done``."""
        self.last_response_id = run.id
        self.out_of_band.discard(run)
        if self.active is run:
            self.active = None
            self._arm_idle_timer(run)

    def _find_run(self, response_id: str | None) -> ResponseRun | None:
        runs = [r for r in [self.active, *self.out_of_band] if r is not None and r.running]
        if response_id is None:
            return runs[0] if runs else None
        return next((r for r in runs if r.id == response_id), None)

    def on_response_cancel(self, event: dict) -> Problem | None:
        run = self._find_run(event.get("response_id"))
        if run is None:
            return Problem("response_cancel_not_active", "Cancellation failed: no active response found", None)
        run.cancel("client_cancelled")
        return None

    def on_output_audio_buffer_clear(self, event: dict) -> Problem | None:
        run = self._find_run(None)
        if run is not None:
            run.cancel("client_cancelled")
        response_id = run.id if run is not None else self.last_response_id
        self.emit({"type": "output_audio_buffer.cleared", "response_id": response_id or ""})
        return None
