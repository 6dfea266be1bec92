"""Sans-I/O Realtime protocol core (GA dialect). Imports only the standard library.

The controller needs little more than this::

    from desktop_app.realtime import RealtimeConnection, SessionConfig, ServerVad, Severity

    conn = RealtimeConnection()
    conn.receive_message(text)          # each TEXT frame        → conn.events_received()
    conn.update_session(SessionConfig(voice="marin", turn_detection=ServerVad(threshold=0.6)))
    socket.send(*conn.frames_to_send())

Modules: :mod:`.connection` (the connection object), :mod:`.events` / :mod:`.response_events`
(typed server events), :mod:`.parse`, :mod:`.commands` (client event builders),
:mod:`.session_config`, :mod:`.conversation`, :mod:`.responses`, :mod:`.usage`,
:mod:`.audio_ledger` (truncation math), :mod:`.classify` (fatal/retryable/recycle),
:mod:`.errors`, :mod:`.models` (the one list of models and prices), :mod:`.logfmt`.
"""

from .audio_ledger import MIN_COMMIT_MS, truncation_end_ms
from .classify import ErrorClass, Severity, classify_close, classify_error
from .connection import RealtimeConnection
from .conversation import Conversation, Item
from .errors import (
    ConfigValidationError,
    ConnectionClosedError,
    LocalUsageError,
    LockedFieldError,
    ProtocolError,
    RealtimeError,
)
from .events import ConnectionClosed, ErrorEvent, ErrorInfo, ProtocolErrorEvent, ServerEvent, UnknownEvent
from .parse import parse_server_event
from .session_config import AudioFormat, SemanticVad, ServerVad, SessionConfig, Transcription, session_diff
from .usage import Usage

__all__ = [
    "MIN_COMMIT_MS",
    "AudioFormat",
    "ConfigValidationError",
    "ConnectionClosed",
    "ConnectionClosedError",
    "Conversation",
    "ErrorClass",
    "ErrorEvent",
    "ErrorInfo",
    "Item",
    "LocalUsageError",
    "LockedFieldError",
    "ProtocolError",
    "ProtocolErrorEvent",
    "RealtimeConnection",
    "RealtimeError",
    "SemanticVad",
    "ServerEvent",
    "ServerVad",
    "SessionConfig",
    "Severity",
    "Transcription",
    "UnknownEvent",
    "Usage",
    "classify_close",
    "classify_error",
    "parse_server_event",
    "session_diff",
    "truncation_end_ms",
]
