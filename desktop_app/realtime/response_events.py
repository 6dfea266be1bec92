"""Typed server events, part 2: the response ladder, function/MCP calls, rate limits and the
WebRTC-only output buffer events. See :mod:`.events` for the conventions.

Sibling events that carry the same fields share an unregistered base (``PartEvent`` holds the
``response_id``/``item_id``/``output_index``/``content_index`` address of a content part).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .events import ServerEvent, base_event, server_event


@base_event
class ResponseEvent(ServerEvent):
    """Base of ``response.created`` / ``response.done``: the response object and its accessors."""

    response: dict[str, Any]

    @property
    def response_id(self) -> str | None:
        """``response["id"]``, or None if absent."""
        value = self.response.get("id")
        return value if isinstance(value, str) else None

    @property
    def status(self) -> str | None:
        """``in_progress`` / ``completed`` / ``cancelled`` / ``failed`` / ``incomplete``."""
        value = self.response.get("status")
        return value if isinstance(value, str) else None

    @property
    def out_of_band(self) -> bool:
        """True for a ``conversation:"none"`` response: its ``conversation_id`` is null (§3.6 H).

        A missing key means the default conversation: older servers and fakes leave it out.
        """
        return "conversation_id" in self.response and self.response["conversation_id"] is None


@server_event("response.created")
class ResponseCreated(ResponseEvent):
    """A response started (``status: in_progress``)."""


@server_event("response.done")
class ResponseDone(ResponseEvent):
    """A response ended, whatever the outcome; carries ``usage`` and ``status_details``."""

    @property
    def status_reason(self) -> str | None:
        """``turn_detected`` / ``client_cancelled`` / ``max_output_tokens`` / ``content_filter``."""
        details = self.response.get("status_details")
        value = details.get("reason") if isinstance(details, dict) else None
        return value if isinstance(value, str) else None


@base_event
class OutputItemEvent(ServerEvent):
    """Base of ``response.output_item.added/done``: a whole output item at ``output_index``."""

    response_id: str
    output_index: int
    item: dict[str, Any]


@server_event("response.output_item.added")
class OutputItemAdded(OutputItemEvent):
    """The model starts an output item (message or function call), ``in_progress``."""


@server_event("response.output_item.done")
class OutputItemDone(OutputItemEvent):
    """An output item finished (also on cancel: status ``incomplete``)."""


@base_event
class OutputEvent(ServerEvent):
    """Base of events about one output item of a response."""

    response_id: str
    item_id: str
    output_index: int


@base_event
class PartEvent(OutputEvent):
    """Base of events about one content part of an output item."""

    content_index: int


@server_event("response.content_part.added")
class ContentPartAdded(PartEvent):
    """A content part starts; ``part.type`` is ``audio`` or ``text`` (not ``output_*``, §3.2)."""

    part: dict[str, Any]


@server_event("response.content_part.done")
class ContentPartDone(PartEvent):
    """A content part is final."""

    part: dict[str, Any]


@server_event("response.output_text.delta")
class OutputTextDelta(PartEvent):
    """Text-mode output, a piece at a time."""

    delta: str


@server_event("response.output_text.done")
class OutputTextDone(PartEvent):
    """Text-mode output, final."""

    text: str


@server_event("response.output_audio.delta")
class OutputAudioDelta(PartEvent):
    """Base64 audio in the session's output format (elided in logs)."""

    b64_fields: ClassVar[frozenset[str]] = frozenset({"delta"})

    delta: str


@server_event("response.output_audio.done")
class OutputAudioDone(PartEvent):
    """No more audio for this part."""


@server_event("response.output_audio_transcript.delta")
class OutputAudioTranscriptDelta(PartEvent):
    """Transcript of the assistant's audio, a piece at a time."""

    delta: str


@server_event("response.output_audio_transcript.done")
class OutputAudioTranscriptDone(PartEvent):
    """Transcript of the assistant's audio, final."""

    transcript: str


@server_event("response.function_call_arguments.delta")
class FunctionCallArgumentsDelta(OutputEvent):
    """Function-call arguments (JSON text), a piece at a time."""

    call_id: str
    delta: str


@server_event("response.function_call_arguments.done")
class FunctionCallArgumentsDone(OutputEvent):
    """A complete function call: execute it once (from this or ``output_item.done``, not both)."""

    call_id: str
    name: str
    arguments: str


@server_event("response.mcp_call_arguments.delta")
class McpCallArgumentsDelta(OutputEvent):
    """MCP tool-call arguments, a piece at a time."""

    delta: str
    obfuscation: str | None = None


@server_event("response.mcp_call_arguments.done")
class McpCallArgumentsDone(OutputEvent):
    """MCP tool-call arguments, final."""

    arguments: str


@base_event
class McpCallEvent(ServerEvent):
    """Base of ``response.mcp_call.*``: the server-side MCP call's item."""

    item_id: str
    output_index: int


@server_event("response.mcp_call.in_progress")
class McpCallInProgress(McpCallEvent):
    """The server started an MCP tool call."""


@server_event("response.mcp_call.completed")
class McpCallCompleted(McpCallEvent):
    """An MCP tool call succeeded."""


@server_event("response.mcp_call.failed")
class McpCallFailed(McpCallEvent):
    """An MCP tool call failed."""


@base_event
class McpListToolsEvent(ServerEvent):
    """Base of ``mcp_list_tools.*``: the tool-listing item."""

    item_id: str


@server_event("mcp_list_tools.in_progress")
class McpListToolsInProgress(McpListToolsEvent):
    """The server is listing an MCP server's tools."""


@server_event("mcp_list_tools.completed")
class McpListToolsCompleted(McpListToolsEvent):
    """An MCP tool listing finished."""


@server_event("mcp_list_tools.failed")
class McpListToolsFailed(McpListToolsEvent):
    """An MCP tool listing failed."""


@server_event("rate_limits.updated")
class RateLimitsUpdated(ServerEvent):
    """Token/request limits, after each ``response.done`` in GA (may be an empty list on Azure)."""

    rate_limits: list[dict[str, Any]]


@base_event
class OutputAudioBufferEvent(ServerEvent):
    """Base of the WebRTC/SIP-only ``output_audio_buffer.*`` events."""

    response_id: str


@server_event("output_audio_buffer.started")
class OutputAudioBufferStarted(OutputAudioBufferEvent):
    """WebRTC/SIP only: the server started playing a response."""


@server_event("output_audio_buffer.stopped")
class OutputAudioBufferStopped(OutputAudioBufferEvent):
    """WebRTC/SIP only: the server's playback drained."""


@server_event("output_audio_buffer.cleared")
class OutputAudioBufferCleared(OutputAudioBufferEvent):
    """WebRTC/SIP only: reply to ``output_audio_buffer.clear``."""
