"""GPT-Live server events as typed values (live-protocol.md §4; SDK 3.63 ``openai.types.live``).

The classes follow :mod:`desktop_app.realtime.events`' conventions (frozen, slotted, keyword-only;
field names are the JSON keys; unknown keys kept in ``extra``) and are parsed by the same parser with
this module's own table (:func:`parse_live_event`). Every Live event may carry ``client_event_id``,
the ``event_id`` of the client command it answers. Nested objects (``session``, ``delegation``, the
Responses ``event`` inside ``response.event``) stay plain dicts.

These are what the server *said*; :class:`~.connection.LiveConnection` turns them into the shared
vocabulary the controller understands (items on synthetic ids, audio deltas, errors) and passes the
Live-only ones (usage, close, delegation, info) on as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from desktop_app.realtime.events import ServerEvent, base_event
from desktop_app.realtime.parse import parse_server_event

LIVE_EVENT_TYPES: dict[str, type[ServerEvent]] = {}
"""Every GPT-Live server event type the core models, by its ``type`` string."""

_E = TypeVar("_E", bound=ServerEvent)


def live_event(type_name: str) -> Callable[[type[_E]], type[_E]]:
    """Make ``cls`` a frozen slotted event dataclass for ``type_name`` in :data:`LIVE_EVENT_TYPES`."""

    def wrap(cls: type[_E]) -> type[_E]:
        made = base_event(cls)
        made.type = type_name
        LIVE_EVENT_TYPES[type_name] = made
        return made

    return wrap


def parse_live_event(data: str | bytes | dict[str, Any]) -> ServerEvent:
    """One Live server frame → its typed event (an ``UnknownEvent`` for a type not modelled here).
    Raises :class:`~desktop_app.realtime.errors.ProtocolError` on a malformed frame."""
    return parse_server_event(data, LIVE_EVENT_TYPES)


@base_event
class LiveEvent(ServerEvent):
    """Base of every Live server event: the client command it answers, when it answers one."""

    client_event_id: str | None = None


@live_event("session.started")
class LiveSessionStarted(LiveEvent):
    """The session runs: the resolved configuration (``id`` ``live_…``, ``expires_at``, defaults filled)."""

    session: dict[str, Any]


@live_event("session.updated")
class LiveSessionUpdated(LiveEvent):
    """A ``session.update`` (delegation settings, triggers) was applied: the full snapshot."""

    session: dict[str, Any]


@live_event("session.closed")
class LiveSessionClosed(LiveEvent):
    """The session finished: ``reason`` (close_requested, expired, content, remote_hangup,
    connection_lost), the final cumulative ``usage`` and snapshot."""

    reason: str
    usage: dict[str, Any]
    session: dict[str, Any]


@live_event("session.output_audio.delta")
class LiveOutputAudio(LiveEvent):
    """A piece of the one continuous output track (silence between replies); timing only on a sideband."""

    b64_fields: ClassVar[frozenset[str]] = frozenset({"delta"})

    delta: str
    start_ms: int | None = None
    end_ms: int | None = None


@base_event
class Fragment(LiveEvent):
    """A timed transcript fragment: ``delta`` verbatim (its own leading space) for ``[start_ms, end_ms)``
    on the session timeline. No item, no turn, no "done": turns are the client's to find."""

    delta: str
    start_ms: int
    end_ms: int


@live_event("session.input_transcript.delta")
class InputFragment(Fragment):
    """What the user said, a fragment at a time."""


@live_event("session.output_transcript.delta")
class OutputFragment(Fragment):
    """What the assistant says, a fragment at a time."""


@base_event
class Appended(LiveEvent):
    """Appended context reached the timeline at ``[start_ms, end_ms)`` (the ack of an append)."""

    start_ms: int
    end_ms: int


@live_event("session.instructions.appended")
class InstructionsAppended(Appended):
    """Ack of ``session.instructions.append``."""


@live_event("session.thinking.appended")
class ThinkingAppended(Appended):
    """Ack of ``session.thinking.append``."""


@live_event("session.commentary.appended")
class CommentaryAppended(Appended):
    """Ack of ``session.commentary.append``."""


@live_event("session.input_audio.muted")
class InputMuted(LiveEvent):
    """Ack of ``session.input_audio.mute``."""


@live_event("session.input_audio.unmuted")
class InputUnmuted(LiveEvent):
    """Ack of ``session.input_audio.unmute``."""


@live_event("session.delegation.created")
class DelegationCreated(LiveEvent):
    """The model handed work on: ``delegation`` is ``{id, type, target, response_id?}`` — no task text."""

    offset_ms: int
    delegation: dict[str, Any]

    @property
    def delegation_id(self) -> str:
        value = self.delegation.get("id")
        return value if isinstance(value, str) else ""

    @property
    def target(self) -> str:
        value = self.delegation.get("target")
        return value if isinstance(value, str) else ""


@live_event("response.event")
class ResponseEnvelope(LiveEvent):
    """A nested Responses streaming ``event`` from the delegated backend."""

    event: dict[str, Any]
    delegation_id: str | None = None

    @property
    def kind(self) -> str:
        value = self.event.get("type")
        return value if isinstance(value, str) else ""


@live_event("session.usage.updated")
class UsageUpdated(LiveEvent):
    """Cumulative billable ``usage.seconds`` (never summed) and the context window's fill."""

    usage: dict[str, Any]
    context_window: dict[str, Any] | None = None

    @property
    def seconds(self) -> float:
        return usage_seconds(self.usage)


@live_event("error")
class LiveError(LiveEvent):
    """``error{type, code, message, param?, client_event_id?}``; a command error does not end the session."""

    error: dict[str, Any]


@live_event("info")
class LiveInfo(LiveEvent):
    """A notice about the session (``code``, ``message``), e.g. data-channel permissions."""

    code: str
    message: str


@live_event("session.paused")
class SessionPaused(LiveEvent):
    """WebRTC standby: inference paused after the idle timeout."""


@live_event("session.resumed")
class SessionResumed(LiveEvent):
    """WebRTC standby ended: speech woke inference."""


def usage_seconds(usage: Any) -> float:
    """``usage.seconds`` as a number (0 when absent or malformed: a usage report never breaks a session)."""
    value = usage.get("seconds") if isinstance(usage, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else 0.0
