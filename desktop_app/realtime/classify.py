"""What a server error code or a close code means for the session (realtime-protocol.md §4.2/§4.3).

Two pure functions, :func:`classify_error` and :func:`classify_close`, return an :class:`ErrorClass`:
a :class:`Severity` the controller acts on and one sentence for the user. The transport and the
controller decide *how* to retry; this module only says *whether*.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(str, Enum):
    """How an error or close affects the session."""

    NORMAL = "normal"          # a clean close: nothing went wrong
    NON_FATAL = "non_fatal"    # the request failed, the session goes on
    RETRYABLE = "retryable"    # the connection is gone; a reconnect with backoff may help
    RECYCLE = "recycle"        # the session ended by design (time limit): open a new one, carry context
    FATAL = "fatal"            # retrying cannot help until the user changes something


@dataclass(frozen=True, slots=True)
class ErrorClass:
    """The verdict on one error: ``severity``, the ``code`` it came from, and ``user_message``."""

    severity: Severity
    code: str | None
    user_message: str

    @property
    def fatal(self) -> bool:
        """True when no retry can help."""
        return self.severity is Severity.FATAL

    @property
    def ends_session(self) -> bool:
        """True when the connection is (or is about to be) gone."""
        return self.severity in (Severity.FATAL, Severity.RETRYABLE, Severity.RECYCLE, Severity.NORMAL)


_F, _N, _R, _C = Severity.FATAL, Severity.NON_FATAL, Severity.RETRYABLE, Severity.RECYCLE

# code -> (severity, one sentence for the user). Codes from §4.2; unknown codes are non-fatal
# because the server keeps the session open after ordinary errors (a close would tell us otherwise).
_ERROR_CODES: dict[str, tuple[Severity, str]] = {
    "invalid_api_key": (_F, "The API key was refused; enter a valid key."),
    "insufficient_quota": (_F, "Your OpenAI account has no quota left; check billing, then reconnect."),
    "invalid_model": (_F, "The server does not offer this model for realtime; pick another model."),
    "missing_model": (_F, "No model was given for the session; choose a model."),
    "model_not_found": (_F, "The server does not know this model; pick another model."),
    "beta_api_shape_disabled": (_F, "The server refused the old beta protocol; update Parley."),
    "session_expired": (_C, "The session reached its time limit; a fresh one is starting."),
    "rate_limit_exceeded": (_R, "The server is rate-limiting requests; Parley will retry shortly."),
    "conversation_already_has_active_response": (
        _N, "The assistant was still answering; your request waits for it to finish."),
    "response_cancel_not_active": (_N, "There was no answer in progress to stop."),
    "input_audio_buffer_commit_empty": (
        _N, "Too little audio was recorded to send; hold the talk button a little longer."),
    "cannot_update_voice": (
        _N, "The voice cannot change after the assistant has spoken; start a new conversation."),
    "item_truncate_invalid_item_id": (_N, "The interrupted answer was already gone; nothing to cut."),
    "invalid_json": (_N, "The server could not read a message Parley sent; it was skipped."),
    "invalid_event": (_N, "The server rejected a message Parley sent; it was skipped."),
    "parley_protocol_error": (_N, "The server sent a message Parley could not read; it was skipped."),
}

_GENERIC_NON_FATAL = "The server rejected a request; the conversation continues."
_SERVER_ERROR = "The server had a problem with that answer; try again."


def classify_error(code: str | None, error_type: str | None = None) -> ErrorClass:
    """Classify an ``error`` event (or a failed response's ``status_details.error``) by code and type."""
    if code in _ERROR_CODES:
        severity, message = _ERROR_CODES[code]
        return ErrorClass(severity, code, message)
    if error_type == "server_error":
        return ErrorClass(_N, code, _SERVER_ERROR)
    return ErrorClass(_N, code, _GENERIC_NON_FATAL)


# Close codes (§4.3, RFC 6455). 3000/4000 come right after an ``error`` event whose code is in the
# close reason as ``<error.type>.<error.code>``; the code's own verdict wins when it is more precise.
_CLOSE_CODES: dict[int, tuple[Severity, str]] = {
    1000: (Severity.NORMAL, "The conversation was closed."),
    1001: (_C, "The server ended the session; a fresh one is starting."),
    1006: (_R, "The connection dropped; Parley is reconnecting."),
    1011: (_R, "The server hit an internal error; Parley is reconnecting."),
    1012: (_R, "The server is restarting; Parley is reconnecting."),
    1013: (_R, "The server is busy; Parley will retry shortly."),
    1014: (_R, "A gateway between you and the server failed; Parley is reconnecting."),
    3000: (_F, "The server refused the credentials; enter a valid API key."),
    4000: (_F, "The server refused the session request; check the model and update Parley."),
}


def classify_close(code: int, reason: str = "") -> ErrorClass:
    """Classify a WebSocket close by its code and reason text."""
    reason_code = reason.rpartition(".")[2] if "." in reason else None
    if reason_code in _ERROR_CODES:
        verdict = classify_error(reason_code)
        # An error code only sharpens a failing close; it never makes a clean close an error.
        if code != 1000:
            return ErrorClass(verdict.severity, reason_code, verdict.user_message)
    if code in _CLOSE_CODES:
        severity, message = _CLOSE_CODES[code]
        return ErrorClass(severity, str(code), message)
    if 4000 <= code < 5000 or code in (1002, 1003, 1007, 1008, 1009, 1010):
        # Application and protocol-violation codes: the same request would fail the same way.
        detail = f"{code} {reason}".strip()
        return ErrorClass(_F, str(code), f"The server closed the connection ({detail}).")
    return ErrorClass(_R, str(code), "The connection closed unexpectedly; Parley is reconnecting.")
