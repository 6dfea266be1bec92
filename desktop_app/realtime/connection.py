"""The sans-I/O Realtime connection (websockets/h11 shape): text in, frames and events out.

::

    conn = RealtimeConnection()
    conn.receive_message(text); conn.receive_closed(code, reason)   # every frame; once, at the close
    conn.update_session(config); conn.append_audio(pcm); conn.create_response(); …
    for frame in conn.frames_to_send(): await socket.send(frame)   # and events_received() → controller

The receive path never raises: a malformed frame becomes a :class:`ProtocolErrorEvent` in ``events_received()``
and the connection keeps going. Client actions raise only :class:`LocalUsageError` subclasses (invalid or locked
settings, use after close), before anything is queued. All I/O, timers and retries are the caller's.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from . import commands
from .audio_ledger import MIN_COMMIT_MS, AudioLedger, truncation_end_ms
from .commands import ClientEvent, EventIds
from .conversation import Conversation
from .dialect import REALTIME_TRAITS
from .errors import ConnectionClosedError, ProtocolError, UnsupportedCommand
from .events import (ConnectionClosed, ConversationItemDeleted, ErrorEvent, InputAudioCommitted,
                     InputAudioTimeoutTriggered, InputTranscriptionCompleted, ProtocolErrorEvent, ServerEvent,
                     SessionCreated, SessionUpdated, UnknownEvent)
from .logfmt import logger as default_logger, summarize
from .parse import parse_server_event
from .response_events import ContentPartAdded, OutputAudioDelta, OutputAudioDone, ResponseCreated, ResponseDone
from .responses import ResponseTracker
from .session_config import PCM24K, AudioFormat, SessionConfig, check_locked, session_diff
from .usage import Usage

_QUIET_EXTRA = frozenset({"obfuscation"})  # padding any GA server may add: not worth a log line

class RealtimeConnection:
    """One Realtime session's protocol state (the ``realtime`` :class:`~.dialect.Dialect`).
    Not thread-safe: use it from the event loop only."""

    traits = REALTIME_TRAITS

    def __init__(self, *, event_ids: EventIds | None = None, logger: logging.Logger | None = None) -> None:
        self._ids = event_ids or EventIds()
        self._log = logger or default_logger
        self._debug = self._log.isEnabledFor(logging.DEBUG)  # cached: the audio paths are hot
        self._frames: list[str] = []
        self._events: list[ServerEvent] = []
        self._conversation = Conversation()
        self._responses = ResponseTracker(self._log)
        self._ledger = AudioLedger()
        self._session: SessionConfig | None = None
        self._desired: SessionConfig | None = None  # sent in session.update, not yet confirmed
        self._held: SessionConfig | None = None  # asked for before session.created
        self._pending_updates: list[tuple[str, SessionConfig]] = []
        self._voice_locked = False
        self._closed: ConnectionClosed | None = None
        self._seen_unknown: set[str] = set()

    # --- read-only state ----------------------------------------------------------------------
    @property
    def session(self) -> SessionConfig | None:
        """The effective config from the last ``session.created/updated``; None before the first."""
        return self._session

    @property
    def requested_session(self) -> SessionConfig | None:
        """The config most recently asked for (confirmed or not); what the settings UI shows."""
        return self._held or self._desired or self._session

    @property
    def conversation(self) -> Conversation:
        return self._conversation

    @property
    def active_response_id(self) -> str | None:
        """The default-conversation response in progress, if any."""
        return self._responses.active_id

    @property
    def response_pending(self) -> bool:
        """True while a default response is active or a create for one is on its way."""
        return self._responses.busy

    @property
    def queued_responses(self) -> tuple[ClientEvent, ...]:
        """``response.create`` frames waiting for the active response to end."""
        return self._responses.queued

    @property
    def usage(self) -> Usage:
        """Tokens over all responses (and input transcription) of this connection."""
        return self._responses.usage

    @property
    def last_usage(self) -> Usage:
        """Tokens of the most recent ``response.done``."""
        return self._responses.last_usage

    def cost(self) -> float | None:
        """Dollars spent on this connection's model tokens so far (None for an unpriced model)."""
        session = self._session or self.requested_session
        return self.usage.cost(session.model) if session else None

    @property
    def voice_locked(self) -> bool:
        """True once assistant audio exists: the server refuses a voice change from then on."""
        return self._voice_locked

    @property
    def closed(self) -> bool:
        return self._closed is not None

    @property
    def close_info(self) -> ConnectionClosed | None:
        """The close event (code, reason, ``classification``) once closed."""
        return self._closed

    @property
    def appended_ms_since_commit(self) -> float:
        """Input audio appended since the last commit/clear (push-to-talk guard)."""
        return self._ledger.appended_ms_since_commit

    @property
    def can_commit(self) -> bool:
        """True when a commit now has the server's minimum of 100 ms of audio."""
        return self._ledger.appended_ms_since_commit >= MIN_COMMIT_MS

    def received_ms(self, item_id: str) -> int:
        """Milliseconds of assistant audio received for ``item_id``."""
        return self._ledger.received_ms(item_id)

    # --- output -----------------------------------------------------------------------------
    def frames_to_send(self) -> list[str]:
        """JSON text frames to send, in order; hands the list over and starts a new one."""
        frames, self._frames = self._frames, []
        return frames

    def events_received(self) -> list[ServerEvent]:
        """Typed events received since the last call; hands the list over and starts a new one."""
        events, self._events = self._events, []
        return events

    # --- client actions -----------------------------------------------------------------------
    def update_session(self, config: SessionConfig) -> str | None:
        """Ask for ``config``; sends the minimal diff. Returns the event id, or None if nothing changed or
        ``session.created`` has not arrived yet (then the update is sent on arrival). Raises
        :class:`ConfigValidationError` (invalid) or :class:`LockedFieldError` (a voice change after assistant
        audio, a model change)."""
        self._check_open("update_session")
        config.validate()
        base = self._desired or self._session
        check_locked(base, config, voice_locked=self._voice_locked)
        if self._session is None:
            self._held = config
            self._log.info("= session.update held until session.created")
            return None
        return self._send_session_diff(base, config)

    def append_audio(self, audio: bytes) -> str:
        """Append raw input audio (in the session's input format)."""
        self._check_open("append_audio")
        self._ledger.add_input(len(audio), self._input_format().bytes_per_ms)
        # Not logged per frame: 50 appends a second would drown the log.
        return self._send(commands.input_audio_append(audio, event_id=self._ids()), quiet=True)

    def commit_audio(self) -> str:
        """Commit the input buffer. Check :attr:`can_commit` first: < 100 ms earns a server error."""
        self._check_open("commit_audio")
        self._ledger.reset_input()
        return self._send(commands.input_audio_commit(event_id=self._ids()))

    def clear_audio(self) -> str:
        """Drop uncommitted input audio."""
        self._check_open("clear_audio")
        self._ledger.reset_input()
        return self._send(commands.input_audio_clear(event_id=self._ids()))

    def create_item(self, item: dict[str, Any], previous_item_id: str | None = None) -> str:
        """Add an item (``previous_item_id="root"`` puts it first)."""
        self._check_open("create_item")
        return self._send(commands.item_create(item, event_id=self._ids(), previous_item_id=previous_item_id))

    def send_text(self, text: str, *, respond: bool = True) -> str:
        """Add a user text message and (by default) ask for a response to it."""
        event_id = self.create_item(commands.user_text_item(text))
        if respond:
            self.create_response()
        return event_id

    def send_function_output(self, call_id: str, output: str, *, respond: bool = True) -> str:
        """Return a tool result; adding it does not start a response, so (by default) ask for one."""
        event_id = self.create_item(commands.function_output_item(call_id, output))
        if respond:
            self.create_response()
        return event_id

    def create_response(self, response: dict[str, Any] | None = None, **params: Any) -> str:
        """Ask for a response (overrides via ``response`` or :func:`commands.response_params` keywords).
        Queued if a default-conversation response is active; released when it is done."""
        self._check_open("create_response")
        body = dict(response or {}) | commands.response_params(**params)
        frame = commands.response_create(body or None, event_id=self._ids())
        for ready in self._responses.request(frame):
            self._send(ready)
        return str(frame["event_id"])

    def cancel_response(self) -> bool:
        """Cancel the active response and drop queued creates. False if nothing was running."""
        self._check_open("cancel_response")
        dropped = self._responses.clear_queue()
        if self._responses.active_id is not None:
            self._send(commands.response_cancel(self._responses.active_id, event_id=self._ids()))
            return True
        if self._responses.busy:
            # Our create is on its way. Best effort: if the server has not started it yet it answers
            # response_cancel_not_active (harmless) and the response runs; the caller can cancel again.
            self._send(commands.response_cancel(event_id=self._ids()))
            return True
        return dropped > 0

    def truncate(self, item_id: str, played_ms: int, content_index: int = 0) -> int | None:
        """Cut ``item_id`` at ``min(played_ms, received_ms)``; returns ``audio_end_ms`` or None when there is
        nothing to cut: no audio received, or all of it arrived and was played (while audio is still arriving,
        the server holds more than we played: cut)."""
        self._check_open("truncate")
        received = self._ledger.received_ms(item_id)
        if received <= 0 or (played_ms >= received and self._ledger.is_complete(item_id)):
            self._log.debug("= truncate %s skipped: played %s of %s ms", item_id, played_ms, received)
            return None
        end = truncation_end_ms(played_ms, received)
        item = self._conversation.get(item_id)
        if item is not None and item.truncated and item.audio_end_ms is not None and item.audio_end_ms <= end:
            return None
        self._send(commands.item_truncate(item_id, end, event_id=self._ids(), content_index=content_index))
        return end

    def delete_item(self, item_id: str) -> str:
        """Remove an item; the conversation changes when ``conversation.item.deleted`` arrives."""
        self._check_open("delete_item")
        return self._send(commands.item_delete(item_id, event_id=self._ids()))

    def retrieve_item(self, item_id: str) -> str:
        """Ask for an item with its audio (``conversation.item.retrieved``)."""
        self._check_open("retrieve_item")
        return self._send(commands.item_retrieve(item_id, event_id=self._ids()))

    def clear_output_audio(self) -> str:
        """``output_audio_buffer.clear`` — WebRTC/SIP only; a WebSocket server rejects it."""
        self._check_open("clear_output_audio")
        return self._send(commands.output_audio_clear(event_id=self._ids()))

    def media_audio(self, item_id: str | None, pcm16_bytes: int) -> None:
        """PCM16 24 kHz that came as media (WebRTC): the mic's (None; commit guard) or ``item_id``'s."""
        if item_id is None:
            self._ledger.add_input(pcm16_bytes, PCM24K.bytes_per_ms)
        else:
            self._ledger.add_output_bytes(item_id, pcm16_bytes, PCM24K.bytes_per_ms)
            self._lock_voice()

    def close_session(self) -> bool:
        """Nothing to ask: a Realtime session ends when the caller closes the socket."""
        return False

    def seed_context(self, items: list[dict[str, Any]], *, answer: bool = False) -> int:
        raise UnsupportedCommand("realtime", "a seeded start (earlier turns are replayed as items)")

    def ask_to_stop(self) -> str:
        raise UnsupportedCommand("realtime", "a stop instruction (the answer is cancelled)")

    # --- input --------------------------------------------------------------------------------
    def receive_message(self, text: str | bytes) -> None:
        """Take one server frame. Never raises."""
        if self._closed is not None:
            self._log.debug("< frame after close ignored")
            return
        try:
            event = parse_server_event(text)
        except ProtocolError as exc:
            self._log.warning("! %s | %s", exc, exc.snippet)
            self._events.append(ProtocolErrorEvent(error=exc, snippet=exc.snippet))
            return
        if self._debug and not isinstance(event, OutputAudioDelta):  # 20 a second: the ledger counts them
            self._log.debug("< %s", event)
        try:
            self._apply(event)
        except Exception as exc:  # noqa: BLE001 — a bug in our state code must not kill the session; report it
            self._log.exception("! internal error while handling %s", event.type)
            error = ProtocolError(f"internal error: {exc!r}", event_type=event.type)
            self._events += [event, ProtocolErrorEvent(error=error, snippet=str(event)[:200])]
            return
        self._events.append(event)

    def receive_closed(self, code: int, reason: str = "") -> None:
        """The socket closed. Records the close once; later calls are ignored."""
        if self._closed is not None:
            return
        self._closed = ConnectionClosed(code=code, reason=reason)
        self._responses.on_closed()
        self._log.info("= closed %s %r: %s", code, reason, self._closed.classification.severity.value)
        self._events.append(self._closed)

    # --- internals ----------------------------------------------------------------------------
    def _apply(self, event: ServerEvent) -> None:
        if isinstance(event, UnknownEvent):
            if event.type not in self._seen_unknown:
                self._seen_unknown.add(event.type)
                self._log.info("< unknown event type %r passed on (logged once)", event.type)
            return
        self._note_extra(event)
        self._conversation.apply(event)
        if isinstance(event, OutputAudioDelta):
            self._ledger.add_output(event.item_id, event.delta, self._output_format().bytes_per_ms)
            self._lock_voice()
        elif isinstance(event, ContentPartAdded) and event.part.get("type") == "audio":
            self._lock_voice()
        elif isinstance(event, ResponseCreated):
            self._responses.on_created(event)
        elif isinstance(event, OutputAudioDone):
            self._ledger.mark_complete(event.item_id)
        elif isinstance(event, ResponseDone):
            # Cancelled responses may skip output_audio.done (§8 q3); done ends every item's audio.
            for item in event.response.get("output") or ():
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    self._ledger.mark_complete(item["id"])
            for frame in self._responses.on_done(event):
                self._send(frame)
        elif isinstance(event, InputTranscriptionCompleted):
            self._responses.usage = self._responses.usage + Usage.from_transcription(event.usage)
        elif isinstance(event, ErrorEvent):
            self._on_error(event)
        elif isinstance(event, SessionCreated):
            self._session = SessionConfig.from_server(event.session)
            self._log.info("= session created: %s", summarize(event.session, 200))
            if self._held is not None:
                held, self._held = self._held, None
                self._send_session_diff(self._session, held)
        elif isinstance(event, SessionUpdated):
            self._session = SessionConfig.from_server(event.session)
            if self._pending_updates:  # session.updated does not echo event_id: oldest first
                self._pending_updates.pop(0)
            if not self._pending_updates:
                self._desired = None
        elif isinstance(event, (InputAudioCommitted, InputAudioTimeoutTriggered)):
            # With VAD the server commits; in push-to-talk our commit reset the count (what came since is the next's).
            if self._session is not None and not self._session.push_to_talk:
                self._ledger.reset_input()
        elif isinstance(event, ConversationItemDeleted):
            self._ledger.forget(event.item_id)

    def _on_error(self, event: ErrorEvent) -> None:
        error = event.error
        self._log.warning("! error %s (caused by %s)", error, error.event_id)
        for frame in self._responses.on_error(error):
            self._send(frame)
        ids = [event_id for event_id, _ in self._pending_updates]
        if error.event_id in ids:
            # The whole update was discarded (§2.8): forget it; the effective session stands.
            del self._pending_updates[ids.index(error.event_id)]
            self._desired = self._pending_updates[-1][1] if self._pending_updates else None

    def _send_session_diff(self, base: SessionConfig | None, config: SessionConfig) -> str | None:
        body = session_diff(base, config)
        if set(body) == {"type"}:
            return None
        event_id = self._send(commands.session_update(body, event_id=self._ids()))
        self._pending_updates.append((event_id, config))
        self._desired = config
        return event_id

    def _send(self, frame: ClientEvent, *, quiet: bool = False) -> str:
        self._frames.append(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
        if self._debug and not quiet:
            self._log.debug("> %s", summarize(frame))
        return str(frame["event_id"])

    def _lock_voice(self) -> None:
        if not self._voice_locked:
            self._voice_locked = True
            self._log.info("= voice locked (assistant audio present)")

    def _note_extra(self, event: ServerEvent) -> None:
        for key in event.extra:
            marker = f"{event.type}.{key}"
            if key not in _QUIET_EXTRA and marker not in self._seen_unknown:
                self._seen_unknown.add(marker)
                self._log.debug("< unknown field %r in %s kept in extra (logged once)", key, event.type)

    def _input_format(self) -> AudioFormat:
        return self.requested_session.input_format if self.requested_session else PCM24K

    def _output_format(self) -> AudioFormat:
        return self._session.output_format if self._session else PCM24K

    def _check_open(self, action: str) -> None:
        if self._closed is not None:
            raise ConnectionClosedError(action)

