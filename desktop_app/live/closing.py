"""Why a GPT-Live session ended, in plain words, and what Parley does about it (live-protocol.md §4.4d).

``session.closed.reason`` says why; the controller acts on the :class:`~desktop_app.realtime.classify.ErrorClass`
the core attaches to its ``ConnectionClosed``: a requested close just closes; ``expired`` starts a fresh
session at once; a lost connection reconnects; the safety filter and a remote hang-up stop, saying so,
with Retry offered. A socket that closes without ``session.closed`` is judged by its close code alone.
"""

from __future__ import annotations

from desktop_app.realtime.classify import ErrorClass, Severity

_REASONS: dict[str, tuple[Severity, str]] = {
    "close_requested": (Severity.NORMAL, "The conversation was closed."),
    "expired": (Severity.RECYCLE, "The GPT-Live session reached its time limit; a fresh one is starting."),
    "content": (Severity.NON_FATAL, "OpenAI's safety system ended the conversation; press Retry to start a new one."),
    "remote_hangup": (Severity.NON_FATAL, "The conversation was ended from the other side; press Retry to start "
                                          "a new one."),
    "connection_lost": (Severity.RETRYABLE, "GPT-Live lost the connection; Parley is reconnecting."),
}


def close_verdict(reason: str) -> ErrorClass:
    """The verdict on ``session.closed`` with ``reason`` (an unknown reason: reconnect, saying why)."""
    severity, sentence = _REASONS.get(reason, (
        Severity.RETRYABLE, f"GPT-Live ended the session ({reason or 'no reason given'}); Parley is reconnecting."))
    return ErrorClass(severity, f"session_closed.{reason}", sentence)


def reason_words(reason: str) -> str:
    """The sentence for ``reason``, for logs and the event view."""
    return close_verdict(reason).user_message
