"""Errors of the protocol core (standard library only).

::

    RealtimeError                  base of everything ``desktop_app.realtime`` raises
    ├── ProtocolError              a server frame the core cannot understand (remote fault)
    └── LocalUsageError            the caller asked for something the protocol forbids (local fault)
        ├── ConfigValidationError  a session setting outside what the server accepts (also ValueError)
        │   └── LockedFieldError   a setting that cannot change any more (voice after assistant audio)
        ├── ConnectionClosedError  a client action after the connection closed
        └── UnsupportedCommand     a command the dialect does not have (see ``DialectTraits``)

The receive path never raises: a :class:`ProtocolError` is turned into a
:class:`~desktop_app.realtime.events.ProtocolErrorEvent` by the connection. The client-action methods
raise :class:`LocalUsageError` subclasses, because the caller can fix those before anything is sent.

These are deliberately not ``desktop_app.errors.ParleyError`` subclasses: the core must not import
upward. The controller maps them (``user_message`` is already one readable sentence).
"""

from __future__ import annotations


class RealtimeError(Exception):
    """Base of the protocol core's errors; ``user_message`` is one sentence a person can act on."""

    user_message: str = "Something went wrong in the conversation protocol."


class ProtocolError(RealtimeError):
    """A server frame that is not valid JSON, not an object, has no ``type`` or a mistyped field.

    ``snippet`` is the start of the offending frame (base64 audio elided by the caller's logger),
    ``event_type`` and ``field`` say where the problem is when that is known.
    """

    user_message = "The server sent a message Parley could not read; it was skipped."

    def __init__(
        self,
        reason: str,
        *,
        event_type: str | None = None,
        field: str | None = None,
        snippet: str = "",
    ) -> None:
        self.reason = reason
        self.event_type = event_type
        self.field = field
        self.snippet = snippet
        where = f" in {event_type!r}" if event_type else ""
        at = f" field {field!r}" if field else ""
        super().__init__(f"malformed server event{where}{at}: {reason}")


class LocalUsageError(RealtimeError):
    """The caller asked the core for something the protocol would reject; nothing was sent."""


class ConfigValidationError(LocalUsageError, ValueError):
    """A session setting outside the server's accepted range; ``field`` is the dotted session path."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.user_message = message
        super().__init__(f"{field}: {message}")


class LockedFieldError(ConfigValidationError):
    """A session setting that the server no longer lets change (the voice after assistant audio)."""


class ConnectionClosedError(LocalUsageError):
    """A client action was requested after the connection closed; start a new connection."""

    user_message = "The connection is closed; reconnect to continue."

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(f"{action} after the connection closed")


class UnsupportedCommand(LocalUsageError):
    """A command the protocol dialect does not have (GPT-Live has no truncate, no response.create…).

    The controller checks :class:`~desktop_app.realtime.dialect.DialectTraits` first, so this means a
    bug, not a user mistake; it is raised before anything is queued.
    """

    user_message = "That is not available with this kind of conversation."

    def __init__(self, dialect: str, command: str) -> None:
        self.dialect = dialect
        self.command = command
        super().__init__(f"{dialect} has no {command}")
