"""The error taxonomy shared by every layer.

::

    ParleyError                 carries a one-sentence ``user_message`` and a remedy
    ├── LocalError              something on this computer: device, keyring, settings, files
    │   ├── AudioDeviceError
    │   ├── CredentialError
    │   └── ConfigError
    └── RemoteError             the server said no: an ``error`` event or a close code
        ├── AuthError           invalid/missing key (close 3000) — fatal
        └── ConnectionLost      network drop, 1006/1011, timeouts — retryable

``fatal`` says whether a retry can help. The protocol core (``realtime/``) has its own stdlib-only
``ProtocolError`` for malformed frames; it is not a ``ParleyError`` because the core must not import
upward.
"""

from __future__ import annotations


class ParleyError(Exception):
    """Base of every error Parley reports to a person.

    ``user_message`` is one readable sentence of what happened and what to do; ``str(exc)`` keeps the
    technical detail for the log. Neither may contain a secret.
    """

    fatal: bool = True

    def __init__(self, user_message: str, *, detail: str = "", fatal: bool | None = None) -> None:
        super().__init__(detail or user_message)
        self.user_message = user_message
        self.detail = detail
        if fatal is not None:
            self.fatal = fatal


class LocalError(ParleyError):
    """A fault on this computer (device, keyring, settings, files)."""


class AudioDeviceError(LocalError):
    """A microphone or speaker could not be opened, or failed mid-stream."""


class CredentialError(LocalError):
    """No usable API key, or the keyring cannot store one."""


class ConfigError(LocalError):
    """Settings or command-line values that cannot be used."""


class RemoteError(ParleyError):
    """The server reported an error (an ``error`` event or a close code)."""

    def __init__(
        self,
        user_message: str,
        *,
        code: str | None = None,
        error_type: str | None = None,
        close_code: int | None = None,
        detail: str = "",
        fatal: bool | None = None,
    ) -> None:
        super().__init__(user_message, detail=detail, fatal=fatal)
        self.code = code
        self.error_type = error_type
        self.close_code = close_code


class AuthError(RemoteError):
    """The server refused the credentials (close 3000). Never retried."""

    fatal = True


class ConnectionLost(RemoteError):
    """The connection dropped or timed out. Retrying may help. ``offline`` marks failures that mean
    this computer has no network (no name resolution, no route), not that the server is down."""

    fatal = False
    offline = False
