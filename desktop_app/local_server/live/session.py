"""One GPT-Live session of the local server (``/v1/live/sessions``; live-protocol.md §6), beside the GA
:class:`~desktop_app.local_server.session.Session`, not a subclass of it.

``session.start`` first (strictly validated; a startup error is one ``error`` and no
``session.started``); then the client's continuous audio is the session clock. Every append is
decoded, fed to a fixed turn detector (:class:`~desktop_app.local_server.input_audio.InputBuffer`) and
answered by as much output track (:class:`~.track.OutputTrack`: zeros, or speech). A turn the detector
ends is recognized (the speech pool), sent back as timed ``session.input_transcript.delta`` fragments,
and answered after the pause: the brain's reply is spoken into the track with timed
``session.output_transcript.delta`` fragments, or, when it wants a tool and the session delegates to
``responses``, the :class:`~.backend.Backend` asks the client to run it. Talked over, the assistant
stops by itself after ``Options.live_barge_ms``; nothing is ever truncated. Appends are acknowledged
when the clock reaches them (:mod:`.context`), usage is reported every ``live_usage_s`` of session time,
and ``session.close`` ends with ``session.closed`` (reason, usage, snapshot) before the socket closes.
"""

from __future__ import annotations

import asyncio
import base64
import random
import binascii
import re
import time
from typing import Any

import numpy as np

from desktop_app.local_server.conversation import Ids
from desktop_app.local_server.faults import SessionFaults
from desktop_app.local_server.input_audio import Committed, InputBuffer, SpeechStarted
from desktop_app.local_server.intake import Handler, Intake
from desktop_app.local_server.live.assistant import Assistant
from desktop_app.local_server.live.backend import Backend
from desktop_app.local_server.live.context import Appends, Pending
from desktop_app.local_server.live.schema import IMMUTABLE, LIVE_CLIENT_EVENTS, MAX_INPUT_TOKENS
from desktop_app.local_server.live.track import OutputTrack
from desktop_app.local_server.live.wire import WireAudio, silence_like
from desktop_app.local_server.options import Options
from desktop_app.local_server.outbox import Log, Outbox, Timers, Writer
from desktop_app.local_server.schema import Problem
from desktop_app.local_server.speech import SpeechPool
from desktop_app.local_server.tasks import start_task
from desktop_app.local_server.usage import text_tokens
from desktop_app.realtime.models import LIVE_MODELS, is_live_model

#: The fixed turn detection the model "listens" with: a pause of half a second ends the user's turn.
TURN_DETECTION = {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 0, "silence_duration_ms": 500}
_TYPED = re.compile(r"user typed.*?:\s*(?P<text>.+)$", re.IGNORECASE | re.DOTALL)
# An appended instruction that asks the model to fall silent (the client's stop button), or to answer now.
_STOP = re.compile(r"\bstop (speaking|talking)\b", re.IGNORECASE)
_ANSWER_NOW = re.compile(r"\banswer (it|the user|that) now\b", re.IGNORECASE)


class LiveSession:
    """The state of one GPT-Live session; :meth:`receive` never raises on bad input."""

    def __init__(self, *, options: Options, pool: SpeechPool, writer: Writer, faults: SessionFaults, log: Log,
                 rng: random.Random | None = None, model: str = "", kind: str = "live",
                 pacing_delays: list[float] | None = None) -> None:
        # ``model`` comes in session.start and the output is paced by the input: the server builds either
        # session class with the same arguments, and these two are not used here.
        del model, pacing_delays
        self.options, self.pool, self.log, self.kind = options, pool, log, kind
        self.ids = Ids(rng)
        self.closed = False
        self.config: dict[str, Any] | None = None  # the snapshot, once started
        self._out = Outbox(writer, faults, self.ids, log)
        self._timers = Timers()
        self._track = OutputTrack()
        self._wire: WireAudio | None = None
        self._input = InputBuffer("audio/pcm", TURN_DETECTION, self.ids.item)
        self._assistant = Assistant(emit=self.emit, pool=pool, track=self._track, chunk_ms=options.chunk_ms, log=log,
                                    on_speech_error=self._speech_failed)
        self._appends = Appends(self.emit, self._placed)
        self._client_delegations: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._muted = False
        self._closing = False
        self._barge_at: float | None = None
        self._barged: int | None = None  # the reply talked over (stopped at _barge_at)
        self._speech_from = 0.0  # where the turn being heard started on the timeline
        self._usage_at = options.live_usage_s * 1000.0
        self._pending_out = bytearray()
        handlers: dict[str, Handler] = {
            "session.start": self.on_start, "session.update": self.on_update,
            "session.input_audio.append": self.on_append, "session.input_audio.mute": self.on_mute,
            "session.input_audio.unmute": self.on_mute, "session.instructions.append": self.on_context,
            "session.thinking.append": self.on_context, "session.commentary.append": self.on_context,
            "response.item.create": self.on_item, "response.create": self.on_response_create,
            "session.close": self.on_close,
        }
        self._intake = Intake(handlers, LIVE_CLIENT_EVENTS, self.error, log, max_bytes=options.max_frame_bytes,
                              per_second=options.events_per_second)

    # --- output ---------------------------------------------------------------------------------
    def emit(self, event: dict[str, Any], *, stamped: bool = True) -> None:
        if not self.closed:
            self._out.emit(event, stamped=stamped)

    def error(self, problem: Problem, event_id: Any = None, error_type: str = "invalid_request_error") -> None:
        """Live's ``error``: the failed command's ``event_id`` comes back as ``client_event_id``."""
        self.log.info("! %s: %s", problem.code, problem.message)
        error: dict[str, Any] = {"type": error_type, "code": problem.code or "server_error", "message": problem.message,
                                 "param": problem.param}
        event: dict[str, Any] = {"type": "error", "error": error}
        if isinstance(event_id, str):
            error["client_event_id"] = event["client_event_id"] = event_id
        self.emit(event)

    def _start(self, coro: Any, name: str) -> None:
        task = start_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- lifecycle ------------------------------------------------------------------------------
    def open(self) -> None:
        """Nothing to send: a Live client speaks first (``session.start``)."""

    def receive(self, frame: str | bytes) -> None:
        """Handle one client message; every failure becomes an ``error`` event."""
        if not self.closed:
            self._intake.receive(frame)

    def close(self) -> None:
        """The connection is gone (or going): stop everything, send nothing more."""
        if self.closed:
            return
        self.closed = True
        self._out.close()
        self._timers.stop()
        self._assistant.stop()
        for task in list(self._tasks):
            task.cancel()

    def _end(self, reason: str) -> None:
        """Finish the session: pending work fails, ``session.closed``, then the socket closes."""
        if self.closed or self.config is None:
            return
        self._closing = True
        self._assistant.stop()
        for pending in self._appends.close():
            self.error(Problem("context_injection_incomplete", f"The appended {pending.kind} never reached the "
                               "session timeline before it closed.", None), pending.client_event_id)
        if self._assistant.backend is not None and self._assistant.backend.abandon():
            self.log.info("= a delegated response waiting for tool output was abandoned")
        self.emit({"type": "session.closed", "reason": reason, "usage": self._usage(), "session": self.config})
        self.log.info("= session.closed (%s, %.1f s)", reason, self._track.position_ms / 1000)
        self._out.hang_up(1000, "")
        self.close()

    def _usage(self) -> dict[str, Any]:
        return {"seconds": int(self._track.position_ms // 1000)}

    # --- session.start / session.update ---------------------------------------------------------
    def on_start(self, event: dict[str, Any]) -> Problem | None:
        if self.config is not None:
            return Problem("session_already_started", "The session has already started; send session.start once.",
                           "type")
        session = event["session"]
        model = session["model"]
        if not is_live_model(model) or model not in {m.id for m in LIVE_MODELS}:
            return Problem("invalid_model", f"The model '{model}' is not a GPT-Live model this server offers "
                           f"({', '.join(m.id for m in LIVE_MODELS)}).", "session.model")
        earlier = session.get("input") or []
        if sum(text_tokens(message["content"][0]["text"]) for message in earlier) > MAX_INPUT_TOKENS:
            return Problem("invalid_value", f"'session.input' holds more than {MAX_INPUT_TOKENS} tokens.", "session.input")
        audio = session.get("audio") or {}
        fmt = audio.get("format") or {"type": "audio/pcm", "rate": 24000}
        delegation = session.get("delegation") or {"type": "client"}
        self.config = {"id": self.ids.make("live_"), "expires_at": int(time.time() + self.options.session_limit_s),
                       "status": "active", "model": model, "audio": {"format": fmt, "output": {
                           "voice": (audio.get("output") or {}).get("voice", "marin")}}, "delegation": delegation}
        if session.get("instructions"):
            self.config["instructions"] = session["instructions"]
        for key in ("store", "safety_identifier"):
            if key in session:
                self.config[key] = session[key]
        self._wire = WireAudio(fmt)
        if delegation["type"] == "responses":
            self._assistant.backend = Backend(self.emit, self.ids, delegation["responses"])
        self._assistant.seed(earlier)
        voice = self.config["audio"]["output"]["voice"]
        self._assistant.voice = voice if isinstance(voice, str) else "marin"
        if session.get("instructions"):
            self._assistant.instructions.append(session["instructions"])
        self.emit({"type": "session.started", "session": self.config, **_answering(event)})
        self._timers.set("expiry", self.options.session_limit_s, lambda: self._end("expired"))
        self._timers.set("no_audio", self.options.live_no_audio_s, lambda: self._end("expired"))
        self.log.info("= live session started (%s, %s)", model, delegation["type"])
        return None

    def on_update(self, event: dict[str, Any]) -> Problem | None:
        if (problem := self._not_started()) is not None:
            return problem
        assert self.config is not None
        session = event["session"]
        for name in IMMUTABLE:
            if name in session:
                return Problem("immutable_field_update", f"'session.{name}' cannot change after the session started.",
                               f"session.{name}")
        if "delegation" in session:
            new = session["delegation"]
            old = self.config["delegation"]
            if new is None or new["type"] != old["type"]:
                return Problem("immutable_field_update", "The delegation type cannot change after the session started.",
                               "session.delegation.type")
            if new["type"] == "responses":
                merged = {**old, **{k: v for k, v in new.items() if k != "responses"},
                          "responses": {**old["responses"], **(new.get("responses") or {})}}
                self.config["delegation"] = merged
                assert self._assistant.backend is not None
                self._assistant.backend.config = merged["responses"]
            else:
                self.config["delegation"] = {**old, **new}
        if "triggers" in session:
            self.config["triggers"] = session["triggers"]
        self.emit({"type": "session.updated", "session": self.config, **_answering(event)})
        return None

    def _not_started(self) -> Problem | None:
        if self._closing:
            return Problem("session_closing", "The session is closing; no more commands are accepted.", None)
        if self.config is None:
            return Problem("session_not_started", "Send session.start and wait for session.started first.", "type")
        return None

    # --- the clock: input audio in, output track out --------------------------------------------
    def on_append(self, event: dict[str, Any]) -> Problem | None:
        if (problem := self._not_started()) is not None:
            return problem
        assert self._wire is not None
        try:
            payload = base64.b64decode(event["audio"], validate=True)
        except (binascii.Error, ValueError):
            return Problem("invalid_audio", "Invalid 'audio': expected base64-encoded raw audio.", "audio")
        why = self._wire.problem(payload)
        if why is not None:
            return Problem("invalid_audio", f"Invalid 'audio': {why}.", "audio")
        self._timers.set("no_audio", self.options.live_no_audio_s, lambda: self._end("expired"))
        pcm = self._wire.decode(payload)
        ms = len(payload) / self._wire.bytes_per_ms
        for what in self._input.append_pcm(silence_like(pcm) if self._muted else pcm):
            if isinstance(what, SpeechStarted):
                self._speech_from = what.audio_start_ms
            if isinstance(what, SpeechStarted) and self._assistant.speaking:
                self._barge_at = self._track.position_ms + self.options.live_barge_ms
                self._barged = self._assistant.reply
                self.log.info("= talked over at %.0f ms: the assistant stops in %d ms", self._track.position_ms,
                              self.options.live_barge_ms)
            elif isinstance(what, Committed):
                self._heard(what)
        self._play(ms)
        return None

    def _play(self, ms: float) -> None:
        """Send ``ms`` of output track (in chunks of ``chunk_ms``) with the words that start in it."""
        assert self._wire is not None
        pcm, words = self._track.pull(ms)
        now = self._track.position_ms
        for word in words:
            self.emit({"type": "session.output_transcript.delta", "delta": word.text, "start_ms": word.start_ms,
                       "end_ms": word.end_ms})
        self._pending_out.extend(self._wire.encode(pcm))
        chunk = int(self.options.chunk_ms * self._wire.bytes_per_ms) & ~1
        while len(self._pending_out) >= chunk:
            delta = base64.b64encode(bytes(self._pending_out[:chunk])).decode("ascii")
            del self._pending_out[:chunk]
            self.emit({"type": "session.output_audio.delta", "delta": delta}, stamped=False)
        if self._barge_at is not None and now >= self._barge_at:
            self._barge_at = None
            if self._assistant.speaking and self._barged is not None:  # the reply talked over, not a later one
                self._assistant.stop(self._barged)
                self.log.info("= stopped speaking (talked over) after %r", " ".join(self._track.spoken)[-60:])
        self._appends.advance(now)
        if now >= self._usage_at:
            self._usage_at += self.options.live_usage_s * 1000.0
            self.emit({"type": "session.usage.updated", "usage": self._usage()})

    # --- the user's turns -----------------------------------------------------------------------
    def _heard(self, committed: Committed) -> None:
        """A turn the detector ended: recognize it now, answer it in order."""
        end = self._input.input_ms
        start = max(self._speech_from, end - len(committed.pcm) / 48.0)
        pcm = committed.pcm[-int((end - start + 100) * 48) & ~1:]  # the turn (from 100 ms before its onset)
        text = start_task(self.pool.transcribe(np.frombuffer(pcm, dtype=np.int16)),
                          name=f"live recognize {committed.item_id}")
        self._start(self._assistant.heard(text, start, end), "live turn")

    def _speech_failed(self, exc: BaseException) -> None:
        self.log.warning("! synthesis failed: %s", exc)
        self.error(Problem(None, "The server could not synthesize speech for this reply.", None), None, "server_error")

    # --- appended context, delegation -----------------------------------------------------------
    def on_context(self, event: dict[str, Any]) -> Problem | None:
        if (problem := self._not_started()) is not None:
            return problem
        assert self.config is not None
        delegation_id = event["delegation_id"]
        if delegation_id is not None:
            if self.config["delegation"]["type"] == "responses":
                return Problem("invalid_value", "delegation_id must be null with Responses delegation.", "delegation_id")
            if delegation_id not in self._client_delegations:
                return Problem("invalid_value", f"No client delegation '{delegation_id}' in this session.",
                               "delegation_id")
        if text_tokens(event["content"]) > 500:
            return Problem("string_above_max_length", "Appended content is limited to 500 tokens.", "content")
        self._appends.add(event["type"].split(".")[1], event, self._track.position_ms)
        return None

    def _placed(self, pending: Pending) -> None:
        """An append reached the timeline: instructions steer (a typed message is answered), commentary is spoken."""
        if pending.kind == "instructions":
            typed = _TYPED.search(pending.content)
            if _STOP.search(pending.content) and typed is None:
                self.log.info("= asked to stop speaking")
                self._assistant.stop()
            elif _ANSWER_NOW.search(pending.content) and typed is None:
                self._start(self._assistant.answer(), "live answer")
            elif typed is None:
                self._assistant.instructions.append(pending.content)
            else:
                self._start(self._assistant.typed(typed.group("text").strip()), "live typed")
        elif pending.kind == "commentary":
            self._start(self._assistant.comment(pending.content), "live commentary")

    def on_item(self, event: dict[str, Any]) -> Problem | None:
        if (problem := self._not_started() or self._needs_backend()) is not None:
            return problem
        assert self._assistant.backend is not None
        return self._assistant.backend.item(event["item"])

    def on_response_create(self, event: dict[str, Any]) -> Problem | None:
        if (problem := self._not_started() or self._needs_backend()) is not None:
            return problem
        assert self._assistant.backend is not None
        continued = self._assistant.backend.create()
        if isinstance(continued, Problem):
            return continued
        self._start(self._assistant.continued(continued), "live backend")
        return None

    def _needs_backend(self) -> Problem | None:
        if self._assistant.backend is None:
            return Problem("invalid_request_error", "response.* commands need Responses delegation "
                           "(session.delegation.type 'responses').", "type")
        return None

    def on_mute(self, event: dict[str, Any]) -> Problem | None:
        if (problem := self._not_started()) is not None:
            return problem
        self._muted = event["type"].endswith(".mute")
        self.emit({"type": "session.input_audio.muted" if self._muted else "session.input_audio.unmuted",
                   **_answering(event)})
        return None

    def on_close(self, event: dict[str, Any]) -> Problem | None:
        if (problem := self._not_started()) is not None:
            return problem
        self._end("close_requested")
        return None


def _answering(event: dict[str, Any]) -> dict[str, Any]:
    """``client_event_id`` for the acknowledgement of ``event`` (when it had an ``event_id``)."""
    event_id = event.get("event_id")
    return {"client_event_id": event_id} if isinstance(event_id, str) else {}
