"""Typed server events, part 2: the response ladder, function/MCP calls, rate limits and the
WebRTC-only output buffer events. See :mod:`.events` for the conventions.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .events import ServerEvent, server_event


class _ResponseEvent(ServerEvent):
    """Shared accessors for ``response.created`` / ``response.done``."""

    __slots__ = ()

    @property
    def response_id(self) -> str | None:
        """``response["id"]``, or None if absent."""
        value = self.response.get("id")  # type: ignore[attr-defined]
        return value if isinstance(value, str) else None

    @property
    def status(self) -> str | None:
        """``in_progress`` / ``completed`` / ``cancelled`` / ``failed`` / ``incomplete``."""
        value = self.response.get("status")  # type: ignore[attr-defined]
        return value if isinstance(value, str) else None

    @property
    def out_of_band(self) -> bool:
        """True for a ``conversation:"none"`` response: its ``conversation_id`` is null (§3.6 H).

        A missing key means the default conversation: older servers and fakes leave it out.
        """
        response = self.response  # type: ignore[attr-defined]
        return "conversation_id" in response and response["conversation_id"] is None


@server_event("response.created")
class ResponseCreated(_ResponseEvent):
    """A response started (``status: in_progress``)."""

    response: dict[str, Any]


@server_event("response.done")
class ResponseDone(_ResponseEvent):
    """A response ended, whatever the outcome; carries ``usage`` and ``status_details``."""

    response: dict[str, Any]

    @property
    def status_reason(self) -> str | None:
        """``turn_detected`` / ``client_cancelled`` / ``max_output_tokens`` / ``content_filter``."""
        details = self.response.get("status_details")
        value = details.get("reason") if isinstance(details, dict) else None
        return value if isinstance(value, str) else None


@server_event("response.output_item.added")
class OutputItemAdded(ServerEvent):
    """The model starts an output item (message or function call), ``in_progress``."""

    response_id: str
    output_index: int
    item: dict[str, Any]


@server_event("response.output_item.done")
class OutputItemDone(ServerEvent):
    """An output item finished (also on cancel: status ``incomplete``)."""

    response_id: str
    output_index: int
    item: dict[str, Any]


@server_event("response.content_part.added")
class ContentPartAdded(ServerEvent):
    """A content part starts; ``part.type`` is ``audio`` or ``text`` (not ``output_*``, §3.2)."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    part: dict[str, Any]


@server_event("response.content_part.done")
class ContentPartDone(ServerEvent):
    """A content part is final."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    part: dict[str, Any]


@server_event("response.output_text.delta")
class OutputTextDelta(ServerEvent):
    """Text-mode output, a piece at a time."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    delta: str


@server_event("response.output_text.done")
class OutputTextDone(ServerEvent):
    """Text-mode output, final."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    text: str


@server_event("response.output_audio.delta")
class OutputAudioDelta(ServerEvent):
    """Base64 audio in the session's output format (elided in logs)."""

    b64_fields: ClassVar[frozenset[str]] = frozenset({"delta"})

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    delta: str


@server_event("response.output_audio.done")
class OutputAudioDone(ServerEvent):
    """No more audio for this part."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int


@server_event("response.output_audio_transcript.delta")
class OutputAudioTranscriptDelta(ServerEvent):
    """Transcript of the assistant's audio, a piece at a time."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    delta: str


@server_event("response.output_audio_transcript.done")
class OutputAudioTranscriptDone(ServerEvent):
    """Transcript of the assistant's audio, final."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int
    transcript: str


@server_event("response.function_call_arguments.delta")
class FunctionCallArgumentsDelta(ServerEvent):
    """Function-call arguments (JSON text), a piece at a time."""

    response_id: str
    item_id: str
    output_index: int
    call_id: str
    delta: str


@server_event("response.function_call_arguments.done")
class FunctionCallArgumentsDone(ServerEvent):
    """A complete function call: execute it once (from this or ``output_item.done``, not both)."""

    response_id: str
    item_id: str
    output_index: int
    call_id: str
    name: str
    arguments: str


@server_event("response.mcp_call_arguments.delta")
class McpCallArgumentsDelta(ServerEvent):
    """MCP tool-call arguments, a piece at a time."""

    response_id: str
    item_id: str
    output_index: int
    delta: str
    obfuscation: str | None = None


@server_event("response.mcp_call_arguments.done")
class McpCallArgumentsDone(ServerEvent):
    """MCP tool-call arguments, final."""

    response_id: str
    item_id: str
    output_index: int
    arguments: str


@server_event("response.mcp_call.in_progress")
class McpCallInProgress(ServerEvent):
    """The server started an MCP tool call."""

    item_id: str
    output_index: int


@server_event("response.mcp_call.completed")
class McpCallCompleted(ServerEvent):
    """An MCP tool call succeeded."""

    item_id: str
    output_index: int


@server_event("response.mcp_call.failed")
class McpCallFailed(ServerEvent):
    """An MCP tool call failed."""

    item_id: str
    output_index: int


@server_event("mcp_list_tools.in_progress")
class McpListToolsInProgress(ServerEvent):
    """The server is listing an MCP server's tools."""

    item_id: str


@server_event("mcp_list_tools.completed")
class McpListToolsCompleted(ServerEvent):
    """An MCP tool listing finished."""

    item_id: str


@server_event("mcp_list_tools.failed")
class McpListToolsFailed(ServerEvent):
    """An MCP tool listing failed."""

    item_id: str


@server_event("rate_limits.updated")
class RateLimitsUpdated(ServerEvent):
    """Token/request limits, after each ``response.done`` in GA (may be an empty list on Azure)."""

    rate_limits: list[dict[str, Any]]


@server_event("output_audio_buffer.started")
class OutputAudioBufferStarted(ServerEvent):
    """WebRTC/SIP only: the server started playing a response."""

    response_id: str


@server_event("output_audio_buffer.stopped")
class OutputAudioBufferStopped(ServerEvent):
    """WebRTC/SIP only: the server's playback drained."""

    response_id: str


@server_event("output_audio_buffer.cleared")
class OutputAudioBufferCleared(ServerEvent):
    """WebRTC/SIP only: reply to ``output_audio_buffer.clear``."""

    response_id: str
