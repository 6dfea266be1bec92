"""The dialect seam: what the controller needs of a sans-I/O protocol core, whichever protocol it is.

Two voice protocols exist: Realtime GA (:class:`~.connection.RealtimeConnection`) and GPT-Live
(``/v1/live/sessions``: ``session.start`` first, continuous audio, no responses, no truncation, the
model decides when to stop when talked over). Both are driven the same way (websockets/h11 shape)::

    core.receive_message(text); core.receive_closed(code, reason)
    core.frames_to_send() -> [json text]; core.events_received() -> [ServerEvent]

and both describe the conversation with the same vocabulary: a :class:`~.conversation.Conversation`
of items, :class:`~.usage.Usage`, and the typed events of :mod:`.events`/:mod:`.response_events`
(a Live core emits the subset that has a meaning there: transcript and audio events on synthetic
item ids, errors, the close). What differs is declared, never probed: :class:`DialectTraits` says
which commands exist, and the controller calls a command only when its trait is on. Calling one
whose trait is off raises :class:`~.errors.UnsupportedCommand`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .conversation import Conversation
from .events import ServerEvent
from .session_config import SessionConfig
from .usage import Usage


@dataclass(frozen=True, slots=True)
class DialectTraits:
    """What a protocol can do; the UI says so where a control has no meaning in a dialect."""

    name: str  # "realtime" | "live"
    turn_detection: bool  # the server's VAD reports speech_started/stopped and commits turns
    input_buffer: bool  # commit/clear of the input buffer (push-to-talk)
    responses: bool  # response.create / response.cancel
    truncation: bool  # conversation.item.truncate cuts an answer where the user stopped hearing it
    text_messages: bool  # a typed user message can be added
    item_deletion: bool  # conversation.item.delete
    context_replay: bool  # the earlier conversation is replayed into a new session as items once it started
    live_fields: frozenset[str]  # session fields that can change mid-session (SessionConfig names)
    # On a media transport (WebRTC) the server owns playback: output_audio_buffer.clear stops it.
    output_buffer: bool = False
    continuous_input: bool = False  # the session's clock runs on input audio: silence is sent while the mic is off
    images: bool = True  # an ``input_image`` item can be added (Composer.send_image)
    billed_per_second: bool = False  # usage is audio seconds (Usage.live_seconds), not tokens
    # The earlier conversation goes into the new session's start (GPT-Live ``session.start.session.input``,
    # :meth:`Dialect.seed_context`) instead of being replayed as items once it started (``context_replay``).
    context_seed: bool = False
    # Nothing to cancel: the Interrupt button asks the model to stop speaking (:meth:`Dialect.ask_to_stop`).
    stop_instruction: bool = False
    mcp_tools: bool = True  # MCP server entries may go into the session's tools


REALTIME_TRAITS = DialectTraits(
    name="realtime", turn_detection=True, input_buffer=True, responses=True, truncation=True,
    text_messages=True, item_deletion=True, context_replay=True, output_buffer=True,
    # §2.7: everything but the model; the voice only until the assistant has spoken.
    live_fields=frozenset({"instructions", "voice", "turn_detection", "transcription", "tools", "tool_choice",
                           "output_modalities", "noise_reduction", "speed", "temperature",
                           "max_output_tokens", "reasoning", "parallel_tool_calls"}),
)
"""Realtime GA (:class:`~.connection.RealtimeConnection`): every command exists."""


class DialectFactory(Protocol):
    """Makes a fresh core per connection (``RealtimeConnection``, ``LiveConnection``: the classes themselves);
    its ``traits`` are known before any connection exists, so the window can say what differs."""

    @property
    def traits(self) -> DialectTraits: ...

    def __call__(self) -> Dialect: ...


class Dialect(Protocol):
    """A sans-I/O protocol core as the controller uses it. Not thread-safe: the event loop only."""

    traits: DialectTraits

    # --- I/O, websockets/h11 shape ---------------------------------------------------------------
    def receive_message(self, text: str | bytes) -> None:
        """Take one server frame. Never raises: bad input becomes a ProtocolErrorEvent."""

    def receive_closed(self, code: int, reason: str = "") -> None:
        """The transport closed (once; later calls are ignored)."""

    def frames_to_send(self) -> list[str]:
        """Frames to send, in order; hands the list over."""

    def events_received(self) -> list[ServerEvent]:
        """Typed events since the last call; hands the list over."""

    # --- state ---------------------------------------------------------------------------------
    @property
    def session(self) -> SessionConfig | None:
        """The server's effective session (None before it started)."""

    @property
    def conversation(self) -> Conversation: ...

    @property
    def usage(self) -> Usage: ...

    @property
    def closed(self) -> bool: ...

    @property
    def voice_locked(self) -> bool:
        """True once the voice can no longer change in this session."""

    @property
    def response_pending(self) -> bool:
        """An answer is being made or was asked for (always False without ``responses``)."""

    @property
    def active_response_id(self) -> str | None: ...

    @property
    def can_commit(self) -> bool:
        """Enough input audio for a commit (``input_buffer`` only)."""

    @property
    def appended_ms_since_commit(self) -> float: ...

    def received_ms(self, item_id: str) -> int:
        """Milliseconds of assistant audio received for ``item_id``."""

    # --- commands (each raises UnsupportedCommand when its trait is off) -------------------------
    def update_session(self, config: SessionConfig) -> str | None:
        """Ask for ``config`` (held until the session starts; a Live core sends it in session.start)."""

    def append_audio(self, audio: bytes) -> str: ...

    def commit_audio(self) -> str: ...

    def clear_audio(self) -> str: ...

    def create_response(self, response: dict[str, Any] | None = None, **params: Any) -> str: ...

    def cancel_response(self) -> bool: ...

    def truncate(self, item_id: str, played_ms: int, content_index: int = 0) -> int | None: ...

    def send_text(self, text: str, *, respond: bool = True) -> str: ...

    def send_function_output(self, call_id: str, output: str, *, respond: bool = True) -> str: ...

    def create_item(self, item: dict[str, Any], previous_item_id: str | None = None) -> str: ...

    def delete_item(self, item_id: str) -> str: ...

    def clear_output_audio(self) -> str:
        """``output_audio_buffer.clear``: the server stops playing (``output_buffer``, media transports)."""

    def media_audio(self, item_id: str | None, pcm16_bytes: int) -> None:
        """Audio that travelled as media, not as events (a WebRTC track; any dialect): the microphone's
        (``item_id`` None, counted for commits) or the assistant's of ``item_id`` (for truncation)."""

    def seed_context(self, items: list[dict[str, Any]], *, answer: bool = False) -> int:
        """Start the session with the earlier conversation (``context_seed``; before the first
        :meth:`update_session`): ``items`` are text messages as the reconnector keeps them (user
        ``input_text``, assistant ``output_text``), oldest first; the newest that fit the dialect's limits
        go in. ``answer``: the last user message was never answered; the session answers it once it starts.
        Returns how many messages went in."""

    def ask_to_stop(self) -> str:
        """The user pressed Interrupt (``stop_instruction``): ask the model to stop speaking now."""

    def close_session(self) -> bool:
        """Ask the server to end the session. True when it will answer and close the connection itself
        (GPT-Live: ``session.close`` → ``session.closed``), so the caller waits for that before closing."""
