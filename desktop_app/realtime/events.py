"""Typed server events, part 1: the base class, session/conversation/input-buffer events, errors,
and the events the core itself emits (unknown type, malformed frame, connection closed).

Events are frozen, slotted, keyword-only dataclasses (h11's ``_events.py`` habit). Field names are
the JSON keys. Fields without a default are required by the GA protocol; the parser rejects a frame
that lacks one or has the wrong JSON type. Nested objects (``item``, ``session``, ``response``) stay
plain dicts: treat them as read-only. Keys the core does not model (``obfuscation``, new server
fields) are kept in ``extra`` so nothing the server said is lost.

Response events live in :mod:`.response_events`; :mod:`.parse` turns JSON into either.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar, TypeVar, dataclass_transform

from .classify import ErrorClass, classify_close, classify_error
from .errors import ProtocolError
from .logfmt import elide_b64, short

EVENT_TYPES: dict[str, type["ServerEvent"]] = {}
"""Every GA server event type the core models, by its ``type`` string."""

_E = TypeVar("_E", bound="ServerEvent")


@dataclass_transform(kw_only_default=True, frozen_default=True)
def server_event(type_name: str) -> Callable[[type[_E]], type[_E]]:
    """Make ``cls`` a frozen slotted event dataclass for ``type_name`` and register it."""

    def wrap(cls: type[_E]) -> type[_E]:
        made = base_event(cls)
        made.type = type_name  # a class attribute: every instance of a known class has one type
        EVENT_TYPES[type_name] = made
        return made

    return wrap


_T = TypeVar("_T")


@dataclass_transform(kw_only_default=True, frozen_default=True)
def base_event(cls: type[_T]) -> type[_T]:
    """Decorator for event classes that are not registered server types (bases, local events): a
    frozen, slotted, keyword-only dataclass whose ``repr`` is the short ``__str__``."""
    return dataclass(frozen=True, slots=True, kw_only=True, repr=False)(cls)


@base_event
class ServerEvent:
    """Base of every event out of :meth:`RealtimeConnection.events_received`.

    ``__str__`` (and ``repr``) is one short line with base64 audio elided, safe for logs.
    """

    type: ClassVar[str] = ""
    # Names of fields that carry base64 audio, elided in ``__str__``.
    b64_fields: ClassVar[frozenset[str]] = frozenset()

    event_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        parts = [self.type]
        for f in fields(self):
            if f.name in ("event_id", "extra", "type"):
                continue
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name in self.b64_fields and isinstance(value, str):
                parts.append(f"{f.name}={elide_b64(value)}")
            else:
                parts.append(f"{f.name}={short(value)}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorInfo:
    """The ``error`` object of an ``error`` event (or of a failed transcription)."""

    type: str = ""
    code: str | None = None
    message: str = ""
    param: str | None = None
    event_id: str | None = None  # the client event that caused it, echoed by the server

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ErrorInfo":
        """Lenient: the server's wording of an error must never stop us from reporting it."""

        def opt(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        return cls(
            type=opt("type") or "",
            code=opt("code"),
            message=opt("message") or "",
            param=opt("param"),
            event_id=opt("event_id"),
        )

    def __str__(self) -> str:
        return f"{self.type}/{self.code}: {self.message}"


# --- events the core emits itself ------------------------------------------------------------


@base_event
class UnknownEvent(ServerEvent):
    """A server event of a type the core does not model; passed on untouched in ``data``."""

    type: str  # type: ignore[misc]  # an instance field here: unknown types vary
    data: dict[str, Any]


@base_event
class ProtocolErrorEvent(ServerEvent):
    """A frame the core could not read (bad JSON, no ``type``, mistyped field). Already logged."""

    type: ClassVar[str] = "parley.protocol_error"
    error: ProtocolError
    snippet: str = ""

    @property
    def classification(self) -> ErrorClass:
        """Always non-fatal: one unreadable frame does not end the session."""
        return classify_error("parley_protocol_error", "protocol_error")


@base_event
class ConnectionClosed(ServerEvent):
    """The socket closed (``receive_closed``); ``classification`` says whether to retry."""

    type: ClassVar[str] = "parley.connection_closed"
    code: int
    reason: str = ""
    verdict: ErrorClass | None = None  # a dialect that knows why the session ended (GPT-Live's session.closed)

    @property
    def classification(self) -> ErrorClass:
        """Fatal / retryable / recycle / normal: the dialect's verdict, else from the close code and reason (§4.3)."""
        return self.verdict if self.verdict is not None else classify_close(self.code, self.reason)


# --- session and conversation ------------------------------------------------------------------


@server_event("error")
class ErrorEvent(ServerEvent):
    """The server refused something; the session continues unless a close follows (§4.1)."""

    error: ErrorInfo

    @property
    def classification(self) -> ErrorClass:
        """What the error means for the session and the one sentence to show."""
        return classify_error(self.error.code, self.error.type)


@base_event
class SessionEvent(ServerEvent):
    """Base of ``session.created`` / ``session.updated``: the full session object."""

    session: dict[str, Any]


@server_event("session.created")
class SessionCreated(SessionEvent):
    """First frame of every connection: the full default session."""


@server_event("session.updated")
class SessionUpdated(SessionEvent):
    """The full effective session after an accepted ``session.update``."""


@server_event("conversation.created")
class ConversationCreated(ServerEvent):
    """Documented after ``session.created``; absent from GA captures. Accepted if it comes."""

    conversation: dict[str, Any]


@base_event
class ItemEvent(ServerEvent):
    """Base of events that carry a whole ``item``."""

    item: dict[str, Any]

    @property
    def item_id(self) -> str | None:
        """The item's id (``item["id"]``) or None if the server left it out."""
        value = self.item.get("id")
        return value if isinstance(value, str) else None


@base_event
class PlacedItemEvent(ItemEvent):
    """An item with its place in the conversation (``previous_item_id``: null, ``"root"`` or an id)."""

    previous_item_id: str | None = None


@server_event("conversation.item.added")
class ConversationItemAdded(PlacedItemEvent):
    """An item joined the conversation (client create, commit, or model output starting)."""


@server_event("conversation.item.done")
class ConversationItemDone(PlacedItemEvent):
    """An item is final (full content, never audio bytes)."""


@server_event("conversation.item.created")
class ConversationItemCreated(PlacedItemEvent):
    """Beta-era name kept in the GA union; handled like ``added`` + ``done``."""


@server_event("conversation.item.retrieved")
class ConversationItemRetrieved(ItemEvent):
    """Reply to ``conversation.item.retrieve``; may include the item's audio (elided in logs)."""


@server_event("conversation.item.truncated")
class ConversationItemTruncated(ServerEvent):
    """The server cut an assistant audio item at ``audio_end_ms`` and dropped its transcript."""

    item_id: str
    content_index: int
    audio_end_ms: int


@server_event("conversation.item.deleted")
class ConversationItemDeleted(ServerEvent):
    """An item left the conversation."""

    item_id: str


@server_event("conversation.item.input_audio_transcription.delta")
class InputTranscriptionDelta(ServerEvent):
    """Part of the user's transcript (interim); ``whisper-1`` sends it all at once."""

    item_id: str
    content_index: int | None = None
    delta: str | None = None
    logprobs: list[Any] | None = None


@server_event("conversation.item.input_audio_transcription.completed")
class InputTranscriptionCompleted(ServerEvent):
    """The user's final transcript and the ASR model's usage."""

    item_id: str
    content_index: int
    transcript: str
    usage: dict[str, Any]
    logprobs: list[Any] | None = None
    languages: list[Any] | None = None


@server_event("conversation.item.input_audio_transcription.failed")
class InputTranscriptionFailed(ServerEvent):
    """The ASR model could not transcribe the user's audio (the response is unaffected)."""

    item_id: str
    content_index: int
    error: ErrorInfo


@server_event("conversation.item.input_audio_transcription.segment")
class InputTranscriptionSegment(ServerEvent):
    """A diarized segment (speaker, start, end) from a diarizing ASR model."""

    id: str
    item_id: str
    content_index: int
    text: str
    speaker: str
    start: float
    end: float


# --- input audio buffer ------------------------------------------------------------------------


@server_event("input_audio_buffer.speech_started")
class SpeechStarted(ServerEvent):
    """VAD onset; ``item_id`` is the id the user item will get. The barge-in trigger."""

    audio_start_ms: int
    item_id: str


@server_event("input_audio_buffer.speech_stopped")
class SpeechStopped(ServerEvent):
    """VAD end of speech."""

    audio_end_ms: int
    item_id: str


@server_event("input_audio_buffer.committed")
class InputAudioCommitted(ServerEvent):
    """The input buffer became user item ``item_id`` after ``previous_item_id``."""

    item_id: str
    previous_item_id: str | None = None


@server_event("input_audio_buffer.cleared")
class InputAudioCleared(ServerEvent):
    """Reply to ``input_audio_buffer.clear``."""


@server_event("input_audio_buffer.timeout_triggered")
class InputAudioTimeoutTriggered(ServerEvent):
    """server_vad idle timeout fired; a silent user item and a response follow."""

    audio_start_ms: int
    audio_end_ms: int
    item_id: str


@server_event("input_audio_buffer.dtmf_event_received")
class DtmfEventReceived(ServerEvent):
    """SIP only: a keypad tone. The one server event without an ``event_id``."""

    event: str
    received_at: int
