"""The sans-I/O GPT-Live connection: the ``live`` :class:`~desktop_app.realtime.dialect.Dialect`.

::

    conn = LiveConnection()
    conn.update_session(config)           # the first call sends session.start (config held until then)
    conn.receive_message(text)            # every TEXT frame; conn.receive_closed(code, reason) once
    conn.append_audio(pcm)                # continuously, silence included: it is the session's clock
    for frame in conn.frames_to_send(): await socket.send(frame)
    for event in conn.events_received(): controller.handle(event)

What the controller sees is the shared vocabulary (see :mod:`.turns` and :mod:`.delegation`): ``session.created``
when ``session.started`` arrives, user and assistant turns as items with transcripts, the assistant's voice as
``response.output_audio.delta``, backend work as responses with function calls, ``error`` with ``event_id`` = the
Live ``client_event_id``, and ``ConnectionClosed`` carrying the verdict on ``session.closed.reason``. The Live events
themselves (usage, close, delegation, info) are passed on too, after what they mean. The receive path never raises;
commands whose trait is off raise :class:`~desktop_app.realtime.errors.UnsupportedCommand`. A new session starts
with the conversation so far (:meth:`LiveConnection.seed_context`, :mod:`.context`).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from typing import Any

from desktop_app.realtime.commands import EventIds
from desktop_app.realtime.conversation import Conversation
from desktop_app.realtime.dialect import DialectTraits
from desktop_app.realtime.errors import ConnectionClosedError, LocalUsageError, ProtocolError, UnsupportedCommand
from desktop_app.realtime.events import (ConnectionClosed, ConversationItemAdded, ErrorEvent, ErrorInfo,
                                         ProtocolErrorEvent, ServerEvent, SessionCreated, UnknownEvent)
from desktop_app.realtime.logfmt import summarize
from desktop_app.realtime.models import DEFAULT_DELEGATION_MODEL
from desktop_app.realtime.session_config import PCM24K, SessionConfig, check_locked
from desktop_app.realtime.usage import Usage

from . import commands, config as live_config, context
from .closing import close_verdict
from .delegation import Delegations
from .energy import voiced
from .events import (DelegationCreated, InputFragment, LiveError, LiveInfo, LiveOutputAudio, LiveSessionClosed,
                     LiveSessionStarted, LiveSessionUpdated, OutputFragment, ResponseEnvelope, UsageUpdated,
                     parse_live_event, usage_seconds)
from .turns import Turns

LIVE_TRAITS = DialectTraits(
    name="live", turn_detection=False, input_buffer=False, responses=False, truncation=False,
    text_messages=True,  # a typed message goes in as an appended instruction; the model answers by voice
    item_deletion=False, context_replay=False, context_seed=True, stop_instruction=True, mcp_tools=False,
    live_fields=frozenset({"instructions", "tools", "tool_choice", "parallel_tool_calls"}),
    continuous_input=True, images=False, billed_per_second=True,
)
"""GPT-Live: no input buffer, responses, truncation or item edits; continuous input; billed by time; the
earlier conversation goes into ``session.start``; MCP servers are not sent (live-protocol.md §2 lists
function tools and web search for the backend; only the SDK's wider list has MCP)."""

log = logging.getLogger("parley.live")


class LiveConnection:
    """One GPT-Live session's protocol state. Not thread-safe: use it from the event loop only."""

    traits = LIVE_TRAITS

    def __init__(self, *, event_ids: EventIds | None = None, logger: logging.Logger | None = None,
                 backend_model: str = DEFAULT_DELEGATION_MODEL) -> None:
        self._ids = event_ids or EventIds()
        self._log = logger or log
        self._debug = self._log.isEnabledFor(logging.DEBUG)
        self._backend_model = backend_model
        self._frames: list[str] = []
        self._events: list[ServerEvent] = []
        self._conversation = Conversation()
        self._turns = Turns(lambda prefix: f"{prefix}live_{secrets.token_hex(6)}")
        self._delegations = Delegations()
        self._requested: SessionConfig | None = None
        self._sent: SessionConfig | None = None  # what the server has been told (start + appends/updates)
        self._session: SessionConfig | None = None
        self._start_id: str | None = None
        self._seed: list[dict[str, Any]] = []  # session.start.session.input
        self._answer_seed = False  # the seed ends with a question that was never answered
        self._seconds = 0.0
        self._close_sent = False
        self._session_closed: LiveSessionClosed | None = None
        self._closed: ConnectionClosed | None = None
        self._seen_unknown: set[str] = set()

    # --- state ----------------------------------------------------------------------------------
    @property
    def session(self) -> SessionConfig | None:
        """The session as started (None before ``session.started``); it has no turn detection."""
        return self._session

    @property
    def requested_session(self) -> SessionConfig | None:
        return self._requested

    @property
    def conversation(self) -> Conversation:
        return self._conversation

    @property
    def usage(self) -> Usage:
        """Billed session seconds (the service's cumulative count) and the backend's tokens."""
        return self._delegations.usage + Usage(live_seconds=self._seconds)

    def cost(self) -> float | None:
        session = self._session or self._requested
        return self.usage.cost(session.model) if session else None

    @property
    def closed(self) -> bool:
        """The socket closed, or ``session.close`` was sent (no command is accepted from then on)."""
        return self._closed is not None or self._close_sent

    @property
    def close_info(self) -> ConnectionClosed | None:
        return self._closed

    @property
    def closed_reason(self) -> str | None:
        """``session.closed.reason`` once it came."""
        return self._session_closed.reason if self._session_closed is not None else None

    @property
    def voice_locked(self) -> bool:
        """The voice is fixed from the start of a Live session."""
        return self._start_id is not None

    @property
    def response_pending(self) -> bool:
        """The assistant is speaking a reply, or its backend is working on a delegated task."""
        return self._turns.replying or self._delegations.working

    @property
    def active_response_id(self) -> str | None:
        """The reply being spoken (a barge-in silences its audio locally)."""
        return self._turns.response_id

    @property
    def can_commit(self) -> bool:
        return False

    @property
    def appended_ms_since_commit(self) -> float:
        return 0.0

    def received_ms(self, item_id: str) -> int:
        return self._turns.received_ms(item_id)

    @property
    def session_ms(self) -> float:
        """The session clock: milliseconds of input audio sent."""
        return self._turns.now_ms

    # --- output ---------------------------------------------------------------------------------
    def frames_to_send(self) -> list[str]:
        frames, self._frames = self._frames, []
        return frames

    def events_received(self) -> list[ServerEvent]:
        events, self._events = self._events, []
        return events

    # --- commands -------------------------------------------------------------------------------
    def update_session(self, config: SessionConfig) -> str | None:
        """The first call sends ``session.start``; later ones append changed instructions or update the
        backend's tools (the rest is fixed for the session). Returns the id of the frame sent, or None."""
        self._check_open("update_session")
        config.validate()
        if self._start_id is None:
            self._requested = self._sent = config
            session = live_config.live_session(config, self._backend_model, self._seed)
            self._start_id = self._send(commands.session_start(session, event_id=self._ids()))
            return self._start_id
        check_locked(self._requested, config, voice_locked=True)
        self._requested = config
        return self._apply_changes() if self._session is not None else None

    def _apply_changes(self) -> str | None:
        if self._sent is None or self._requested is None:
            return None
        frames, self._sent = live_config.session_changes(self._sent, self._requested, self._ids, self._log)
        sent = [self._send(frame) for frame in frames]
        return sent[0] if sent else None

    def append_audio(self, audio: bytes) -> str:
        """Input audio in the session's format, silence included (the session's clock runs on it)."""
        self._check_open("append_audio")
        self._send(commands.input_audio_append(audio), quiet=True)
        fmt = (self._session or self._requested or SessionConfig()).input_format
        self._deliver(self._turns.advance(len(audio) / _bytes_per_ms(fmt.type, fmt.rate)))
        return ""

    def send_text(self, text: str, *, respond: bool = True) -> str:
        """A typed message: an appended instruction the model answers by voice; shown as a user item."""
        self._check_open("send_text")
        item_id = f"item_live_t{secrets.token_hex(6)}"
        self._deliver([ConversationItemAdded(item={"id": item_id, "object": "realtime.item", "type": "message",
                                                   "role": "user", "status": "completed",
                                                   "content": [{"type": "input_text", "text": text}]})])
        words = commands.clip(f"The user typed this message instead of speaking; answer it: {text}")
        return self._send(commands.append("instructions", words, delegation_id=None, event_id=self._ids()))

    def send_function_output(self, call_id: str, output: str, *, respond: bool = True) -> str:
        """A delegated tool call's result for the backend; with ``respond``, the backend continues once
        every call of its response has an output."""
        self._check_open("send_function_output")
        if not self._delegations.output(call_id):
            self._log.warning("! output for unknown call %s sent anyway", call_id)
        event_id = self._send(commands.function_call_output(call_id, output, event_id=self._ids()))
        self._deliver([ConversationItemAdded(item={"id": f"item_live_o{secrets.token_hex(6)}", "type":
                                                   "function_call_output", "call_id": call_id, "output": output})])
        if respond and self._delegations.continue_ready():
            self._send(commands.response_create(event_id=self._ids()))
        return event_id

    def create_response(self, response: dict[str, Any] | None = None, **params: Any) -> str:
        """Continue the delegated response whose calls all have outputs (Live's ``response.create``).
        The voice itself has no responses to ask for: anything else raises UnsupportedCommand."""
        self._check_open("create_response")
        if not self._delegations.continue_ready():
            raise UnsupportedCommand("live", "response.create without a delegated response to continue")
        return self._send(commands.response_create(event_id=self._ids()))

    def seed_context(self, items: list[dict[str, Any]], *, answer: bool = False) -> int:
        """The earlier conversation as ``session.start.session.input`` (the newest that fit its limits,
        :func:`.context.input_messages`); ``answer``: once started, an appended instruction asks for the answer
        the last session never gave. Call before the first :meth:`update_session`."""
        if self._start_id is not None:
            raise LocalUsageError("seed_context after session.start")
        self._seed = context.input_messages(items)
        self._answer_seed = answer and bool(self._seed) and self._seed[-1]["role"] == "user"
        return len(self._seed)

    def ask_to_stop(self) -> str:
        """``session.instructions.append`` asking the model to stop speaking (the stop button, §4b)."""
        self._check_open("ask_to_stop")
        return self._send(commands.append("instructions", context.STOP_SPEAKING, delegation_id=None,
                                          event_id=self._ids()))

    def close_session(self) -> bool:
        """Send ``session.close`` (once); the server answers ``session.closed`` and closes the socket."""
        if self._closed is not None or self._start_id is None:
            return False
        if not self._close_sent:
            self._close_sent = True
            self._send(commands.session_close(event_id=self._ids()))
        return True

    def media_audio(self, item_id: str | None, pcm16_bytes: int) -> None:
        """Input that travelled as media (a WebRTC track) still runs the session clock; output media has
        no item here (Live's WebRTC variant is not built: its replies come as events only)."""
        if item_id is None:
            self._deliver(self._turns.advance(pcm16_bytes / 48.0))

    def clear_output_audio(self) -> str:
        raise UnsupportedCommand("live", "output_audio_buffer.clear")

    def commit_audio(self) -> str:
        raise UnsupportedCommand("live", "input_audio_buffer.commit")

    def clear_audio(self) -> str:
        raise UnsupportedCommand("live", "input_audio_buffer.clear")

    def cancel_response(self) -> bool:
        raise UnsupportedCommand("live", "response.cancel")

    def truncate(self, item_id: str, played_ms: int, content_index: int = 0) -> int | None:
        raise UnsupportedCommand("live", "conversation.item.truncate")

    def create_item(self, item: dict[str, Any], previous_item_id: str | None = None) -> str:
        raise UnsupportedCommand("live", "conversation.item.create")

    def delete_item(self, item_id: str) -> str:
        raise UnsupportedCommand("live", "conversation.item.delete")

    # --- input ----------------------------------------------------------------------------------
    def receive_message(self, text: str | bytes) -> None:
        """Take one server frame. Never raises."""
        if self._closed is not None:
            return
        try:
            event = parse_live_event(text)
        except ProtocolError as exc:
            self._log.warning("! %s | %s", exc, exc.snippet)
            self._events.append(ProtocolErrorEvent(error=exc, snippet=exc.snippet))
            return
        if self._debug and not isinstance(event, LiveOutputAudio):
            self._log.debug("< %s", event)
        try:
            self._deliver(self._apply(event))
        except ProtocolError as exc:
            self._log.warning("! %s", exc)
            self._events.append(ProtocolErrorEvent(error=exc, snippet=str(event)[:200]))
        except Exception as exc:  # noqa: BLE001 — a bug in our state code must not kill the session; report it
            self._log.exception("! internal error while handling %s", event.type)
            error = ProtocolError(f"internal error: {exc!r}", event_type=event.type)
            self._events.append(ProtocolErrorEvent(error=error, snippet=str(event)[:200]))

    def receive_closed(self, code: int, reason: str = "") -> None:
        """The socket closed. Open turns are completed; the close carries ``session.closed``'s verdict."""
        if self._closed is not None:
            return
        self._deliver(self._turns.finish())
        verdict = close_verdict(self._session_closed.reason) if self._session_closed is not None else None
        self._closed = ConnectionClosed(code=code, reason=reason, verdict=verdict)
        shown = verdict.user_message if verdict else "no session.closed"
        self._log.info("= closed %s %r: %s", code, reason, shown)
        self._events.append(self._closed)

    # --- internals ------------------------------------------------------------------------------
    def _apply(self, event: ServerEvent) -> list[ServerEvent]:
        if isinstance(event, LiveOutputAudio):
            return self._audio(event)
        if isinstance(event, InputFragment):
            return self._turns.user_words(event.delta, event.start_ms, event.end_ms) + [event]
        if isinstance(event, OutputFragment):
            return self._turns.assistant_words(event.delta) + [event]
        if isinstance(event, ResponseEnvelope):
            return self._delegations.envelope(event) + [event]
        if isinstance(event, UsageUpdated):
            self._seconds = max(self._seconds, event.seconds)  # cumulative: never summed
        elif isinstance(event, LiveSessionStarted):
            return self._started(event)
        elif isinstance(event, LiveSessionUpdated):
            self._log.info("= session updated: %s", summarize(event.session.get("delegation"), 200))
        elif isinstance(event, DelegationCreated):
            self._delegated(event)
        elif isinstance(event, LiveSessionClosed):
            self._session_closed = event
            self._seconds = max(self._seconds, usage_seconds(event.usage))
            self._log.info("= session.closed: %s (%.0f s)", event.reason, self._seconds)
            return self._turns.finish() + [event]
        elif isinstance(event, LiveError):
            return [self._error(event), event]
        elif isinstance(event, LiveInfo):
            self._log.info("< info %s: %s", event.code, event.message)
        elif isinstance(event, UnknownEvent) and event.type not in self._seen_unknown:
            self._seen_unknown.add(event.type)
            self._log.info("< unknown event type %r passed on (logged once)", event.type)
        return [event]

    def _started(self, event: LiveSessionStarted) -> list[ServerEvent]:
        requested = self._sent or SessionConfig()
        self._session = live_config.effective(event.session, requested)
        self._log.info("= session started: %s", summarize(event.session, 200))
        if self._answer_seed:
            self._send(commands.append("instructions", context.ANSWER_NOW, delegation_id=None, event_id=self._ids()))
        if self._requested is not None and self._requested != self._sent:
            self._apply_changes()  # changed while starting
        return [SessionCreated(session=event.session), event]

    def _audio(self, event: LiveOutputAudio) -> list[ServerEvent]:
        try:
            audio = base64.b64decode(event.delta, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError("audio delta is not base64", event_type=event.type, field="delta") from None
        fmt = (self._session or SessionConfig()).output_format
        ms = len(audio) / _bytes_per_ms(fmt.type, fmt.rate)
        return self._turns.assistant_audio(event.delta, ms, voiced(audio, fmt.type))

    def _delegated(self, event: DelegationCreated) -> None:
        self._log.info("= delegation %s to %s", event.delegation_id, event.target)
        if event.target == "client" and event.delegation_id:
            self._send(commands.append("commentary", context.NO_CLIENT_TASKS, delegation_id=event.delegation_id,
                                       event_id=self._ids()))

    def _error(self, event: LiveError) -> ErrorEvent:
        data = dict(event.error)
        data["event_id"] = data.get("client_event_id") or event.client_event_id
        info = ErrorInfo.from_dict(data)
        self._log.warning("! error %s (caused by %s)", info, info.event_id)
        return ErrorEvent(error=info, event_id=event.event_id)

    def _deliver(self, events: list[ServerEvent]) -> None:
        for event in events:
            self._conversation.apply(event)
            self._events.append(event)

    def _send(self, frame: dict[str, Any], *, quiet: bool = False) -> str:
        self._frames.append(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
        if self._debug and not quiet:
            self._log.debug("> %s", summarize(frame))
        return str(frame.get("event_id", ""))

    def _check_open(self, action: str) -> None:
        if self._closed is not None:
            raise ConnectionClosedError(action)
        if self._close_sent and action != "append_audio":
            raise LocalUsageError(f"{action} after session.close")


def _bytes_per_ms(fmt: str, rate: int | None) -> float:
    """Wire bytes per millisecond: PCM16 at its rate, G.711 at 8 kHz one byte a sample."""
    return (rate or PCM24K.rate or 24000) / 1000.0 * 2 if fmt == "audio/pcm" else 8.0
